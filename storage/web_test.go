package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

func TestWebMailboxKeepsOrderAndTakesAnEventOnce(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		w := storage.NewWebChats(d.DB)
		fresh, err := w.Said(ctx, "c1", "e1", "hello")
		require.NoError(t, err)
		require.True(t, fresh)
		fresh, err = w.Said(ctx, "c1", "e1", "hello")
		require.NoError(t, err)
		require.False(t, fresh, "the same event again")
		_, err = w.Sent(ctx, "c1", 0, bot.Outbound{Text: "hi", Buttons: []bot.Button{{ID: "b", Label: "B"}}})
		require.NoError(t, err)
		_, err = w.Sent(ctx, "c2", 0, bot.Outbound{Text: "other chat"})
		require.NoError(t, err)
		for i := range 3 {
			_, err = w.Sent(ctx, "c1", 0, bot.Outbound{Text: string(rune('a' + i))})
			require.NoError(t, err)
		}

		all, err := w.Messages(ctx, "c1", 0, 100)
		require.NoError(t, err)
		require.Len(t, all, 5)
		require.True(t, all[0].In)
		require.Equal(t, "B", all[1].Message.Buttons[0].Label)
		last, err := w.Messages(ctx, "c1", 0, 2)
		require.NoError(t, err)
		require.Equal(t, []string{"b", "c"}, []string{last[0].Message.Text, last[1].Message.Text}, "the last lines, oldest first")
		after, err := w.Messages(ctx, "c1", all[2].ID, 100)
		require.NoError(t, err)
		require.Len(t, after, 2)

		// A delivery retried after a crash shows once.
		first, err := w.Sent(ctx, "c1", 77, bot.Outbound{Text: "retried"})
		require.NoError(t, err)
		again, err := w.Sent(ctx, "c1", 77, bot.Outbound{Text: "retried"})
		require.NoError(t, err)
		require.Equal(t, first, again)
		all, err = w.Messages(ctx, "c1", 0, 100)
		require.NoError(t, err)
		require.Len(t, all, 6)

		require.NoError(t, w.Unsay(ctx, "c1", "e1"))
		all, err = w.Messages(ctx, "c1", 0, 100)
		require.NoError(t, err)
		require.Len(t, all, 5)
	})
}

func TestEraseAndRetentionReachTheWebMailbox(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		convs := storage.NewConversations(d.DB)
		in := bot.Inbound{Platform: "web", UserID: "w1", ChatID: "w1", Text: "hi"}
		require.NoError(t, convs.Converse(ctx, in, func(c *bot.Conversation) (bot.Turn, error) { return bot.Turn{}, nil }))
		w := storage.NewWebChats(d.DB)
		_, err := w.Said(ctx, "w1", "e1", "hi")
		require.NoError(t, err)
		_, err = w.Sent(ctx, "other", 0, bot.Outbound{Text: "someone else"})
		require.NoError(t, err)
		id, err := d.DB.StudentByIdentity(ctx, "web", "w1")
		require.NoError(t, err)
		_, err = d.DB.EraseStudent(ctx, id, "web:ada")
		require.NoError(t, err)
		mine, err := w.Messages(ctx, "w1", 0, 10)
		require.NoError(t, err)
		require.Empty(t, mine)
		theirs, err := w.Messages(ctx, "other", 0, 10)
		require.NoError(t, err)
		require.Len(t, theirs, 1, "only the erased student's chat goes")

		// Retention: the mailbox is a copy of the conversation and expires too.
		q, err := storage.NewQueue(d.DB, discard())
		require.NoError(t, err)
		q.KeepTranscripts(24 * time.Hour)
		q.SetClock(func() time.Time { return time.Now().Add(48 * time.Hour) })
		f, err := q.ForgetOld(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, f.WebMessages)
	})
}

func TestOneTimeTokens(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		clock := storagetest.NewClock(time.Date(2026, 9, 20, 10, 0, 0, 0, time.UTC))
		c := storage.NewConsole(d.DB)
		c.SetClock(clock.Now)
		require.NoError(t, c.IssueToken(ctx, "tok", storage.TokenHandoff, "w1", 10*time.Minute))
		_, err := c.UseToken(ctx, "tok", storage.TokenPassword)
		require.ErrorIs(t, err, storage.ErrTokenInvalid, "a token serves its own purpose only")

		// The same token used at once from two places: one wins.
		var wg sync.WaitGroup
		results := make([]error, 8)
		for i := range results {
			wg.Go(func() { _, results[i] = c.UseToken(ctx, "tok", storage.TokenHandoff) })
		}
		wg.Wait()
		won := 0
		for _, err := range results {
			if err == nil {
				won++
			} else {
				require.True(t, errors.Is(err, storage.ErrTokenInvalid), "%v", err)
			}
		}
		require.Equal(t, 1, won)

		require.NoError(t, c.IssueToken(ctx, "late", storage.TokenHandoff, "w1", 10*time.Minute))
		clock.Set(clock.Now().Add(10*time.Minute + time.Second))
		_, err = c.PeekToken(ctx, "late", storage.TokenHandoff)
		require.ErrorIs(t, err, storage.ErrTokenInvalid, "expired")
	})
}

