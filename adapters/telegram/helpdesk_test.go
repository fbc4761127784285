package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/telegram"
	"activation-bot/adapters/telegram/telegramtest"
	"activation-bot/bot"
)

// deskChat is the helpdesk group of these tests.
const deskChat int64 = -1001234567890

var (
	deskID = strconv.FormatInt(deskChat, 10)
	ada    = telegramtest.User{ID: 7001, FirstName: "Ada", LastName: "Agent", Username: "ada_helps"}
	bo     = telegramtest.User{ID: 7002, FirstName: "Bo"}
)

// recorder is a bot.Acceptor that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	events []bot.Inbound
}

func (r *recorder) Accept(_ context.Context, in bot.Inbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, in)
	return nil
}

func (r *recorder) all() []bot.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Inbound(nil), r.events...)
}

// desk is the adapter with a helpdesk group, its webhook feeding a
// recorder instead of the engine: what reaches the core, and what the
// sender does with the core's ticket messages.
type desk struct {
	t       *testing.T
	fake    *telegramtest.Fake
	adapter *telegram.Adapter
	rec     *recorder
	hook    *httptest.Server
}

type deskOptions struct {
	noSetup bool  // the bot's own id stays unknown
	polling bool  // long polling instead of the webhook
	chat    int64 // the helpdesk group; deskChat when 0, none when -1
}

