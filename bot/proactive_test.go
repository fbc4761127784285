package bot_test

import (
	"context"
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

// inbox records what each chat received, with the buttons.
type inbox struct {
	mu      sync.Mutex
	msgs    map[string][]bot.Outbound
	blocked map[string]bool // chats that answer 403
}

func (s *inbox) Send(_ context.Context, d bot.Delivery) (bot.Sent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blocked[d.Chat.ID] {
		return bot.Sent{}, fmt.Errorf("%w: 403 Forbidden: bot was blocked by the user", bot.ErrUnreachable)
	}
	if d.Message != nil {
		if s.msgs == nil {
			s.msgs = map[string][]bot.Outbound{}
		}
		s.msgs[d.Chat.ID] = append(s.msgs[d.Chat.ID], *d.Message)
	}
	return bot.Sent{}, nil
}

func (s *inbox) Limits() (bot.Rate, bot.Rate) { return bot.Rate{}, bot.Rate{} }

func (s *inbox) of(chat string) []bot.Outbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bot.Outbound(nil), s.msgs[chat]...)
}

// count is how many messages of intent chat received.
func (s *inbox) count(chat, intent string) int {
	n := 0
	for _, m := range s.of(chat) {
		if m.Intent == intent {
			n++
		}
	}
	return n
}

// waitIntent waits until chat received n messages of intent and returns
// the last.
func (s *inbox) waitIntent(t *testing.T, chat, intent string, n int) bot.Outbound {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.count(chat, intent) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s got %d %s messages, want %d: %+v", chat, s.count(chat, intent), intent, n, s.of(chat))
		}
		time.Sleep(10 * time.Millisecond)
	}
	var last bot.Outbound
	for _, m := range s.of(chat) {
		if m.Intent == intent {
			last = m
		}
	}
	return last
}

type proactiveBundle struct {
	*testBundle
	queue  *storage.Queue
	sent   *inbox
	events int
}

// setupProactive runs an engine with reminders on a queue whose jobs run,
// the stores stamping rows with the test's clock. The clock starts in
// September 2026, so River finds every reminder due at once and the
// engine's clock alone decides whether it fits yet.
func setupProactive(t *testing.T, dbName string, rem bot.Reminders, admins ...string) *proactiveBundle {
	t.Helper()
	b := setup(t, dbName)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := storage.NewQueue(b.db, quiet)
	require.NoError(t, err)
	convs := storage.NewConversations(b.db).WithQueue(q).SetClock(b.clock.Now)
	b.engine, err = bot.NewEngine(bot.Config{Pack: b.pack, Store: convs, Queue: q, Reminders: rem, Admins: admins,
		Clock: b.clock, Location: brussels, Logger: quiet})
	require.NoError(t, err)
	sent := &inbox{}
	q.ComposeWith(b.engine, rem.Quiet)
	d := bot.NewDispatcher(b.engine, q, map[string]bot.Sender{"test": sent}, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, q.Start(ctx, d.Work))
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		require.NoError(t, q.Stop(stop))
		cancel()
	})
	return &proactiveBundle{testBundle: b, queue: q, sent: sent}
}

// say sends a student's texts or button presses ("=id") and waits until
// they are answered.
func (p *proactiveBundle) say(t *testing.T, student string, words ...string) {
	t.Helper()
	for _, w := range words {
		p.events++
		in := bot.Inbound{Platform: "test", EventID: fmt.Sprintf("e%d", p.events), UserID: student, ChatID: student, Text: w}
		if id, ok := strings.CutPrefix(w, "="); ok {
			in.Text, in.ButtonID = "", id
		}
		require.NoError(t, p.engine.Accept(context.Background(), in))
		storagetest.Settle(t, p.db)
	}
}

// toOdiseeWait walks a student to the Odisee wait: the e-mail came at
// 14:50, so the wait ends at 17:50.
func (p *proactiveBundle) toOdiseeWait(t *testing.T, student string) {
	t.Helper()
	p.say(t, student, "hello", "=start_activation", "=emails_both", "it came 10 minutes ago")
}

