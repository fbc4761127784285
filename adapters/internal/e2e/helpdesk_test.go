// Package e2e_test runs the helpdesk across platforms, as serve wires it:
// a student on one platform, the helpdesk on another, each behind its fake
// API driven by the real client library, and tickets mailed over a real
// SMTP conversation.
package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/email"
	"activation-bot/adapters/email/smtptest"
	"activation-bot/adapters/slack"
	"activation-bot/adapters/slack/slacktest"
	"activation-bot/adapters/telegram"
	"activation-bot/adapters/telegram/telegramtest"
	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

var fast = bot.Rate{Every: time.Millisecond, Burst: 100}

const (
	deskGroup   = int64(-100777) // the Telegram helpdesk group
	deskChannel = "C0HELPDESK"   // the Slack helpdesk channel
	tgStudent   = int64(4242)    // a student on Telegram
	tgAgent     = int64(5151)    // an agent in the Telegram group
	tgStranger  = int64(6161)    // someone who is not in it
	slStudent   = "U0STUDENT"    // a student in Slack
	slAgent     = "U0AGENT"      // an agent in the Slack channel
	slStranger  = "U0STRANGER"   // someone who is not in it
	mailTo      = "helpdesk@example.org"
)

// world is one bot instance on Telegram and in Slack, with its helpdesk
// where the test puts it.
type world struct {
	t      *testing.T
	db     *storage.DB
	tg     *telegramtest.Fake
	sl     *slacktest.Fake
	smtp   *smtptest.Server
	engine *bot.Engine
}

// deskOn names the helpdesk destinations: "slack", "telegram", "email".
func newWorld(t *testing.T, dbName string, deskOn ...string) *world {
	t.Helper()
	w := &world{t: t, db: storagetest.Open(t, dbName).DB, tg: telegramtest.New(t), sl: slacktest.New(t)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	has := func(p string) bool { return strings.Contains(strings.Join(deskOn, ","), p) }

	tcfg := telegram.Config{Token: w.tg.Token, APIURL: w.tg.URL, PerChat: fast, Overall: fast,
		PollTimeout: time.Second, ConflictWait: 10 * time.Millisecond, Logger: log}
	scfg := slack.Config{BotToken: slacktest.BotToken, AppToken: slacktest.AppToken, APIURL: w.sl.URL + "/api/",
		PerChat: fast, Overall: fast, Logger: log}
	var dests []bot.Chat
	if has("slack") {
		scfg.HelpdeskChannel = deskChannel
		dests = append(dests, bot.Chat{Platform: slack.Platform, ID: deskChannel})
	}
	if has("telegram") {
		tcfg.HelpdeskChatID = deskGroup
		dests = append(dests, bot.Chat{Platform: telegram.Platform, ID: strconv.FormatInt(deskGroup, 10)})
	}
	tg, err := telegram.New(tcfg)
	require.NoError(t, err)
	require.NoError(t, tg.Setup(ctx, nil))
	sl, err := slack.New(scfg)
	require.NoError(t, err)
	require.NoError(t, sl.Setup(ctx))
	senders := map[string]bot.Sender{telegram.Platform: tg.Sender(), slack.Platform: sl.Sender()}
	if has("email") {
		w.smtp = smtptest.Start(t)
		mcfg, err := email.ParseConfig(w.smtp.URL("bot", "pw"), "Activation bot <bot@example.org>", mailTo)
		require.NoError(t, err)
		mcfg.Logger = log
		mail, err := email.New(mcfg)
		require.NoError(t, err)
		senders[bot.EmailPlatform] = mail
		dests = append(dests, bot.Chat{Platform: bot.EmailPlatform, ID: "helpdesk"})
	}

	pack, err := flows.Default()
	require.NoError(t, err)
	q, err := storage.NewQueue(w.db, log)
	require.NoError(t, err)
	w.engine, err = bot.NewEngine(bot.Config{Pack: pack, Store: storage.NewConversations(w.db).WithQueue(q), Queue: q, Logger: log,
		Helpdesk: bot.Helpdesk{
			Tickets:      storage.NewTickets(w.db, q),
			Destinations: dests,
			Rosters:      map[string]bot.Roster{telegram.Platform: tg.Roster(), slack.Platform: sl.Roster()},
		}})
	require.NoError(t, err)
	d := bot.NewDispatcher(w.engine, q, senders, log)
	require.NoError(t, q.Start(context.WithoutCancel(ctx), d.Work))
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		require.NoError(t, q.Stop(stop))
	})
	go func() { _ = tg.Poll(ctx, w.engine) }()
	go func() { _ = sl.RunSocketMode(ctx, w.engine) }()

	w.tg.SetChatMember(deskGroup, tgAgent, "member")
	w.tg.SetChatMember(deskGroup, tgStranger, "left")
	w.sl.SetMembers(deskChannel, slacktest.BotUserID, slAgent)
	w.sl.SetUser(slStudent, "en-US", "anna")
	w.sl.SetRealName(slStudent, "Anna Slack")
	w.sl.SetUser(slAgent, "en-US", "ann")
	w.sl.SetRealName(slAgent, "Ann Agent")
	w.sl.SetUser(slStranger, "en-US", "stranger")
	return w
}

