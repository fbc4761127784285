package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// deskPost is what a helpdesk chat received.
type deskPost struct {
	Kind, Ref, Text string
	Buttons         []string
}

// deskSender stands in for a helpdesk channel: it records each ticket
// message with the post it refers to, and fails on cue.
type deskSender struct {
	mu      sync.Mutex
	posts   []deskPost
	fails   int
	failErr error // what a failing send returns; nil: a transient error
	n       int
}

func (s *deskSender) Send(_ context.Context, d bot.Delivery) (bot.Sent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails > 0 {
		s.fails--
		if s.failErr != nil {
			return bot.Sent{}, s.failErr
		}
		return bot.Sent{}, errors.New("helpdesk channel down")
	}
	if d.Ack != "" {
		return bot.Sent{}, nil
	}
	s.n++
	p := deskPost{Kind: d.Ticket.Kind, Ref: d.Ticket.Ref, Text: d.Message.Text}
	for _, b := range d.Message.Buttons {
		p.Buttons = append(p.Buttons, b.ID)
	}
	s.posts = append(s.posts, p)
	if d.Ticket.Kind == bot.PostEdit {
		return bot.Sent{Ref: d.Ticket.Ref}, nil
	}
	return bot.Sent{Ref: fmt.Sprintf("m%d", s.n)}, nil
}

func (s *deskSender) Limits() (bot.Rate, bot.Rate) { return bot.Rate{}, bot.Rate{} }

func (s *deskSender) all() []deskPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]deskPost(nil), s.posts...)
}

func (s *deskSender) wait(t *testing.T, n int) []deskPost {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(s.all()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("helpdesk got %d of %d messages: %+v", len(s.all()), n, s.all())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return s.all()
}

// members is a helpdesk channel's member list.
type members map[string]bool

func (m members) HelpdeskMember(_ context.Context, user string) (bool, error) { return m[user], nil }

type helpdeskBundle struct {
	*queued
	desk   *deskSender
	events int
}

var deskChat = bot.Chat{Platform: "desk", ID: "C1"}

// setupHelpdesk wires an engine with one helpdesk chat whose first
// deskFails sends fail. With storeClock the stores stamp rows with the
// test's clock too (else the wall clock, which the send age limit uses).
func setupHelpdesk(t *testing.T, dbName string, deskFails int, storeClock bool) *helpdeskBundle {
	t.Helper()
	b := setup(t, dbName)
	log := slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	q, err := storage.NewQueue(b.db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	convs, tickets := storage.NewConversations(b.db).WithQueue(q), storage.NewTickets(b.db, q)
	if storeClock {
		convs.SetClock(b.clock.Now)
		tickets.SetClock(b.clock.Now)
	}
	b.engine, err = bot.NewEngine(bot.Config{Pack: b.pack, Store: convs, Queue: q,
		Clock: b.clock, Location: brussels, Logger: log,
		Helpdesk: bot.Helpdesk{
			Tickets:         tickets,
			Destinations:    []bot.Chat{deskChat},
			Rosters:         map[string]bot.Roster{"desk": members{"agent": true}},
			ReannounceAfter: 2 * time.Hour,
		}})
	require.NoError(t, err)
	student, desk := &recordingSender{}, &deskSender{fails: deskFails}
	d := bot.NewDispatcher(b.engine, q, map[string]bot.Sender{"test": student, "desk": desk}, log)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, q.Start(ctx, d.Work))
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		require.NoError(t, q.Stop(stop))
		cancel()
	})
	return &helpdeskBundle{queued: &queued{testBundle: b, queue: q, sender: student}, desk: desk}
}