// pending counts the reminder jobs that will still run.
func (p *proactiveBundle) pending(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, p.db.Get(&n, `SELECT COUNT(*) FROM river_job WHERE kind = 'reminder' AND state NOT IN ('completed', 'cancelled', 'discarded')`))
	return n
}

// decided waits until every pending reminder job ran again after now:
// each has then seen the test's clock as it is set.
func (p *proactiveBundle) decided(t *testing.T) {
	t.Helper()
	mark := time.Now().UTC()
	require.Eventually(t, func() bool {
		var stale int
		require.NoError(t, p.db.Get(&stale, p.db.Rebind(`SELECT COUNT(*) FROM river_job WHERE kind = 'reminder'
			AND state NOT IN ('completed', 'cancelled', 'discarded') AND (attempted_at IS NULL OR attempted_at < ?)`), mark))
		return stale == 0
	}, 20*time.Second, 20*time.Millisecond)
	storagetest.Settle(t, p.db) // and whatever it sent has arrived
}

func at(hour, minute int) time.Time { return time.Date(2026, 9, 21, hour, minute, 0, 0, brussels) }

func TestWaitOverReminderComesOnceWhenTheWaitEnds(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		p := setupProactive(t, d.Name, bot.Reminders{})
		// Nanoseconds, which Postgres does not keep: the reminder must
		// still know its wait.
		p.clock.Set(at(15, 0).Add(123456789))
		p.toOdiseeWait(t, "anna")
		require.Equal(t, 1, p.pending(t))
		p.decided(t) // the job ran and found the wait running
		require.Zero(t, p.sent.count("anna", bot.IntentWaitOver))

		p.clock.Set(at(17, 51))
		msg := p.sent.waitIntent(t, "anna", bot.IntentWaitOver, 1)
		require.Equal(t, "⏰ The wait is over: you can activate your Odisee account now. Tap the button to go on.", msg.Text)
		require.Equal(t, "wait_check", msg.Buttons[0].ID)
		require.Eventually(t, func() bool { return p.pending(t) == 0 }, 10*time.Second, 20*time.Millisecond)
		require.Equal(t, 1, p.sent.count("anna", bot.IntentWaitOver))

		// Its button leads on to the account's steps, even from elsewhere.
		p.say(t, "anna", "=wait_next", "=wait_check")
		last := p.sent.of("anna")
		require.Equal(t, "odisee_done", last[len(last)-1].Buttons[0].ID)
	})
}

func TestReminderThatNoLongerFitsIsNotSent(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		p := setupProactive(t, d.Name, bot.Reminders{})
		p.toOdiseeWait(t, "moved")   // then says the e-mail came long ago
		p.toOdiseeWait(t, "stopped") // then opts out
		p.toOdiseeWait(t, "blocked") // then blocks the bot
		p.say(t, "moved", "actually it came at 11:00")
		p.say(t, "stopped", "/stop")
		require.Contains(t, p.sent.of("stopped")[len(p.sent.of("stopped"))-1].Text, "I won't send you reminders")
		require.NoError(t, p.engine.Accept(context.Background(), bot.Inbound{Platform: "test", EventID: "block", UserID: "blocked", ChatID: "blocked", Media: bot.MediaBlocked}))
		storagetest.Settle(t, p.db)

		p.clock.Set(at(18, 0))
		require.Eventually(t, func() bool { return p.pending(t) == 0 }, 15*time.Second, 20*time.Millisecond)
		for _, s := range []string{"moved", "stopped", "blocked"} {
			require.Zero(t, p.sent.count(s, bot.IntentWaitOver), s)
		}
	})
}

func TestQuietHoursPostponeReminders(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		quiet, err := bot.ParseQuietHours("22:00-08:00", brussels)
		require.NoError(t, err)
		p := setupProactive(t, d.Name, bot.Reminders{Quiet: quiet})
		p.clock.Set(at(20, 0))
		p.toOdiseeWait(t, "anna") // the wait ends at 22:50: in the quiet hours

		p.clock.Set(at(23, 0))
		p.decided(t)
		require.Zero(t, p.sent.count("anna", bot.IntentWaitOver))
		// An answer to the student is never held back.
		p.say(t, "anna", "/status")
		require.Equal(t, bot.IntentStatus, p.sent.of("anna")[len(p.sent.of("anna"))-1].Intent)

		p.clock.Set(time.Date(2026, 9, 22, 8, 0, 0, 0, brussels))
		p.sent.waitIntent(t, "anna", bot.IntentWaitOver, 1)
	})
}

