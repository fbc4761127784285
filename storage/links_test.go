package storage_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// linked makes each identity write once, then links every identity after
// the first into the first one's student, as typing a code does, a
// second after the other.
func linked(t *testing.T, s *storage.Conversations, clock *storagetest.Clock, ids ...bot.Inbound) {
	t.Helper()
	ctx := context.Background()
	for _, in := range ids {
		require.NoError(t, s.Converse(ctx, in, record("")))
	}
	for _, in := range ids[1:] {
		clock.Set(clock.Now().Add(time.Second))
		var code string
		require.NoError(t, s.Converse(ctx, ids[0], func(c *bot.Conversation) (bot.Turn, error) {
			var err error
			code, _, err = c.Links.Issue(bot.LinkCodeTTL)
			return bot.Turn{}, err
		}))
		clock.Set(clock.Now().Add(time.Second))
		require.NoError(t, s.Converse(ctx, in, func(c *bot.Conversation) (bot.Turn, error) {
			res, err := c.Links.Redeem(code, true)
			require.Equal(t, bot.LinkLinked, res.Outcome)
			return bot.Turn{}, err
		}))
	}
}

// clockedConversations is the conversation store of d on a clock the test
// moves: last use orders identities, so time must pass between messages.
func clockedConversations(d storagetest.Database) (*storage.Conversations, *storagetest.Clock) {
	clock := storagetest.NewClock(time.Date(2026, 9, 21, 13, 0, 0, 0, time.UTC))
	return storage.NewConversations(d.DB).SetClock(clock.Now), clock
}

func on(platform, user string) bot.Inbound {
	return bot.Inbound{Platform: platform, UserID: user, ChatID: "chat-" + user, Text: "hi"}
}

// A student with three identities is one student in the funnel and one
// copy of a broadcast, on the identity used last.
func TestLinkedStudentCountsOnce(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		s, clock := clockedConversations(d)
		linked(t, s, clock, on("telegram", "42"), on("slack", "U1"), on("web", "w1"))
		require.NoError(t, s.Converse(ctx, on("console", "anna"), record(""))) // another student

		st, err := d.DB.Stats(ctx, storage.StatsFilter{Accounts: []string{"odisee", "kuleuven"}})
		require.NoError(t, err)
		require.Equal(t, 2, st.Students)
		total := 0
		for _, p := range st.Platforms {
			total += p.N
		}
		require.Equal(t, 2, total, "each student is counted on one platform: %+v", st.Platforms)

		q, err := storage.NewQueue(d.DB, slog.New(slog.NewTextHandler(io.Discard, nil)))
		require.NoError(t, err)
		seg := bot.Segment{Accounts: []string{"odisee", "kuleuven"}, DefaultLang: "en"}
		aud, err := storage.NewBroadcasts(q).Audience(ctx, seg)
		require.NoError(t, err)
		// The web identity wrote last (linking); the console's student is
		// never in an audience.
		require.Equal(t, bot.Audience{"web": {"en": 1}}, aud)

		clock.Set(clock.Now().Add(time.Minute))
		require.NoError(t, s.Converse(ctx, on("slack", "U1"), record("")))
		aud, err = storage.NewBroadcasts(q).Audience(ctx, seg)
		require.NoError(t, err)
		require.Equal(t, bot.Audience{"slack": {"en": 1}}, aud, "it follows the identity used last")

		require.NoError(t, s.Converse(ctx, on("telegram", "42"), func(c *bot.Conversation) (bot.Turn, error) {
			return bot.Turn{}, c.Links.Prefer()
		}))
		clock.Set(clock.Now().Add(time.Minute))
		require.NoError(t, s.Converse(ctx, on("web", "w1"), record("")))
		aud, err = storage.NewBroadcasts(q).Audience(ctx, seg)
		require.NoError(t, err)
		require.Equal(t, bot.Audience{"telegram": {"en": 1}}, aud, "the chosen one wins over the one used last")
	})
}