// say sends the student's text or button press ("=id").
func (h *helpdeskBundle) say(t *testing.T, words ...string) {
	t.Helper()
	for _, w := range words {
		h.events++
		in := bot.Inbound{Platform: "test", EventID: fmt.Sprintf("s%d", h.events), UserID: "anna", ChatID: "anna", Name: "Anna Peeters", Text: w}
		if id, ok := strings.CutPrefix(w, "="); ok {
			in.Text, in.ButtonID = "", id
		}
		require.NoError(t, h.engine.Accept(context.Background(), in))
	}
}

// agent acts in the helpdesk chat as user.
func (h *helpdeskBundle) agent(t *testing.T, user string, ev bot.HelpdeskEvent, text string) {
	t.Helper()
	h.events++
	in := bot.Inbound{Platform: deskChat.Platform, EventID: fmt.Sprintf("a%d", h.events), UserID: user, ChatID: deskChat.ID,
		Name: user, Text: text, Helpdesk: &ev}
	require.NoError(t, h.engine.Accept(context.Background(), in))
}

// audit is the audit log, newest first, as "actor action subject detail".
func (h *helpdeskBundle) audit(t *testing.T) []string {
	t.Helper()
	log, err := h.db.AuditLog(context.Background(), time.Time{}, 0)
	require.NoError(t, err)
	out := []string{}
	for _, e := range log {
		out = append(out, e.Actor+" "+e.Action+" "+e.Subject+" "+e.Detail)
	}
	return out
}

func (h *helpdeskBundle) status(t *testing.T, id int64) string {
	t.Helper()
	var s string
	require.NoError(t, h.db.Get(&s, h.db.Rebind(`SELECT status FROM tickets WHERE id = ?`), id))
	return s
}

// waitFor waits until the student received a text containing part, and
// returns everything they received.
func (h *helpdeskBundle) waitFor(t *testing.T, part string) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := h.sender.texts("anna")
		for _, text := range got {
			if strings.Contains(text, part) {
				return got
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the student never got %q: %q", part, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// reportNotReady walks the student to a ticket about an account not ready.
func (h *helpdeskBundle) reportNotReady(t *testing.T) {
	h.say(t, "hi", "=start_activation", "=emails_both", "20 minutes ago", "=report", "=problem:not_ready",
		"The page says my account is not ready")
}

func TestTicketTravelsFromStudentToHelpdeskAndBack(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		h := setupHelpdesk(t, d.Name, 0, false)
		h.reportNotReady(t)
		post := h.desk.wait(t, 1)[0]
		require.Equal(t, bot.PostNew, post.Kind)
		require.Contains(t, post.Text, "Ticket #1: Account not ready yet")
		require.Contains(t, post.Text, "Anna Peeters")
		require.Contains(t, post.Text, "The page says my account is not ready")
		require.Contains(t, post.Text, "Odisee account: waiting: e-mail received 2026-09-21 14:40, may activate from 2026-09-21 17:40")
		require.Equal(t, []string{"ticket_claim:1", "ticket_resolve:1"}, post.Buttons)
		got := h.waitFor(t, "Your report is ticket #1")

		// The agent answers in the ticket's thread: that claims it.
		h.agent(t, "agent", bot.HelpdeskEvent{Action: bot.ActReply, PostRef: "m1"}, "Wait until 17:40 and use the link again.")
		before := len(got)
		got = h.waitTexts(t, "anna", before+1)
		require.Equal(t, "💬 The helpdesk answers (ticket #1):\nWait until 17:40 and use the link again.", got[before])
		require.Equal(t, bot.TicketClaimed, h.status(t, 1))
		edit := h.desk.wait(t, 2)[1]
		require.Equal(t, bot.PostEdit, edit.Kind)
		require.Equal(t, "m1", edit.Ref)
		require.Contains(t, edit.Text, "claimed by agent")

		// The student answers back, into the same thread.
		h.say(t, "=helpdesk_reply:1", "It works now, thanks!")
		thread := h.desk.wait(t, 3)[2]
		require.Equal(t, bot.PostThread, thread.Kind)
		require.Equal(t, "m1", thread.Ref)
		require.Equal(t, "💬 Anna Peeters: It works now, thanks!", thread.Text)

		h.agent(t, "agent", bot.HelpdeskEvent{Action: bot.ActResolve, Ticket: 1, PostRef: "m1"}, "")
		posts := h.desk.wait(t, 4)
		require.Contains(t, posts[3].Text, "Status: resolved")
		require.Equal(t, []string{"ticket_reopen:1"}, posts[3].Buttons)
		require.Equal(t, bot.TicketResolved, h.status(t, 1))
		got = h.waitTexts(t, "anna", before+4)
		require.Contains(t, got[len(got)-1], "closed ticket #1 as solved")

		// Once resolved, the student's texts no longer go to it.
		h.say(t, "=helpdesk_reply:1")
		got = h.waitTexts(t, "anna", before+5)
		require.Contains(t, got[len(got)-1], "Ticket #1 is closed")

		// Each action of the agent is in the audit log, newest first, with
		// no text of the answer.
		storagetest.Settle(t, h.db)
		require.Equal(t, []string{
			"desk:agent ticket.resolve ticket #1 ",
			"desk:agent ticket.reply ticket #1 claimed by answering",
		}, h.audit(t))
	})
}

