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

func inbound(user, text string) bot.Inbound {
	return bot.Inbound{Platform: "console", UserID: user, ChatID: user, Text: text}
}

// record returns a step that appends its input to the node, so tests can
// see every message was applied exactly once and in order.
func record(out string) func(*bot.Conversation) (bot.Turn, error) {
	return func(c *bot.Conversation) (bot.Turn, error) {
		c.Node += out
		return bot.Turn{Replies: []bot.Outbound{{Text: "ok " + out, Intent: "test"}}}, nil
	}
}

func TestConverseCreatesAndResumes(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		s := storage.NewConversations(d.DB)
		until := time.Date(2026, 9, 21, 16, 30, 0, 0, time.UTC)
		var first *bot.Conversation
		require.NoError(t, s.Converse(ctx, inbound("alice", "hi"), func(c *bot.Conversation) (bot.Turn, error) {
			first = c
			c.Node, c.Shown, c.Lang = "odisee_wait", "odisee_wait", "nl"
			c.SetAccount("odisee", bot.Progress{Status: bot.Waiting, Until: until})
			c.SetAccount("kuleuven", bot.Progress{Status: bot.Done})
			return bot.Turn{}, nil
		}))
		require.True(t, first.New, "first contact is new")

		var again bot.Conversation
		require.NoError(t, s.Converse(ctx, inbound("alice", "again"), func(c *bot.Conversation) (bot.Turn, error) {
			again = *c
			return bot.Turn{}, nil
		}))
		require.False(t, again.New)
		require.Equal(t, first.StudentID, again.StudentID)
		require.Equal(t, "odisee_wait", again.Node)
		require.Equal(t, "nl", again.Lang)
		require.Equal(t, bot.Waiting, again.Account("odisee").Status)
		require.True(t, until.Equal(again.Account("odisee").Until), "wait_until round-trips: got %v", again.Account("odisee").Until)
		require.Equal(t, bot.Done, again.Account("kuleuven").Status)

		var other bot.Conversation
		require.NoError(t, s.Converse(ctx, inbound("bob", "hi"), func(c *bot.Conversation) (bot.Turn, error) {
			other = *c
			return bot.Turn{}, nil
		}))
		require.NotEqual(t, first.StudentID, other.StudentID, "another identity is another student")
		require.Empty(t, other.Node)
	})
}

func TestConverseDropsRedeliveredEvents(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		s := storage.NewConversations(d.DB)
		in := inbound("alice", "hi")
		in.Platform, in.EventID = "telegram", "update-1"
		require.NoError(t, s.Converse(ctx, in, record("a")))
		err := s.Converse(ctx, in, record("b"))
		require.ErrorIs(t, err, bot.ErrDuplicate)
		in.Platform = "slack" // event ids are per platform
		require.NoError(t, s.Converse(ctx, in, record("c")))

		var node string
		require.NoError(t, d.DB.Get(&node, d.DB.Rebind(`SELECT c.node FROM conversations c
			JOIN identities i ON i.student_id = c.student_id WHERE i.platform = 'telegram'`)))
		require.Equal(t, "a", node)
	})
}

func TestConverseStepErrorRollsBack(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		s := storage.NewConversations(d.DB)
		require.NoError(t, s.Converse(ctx, inbound("alice", "one"), record("1")))
		boom := errors.New("boom")
		err := s.Converse(ctx, inbound("alice", "two"), func(c *bot.Conversation) (bot.Turn, error) {
			c.Node = "changed"
			return bot.Turn{}, boom
		})
		require.ErrorIs(t, err, boom)
		require.NoError(t, s.Converse(ctx, inbound("alice", "three"), func(c *bot.Conversation) (bot.Turn, error) {
			require.Equal(t, "1", c.Node, "the failed step left no trace")
			return bot.Turn{}, nil
		}))
		// "one" and its reply, then "three" with none: "two" left nothing.
		require.Equal(t, 3, count(t, d.DB, `SELECT COUNT(*) FROM transcript`))
	})
}