func TestNudgeForAStepLeftOpen(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		p := setupProactive(t, d.Name, bot.Reminders{NudgeAfter: 24 * time.Hour, NudgeMax: 2})
		p.say(t, "anna", "hello", "=start_activation", "=emails_both", "=odisee_ready")
		// A day later, but she wrote meanwhile: not stuck yet.
		p.clock.Set(at(20, 0))
		p.say(t, "anna", "which account for toledo?")
		p.clock.Set(time.Date(2026, 9, 22, 16, 0, 0, 0, brussels))
		p.decided(t)
		require.Zero(t, p.sent.count("anna", bot.IntentNudge))

		p.clock.Set(time.Date(2026, 9, 22, 20, 1, 0, 0, brussels))
		msg := p.sent.waitIntent(t, "anna", bot.IntentNudge, 1)
		require.Contains(t, msg.Text, "Still busy with your Odisee account?")
		require.Equal(t, "resume", msg.Buttons[0].ID)
		require.Eventually(t, func() bool { return p.pending(t) == 0 }, 10*time.Second, 20*time.Millisecond)

		// One nudge per step: the next comes only for the next step, and
		// none after NUDGE_MAX.
		p.say(t, "anna", "=resume", "=odisee_done")
		p.clock.Set(time.Date(2026, 9, 24, 8, 0, 0, 0, brussels))
		p.sent.waitIntent(t, "anna", bot.IntentNudge, 2)
		p.say(t, "anna", "=resume", "=kuleuven_problem")
		p.clock.Set(time.Date(2026, 9, 26, 8, 0, 0, 0, brussels))
		require.Eventually(t, func() bool { return p.pending(t) == 0 }, 10*time.Second, 20*time.Millisecond)
		require.Equal(t, 2, p.sent.count("anna", bot.IntentNudge))
	})
}

func TestStopThenStartResumesWithoutResetting(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		p := setupProactive(t, d.Name, bot.Reminders{NudgeAfter: time.Hour, NudgeMax: 3})
		p.toOdiseeWait(t, "anna")
		p.say(t, "anna", "/stop")
		p.clock.Set(at(23, 0))
		require.Eventually(t, func() bool { return p.pending(t) == 0 }, 15*time.Second, 20*time.Millisecond)
		require.Zero(t, p.sent.count("anna", bot.IntentWaitOver)+p.sent.count("anna", bot.IntentNudge))

		p.say(t, "anna", "/start")
		got := p.sent.of("anna")
		require.Equal(t, bot.IntentRemindersOn, got[len(got)-2].Intent)
		// Back where she was: the wait is over, so on to the steps; her
		// progress is not reset.
		require.Equal(t, "odisee_done", got[len(got)-1].Buttons[0].ID)
		p.say(t, "anna", "/status")
		got = p.sent.of("anna")
		require.Contains(t, got[len(got)-1].Text, "Odisee account")
	})
}