func TestConsoleSessionsExpireAndEndWithTheUser(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		clock := storagetest.NewClock(time.Date(2026, 9, 20, 10, 0, 0, 0, time.UTC))
		c := storage.NewConsole(d.DB)
		c.SetClock(clock.Now)
		u, err := c.AddUser(ctx, "ada", storage.RoleAdmin)
		require.NoError(t, err)
		_, err = c.AddUser(ctx, "ada", storage.RoleAgent)
		require.ErrorIs(t, err, storage.ErrUserExists)
		require.NoError(t, c.StartSession(ctx, "s1", u.ID, time.Hour))
		got, err := c.Session(ctx, "s1")
		require.NoError(t, err)
		require.Equal(t, "ada", got.Name)
		clock.Set(clock.Now().Add(time.Hour))
		_, err = c.Session(ctx, "s1")
		require.ErrorIs(t, err, bot.ErrNotFound, "expired")

		require.NoError(t, c.StartSession(ctx, "s2", u.ID, time.Hour))
		require.NoError(t, c.IssueToken(ctx, "link", storage.TokenPassword, "ada", time.Hour))
		require.NoError(t, c.RemoveUser(ctx, "ada"))
		_, err = c.Session(ctx, "s2")
		require.ErrorIs(t, err, bot.ErrNotFound, "a removed user's session ends")
		_, err = c.AddUser(ctx, "ada", storage.RoleAdmin)
		require.NoError(t, err)
		_, err = c.PeekToken(ctx, "link", storage.TokenPassword)
		require.ErrorIs(t, err, storage.ErrTokenInvalid, "an old link does not open the new ada")
		require.False(t, storage.ValidUserName(".."))
	})
}

func TestFirstAdminTokenCreatesOneAdmin(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		c := storage.NewConsole(d.DB)
		has, err := c.HasAdmin(ctx)
		require.NoError(t, err)
		require.False(t, has)
		require.NoError(t, c.IssueToken(ctx, "first", storage.TokenFirstAdmin, "", time.Hour))
		require.NoError(t, c.IssueToken(ctx, "second", storage.TokenFirstAdmin, "", time.Hour)) // another start's link
		u, err := c.SetPassword(ctx, "first", "ada", "hash")
		require.NoError(t, err)
		require.Equal(t, storage.RoleAdmin, u.Role)
		_, err = c.SetPassword(ctx, "first", "eve", "hash")
		require.ErrorIs(t, err, storage.ErrTokenInvalid, "used")
		_, err = c.SetPassword(ctx, "second", "mallory", "hash")
		require.ErrorIs(t, err, storage.ErrTokenInvalid, "void once an admin exists")
		has, err = c.HasAdmin(ctx)
		require.NoError(t, err)
		require.True(t, has)
	})
}

// On Postgres, a line recorded by one instance wakes the pages of another.
func TestWebLinesWakeOtherInstances(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		other, err := storage.Open(ctx, d.URL)
		require.NoError(t, err)
		defer other.Close()
		woken := make(chan string, 16)
		done := make(chan error, 1)
		go func() {
			done <- storage.NewWebChats(other).Listen(ctx, func(chat string) { woken <- chat })
		}()
		if d.Name == "sqlite" {
			require.NoError(t, <-done, "one process: nothing to listen to")
			return
		}
		chat := "chat-" + t.Name()
		// The listener may not be connected yet: record until it hears.
		require.Eventually(t, func() bool {
			_, err := storage.NewWebChats(d.DB).Sent(ctx, chat, 0, bot.Outbound{Text: "hi"})
			require.NoError(t, err)
			for {
				select {
				case got := <-woken:
					if got == chat {
						return true
					}
				case <-time.After(100 * time.Millisecond):
					return false
				}
			}
		}, 10*time.Second, 10*time.Millisecond)
		cancel()
		require.NoError(t, <-done)
	})
}
