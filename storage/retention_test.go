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

// agentSays adds an agent's message to ticket id and sets its status.
func agentSays(t *testing.T, tickets *storage.Tickets, id int64, status string) {
	t.Helper()
	require.NoError(t, tickets.UpdateTicket(context.Background(), 0, bot.TicketKey{ID: id}, func(tk *bot.Ticket) ([]bot.Notice, error) {
		tk.Status = status
		if status == bot.TicketResolved {
			at := time.Now()
			tk.Resolved = &at
		}
		tk.Messages = append(tk.Messages, bot.TicketMessage{From: bot.FromAgent, Author: "console:op", Text: "try again"})
		return nil, nil
	}))
}

// TestRetentionDeletesOldConversationText: lines older than the retention
// go; newer ones, and the messages of tickets still open, stay.
func TestRetentionDeletesOldConversationText(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		now := time.Date(2027, 3, 20, 12, 0, 0, 0, time.UTC)
		old, recent := now.Add(-181*24*time.Hour), now.Add(-179*24*time.Hour)
		q, err := storage.NewQueue(d.DB, discard())
		require.NoError(t, err)
		q.SetClock(func() time.Time { return now })
		convs, tickets := storage.NewConversations(d.DB), storage.NewTickets(d.DB, nil)

		convs.SetClock(func() time.Time { return old })
		tickets.SetClock(func() time.Time { return old })
		require.NoError(t, convs.Converse(ctx, inbound("anna", "hi"), record("a")))
		resolved := openTicket(t, convs, "anna")
		agentSays(t, tickets, resolved.ID, bot.TicketResolved)
		require.NoError(t, convs.Converse(ctx, inbound("bert", "hi"), record("a")))
		open := openTicket(t, convs, "bert")
		agentSays(t, tickets, open.ID, bot.TicketClaimed)
		convs.SetClock(func() time.Time { return recent })
		tickets.SetClock(func() time.Time { return recent })
		require.NoError(t, convs.Converse(ctx, inbound("anna", "again"), record("b")))
		agentSays(t, tickets, resolved.ID, bot.TicketResolved)

		kept, err := q.ForgetOld(ctx)
		require.NoError(t, err)
		require.Zero(t, kept, "without a retention nothing is deleted")
		require.Equal(t, 8, count(t, d.DB, `SELECT COUNT(*) FROM transcript`))

		q.KeepTranscripts(180 * 24 * time.Hour)
		gone, err := q.ForgetOld(ctx)
		require.NoError(t, err)
		require.Equal(t, storage.Forgotten{Transcript: 6, TicketMessages: 1, TicketContexts: 1}, gone)
		var bodies []string
		require.NoError(t, d.DB.Select(&bodies, `SELECT body FROM transcript ORDER BY id`))
		require.Equal(t, []string{"again", "ok b"}, bodies, "only the recent lines are left")
		var ticketOf []int64
		require.NoError(t, d.DB.Select(&ticketOf, `SELECT ticket_id FROM ticket_messages ORDER BY id`))
		require.Equal(t, []int64{open.ID, resolved.ID}, ticketOf,
			"the open ticket's old message and the resolved ticket's recent one stay")
		require.Equal(t, 2, count(t, d.DB, `SELECT COUNT(*) FROM tickets`), "tickets themselves stay")
		got, err := tickets.Ticket(ctx, resolved.ID)
		require.NoError(t, err)
		require.Empty(t, got.Context.Transcript, "the resolved ticket's copy of the conversation went too")
		require.Equal(t, "it fails", got.Description)
		got, err = tickets.Ticket(ctx, open.ID)
		require.NoError(t, err)
		require.NotEmpty(t, got.Context.Transcript, "an open ticket keeps its context")

		again, err := q.ForgetOld(ctx)
		require.NoError(t, err)
		require.Zero(t, again)
	})
}

// TestRetentionRunsAsAJob: the queue's periodic job applies the retention
// once the workers start.
func TestRetentionRunsAsAJob(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		convs := storage.NewConversations(d.DB).SetClock(func() time.Time { return time.Now().Add(-48 * time.Hour) })
		require.NoError(t, convs.Converse(ctx, inbound("anna", "hi"), record("a")))
		q, err := storage.NewQueue(d.DB, discard())
		require.NoError(t, err)
		q.KeepTranscripts(24 * time.Hour)
		require.NoError(t, q.Start(ctx, func(context.Context, bot.Chat) error { return nil }))
		defer func() {
			stop, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			require.NoError(t, q.Stop(stop))
		}()
		require.Eventually(t, func() bool {
			var n int
			return d.DB.Get(&n, `SELECT COUNT(*) FROM transcript`) == nil && n == 0
		}, 30*time.Second, 20*time.Millisecond)
	})
}