func TestBroadcastReachesEachStudentOfItsSegmentOnce(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		p := setupProactive(t, d.Name, bot.Reminders{})
		p.toOdiseeWait(t, "waiting")
		p.say(t, "dutch", "hallo, ik heb een vraag")
		p.say(t, "french", "bonjour, j'ai une question")
		p.toOdiseeWait(t, "stopped")
		p.say(t, "stopped", "/stop")
		p.toOdiseeWait(t, "blocked")
		require.NoError(t, p.engine.Accept(context.Background(), bot.Inbound{Platform: "test", EventID: "block", UserID: "blocked", ChatID: "blocked", Media: bot.MediaBlocked}))
		storagetest.Settle(t, p.db)

		store := storage.NewBroadcasts(p.queue)
		all, err := bot.ParseSegment("all", p.pack, brussels)
		require.NoError(t, err)
		audience, err := store.Audience(context.Background(), all)
		require.NoError(t, err)
		require.Equal(t, bot.Audience{"test": {"en": 1, "nl": 1, "fr": 1}}, audience, "opted out and blocked are never in it")
		waiting, err := bot.ParseSegment("progress=waiting", p.pack, brussels)
		require.NoError(t, err)
		audience, err = store.Audience(context.Background(), waiting)
		require.NoError(t, err)
		require.Equal(t, 1, audience.Total())

		id, err := store.Create(context.Background(), bot.Broadcast{Segment: all, Button: true, CreatedBy: "console:admin",
			Texts: map[string]string{"en": "Welcome day is on Monday.", "nl": "De onthaaldag is maandag."}, SendAt: time.Now()})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			_, prog, err := store.Get(context.Background(), id)
			require.NoError(t, err)
			return prog.Sent == 3
		}, 20*time.Second, 20*time.Millisecond)
		b, prog, err := store.Get(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, bot.BroadcastSent, b.Status)
		require.Equal(t, storage.BroadcastProgress{Sent: 3}, prog)

		require.Equal(t, "Welcome day is on Monday.", p.sent.waitIntent(t, "waiting", bot.IntentBroadcast, 1).Text)
		require.Equal(t, "De onthaaldag is maandag.", p.sent.waitIntent(t, "dutch", bot.IntentBroadcast, 1).Text)
		french := p.sent.waitIntent(t, "french", bot.IntentBroadcast, 1)
		require.Equal(t, "Welcome day is on Monday.", french.Text, "no French text: the English one")
		require.Equal(t, "resume", french.Buttons[0].ID)
		require.Equal(t, "Reprendre où j'en étais", french.Buttons[0].Label)
		for _, s := range []string{"waiting", "dutch", "french", "stopped", "blocked"} {
			want := map[string]int{"waiting": 1, "dutch": 1, "french": 1}[s]
			require.Equal(t, want, p.sent.count(s, bot.IntentBroadcast), s)
		}
		// The Continue button works: she is back at her wait.
		p.say(t, "waiting", "=resume")
		got := p.sent.of("waiting")
		require.Equal(t, "activation_wait", got[len(got)-1].Intent)
	})
}

func TestCancelledBroadcastSendsNothing(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		p := setupProactive(t, d.Name, bot.Reminders{})
		p.say(t, "anna", "hello")
		store := storage.NewBroadcasts(p.queue)
		all, err := bot.ParseSegment("all", p.pack, brussels)
		require.NoError(t, err)
		id, err := store.Create(context.Background(), bot.Broadcast{Segment: all, CreatedBy: "console:admin",
			Texts: map[string]string{"en": "Later"}, SendAt: time.Now().Add(2 * time.Second)})
		require.NoError(t, err)
		require.NoError(t, store.Cancel(context.Background(), id, "console:admin"))
		require.ErrorIs(t, store.Cancel(context.Background(), id, "console:admin"), storage.ErrBroadcastOver)
		time.Sleep(4 * time.Second) // past its time: the job ran and found it cancelled
		b, prog, err := store.Get(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, bot.BroadcastCancelled, b.Status)
		require.Equal(t, storage.BroadcastProgress{}, prog)
		require.Zero(t, p.sent.count("anna", bot.IntentBroadcast))
		var audits int
		require.NoError(t, p.db.Get(&audits, `SELECT COUNT(*) FROM audit_log WHERE action IN ('broadcast.create', 'broadcast.cancel')`))
		require.Equal(t, 2, audits)
	})
}