// eventually waits for cond, failing with what after 20 s.
func (w *world) eventually(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ---- Telegram ----

var (
	tgStudentUser = telegramtest.User{ID: tgStudent, FirstName: "Tom", LastName: "Telegram", Username: "tomtg"}
	tgAgentUser   = telegramtest.User{ID: tgAgent, FirstName: "Greta", Username: "greta"}
	tgStrangeUser = telegramtest.User{ID: tgStranger, FirstName: "Stranger"}
)

// tgSends are the bot's sendMessage calls to chat.
func (w *world) tgSends(chat int64) []telegramtest.Call {
	var out []telegramtest.Call
	for _, c := range w.tg.Calls("sendMessage") {
		if c.Fields["chat_id"] == strconv.FormatInt(chat, 10) && c.Status == 200 {
			out = append(out, c)
		}
	}
	return out
}

func messageID(t *testing.T, c telegramtest.Call) int64 {
	var r struct {
		Result struct {
			MessageID int64 `json:"message_id"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(c.Response), &r))
	return r.Result.MessageID
}

// tgSay has the Telegram student type text, and waits for n more messages.
func (w *world) tgSay(text string, n int) {
	w.t.Helper()
	before := len(w.tgSends(tgStudent))
	w.tg.PushUpdate(w.tg.MessageUpdate(tgStudent, tgStudentUser, text))
	w.eventually("the Telegram student's answer to "+text, func() bool { return len(w.tgSends(tgStudent)) >= before+n })
}

// tgPress presses the button data under the bot's latest message that has it.
func (w *world) tgPress(data string, n int) {
	w.t.Helper()
	sends := w.tgSends(tgStudent)
	for i := len(sends) - 1; i >= 0; i-- {
		if strings.Contains(sends[i].Fields["reply_markup"], `"`+data+`"`) {
			before := len(sends)
			w.tg.PushUpdate(w.tg.CallbackUpdate(tgStudent, messageID(w.t, sends[i]), tgStudentUser, data))
			w.eventually("the answer to button "+data, func() bool { return len(w.tgSends(tgStudent)) >= before+n })
			return
		}
	}
	w.t.Fatalf("no message with button %s", data)
}

func (w *world) tgLast(chat int64) string {
	sends := w.tgSends(chat)
	if len(sends) == 0 {
		return ""
	}
	return sends[len(sends)-1].Fields["text"]
}

// ---- Slack ----

func (w *world) slSay(text string, n int) {
	w.t.Helper()
	before := len(w.sl.Posted("D" + slStudent))
	w.sl.SendDM(w.t, slStudent, text)
	w.eventually("the Slack student's answer to "+text, func() bool { return len(w.sl.Posted("D"+slStudent)) >= before+n })
}

func (w *world) slPress(value string, n int) {
	w.t.Helper()
	posted := w.sl.Posted("D" + slStudent)
	for i := len(posted) - 1; i >= 0; i-- {
		for _, b := range w.sl.Buttons(posted[i]) {
			if b.Value == value {
				w.sl.Click(w.t, slStudent, b)
				w.eventually("the answer to button "+value, func() bool { return len(w.sl.Posted("D"+slStudent)) >= len(posted)+n })
				return
			}
		}
	}
	w.t.Fatalf("no Slack message with button %s", value)
}

func lastSlack(calls []slacktest.Call) string {
	if len(calls) == 0 {
		return ""
	}
	return calls[len(calls)-1].Fields["text"]
}

func (w *world) status(id int64) string {
	var s string
	require.NoError(w.t, w.db.Get(&s, w.db.Rebind(`SELECT status FROM tickets WHERE id = ?`), id))
	return s
}

// reportFromTelegram walks the Telegram student to ticket #1.
func (w *world) reportFromTelegram() {
	w.tgSay("hi", 1)
	w.tgPress("start_activation", 1)
	w.tgPress("emails_both", 1)
	w.tgSay("my password is Hunter2!xyz", 1)
	w.tgSay("20 minutes ago", 1)
	w.tgPress(bot.ButtonReport, 1)
	w.tgPress("problem:not_ready", 2)
	w.tgSay("The activation page says my account is not ready", 1)
	require.Contains(w.t, w.tgLast(tgStudent), "ticket #1")
}

// TestTelegramStudentSlackHelpdesk: a student on Telegram reports, the
// ticket appears in the Slack channel, a stranger's claim changes nothing,
// an agent claims and answers in the thread, the student answers back,
// the agent resolves. The ticket is mailed too.
func TestTelegramStudentSlackHelpdesk(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		w := newWorld(t, d.Name, "slack", "email")
		w.reportFromTelegram()

		w.eventually("the ticket in the Slack channel", func() bool { return len(w.sl.Posted(deskChannel)) == 1 })
		post := w.sl.Posted(deskChannel)[0]
		text := post.Fields["text"]
		require.Contains(t, text, "Ticket #1: Account not ready yet")
		require.Contains(t, text, "Tom Telegram (@tomtg)")
		require.Contains(t, text, "telegram:4242")
		require.Contains(t, text, "The activation page says my account is not ready")
		require.NotContains(t, text, "Hunter2", "a secret typed earlier is in no ticket")
		var resp struct{ TS string }
		require.NoError(t, json.Unmarshal([]byte(post.Response), &resp))
		ts := resp.TS

		mails := w.smtp.Wait(t, 1)
		require.Contains(t, mails[0].Data, "Ticket #1")
		require.NotContains(t, mails[0].Data, "Hunter2")
		require.Equal(t, []string{mailTo}, mails[0].To)

		claim := w.sl.Buttons(post)[0]
		require.Equal(t, bot.TicketButton(bot.ActClaim, 1), claim.Value)
		w.sl.Click(t, slStranger, claim)
		w.eventually("the refusal in the thread", func() bool {
			return strings.Contains(lastSlack(w.sl.Replies(deskChannel, ts)), "only helpdesk members")
		})
		require.Equal(t, bot.TicketOpen, w.status(1), "a stranger's claim changes nothing")

		w.sl.Click(t, slAgent, claim)
		w.eventually("the ticket shown claimed", func() bool {
			return strings.Contains(lastSlack(w.sl.Updated(deskChannel)), "claimed by Ann Agent")
		})
		w.eventually("the student told it is claimed", func() bool {
			return strings.Contains(w.tgLast(tgStudent), "looking at ticket #1")
		})

		w.sl.SendChannelMessage(t, deskChannel, ts, slAgent, "Wait until 17:40, then use the link in the e-mail again.")
		w.eventually("the answer on Telegram", func() bool {
			return strings.Contains(w.tgLast(tgStudent), "Wait until 17:40, then use the link in the e-mail again.")
		})

		n := len(w.sl.Replies(deskChannel, ts))
		w.tgPress(bot.ReplyButton(1), 1)
		w.tgSay("Thanks, it works now!", 1)
		w.eventually("the student's answer in the thread", func() bool { return len(w.sl.Replies(deskChannel, ts)) > n })
		require.Equal(t, "💬 Tom Telegram: Thanks, it works now!", lastSlack(w.sl.Replies(deskChannel, ts)))

		w.sl.Click(t, slAgent, w.sl.Buttons(w.sl.Posted(deskChannel)[0])[0])
		w.eventually("the ticket resolved", func() bool { return w.status(1) == bot.TicketResolved })
		w.eventually("the student told it is resolved", func() bool { return strings.Contains(w.tgLast(tgStudent), "solved") })
		require.Len(t, w.sl.Posted(deskChannel), 1+len(w.sl.Replies(deskChannel, ts)), "one post; the rest in its thread")
		require.Len(t, w.smtp.Messages(), 1, "one mail per ticket")
	})
}

// TestSlackStudentTelegramHelpdesk is the mirror case: a student in Slack,
// the helpdesk in a Telegram group where a reply to the ticket's message
// is its thread.
func TestSlackStudentTelegramHelpdesk(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		w := newWorld(t, d.Name, "telegram")
		w.slSay("hi", 1)
		w.slPress("start_activation", 1)
		w.slPress("emails_both", 1)
		w.slPress("odisee_ready", 1)
		w.slPress("odisee_problem", 1)
		w.slPress("odisee_report", 1)
		w.slPress("problem:link_invalid", 2)
		w.slSay("The link says the code has expired", 1)
		require.Contains(t, lastSlack(w.sl.Posted("D"+slStudent)), "ticket #1")

		w.eventually("the ticket in the Telegram group", func() bool { return len(w.tgSends(deskGroup)) == 1 })
		post := w.tgSends(deskGroup)[0]
		require.Contains(t, post.Fields["text"], "Ticket #1: Link or code invalid or expired")
		require.Contains(t, post.Fields["text"], "Anna Slack (@anna)")
		postID := messageID(t, post)

		// A stranger's reply is refused and never reaches the student.
		before := len(w.sl.Posted("D" + slStudent))
		w.tg.PushUpdate(w.tg.ReplyUpdate(deskGroup, tgStrangeUser, postID, "I can help!"))
		w.eventually("the refusal", func() bool { return strings.Contains(w.tgLast(deskGroup), "only helpdesk members") })
		require.Len(t, w.sl.Posted("D"+slStudent), before)

		w.tg.PushUpdate(w.tg.CallbackUpdate(deskGroup, postID, tgAgentUser, bot.TicketButton(bot.ActClaim, 1)))
		w.eventually("the ticket claimed", func() bool { return w.status(1) == bot.TicketClaimed })
		w.eventually("the ticket message edited", func() bool {
			m, ok := w.tg.Message(deskGroup, postID)
			return ok && strings.Contains(m.Text, "claimed by Greta")
		})

		w.tg.PushUpdate(w.tg.ReplyUpdate(deskGroup, tgAgentUser, postID, "Request a new activation link at the desk; we sent it."))
		w.eventually("the answer in Slack", func() bool {
			return strings.Contains(lastSlack(w.sl.Posted("D"+slStudent)), "we sent it.")
		})

		n := len(w.tgSends(deskGroup))
		w.slPress(bot.ReplyButton(1), 1)
		w.slSay("Got it, thank you", 1)
		w.eventually("the student's answer in the group", func() bool { return len(w.tgSends(deskGroup)) > n })
		answer := w.tgSends(deskGroup)[n]
		require.Equal(t, postID, answer.ReplyTo(), "a reply to the ticket's message")
		require.Contains(t, answer.Fields["text"], "Anna Slack: Got it, thank you")

		w.tg.PushUpdate(w.tg.CallbackUpdate(deskGroup, postID, tgAgentUser, bot.TicketButton(bot.ActResolve, 1)))
		w.eventually("the ticket resolved", func() bool { return w.status(1) == bot.TicketResolved })
		w.eventually("the student told", func() bool { return strings.Contains(lastSlack(w.sl.Posted("D"+slStudent)), "solved") })
		w.eventually("only Reopen left", func() bool {
			m, _ := w.tg.Message(deskGroup, postID)
			return len(m.Buttons) == 1 && m.Buttons[0] == bot.TicketButton(bot.ActReopen, 1)
		})
	})
}

// TestHelpdeskChannelDownThenUp: the Slack channel fails, then works: the
// ticket is posted once, and the student is told of the delay.
func TestHelpdeskChannelDownThenUp(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		w := newWorld(t, d.Name, "slack")
		w.sl.Fail("chat.postMessage", 500, "internal_error", 0)
		w.sl.Fail("chat.postMessage", 500, "internal_error", 0)
		w.reportFromTelegram()
		w.eventually("the ticket posted after the outage", func() bool { return len(w.sl.Posted(deskChannel)) >= 1 })
		w.eventually("the student told of the delay", func() bool {
			for _, c := range w.tgSends(tgStudent) {
				if strings.Contains(c.Fields["text"], "received it yet") {
					return true
				}
			}
			return false
		})
		time.Sleep(300 * time.Millisecond)
		require.Len(t, w.sl.Posted(deskChannel), 1, "posted once")
	})
}