func TestNonMemberChangesNothing(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		h := setupHelpdesk(t, d.Name, 0, false)
		h.reportNotReady(t)
		h.desk.wait(t, 1)
		n := len(h.waitFor(t, "Your report is ticket #1"))
		h.agent(t, "intruder", bot.HelpdeskEvent{Action: bot.ActClaim, Ticket: 1, PostRef: "m1"}, "")
		h.agent(t, "intruder", bot.HelpdeskEvent{Action: bot.ActReply, PostRef: "m1"}, "I am not the helpdesk")
		posts := h.desk.wait(t, 3)
		for _, p := range posts[1:] {
			require.Equal(t, bot.PostThread, p.Kind)
			require.Contains(t, p.Text, "only helpdesk members")
		}
		storagetest.Settle(t, h.db)
		require.Equal(t, bot.TicketOpen, h.status(t, 1))
		require.Len(t, h.sender.texts("anna"), n, "the student hears nothing from a non-member")
		var msgs int
		require.NoError(t, h.db.Get(&msgs, `SELECT COUNT(*) FROM ticket_messages`))
		require.Zero(t, msgs)
		require.Empty(t, h.audit(t), "a refused action is not an action")
	})
}

func TestSecretTypedEarlierIsInNoTicket(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		h := setupHelpdesk(t, d.Name, 0, false)
		h.say(t, "hi", "=start_activation", "my password is Hunter2!xyz and my national number is 85.07.30-033.28",
			"=report", "=problem:other", "my password is Hunter2!xyz but it fails", "It fails at the last step")
		post := h.desk.wait(t, 1)[0]
		for _, secret := range []string{"Hunter2", "85.07.30", "033.28"} {
			require.NotContains(t, post.Text, secret)
			require.NotContains(t, h.logs.String(), secret)
		}
		var stored string
		require.NoError(t, h.db.Get(&stored, `SELECT description || context FROM tickets`))
		require.NotContains(t, stored, "Hunter2")
	})
}

func TestHelpdeskDownThenUpPostsOnceAndTellsTheStudent(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		h := setupHelpdesk(t, d.Name, 2, false)
		defer func() {
			if t.Failed() {
				t.Log(h.logs.String())
			}
		}()
		h.reportNotReady(t)
		posts := h.desk.wait(t, 1)
		storagetest.Settle(t, h.db)
		require.Len(t, h.desk.all(), 1, "one post, however many failures")
		require.Equal(t, bot.PostNew, posts[0].Kind)
		var delayed int
		for _, text := range h.sender.texts("anna") {
			if strings.Contains(text, "hasn't received it yet") {
				delayed++
			}
		}
		require.Equal(t, 1, delayed, "the student is told once that the helpdesk has not got it yet")
	})
}