func newDesk(t *testing.T, o deskOptions) *desk {
	t.Helper()
	d := &desk{t: t, fake: telegramtest.New(t), rec: &recorder{}}
	cfg := telegram.Config{Token: d.fake.Token, APIURL: d.fake.URL, WebhookSecret: secret, HelpdeskChatID: deskChat,
		PollTimeout: time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	switch o.chat {
	case 0:
	case -1:
		cfg.HelpdeskChatID = 0
	default:
		cfg.HelpdeskChatID = o.chat
	}
	if !o.polling {
		cfg.WebhookURL = "http://bot.test"
	}
	var err error
	d.adapter, err = telegram.New(cfg)
	require.NoError(t, err)
	if !o.noSetup {
		require.NoError(t, d.adapter.Setup(context.Background(), nil))
	}
	d.hook = httptest.NewServer(d.adapter.WebhookHandler(d.rec))
	t.Cleanup(d.hook.Close)
	return d
}

// post delivers an update to the webhook; it must be answered 200.
func (d *desk) post(update map[string]any) {
	d.t.Helper()
	req, err := http.NewRequest(http.MethodPost, d.hook.URL+telegram.WebhookPath, bytes.NewReader(mustJSON(d.t, update)))
	require.NoError(d.t, err)
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(d.t, err)
	resp.Body.Close()
	require.Equal(d.t, http.StatusOK, resp.StatusCode)
}

func (d *desk) send(dl bot.Delivery) (bot.Sent, error) {
	if dl.Chat == (bot.Chat{}) {
		dl.Chat = bot.Chat{Platform: telegram.Platform, ID: deskID}
	}
	return d.adapter.Sender().Send(context.Background(), dl)
}

// ticketPost is a ticket's message of kind for the helpdesk group.
func ticketPost(kind, ref, text string, buttons ...string) bot.Delivery {
	msg := &bot.Outbound{Text: text, Buttons: []bot.Button{}, Intent: "ticket", Lang: "en"}
	for _, id := range buttons {
		msg.Buttons = append(msg.Buttons, bot.Button{ID: id, Label: strings.ToUpper(id[:1]) + id[1:]})
	}
	return bot.Delivery{Message: msg, Ticket: &bot.TicketPost{ID: 12, Kind: kind, Ref: ref}}
}

// postTicket posts ticket #12 and returns its message id.
func (d *desk) postTicket() int64 {
	d.t.Helper()
	sent, err := d.send(ticketPost(bot.PostNew, "", "🎫 Ticket #12: <wrong name> & more", "ticket_claim:12", "ticket_resolve:12"))
	require.NoError(d.t, err)
	id, err := strconv.ParseInt(sent.Ref, 10, 64)
	require.NoError(d.t, err, "Ref is the message id")
	return id
}

func TestHelpdeskPressIsAnAgentEvent(t *testing.T) {
	d := newDesk(t, deskOptions{})
	ticket := d.postTicket()
	d.post(d.fake.CallbackUpdate(deskChat, ticket, ada, "ticket_claim:12"))
	d.post(d.fake.CallbackUpdate(deskChat, ticket, ada, "ticket_resolve:12"))
	events := d.rec.all()
	require.Len(t, events, 2, "Claim then Resolve on one message are two events")
	in := events[0]
	require.Equal(t, telegram.Platform, in.Platform)
	require.Equal(t, "7001", in.UserID)
	require.Equal(t, deskID, in.ChatID)
	require.Equal(t, "Ada Agent", in.Name)
	require.Equal(t, "ada_helps", in.Handle)
	require.Empty(t, in.ButtonID)
	require.Empty(t, in.Group, "the helpdesk group is not pointed to a private chat")
	require.Equal(t, &bot.HelpdeskEvent{Action: bot.ActClaim, Ticket: 12, PostRef: fmt.Sprint(ticket)}, in.Helpdesk)
	require.Equal(t, &bot.HelpdeskEvent{Action: bot.ActResolve, Ticket: 12, PostRef: fmt.Sprint(ticket)}, events[1].Helpdesk)
	require.NotEqual(t, in.EventID, events[1].EventID)
	require.True(t, strings.HasPrefix(in.EventID, "123:"), "bot-scoped update id: %s", in.EventID)
	require.NotContains(t, in.EventID, "press")

	// The ack stops the spinner and leaves the ticket's message alone:
	// editing it is the core's, with the ticket's new state.
	_, err := d.send(bot.Delivery{Ack: in.Ack})
	require.NoError(t, err)
	require.Len(t, d.fake.Calls("answerCallbackQuery"), 1)
	require.Empty(t, d.fake.Calls("editMessageText", "editMessageReplyMarkup"))
	msg, _ := d.fake.Message(deskChat, ticket)
	require.Equal(t, []string{"ticket_claim:12", "ticket_resolve:12"}, msg.Buttons)
}

func TestHelpdeskReplyIsAnAgentEvent(t *testing.T) {
	d := newDesk(t, deskOptions{})
	ticket := d.postTicket()
	d.post(d.fake.ReplyUpdate(deskChat, ada, ticket, "Try again <after> 17:40"))
	// A reply to another message the bot posted for the ticket counts too.
	thread, err := d.send(ticketPost(bot.PostThread, fmt.Sprint(ticket), "💬 Anna: still broken"))
	require.NoError(t, err)
	threadID, _ := strconv.ParseInt(thread.Ref, 10, 64)
	d.post(d.fake.ReplyUpdate(deskChat, bo, threadID, "On it"))

	events := d.rec.all()
	require.Len(t, events, 2)
	in := events[0]
	require.Equal(t, "Try again <after> 17:40", in.Text, "the text as the agent wrote it")
	require.Equal(t, deskID, in.ChatID)
	require.Equal(t, "7001", in.UserID)
	require.Equal(t, "ada_helps", in.Handle)
	require.Equal(t, &bot.HelpdeskEvent{Action: bot.ActReply, PostRef: fmt.Sprint(ticket)}, in.Helpdesk)
	require.Empty(t, in.Ack)
	require.Equal(t, &bot.HelpdeskEvent{Action: bot.ActReply, PostRef: thread.Ref}, events[1].Helpdesk)
	require.Equal(t, "Bo", events[1].Name)
}

// messageID is the id of the message an update carries.
func messageID(t *testing.T, update map[string]any) int64 {
	t.Helper()
	var u struct {
		Message struct {
			ID int64 `json:"message_id"`
		} `json:"message"`
	}
	require.NoError(t, json.Unmarshal(mustJSON(t, update), &u))
	require.NotZero(t, u.Message.ID)
	return u.Message.ID
}

// rawUpdate is an update with a message in chat, for shapes the fake's
// builders do not make (entities, media, service messages).
func rawUpdate(kind string, chat int64, msg map[string]any) map[string]any {
	msg["date"] = 1700000000
	msg["chat"] = map[string]any{"id": chat, "type": "supergroup", "title": "Helpdesk"}
	if _, ok := msg["message_id"]; !ok {
		msg["message_id"] = 900000
	}
	return map[string]any{"update_id": time.Now().UnixNano() % 1e12, kind: msg}
}

func from(u telegramtest.User) map[string]any {
	return map[string]any{"id": u.ID, "is_bot": u.IsBot, "first_name": u.FirstName, "username": u.Username}
}

// Nothing else said in the helpdesk group reaches the core, and the bot
// says nothing there; another group keeps its pointer to a private chat.
func TestHelpdeskChatterIsIgnored(t *testing.T) {
	d := newDesk(t, deskOptions{})
	ticket := d.postTicket()
	botMsg := map[string]any{"message_id": ticket, "date": 1700000000, "from": map[string]any{"id": telegramtest.BotID, "is_bot": true, "first_name": "Test"},
		"chat": map[string]any{"id": deskChat, "type": "supergroup"}, "text": "ticket"}
	chatter := d.fake.MessageUpdate(deskChat, bo, "coffee anyone?")
	edited := d.fake.ReplyUpdate(deskChat, ada, ticket, "typo fixed")
	edited["edited_message"] = edited["message"]
	delete(edited, "message")
	robot := telegramtest.User{ID: 666, IsBot: true, FirstName: "Other bot"}
	for name, u := range map[string]map[string]any{
		"chatter":              chatter,
		"reply to a person":    d.fake.ReplyUpdate(deskChat, ada, messageID(t, chatter), "yes please"),
		"reply to the unknown": d.fake.ReplyUpdate(deskChat, ada, 4242, "what is this?"),
		"another bot's reply":  d.fake.ReplyUpdate(deskChat, robot, ticket, "beep"),
		"an edited reply":      edited,
		"a student's button":   d.fake.CallbackUpdate(deskChat, ticket, ada, "start_activation"),
		"a forged button":      d.fake.CallbackUpdate(deskChat, ticket, ada, "ticket_delete:12"),
		"a mention": rawUpdate("message", deskChat, map[string]any{"from": from(ada), "text": "@test_bot help",
			"entities": []map[string]any{{"type": "mention", "offset": 0, "length": 9}}}),
		"a command": rawUpdate("message", deskChat, map[string]any{"from": from(ada), "text": "/start@test_bot",
			"entities": []map[string]any{{"type": "bot_command", "offset": 0, "length": 15}}}),
		"a sticker reply": rawUpdate("message", deskChat, map[string]any{"from": from(ada), "reply_to_message": botMsg,
			"sticker": map[string]any{"file_id": "x", "file_unique_id": "y", "type": "regular", "width": 1, "height": 1}}),
		"a join": rawUpdate("message", deskChat, map[string]any{"from": from(bo), "new_chat_members": []any{from(bo)}}),
		"the bot added": {"update_id": 77, "my_chat_member": map[string]any{"chat": map[string]any{"id": deskChat, "type": "supergroup"},
			"from": from(ada), "date": 1, "new_chat_member": map[string]any{"status": "administrator", "user": from(telegramtest.User{ID: 1, IsBot: true})}}},
	} {
		t.Run(name, func(t *testing.T) { d.post(u) })
	}
	require.Empty(t, d.rec.all())

	// Elsewhere groups are as before: a mention is pointed to a private chat.
	d.post(rawUpdate("message", -555, map[string]any{"from": from(bo), "text": "@test_bot help",
		"entities": []map[string]any{{"type": "mention", "offset": 0, "length": 9}}}))
	events := d.rec.all()
	require.Len(t, events, 1)
	require.Equal(t, "@test_bot", events[0].Group)
	require.Nil(t, events[0].Helpdesk)
	require.Len(t, d.fake.Calls("sendMessage"), 1, "only the ticket was sent")
}

// Before getMe the bot's id is unknown: every reply is taken, and the
// core quietly settles one that answers no ticket.
func TestHelpdeskReplyWhenTheBotsIDIsUnknown(t *testing.T) {
	d := newDesk(t, deskOptions{noSetup: true})
	chatter := d.fake.MessageUpdate(deskChat, bo, "coffee anyone?")
	d.post(chatter)
	d.post(d.fake.ReplyUpdate(deskChat, ada, messageID(t, chatter), "yes please"))
	events := d.rec.all()
	require.Len(t, events, 1)
	require.Equal(t, &bot.HelpdeskEvent{Action: bot.ActReply, PostRef: fmt.Sprint(messageID(t, chatter))}, events[0].Helpdesk)
}

func TestHelpdeskEventsByLongPolling(t *testing.T) {
	d := newDesk(t, deskOptions{polling: true})
	ticket := d.postTicket()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.adapter.Poll(ctx, d.rec) }()
	d.fake.PushUpdate(d.fake.MessageUpdate(deskChat, bo, "chatter"))
	d.fake.PushUpdate(d.fake.CallbackUpdate(deskChat, ticket, ada, "ticket_claim:12"))
	d.fake.PushUpdate(d.fake.ReplyUpdate(deskChat, ada, ticket, "Done."))
	deadline := time.Now().Add(10 * time.Second)
	for len(d.rec.all()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	require.NoError(t, <-done)
	events := d.rec.all()
	require.Len(t, events, 2)
	require.Equal(t, bot.ActClaim, events[0].Helpdesk.Action)
	require.Equal(t, bot.ActReply, events[1].Helpdesk.Action)
	require.Equal(t, "Done.", events[1].Text)
}

// A student's handle travels with their events, for the ticket's context.
func TestStudentHandleIsRead(t *testing.T) {
	d := newDesk(t, deskOptions{})
	student := telegramtest.User{ID: 4343, FirstName: "Anna", LastName: "Peeters", Username: "anna_p"}
	d.post(d.fake.MessageUpdate(student.ID, student, "hello"))
	events := d.rec.all()
	require.Len(t, events, 1)
	require.Equal(t, "anna_p", events[0].Handle)
	require.Equal(t, "Anna Peeters", events[0].Name)
	require.Nil(t, events[0].Helpdesk)
}

func TestTicketPostEditAndThread(t *testing.T) {
	d := newDesk(t, deskOptions{})
	ticket := d.postTicket()
	posted := d.fake.Calls("sendMessage")[0]
	require.Equal(t, deskID, posted.Fields["chat_id"])
	require.Equal(t, "🎫 Ticket #12: &lt;wrong name&gt; &amp; more", posted.Fields["text"], "escaped like any message")
	require.Equal(t, []string{"ticket_claim:12", "ticket_resolve:12"}, buttons(t, posted))
	ref := fmt.Sprint(ticket)

	// Claimed: the same message, with its new state and buttons.
	claimed := ticketPost(bot.PostEdit, ref, "🎫 Ticket #12: claimed by Ada", "ticket_resolve:12")
	sent, err := d.send(claimed)
	require.NoError(t, err)
	require.Equal(t, bot.Sent{Ref: ref}, sent)
	msg, _ := d.fake.Message(deskChat, ticket)
	require.Equal(t, "🎫 Ticket #12: claimed by Ada", msg.Text)
	require.Equal(t, []string{"ticket_resolve:12"}, msg.Buttons)

	// The same state again (a retry): Telegram's "not modified" is success.
	sent, err = d.send(claimed)
	require.NoError(t, err)
	require.Equal(t, bot.Sent{Ref: ref}, sent)
	edits := d.fake.Calls("editMessageText")
	require.Len(t, edits, 2)
	require.False(t, edits[1].OK(), "Telegram refused the second edit")

	// Without buttons the keyboard goes.
	_, err = d.send(ticketPost(bot.PostEdit, ref, "🎫 Ticket #12: resolved"))
	require.NoError(t, err)
	msg, _ = d.fake.Message(deskChat, ticket)
	require.Empty(t, msg.Buttons)

	// Never posted here: nothing to edit, nothing sent.
	before := len(d.fake.Calls())
	sent, err = d.send(ticketPost(bot.PostEdit, "", "🎫 Ticket #12: resolved"))
	require.NoError(t, err)
	require.Equal(t, bot.Sent{}, sent)
	require.Len(t, d.fake.Calls(), before)

	// The thread: replies to the ticket's message.
	sent, err = d.send(ticketPost(bot.PostThread, ref, "💬 Anna: it works"))
	require.NoError(t, err)
	require.False(t, sent.More)
	sends := d.fake.Calls("sendMessage")
	last := sends[len(sends)-1]
	require.Equal(t, ticket, last.ReplyTo())
	require.Equal(t, resultID(t, last), sent.Ref, "Ref is the new message")
	require.Empty(t, buttons(t, last))
	msg, _ = d.fake.Message(deskChat, ticket)
	require.Equal(t, "🎫 Ticket #12: resolved", msg.Text, "the ticket's message is untouched")

	// No ticket message here: a plain message. A deleted one: the answer
	// still goes, without the reply.
	for _, r := range []string{"", "999999"} {
		sent, err = d.send(ticketPost(bot.PostThread, r, "⏰ Ticket #12 is still unclaimed"))
		require.NoError(t, err, r)
		require.NotEmpty(t, sent.Ref)
	}
	sends = d.fake.Calls("sendMessage")
	require.Zero(t, sends[len(sends)-2].ReplyTo())
	require.Equal(t, int64(999999), sends[len(sends)-1].ReplyTo())
	require.True(t, sends[len(sends)-1].OK())
}

func resultID(t *testing.T, c telegramtest.Call) string {
	t.Helper()
	var r struct {
		MessageID int64 `json:"message_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(resultOf(t, c.Response)), &r))
	return fmt.Sprint(r.MessageID)
}

// A ticket is one message, so that a reply to any of it reaches the
// ticket: one too long for Telegram is cut, its buttons kept.
func TestTicketPostTooLongIsCut(t *testing.T) {
	d := newDesk(t, deskOptions{})
	long := strings.Repeat("Ticket 🎫 text ", 500) // 7500 UTF-16 units
	sent, err := d.send(ticketPost(bot.PostNew, "", long, "ticket_claim:12"))
	require.NoError(t, err)
	require.False(t, sent.More)
	calls := d.fake.Calls("sendMessage")
	require.Len(t, calls, 1)
	require.True(t, calls[0].OK(), calls[0].String())
	text := calls[0].Fields["text"]
	require.True(t, strings.HasSuffix(text, "…"))
	require.LessOrEqual(t, len(utf16Units(text)), 4096)
	require.Equal(t, []string{"ticket_claim:12"}, buttons(t, calls[0]))

	_, err = d.send(ticketPost(bot.PostEdit, sent.Ref, long+"changed", "ticket_resolve:12"))
	require.NoError(t, err, "an edit is cut the same way")
}

func utf16Units(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r >= 0x10000 {
			out = append(out, 0, 0)
		} else {
			out = append(out, 0)
		}
	}
	return out
}

// A long message in the thread goes in parts, each a reply to the ticket.
func TestLongThreadMessageGoesInParts(t *testing.T) {
	d := newDesk(t, deskOptions{})
	ticket := d.postTicket()
	para := strings.Repeat("The student answered at length. ", 100)
	dl := ticketPost(bot.PostThread, fmt.Sprint(ticket), para+"\n\n"+para)
	var refs []string
	for {
		sent, err := d.send(dl)
		require.NoError(t, err)
		refs = append(refs, sent.Ref)
		if !sent.More {
			break
		}
		dl.Parts++
	}
	require.Len(t, refs, 2)
	sends := d.fake.Calls("sendMessage")[1:]
	require.Len(t, sends, 2)
	for _, c := range sends {
		require.Equal(t, ticket, c.ReplyTo())
	}
}

func TestTicketPostErrorsAreClassified(t *testing.T) {
	d := newDesk(t, deskOptions{})
	ticket := fmt.Sprint(d.postTicket())
	var later *bot.RetryAfter
	for _, c := range []struct {
		name, method string
		status       int
		description  string
		dl           bot.Delivery
		check        func(t *testing.T, err error)
	}{
		{"429", "sendMessage", http.StatusTooManyRequests, "", ticketPost(bot.PostNew, "", "t"), func(t *testing.T, err error) {
			require.ErrorAs(t, err, &later)
			require.Equal(t, 3*time.Second, later.After)
		}},
		{"403", "sendMessage", http.StatusForbidden, "Forbidden: bot is not a member of the supergroup chat", ticketPost(bot.PostThread, ticket, "t"),
			func(t *testing.T, err error) { require.ErrorIs(t, err, bot.ErrUnreachable) }},
		{"400", "sendMessage", http.StatusBadRequest, "Bad Request: chat not found", ticketPost(bot.PostNew, "", "t"),
			func(t *testing.T, err error) { require.ErrorIs(t, err, bot.ErrRejected) }},
		{"500", "sendMessage", http.StatusInternalServerError, "", ticketPost(bot.PostNew, "", "t"), func(t *testing.T, err error) {
			require.Error(t, err)
			require.False(t, errors.Is(err, bot.ErrRejected) || errors.Is(err, bot.ErrUnreachable) || errors.As(err, &later), "transient: %v", err)
		}},
		{"edit 400", "editMessageText", http.StatusBadRequest, "Bad Request: message to edit not found", ticketPost(bot.PostEdit, ticket, "t"),
			func(t *testing.T, err error) { require.ErrorIs(t, err, bot.ErrRejected) }},
		{"edit 429", "editMessageText", http.StatusTooManyRequests, "", ticketPost(bot.PostEdit, ticket, "t"),
			func(t *testing.T, err error) { require.ErrorAs(t, err, &later) }},
		{"bad ref", "", 0, "", ticketPost(bot.PostEdit, "abc", "t"),
			func(t *testing.T, err error) { require.ErrorIs(t, err, bot.ErrRejected) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.method != "" {
				d.fake.Fail(c.method, c.status, c.description, 3)
			}
			_, err := d.send(c.dl)
			c.check(t, err)
		})
	}
}

func TestRosterAsksTelegramAndCaches(t *testing.T) {
	d := newDesk(t, deskOptions{})
	roster := d.adapter.Roster()
	ctx := context.Background()
	for user, status := range map[int64]string{1: "creator", 2: "administrator", 3: "member", 4: "left", 5: "kicked", 6: "a_status_from_2030"} {
		d.fake.SetChatMember(deskChat, user, status)
	}
	d.fake.SetRestrictedMember(deskChat, 7, true)
	d.fake.SetRestrictedMember(deskChat, 8, false)
	d.fake.SetChatMember(-555, 9, "member") // another group
	want := map[string]bool{"1": true, "2": true, "3": true, "4": false, "5": false, "6": false, "7": true, "8": false, "9": false, "10": false}
	for user, member := range want {
		got, err := roster.HelpdeskMember(ctx, user)
		require.NoError(t, err, user)
		require.Equal(t, member, got, "user %s", user)
	}
	calls := d.fake.Calls("getChatMember")
	require.Len(t, calls, len(want))
	require.Equal(t, deskID, calls[0].Fields["chat_id"])

	// Answers, yes and no, are kept a minute.
	d.fake.SetChatMember(deskChat, 3, "left")
	d.fake.SetChatMember(deskChat, 4, "member")
	for user, member := range want {
		got, err := roster.HelpdeskMember(ctx, user)
		require.NoError(t, err)
		require.Equal(t, member, got)
	}
	require.Len(t, d.fake.Calls("getChatMember"), len(want), "from the cache")

	// Not a Telegram user id: nobody, without asking.
	got, err := roster.HelpdeskMember(ctx, "T01:U02")
	require.NoError(t, err)
	require.False(t, got)
	require.Len(t, d.fake.Calls("getChatMember"), len(want))
}

func TestRosterErrors(t *testing.T) {
	d := newDesk(t, deskOptions{})
	roster := d.adapter.Roster()
	ctx := context.Background()
	d.fake.SetChatMember(deskChat, 7001, "member")
	d.fake.Fail("getChatMember", http.StatusInternalServerError, "", 0)
	_, err := roster.HelpdeskMember(ctx, "7001")
	require.ErrorContains(t, err, "getChatMember")
	require.ErrorContains(t, err, "7001")
	require.NotContains(t, err.Error(), d.fake.Token, "no token in errors")
	got, err := roster.HelpdeskMember(ctx, "7001")
	require.NoError(t, err, "a failure is not remembered")
	require.True(t, got)

	d.fake.Fail("getChatMember", http.StatusBadRequest, "Bad Request: chat not found", 0)
	_, err = roster.HelpdeskMember(ctx, "7002")
	require.ErrorContains(t, err, "chat not found", "a wrong HELPDESK_TELEGRAM_CHAT_ID is an error to see")
	d.fake.Fail("getChatMember", http.StatusBadRequest, "Bad Request: user not found", 0)
	got, err = roster.HelpdeskMember(ctx, "7003")
	require.NoError(t, err)
	require.False(t, got, "a user Telegram does not know is nobody")

	d.fake.FailRaw("getChatMember", http.StatusBadGateway, "text/html", "<html>bad gateway</html>")
	_, err = roster.HelpdeskMember(ctx, "7004")
	require.Error(t, err)
}

func TestRosterWithoutHelpdeskGroup(t *testing.T) {
	d := newDesk(t, deskOptions{chat: -1})
	d.fake.SetChatMember(deskChat, 7001, "member")
	got, err := d.adapter.Roster().HelpdeskMember(context.Background(), "7001")
	require.NoError(t, err)
	require.False(t, got)
	require.Empty(t, d.fake.Calls("getChatMember"))

	// And the group's updates are nobody's: a reply there is ignored.
	d.post(d.fake.ReplyUpdate(deskChat, ada, 1, "hello"))
	require.Empty(t, d.rec.all())
}