func TestAdminBroadcastsFromAChat(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		p := setupProactive(t, d.Name, bot.Reminders{}, "test:boss")
		p.toOdiseeWait(t, "anna")
		p.say(t, "bram", "hallo")
		last := func(chat string) bot.Outbound { got := p.sent.of(chat); return got[len(got)-1] }

		p.say(t, "eve", "/broadcast")
		require.Equal(t, bot.IntentAdminOnly, last("eve").Intent, "anyone else is refused")

		p.say(t, "boss", "/broadcast")
		require.Equal(t, bot.IntentDraftSegment, last("boss").Intent)
		p.say(t, "boss", "progress=stuck")
		require.Contains(t, last("boss").Text, `"stuck" is not one of`)
		p.say(t, "boss", "=admin:segment:all")
		require.Contains(t, last("boss").Text, "Send the message in English")
		p.say(t, "boss", "Welcome day is on Monday.")
		require.Contains(t, last("boss").Text, "Nederlands, or skip it")
		p.say(t, "boss", "De onthaaldag is maandag.", "=admin:skip")
		preview := last("boss")
		require.Equal(t, bot.IntentDraftPreview, preview.Intent)
		require.Contains(t, preview.Text, "Preview: 4 students (segment all).", "Anna, Bram, and Eve and the admin, who wrote too")
		require.Contains(t, preview.Text, "test: en 3, nl 1, fr 0")
		require.Contains(t, preview.Text, "[fr] Welcome day is on Monday.")
		require.Equal(t, []string{"admin:send", "admin:discard"}, []string{preview.Buttons[0].ID, preview.Buttons[1].ID})
		require.Zero(t, p.sent.count("anna", bot.IntentBroadcast), "nothing goes before the confirmation")

		p.say(t, "boss", "=admin:send")
		require.Contains(t, p.sent.waitIntent(t, "boss", bot.IntentDraftQueued, 1).Text, "Broadcast #1 is queued")
		require.Equal(t, "Welcome day is on Monday.", p.sent.waitIntent(t, "anna", bot.IntentBroadcast, 1).Text)
		require.Equal(t, "De onthaaldag is maandag.", p.sent.waitIntent(t, "bram", bot.IntentBroadcast, 1).Text)
		var actor string
		require.NoError(t, p.db.Get(&actor, `SELECT actor FROM audit_log WHERE action = 'broadcast.create'`))
		require.Equal(t, "test:boss", actor)

		// A second draft, discarded: nothing is queued.
		p.say(t, "boss", "/broadcast", "=admin:segment:progress=waiting", "Hi", "=admin:discard")
		require.Equal(t, bot.IntentDraftDiscarded, last("boss").Intent)
		var n int
		require.NoError(t, p.db.Get(&n, `SELECT COUNT(*) FROM broadcasts`))
		require.Equal(t, 1, n)
	})
}

// A student who blocked the bot without it knowing gets a 403 on the
// broadcast: the copy is counted failed, the chat unreachable, and the
// next broadcast passes them by.
func TestBroadcastTo403MarksTheStudentUnreachable(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		p := setupProactive(t, d.Name, bot.Reminders{})
		p.say(t, "anna", "hello")
		p.say(t, "gone", "hello")
		p.sent.mu.Lock()
		p.sent.blocked = map[string]bool{"gone": true}
		p.sent.mu.Unlock()
		store := storage.NewBroadcasts(p.queue)
		all, err := bot.ParseSegment("all", p.pack, brussels)
		require.NoError(t, err)
		send := func() storage.BroadcastProgress {
			id, err := store.Create(context.Background(), bot.Broadcast{Segment: all, CreatedBy: "console:admin",
				Texts: map[string]string{"en": "News"}, SendAt: time.Now()})
			require.NoError(t, err)
			var prog storage.BroadcastProgress
			require.Eventually(t, func() bool {
				_, prog, err = store.Get(context.Background(), id)
				require.NoError(t, err)
				return prog.Pending+prog.Queued == 0 && prog.Sent > 0
			}, 20*time.Second, 20*time.Millisecond)
			return prog
		}
		require.Equal(t, storage.BroadcastProgress{Sent: 1, Failed: 1}, send())
		reachable, err := p.queue.Reachable(context.Background(), bot.Chat{Platform: "test", ID: "gone"})
		require.NoError(t, err)
		require.False(t, reachable)
		require.Equal(t, storage.BroadcastProgress{Sent: 1}, send(), "an unreachable student is not in the next one")
		require.Equal(t, 2, p.sent.count("anna", bot.IntentBroadcast))
	})
}