func TestHelpdeskChatRefusingTheBotKeepsTheTicket(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		h := setupHelpdesk(t, d.Name, 1, false)
		h.desk.mu.Lock()
		h.desk.failErr = fmt.Errorf("not_in_channel: %w", bot.ErrUnreachable)
		h.desk.mu.Unlock()
		h.reportNotReady(t)
		posts := h.desk.wait(t, 1)
		require.Equal(t, bot.PostNew, posts[0].Kind, "posted once the bot is let in")
		require.Contains(t, h.logs.String(), "the helpdesk chat refuses the bot")
	})
}

func TestUnclaimedTicketIsReannouncedOnce(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		h := setupHelpdesk(t, d.Name, 0, true)
		h.clock.Set(time.Now()) // sends older than a day are given up
		h.reportNotReady(t)
		h.desk.wait(t, 1)
		ctx := context.Background()
		require.NoError(t, h.engine.Reannounce(ctx))
		storagetest.Settle(t, h.db)
		require.Len(t, h.desk.all(), 1, "not yet due")
		h.clock.Set(h.clock.Now().Add(2*time.Hour + time.Minute))
		require.NoError(t, h.engine.Reannounce(ctx))
		require.NoError(t, h.engine.Reannounce(ctx))
		posts := h.desk.wait(t, 2)
		storagetest.Settle(t, h.db)
		require.Len(t, h.desk.all(), 2)
		require.Equal(t, bot.PostThread, posts[1].Kind)
		require.Contains(t, posts[1].Text, "still unclaimed")
	})
}

// A student erased while the helpdesk chat is down leaves nothing waiting
// for it: the ticket's post, which holds their name and words, goes too.
func TestForgetTakesTheTicketPostStillWaiting(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		h := setupHelpdesk(t, d.Name, 1000, false)
		h.reportNotReady(t)
		h.waitFor(t, "Your report is ticket #1")
		count := func() int {
			var n int
			require.NoError(t, h.db.Get(&n, h.db.Rebind(`SELECT COUNT(*) FROM outbox WHERE platform = ? AND chat_id = ?`), deskChat.Platform, deskChat.ID))
			return n
		}
		require.Equal(t, 1, count(), "the post waits for the helpdesk chat")
		h.say(t, "/forget", "=forget_yes")
		h.waitFor(t, "All your data has been erased")
		require.Zero(t, count())
	})
}

// The helpdesk's answer to a student with two identities goes to the one
// they used last, and the ticket moves with a merged student.
func TestHelpdeskAnswerGoesToTheIdentityUsedLast(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		h := setupHelpdesk(t, d.Name, 0, true)
		h.reportNotReady(t)
		h.desk.wait(t, 1)
		h.say(t, "/link")
		got := h.waitFor(t, "Your link code")
		code := codeIn(t, got[len(got)-1])
		h.clock.Set(h.clock.Now().Add(time.Minute))
		h.accept(t, "anna-phone", "p1", code) // nothing on the phone yet: linked at once
		phone := h.waitTexts(t, "anna-phone", 1)
		require.Contains(t, phone[0], "Linked with")
		require.Contains(t, phone[0], "Ticket #1", "the ticket came along")

		before := len(h.sender.texts("anna"))
		h.clock.Set(h.clock.Now().Add(time.Minute))
		h.agent(t, "agent", bot.HelpdeskEvent{Action: bot.ActReply, PostRef: "m1"}, "Wait until 17:40 and use the link again.")
		phone = h.waitTexts(t, "anna-phone", 2)
		require.Equal(t, "💬 The helpdesk answers (ticket #1):\nWait until 17:40 and use the link again.", phone[1])
		storagetest.Settle(t, h.db)
		for _, text := range h.sender.texts("anna")[before:] {
			require.NotContains(t, text, "The helpdesk answers", "the answer goes to one identity only")
		}
	})
}