// An operator's unlink gives the identity a new, empty student and keeps
// everything with the old one; the last identity cannot be unlinked.
func TestUnlinkIdentity(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		s, clock := clockedConversations(d)
		linked(t, s, clock, on("telegram", "42"), on("slack", "U1"))
		require.NoError(t, s.Converse(ctx, on("telegram", "42"), func(c *bot.Conversation) (bot.Turn, error) {
			c.SetAccount("odisee", bot.Progress{Status: bot.Done})
			return bot.Turn{}, nil
		}))
		from, to, err := d.DB.UnlinkIdentity(ctx, "slack:U1", "cli:root")
		require.NoError(t, err)
		require.NotEqual(t, from, to)
		id, err := d.DB.StudentByIdentity(ctx, "slack", "U1")
		require.NoError(t, err)
		require.Equal(t, to, id)

		kept, err := d.DB.Student(ctx, from)
		require.NoError(t, err)
		require.Len(t, kept.Identities, 1)
		require.Equal(t, "done", kept.Accounts[0].Status)
		fresh, err := d.DB.Student(ctx, to)
		require.NoError(t, err)
		require.Empty(t, fresh.Accounts)
		require.Empty(t, fresh.Transcript)

		// An operator's page that is out of date unlinks nothing.
		_, err = d.DB.UnlinkIdentityOf(ctx, from, "slack:U1", "web:ada")
		require.ErrorIs(t, err, bot.ErrNotFound)
		_, _, err = d.DB.UnlinkIdentity(ctx, "slack:U1", "cli:root")
		require.ErrorIs(t, err, storage.ErrLastIdentity)
		_, _, err = d.DB.UnlinkIdentity(ctx, "slack:U404", "cli:root")
		require.ErrorIs(t, err, bot.ErrNotFound)

		// A web page unlinked starts over with no lines: it may be a lost
		// or shared browser.
		web := storage.NewWebChats(d.DB)
		linked(t, s, clock, on("telegram", "42"), on("web", "w1"))
		_, err = web.Said(ctx, "chat-w1", "e1", "my question")
		require.NoError(t, err)
		_, _, err = d.DB.UnlinkIdentity(ctx, "web:w1", "cli:root")
		require.NoError(t, err)
		lines, err := web.Messages(ctx, "chat-w1", 0, 10)
		require.NoError(t, err)
		require.Empty(t, lines)
		log, err := d.DB.AuditLog(ctx, time.Time{}, 0)
		require.NoError(t, err)
		require.Equal(t, storage.ActionUnlink, log[0].Action)
		require.Equal(t, "cli:root", log[0].Actor)
	})
}

// Link codes a day past their end and wrong codes older than the
// guessing window, whoever's, go when a code is issued or a wrong one
// counted: they do not pile up, on the clock they were written with.
func TestOldLinkRowsAreForgotten(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		s, clock := clockedConversations(d)
		issue := func(user string) {
			require.NoError(t, s.Converse(ctx, on("telegram", user), func(c *bot.Conversation) (bot.Turn, error) {
				_, _, err := c.Links.Issue(bot.LinkCodeTTL)
				return bot.Turn{}, err
			}))
		}
		guess := func(user string) {
			require.NoError(t, s.Converse(ctx, on("slack", user), func(c *bot.Conversation) (bot.Turn, error) {
				_, err := c.Links.Redeem("ZZZZ22ZZ", false)
				return bot.Turn{}, err
			}))
		}
		count := func(table string) int {
			var n int
			require.NoError(t, d.DB.Get(&n, `SELECT COUNT(*) FROM `+table))
			return n
		}
		issue("old")
		guess("U1")
		clock.Set(clock.Now().Add(bot.LinkCodeTTL + 23*time.Hour))
		issue("recent") // the old code ended 23 hours ago: kept
		require.Equal(t, 2, count("link_codes"))
		clock.Set(clock.Now().Add(2 * time.Hour))
		issue("new")
		require.Equal(t, 2, count("link_codes"), "the old code went")
		guess("U2")
		require.Equal(t, 1, count("link_failures"), "U1's old wrong code went")
	})
}
