package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

func TestFindStudents(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		clock := storagetest.NewClock(time.Date(2026, 9, 21, 10, 0, 0, 0, time.UTC))
		convs := storage.NewConversations(d.DB).SetClock(clock.Now)
		say := func(platform, user, name string) {
			t.Helper()
			clock.Set(clock.Now().Add(time.Minute))
			in := bot.Inbound{Platform: platform, UserID: user, ChatID: user, Name: name, Text: "hi"}
			require.NoError(t, convs.Converse(ctx, in, func(c *bot.Conversation) (bot.Turn, error) {
				c.Node = "greeting"
				return bot.Turn{}, nil
			}))
		}
		say("telegram", "42", "Anna Peeters")
		say("slack", "T1:U1", "Bram 100%_sure")
		say("web", "abc", "")
		say("telegram", "77", "Émile Ölund")

		ids := func(q string) []string {
			t.Helper()
			list, err := d.DB.FindStudents(ctx, q, 50)
			require.NoError(t, err)
			var out []string
			for _, s := range list {
				require.NotEmpty(t, s.Identities)
				require.Equal(t, "greeting", s.Node)
				out = append(out, s.Identities[0].Identity())
			}
			return out
		}
		require.Equal(t, []string{"telegram:77", "web:abc", "slack:T1:U1", "telegram:42"}, ids(""), "most recent first")
		require.Equal(t, []string{"telegram:77"}, ids("émile"), "accents fold too")
		require.Equal(t, []string{"telegram:77"}, ids("ÖLUND"))
		require.Equal(t, []string{"telegram:42"}, ids("telegram:42"))
		require.Equal(t, []string{"slack:T1:U1"}, ids("slack:T1:U1"))
		require.Equal(t, []string{"web:abc"}, ids("web:abc"))
		require.Equal(t, []string{"telegram:42"}, ids("42"), "a bare platform user id")
		require.Equal(t, []string{"telegram:42"}, ids("anna"), "a name, any case")
		require.Equal(t, []string{"telegram:42"}, ids("PEETERS"))
		require.Equal(t, []string{"slack:T1:U1"}, ids("100%_"), "LIKE's wildcards match literally")
		require.Empty(t, ids("a%"), "% is no wildcard")
		require.Empty(t, ids("telegram:43"))
		require.Empty(t, ids("nobody"))

		list, err := d.DB.FindStudents(ctx, "", 2)
		require.NoError(t, err)
		require.Len(t, list, 2)
	})
}