// A wait corrected back and forth (17:50, 17:55, 17:50 again) ends with
// one reminder, at its last end.
func TestCorrectedWaitRemindsOnce(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		p := setupProactive(t, d.Name, bot.Reminders{})
		p.say(t, "anna", "hello", "=start_activation", "=emails_both", "it came at 14:50")
		p.say(t, "anna", "actually it came at 14:55", "no, it came at 14:50")
		var jobs int
		require.NoError(t, p.db.Get(&jobs, `SELECT COUNT(*) FROM river_job WHERE kind = 'reminder'`))
		require.Equal(t, 2, jobs, "the repeated end is one reminder")
		p.clock.Set(at(18, 0))
		require.Eventually(t, func() bool { return p.pending(t) == 0 }, 15*time.Second, 20*time.Millisecond)
		storagetest.Settle(t, p.db)
		require.Equal(t, 1, p.sent.count("anna", bot.IntentWaitOver))
	})
}

// A deep link is a /start too: it turns reminders on again.
func TestDeepLinkAfterStopTurnsRemindersOn(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		p := setupProactive(t, d.Name, bot.Reminders{})
		p.say(t, "anna", "hello", "/stop", "/start kuleuven")
		got := p.sent.of("anna")
		require.Equal(t, bot.IntentRemindersOn, got[len(got)-2].Intent)
		require.Equal(t, "step_kuleuven", got[len(got)-1].Intent)
		var stopped int
		require.NoError(t, p.db.Get(&stopped, `SELECT COUNT(*) FROM conversations WHERE opted_out_at IS NOT NULL`))
		require.Zero(t, stopped)
	})
}

// codeIn finds the link code in a message of the bot's.
func codeIn(t *testing.T, text string) string {
	t.Helper()
	for _, w := range strings.Fields(text) {
		if code, ok := bot.NormalizeLinkCode(strings.Trim(w, ".,:")); ok {
			return code
		}
	}
	t.Fatalf("no link code in %q", text)
	return ""
}

// A reminder of a student with two identities goes out once, to the one
// the student used last, even when the identity that was waiting is the
// one whose student merged away; or to the one chosen with /link prefer.
func TestReminderGoesOnceToTheIdentityUsedLast(t *testing.T) {
	t.Parallel() // most of the time is waiting for the job queue
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		p := setupProactive(t, d.Name, bot.Reminders{})
		// Two students, each waiting on a laptop, then linking a phone.
		for _, who := range []string{"anna", "ben"} {
			p.clock.Set(at(15, 0))
			p.toOdiseeWait(t, who+"-laptop") // the wait ends at 17:50
			p.say(t, who+"-phone", "hi", "/link")
			code := codeIn(t, p.sent.waitIntent(t, who+"-phone", bot.IntentLinkCode, 1).Text)
			p.clock.Set(at(15, 5))
			p.say(t, who+"-laptop", code)
			merge := p.sent.waitIntent(t, who+"-laptop", bot.IntentLinkConfirm, 1).Buttons[0].ID
			p.say(t, who+"-laptop", "="+merge) // the phone's student joins the laptop's
			p.sent.waitIntent(t, who+"-laptop", bot.IntentLinked, 1)
			p.sent.waitIntent(t, who+"-phone", bot.IntentLinkedNotice, 1)
		}
		p.say(t, "ben-laptop", "/link prefer") // Ben chooses his laptop
		p.clock.Set(at(15, 10))
		p.say(t, "anna-phone", "/status") // each writes from the phone last
		p.say(t, "ben-phone", "/status")

		p.clock.Set(at(17, 51))
		p.sent.waitIntent(t, "anna-phone", bot.IntentWaitOver, 1)
		p.sent.waitIntent(t, "ben-laptop", bot.IntentWaitOver, 1)
		require.Eventually(t, func() bool { return p.pending(t) == 0 }, 10*time.Second, 20*time.Millisecond)
		storagetest.Settle(t, p.db)
		require.Equal(t, 1, p.sent.count("anna-phone", bot.IntentWaitOver))
		require.Zero(t, p.sent.count("anna-laptop", bot.IntentWaitOver))
		require.Equal(t, 1, p.sent.count("ben-laptop", bot.IntentWaitOver))
		require.Zero(t, p.sent.count("ben-phone", bot.IntentWaitOver))
	})
}
