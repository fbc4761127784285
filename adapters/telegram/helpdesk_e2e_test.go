package telegram_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/internal/adaptertest"
	"activation-bot/adapters/telegram"
	"activation-bot/adapters/telegram/telegramtest"
	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// helpdeskBot is the whole bot with the Telegram group as its helpdesk,
// wired as serve wires it: engine, ticket store, roster, job queue.
type helpdeskBot struct {
	*desk
	db storagetest.Database
}

func newHelpdeskBot(t *testing.T, dbName string) *helpdeskBot {
	t.Helper()
	h := &helpdeskBot{desk: newDesk(t, deskOptions{}), db: storagetest.Open(t, dbName)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pack, err := flows.Default()
	require.NoError(t, err)
	q, err := storage.NewQueue(h.db.DB, log)
	require.NoError(t, err)
	engine, err := bot.NewEngine(bot.Config{Pack: pack, Store: storage.NewConversations(h.db.DB).WithQueue(q), Queue: q, Logger: log,
		Helpdesk: bot.Helpdesk{
			Tickets:      storage.NewTickets(h.db.DB, q),
			Destinations: []bot.Chat{{Platform: telegram.Platform, ID: deskID}},
			Rosters:      map[string]bot.Roster{telegram.Platform: h.adapter.Roster()},
		}})
	require.NoError(t, err)
	hook := httptest.NewServer(h.adapter.WebhookHandler(engine))
	t.Cleanup(hook.Close)
	h.hook = hook
	d := bot.NewDispatcher(engine, q, map[string]bot.Sender{telegram.Platform: h.adapter.Sender()}, log)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, q.Start(ctx, d.Work))
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		require.NoError(t, q.Stop(stop))
		cancel()
	})
	return h
}

func (h *helpdeskBot) settle() { h.t.Helper(); adaptertest.Settle(h.t, h.db.DB) }

// say has the student type text, or press a button ("=id") under the
// latest message of the bot's that offers it.
func (h *helpdeskBot) say(student telegramtest.User, words ...string) {
	h.t.Helper()
	for _, w := range words {
		if id, ok := strings.CutPrefix(w, "="); ok {
			h.post(h.fake.CallbackUpdate(student.ID, h.offering(student.ID, id), student, id))
		} else {
			h.post(h.fake.MessageUpdate(student.ID, student, w))
		}
		h.settle()
	}
}

// offering is the id of the latest message to chat with button id.
func (h *helpdeskBot) offering(chat int64, id string) int64 {
	h.t.Helper()
	sends := h.fake.Calls("sendMessage")
	for i := len(sends) - 1; i >= 0; i-- {
		c := sends[i]
		if c.OK() && c.Fields["chat_id"] == fmt.Sprint(chat) && slices.Contains(buttons(h.t, c), id) {
			var ref int64
			fmt.Sscan(resultID(h.t, c), &ref)
			return ref
		}
	}
	h.t.Fatalf("no message to %d offers %s; calls:\n%s", chat, id, callsDump(h.fake.Calls()))
	return 0
}

// A ticket travels from a student on Telegram into the helpdesk group and
// back: posted with its buttons, claimed by a member's press (the ticket
// edited, the student told), answered by a reply, refused to a non-member.
func TestTicketRoundTripThroughTheHelpdeskGroup(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHelpdeskBot(t, dbName)
		anna := telegramtest.User{ID: 4343, FirstName: "Anna", LastName: "Peeters", Username: "anna_p"}
		h.fake.SetChatMember(deskChat, ada.ID, "member")
		h.say(anna, "hi", "=start_activation", "=emails_both", "20 minutes ago", "=report", "=problem:not_ready",
			"The page says my account is not ready")

		posts := sendsIn(h.fake, deskChat)
		require.Len(t, posts, 1, "the ticket is posted once")
		post := posts[0]
		require.Contains(t, post.Fields["text"], "Ticket #1")
		require.Contains(t, post.Fields["text"], "@anna_p", "the student's handle is in the ticket")
		require.Equal(t, []string{"ticket_claim:1", "ticket_resolve:1"}, buttons(t, post))
		ticket := int64(0)
		fmt.Sscan(resultID(t, post), &ticket)

		answered := len(h.fake.Calls("answerCallbackQuery"))

		// A stranger's press changes nothing; they are told so in the thread.
		h.post(h.fake.CallbackUpdate(deskChat, ticket, bo, "ticket_claim:1"))
		h.settle()
		posts = sendsIn(h.fake, deskChat)
		require.Len(t, posts, 2)
		require.Contains(t, posts[1].Fields["text"], "only helpdesk members")
		require.Equal(t, ticket, posts[1].ReplyTo())
		for _, e := range h.fake.Calls("editMessageText") {
			require.NotEqual(t, deskID, e.Fields["chat_id"], "the ticket is unchanged")
		}

		// A member claims: the ticket's message shows it, its keyboard too.
		before := len(h.fake.Sent(anna.ID))
		h.post(h.fake.CallbackUpdate(deskChat, ticket, ada, "ticket_claim:1"))
		h.settle()
		msg, _ := h.fake.Message(deskChat, ticket)
		require.Contains(t, msg.Text, "claimed by Ada Agent")
		require.Equal(t, []string{"ticket_resolve:1"}, msg.Buttons)
		require.Len(t, h.fake.Calls("answerCallbackQuery"), answered+2, "both presses stopped their spinner")
		require.Greater(t, len(h.fake.Sent(anna.ID)), before, "the student is told")

		// The member answers by replying to the ticket: the student gets it.
		h.post(h.fake.ReplyUpdate(deskChat, ada, ticket, "Wait until 17:40 & try again."))
		h.settle()
		got := h.fake.Sent(anna.ID)
		require.Contains(t, got[len(got)-1], "Wait until 17:40 &amp; try again.")

		// Chatter in the group reaches nobody.
		n := len(h.fake.Calls("sendMessage"))
		h.post(h.fake.MessageUpdate(deskChat, ada, "lunch?"))
		h.settle()
		require.Len(t, h.fake.Calls("sendMessage"), n)
	})
}

// sendsIn returns the successful sendMessage calls to chat.
func sendsIn(f *telegramtest.Fake, chat int64) []telegramtest.Call {
	var out []telegramtest.Call
	for _, c := range f.Calls("sendMessage") {
		if c.OK() && c.Fields["chat_id"] == fmt.Sprint(chat) {
			out = append(out, c)
		}
	}
	return out
}
