package storage_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

var helpdesk = bot.Chat{Platform: "slack", ID: "C0123ABCD"}

// openTicket opens a ticket for user inside a conversation step, with a
// post for the helpdesk written in the same transaction.
func openTicket(t *testing.T, s *storage.Conversations, user string) bot.Ticket {
	t.Helper()
	var tk bot.Ticket
	err := s.Converse(context.Background(), inbound(user, "it fails"), func(c *bot.Conversation) (bot.Turn, error) {
		var err error
		tk, err = c.Desk.Open(bot.TicketDraft{Category: "other", Description: "it fails", Node: "odisee_steps", Lang: "en", Name: "Anna"})
		post := bot.Delivery{Message: &bot.Outbound{Text: "ticket"}, Ticket: &bot.TicketPost{ID: tk.ID, Kind: bot.PostNew}}
		return bot.Turn{Notices: []bot.Notice{{Chat: helpdesk, Delivery: post}}}, err
	})
	require.NoError(t, err)
	return tk
}

func TestTicketPostIsRecordedAndFound(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		q, err := storage.NewQueue(d.DB, nil)
		require.NoError(t, err)
		convs, tickets := storage.NewConversations(d.DB).WithQueue(q), storage.NewTickets(d.DB, q)
		tk := openTicket(t, convs, "anna")
		require.Equal(t, "console:anna", tk.Student)
		require.Equal(t, bot.TicketOpen, tk.Status)

		// The post waits in the helpdesk chat's outbox, not yet posted.
		post, ok, err := q.NextDelivery(ctx, helpdesk)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, tk.ID, post.Ticket.ID)
		require.Empty(t, post.Ticket.Ref)
		require.NoError(t, q.Delivered(ctx, post, "1700000000.000100"))

		// An edit written later finds the posted message.
		require.NoError(t, tickets.UpdateTicket(ctx, 0, bot.TicketKey{Chat: helpdesk, Ref: "1700000000.000100"}, func(t *bot.Ticket) ([]bot.Notice, error) {
			t.Status = bot.TicketClaimed
			edit := bot.Delivery{Message: &bot.Outbound{Text: "claimed"}, Ticket: &bot.TicketPost{ID: t.ID, Kind: bot.PostEdit}}
			return []bot.Notice{{Chat: helpdesk, Delivery: edit}}, nil
		}))
		edit, ok, err := q.NextDelivery(ctx, helpdesk)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "1700000000.000100", edit.Ticket.Ref)
		got, err := tickets.Ticket(ctx, tk.ID)
		require.NoError(t, err)
		require.Equal(t, bot.TicketClaimed, got.Status)

		err = tickets.UpdateTicket(ctx, 0, bot.TicketKey{Chat: helpdesk, Ref: "unknown"}, nil)
		require.ErrorIs(t, err, bot.ErrNotFound)
	})
}

func TestOpenTicketsFollowTheConversationAndGoWithForget(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		convs, tickets := storage.NewConversations(d.DB), storage.NewTickets(d.DB, nil)
		tk := openTicket(t, convs, "anna")
		var seen []bot.Ticket
		require.NoError(t, convs.Converse(ctx, inbound("anna", "/status"), func(c *bot.Conversation) (bot.Turn, error) {
			seen = c.Tickets
			c.ReplyTo, c.Report = tk.ID, "other"
			return bot.Turn{}, nil
		}))
		require.Len(t, seen, 1)
		require.Equal(t, tk.ID, seen[0].ID)
		require.NoError(t, convs.Converse(ctx, inbound("anna", "more"), func(c *bot.Conversation) (bot.Turn, error) {
			require.Equal(t, tk.ID, c.ReplyTo)
			require.Equal(t, "other", c.Report)
			_, err := c.Desk.AddMessage(tk.ID, bot.TicketMessage{From: bot.FromStudent, Text: "more"})
			return bot.Turn{}, err
		}))
		// Another student cannot write to it.
		require.NoError(t, convs.Converse(ctx, inbound("bob", "hi"), func(c *bot.Conversation) (bot.Turn, error) {
			_, err := c.Desk.AddMessage(tk.ID, bot.TicketMessage{From: bot.FromStudent, Text: "hijack"})
			require.ErrorIs(t, err, bot.ErrNotFound)
			return bot.Turn{}, nil
		}))
		got, err := tickets.Ticket(ctx, tk.ID)
		require.NoError(t, err)
		require.Len(t, got.Messages, 1)
		require.Equal(t, "more", got.Messages[0].Text)

		require.NoError(t, convs.Converse(ctx, inbound("anna", "/forget"), func(c *bot.Conversation) (bot.Turn, error) {
			return bot.Turn{Erase: true}, nil
		}))
		list, err := tickets.Tickets(ctx, "")
		require.NoError(t, err)
		require.Empty(t, list, "/forget erases the student's tickets")
	})
}