// Messages of one student sent at the same time are applied one after the
// other: none is lost, none sees a half-written state.
func TestConverseSerialisesOneStudent(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		s := storage.NewConversations(d.DB)
		const n = 12
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.Converse(ctx, inbound("carol", "msg"), func(c *bot.Conversation) (bot.Turn, error) {
					// A read-modify-write that loses updates unless the row is locked.
					c.Node += "x"
					p := c.Account("odisee")
					if p.Status == bot.NotStarted {
						p.Status = bot.Problem
					} else {
						p.Status = bot.NotStarted
					}
					c.SetAccount("odisee", p)
					_ = i
					return bot.Turn{Replies: []bot.Outbound{{Text: "r"}}}, nil
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		var node string
		require.NoError(t, d.DB.Get(&node, `SELECT node FROM conversations`))
		require.Len(t, node, n, "every message applied once")
		require.Equal(t, 1, count(t, d.DB, `SELECT COUNT(*) FROM students`), "one student, however the first messages raced")
		require.Equal(t, 1, count(t, d.DB, `SELECT COUNT(*) FROM identities`))
		require.Equal(t, 2*n, count(t, d.DB, `SELECT COUNT(*) FROM transcript`))
		var status string
		require.NoError(t, d.DB.Get(&status, `SELECT status FROM account_progress`))
		require.Equal(t, string(bot.NotStarted), status, "an even number of flips")
	})
}

func TestConverseErase(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		s := storage.NewConversations(d.DB)
		require.NoError(t, s.Converse(ctx, inbound("dave", "hi"), func(c *bot.Conversation) (bot.Turn, error) {
			c.SetAccount("odisee", bot.Progress{Status: bot.Done})
			return bot.Turn{Replies: []bot.Outbound{{Text: "hello"}}}, nil
		}))
		require.NoError(t, s.Converse(ctx, inbound("erin", "hi"), record("e")))
		require.NoError(t, s.Converse(ctx, inbound("dave", "forget"), func(c *bot.Conversation) (bot.Turn, error) {
			return bot.Turn{Erase: true}, nil
		}))
		for _, table := range []string{"students", "identities", "conversations"} {
			require.Equal(t, 1, count(t, d.DB, `SELECT COUNT(*) FROM `+table), "only erin is left in %s", table)
		}
		require.Equal(t, 2, count(t, d.DB, `SELECT COUNT(*) FROM transcript`), "erin's message and its reply")
		require.Equal(t, 0, count(t, d.DB, `SELECT COUNT(*) FROM account_progress`))
		log, err := d.DB.AuditLog(ctx, time.Time{}, 0)
		require.NoError(t, err)
		require.Len(t, log, 1, "the erasure is logged")
		require.Equal(t, "student", log[0].Actor, "not the erased identity")
		require.Equal(t, storage.ActionForget, log[0].Action)
		require.Equal(t, "student #1", log[0].Subject)
		require.Empty(t, log[0].Detail)
		require.NoError(t, s.Converse(ctx, inbound("dave", "back"), func(c *bot.Conversation) (bot.Turn, error) {
			require.True(t, c.New, "an erased student starts afresh")
			require.Equal(t, bot.NotStarted, c.Account("odisee").Status)
			return bot.Turn{}, nil
		}))
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		n, err := d.DB.Migrate(context.Background(), discard())
		require.NoError(t, err)
		require.Zero(t, n, "a migrated database needs nothing more")
	})
}

func count(t *testing.T, db *storage.DB, q string) int {
	t.Helper()
	var n int
	require.NoError(t, db.Get(&n, q))
	return n
}

// Replicas starting together all migrate without error (Postgres takes a
// session lock; SQLite serialises writers).
func TestConcurrentMigrations(t *testing.T) {
	for _, name := range storagetest.Names(t) {
		t.Run(name, func(t *testing.T) {
			d := storagetest.OpenEmpty(t, name)
			var wg sync.WaitGroup
			errs := make(chan error, 3)
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := storage.Open(context.Background(), d.URL)
					if err != nil {
						errs <- err
						return
					}
					defer db.Close()
					_, err = db.Migrate(context.Background(), discard())
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
		})
	}
}
