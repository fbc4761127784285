package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// recordingSender stands in for a platform behind bot.Sender: it records
// what it is asked to send and fails on cue.
type recordingSender struct {
	mu    sync.Mutex
	sent  map[string][]string // chat -> texts (acks as "ack:<data>")
	fails []error             // returned by the next calls, in order
	calls int
}

func (s *recordingSender) Send(_ context.Context, d bot.Delivery) (bot.Sent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.fails) > 0 {
		err := s.fails[0]
		s.fails = s.fails[1:]
		if err != nil {
			return bot.Sent{}, err
		}
	}
	if d.Home != nil {
		return bot.Sent{}, nil // no home view here
	}
	text := "ack:" + d.Ack
	if d.Message != nil {
		text = d.Message.Text
	}
	if s.sent == nil {
		s.sent = map[string][]string{}
	}
	s.sent[d.Chat.ID] = append(s.sent[d.Chat.ID], text)
	return bot.Sent{Ref: fmt.Sprint(s.calls)}, nil
}

func (s *recordingSender) Limits() (bot.Rate, bot.Rate) { return bot.Rate{}, bot.Rate{} }

func (s *recordingSender) texts(chat string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sent[chat]...)
}

func (s *recordingSender) failNext(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, errs...)
}

// queued is an engine whose events go through the inbox, the job queue
// and the outbox, as on Telegram.
type queued struct {
	*testBundle
	queue  *storage.Queue
	sender *recordingSender
	obs    *recordingObserver
}

// recordingObserver counts what the engine and the dispatcher report.
type recordingObserver struct {
	mu       sync.Mutex
	accepted map[string]int
	sent     map[string]int
	failed   map[string]int // "platform/kind"
}

func (o *recordingObserver) EventAccepted(platform string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.accepted[platform]++
}

func (o *recordingObserver) MessageSent(platform string, latency time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if latency >= 0 {
		o.sent[platform]++
	}
}

func (o *recordingObserver) SendFailed(platform, kind string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed[platform+"/"+kind]++
}

func (o *recordingObserver) counts() (accepted, sent, failed map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.accepted), maps.Clone(o.sent), maps.Clone(o.failed)
}

func setupQueued(t *testing.T, dbName string) *queued {
	t.Helper()
	b := setup(t, dbName)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := storage.NewQueue(b.db, quiet)
	require.NoError(t, err)
	obs := &recordingObserver{accepted: map[string]int{}, sent: map[string]int{}, failed: map[string]int{}}
	b.engine, err = bot.NewEngine(bot.Config{Pack: b.pack, Store: storage.NewConversations(b.db), Queue: q,
		Clock: b.clock, Location: brussels, Logger: quiet, Observer: obs})
	require.NoError(t, err)
	s := &recordingSender{}
	d := bot.NewDispatcher(b.engine, q, map[string]bot.Sender{"test": s}, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, q.Start(ctx, d.Work))
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		require.NoError(t, q.Stop(stop))
		cancel()
	})
	return &queued{testBundle: b, queue: q, sender: s, obs: obs}
}

func (q *queued) accept(t *testing.T, chat, event, text string) {
	t.Helper()
	err := q.engine.Accept(context.Background(), bot.Inbound{Platform: "test", EventID: event, UserID: chat, ChatID: chat, Text: text})
	require.NoError(t, err)
}

// waitTexts waits until chat received at least n messages.
func (q *queued) waitTexts(t *testing.T, chat string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := q.sender.texts(chat)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("chat %s got %d of %d messages: %q", chat, len(got), n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestQueuedEventsAreAnsweredOnceAndInOrder(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		q := setupQueued(t, d.Name)
		for i, text := range []string{"hello", "status", "which account for toledo"} {
			for _, chat := range []string{"a", "b"} {
				q.accept(t, chat, fmt.Sprintf("%s-%d", chat, i), text)
			}
		}
		err := q.engine.Accept(context.Background(), bot.Inbound{Platform: "test", EventID: "a-0", UserID: "a", ChatID: "a", Text: "hello"})
		require.ErrorIs(t, err, bot.ErrDuplicate, "a redelivered event is dropped")

		// The same words through the terminal path give the expected replies.
		var want []string
		for _, text := range []string{"hello", "status", "which account for toledo"} {
			for _, o := range say(t, q.testBundle, "reference", text) {
				want = append(want, o.Text)
			}
		}
		for _, chat := range []string{"a", "b"} {
			got := q.waitTexts(t, chat, len(want))
			require.Equal(t, want, got, "chat %s", chat)
		}
		time.Sleep(100 * time.Millisecond) // nothing more may arrive
		require.Len(t, q.sender.texts("a"), len(want))
	})
}

func TestQueuedSendErrors(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		q := setupQueued(t, d.Name)
		var hello []string
		for _, o := range say(t, q.testBundle, "reference", "hello") {
			hello = append(hello, o.Text)
		}
		// 429 then a transient error: the same message goes out once, later.
		q.sender.failNext(&bot.RetryAfter{After: 20 * time.Millisecond}, errors.New("502 bad gateway"))
		q.accept(t, "a", "1", "hello")
		require.Equal(t, hello, q.waitTexts(t, "a", len(hello)))

		// A message the platform rejects is set aside; the next ones go.
		q.sender.failNext(fmt.Errorf("%w: can't parse entities", bot.ErrRejected))
		q.accept(t, "c", "2", "hello")
		q.accept(t, "c", "3", "status")
		var status []string
		for _, o := range say(t, q.testBundle, "reference", "status") {
			status = append(status, o.Text)
		}
		want := append(hello[1:], status...)
		require.Equal(t, want, q.waitTexts(t, "c", len(want)))

		// A blocked chat is marked unreachable and gets nothing more ...
		q.sender.failNext(fmt.Errorf("%w: bot was blocked by the user", bot.ErrUnreachable))
		q.accept(t, "b", "4", "hello")
		require.Eventually(t, func() bool {
			ok, err := q.queue.Reachable(context.Background(), bot.Chat{Platform: "test", ID: "b"})
			return err == nil && !ok
		}, 15*time.Second, 5*time.Millisecond)
		require.Empty(t, q.sender.texts("b"))
		// ... until the student writes again.
		q.accept(t, "b", "5", "hello")
		q.waitTexts(t, "b", 1)
		ok, err := q.queue.Reachable(context.Background(), bot.Chat{Platform: "test", ID: "b"})
		require.NoError(t, err)
		require.True(t, ok)

		// The observer heard of every event, every delivery and each kind of failure.
		storagetest.Settle(t, q.db)
		accepted, sent, failed := q.obs.counts()
		require.Equal(t, map[string]int{"test": 5}, accepted)
		var delivered int
		require.NoError(t, q.db.Get(&delivered, `SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL`))
		require.Equal(t, map[string]int{"test": delivered}, sent)
		require.Equal(t, map[string]int{"test/retry_after": 1, "test/transient": 1, "test/rejected": 1, "test/unreachable": 1}, failed)
	})
}

func TestQueuedSecretsNeverStored(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		q := setupQueued(t, d.Name)
		q.accept(t, "a", "1", "my password is Zomer2026!")
		got := q.waitTexts(t, "a", 1)
		require.NotContains(t, fmt.Sprint(got), "Zomer2026")
		require.NotContains(t, dumpDatabase(t, q.testBundle), "Zomer2026")
	})
}

// unstarted is an engine on the queue whose workers never run: the test
// drives the dispatcher itself.
func unstarted(t *testing.T, dbName string, s bot.Sender) (*testBundle, *bot.Engine, *bot.Dispatcher) {
	t.Helper()
	b := setup(t, dbName)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := storage.NewQueue(b.db, quiet)
	require.NoError(t, err)
	engine, err := bot.NewEngine(bot.Config{Pack: b.pack, Store: storage.NewConversations(b.db), Queue: q, Logger: quiet})
	require.NoError(t, err)
	return b, engine, bot.NewDispatcher(engine, q, map[string]bot.Sender{"test": s}, quiet)
}

// blockingSender holds its first message until released, to cut the work
// off mid-send.
type blockingSender struct {
	recordingSender
	started, release chan struct{}
	once             sync.Once
}

func (s *blockingSender) Send(ctx context.Context, d bot.Delivery) (bot.Sent, error) {
	if d.Message != nil {
		s.once.Do(func() {
			close(s.started)
			<-s.release
		})
	}
	return s.recordingSender.Send(ctx, d)
}

// A send that has started is finished and recorded even when the chat's
// work is cancelled meanwhile (a job timeout, a shutdown): the platform
// may have taken the message, so it must not go out again.
func TestStartedSendSurvivesCancellation(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := &blockingSender{started: make(chan struct{}), release: make(chan struct{})}
		b, engine, disp := unstarted(t, d.Name, s)
		require.NoError(t, engine.Accept(context.Background(), bot.Inbound{Platform: "test", EventID: "1", UserID: "a", ChatID: "a", Text: "which account for toledo"}))

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		chat := bot.Chat{Platform: "test", ID: "a"}
		go func() { done <- disp.Work(ctx, chat) }()
		<-s.started
		cancel()
		close(s.release)
		require.ErrorIs(t, <-done, context.Canceled)
		require.Len(t, s.texts("a"), 1, "the started send went out")

		// The work resumes: the rest goes, the first message not again.
		require.NoError(t, disp.Work(context.Background(), chat))
		want := len(say(t, b, "reference", "which account for toledo"))
		require.Len(t, s.texts("a"), want)
	})
}

// Work whose time is nearly up hands the chat back instead of starting a
// send the deadline would cut off.
func TestWorkYieldsNearItsDeadline(t *testing.T) {
	q := setupQueued(t, "sqlite")
	disp := bot.NewDispatcher(q.engine, q.queue, map[string]bot.Sender{"test": q.sender}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var later *bot.RetryAfter
	require.ErrorAs(t, disp.Work(ctx, bot.Chat{Platform: "test", ID: "nobody"}), &later)
}

// A message that keeps failing for a passing reason is retried, until it
// is too old to help: then it is set aside with its last error.
func TestOldMessageIsGivenUp(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := &recordingSender{}
		b, engine, disp := unstarted(t, d.Name, s)
		chat := bot.Chat{Platform: "test", ID: "a"}
		require.NoError(t, engine.Accept(context.Background(), bot.Inbound{Platform: "test", EventID: "1", UserID: "a", ChatID: "a", Text: "status"}))

		s.failNext(errors.New("502 bad gateway"))
		require.Error(t, disp.Work(context.Background(), chat), "a young message is retried")
		var failed int
		require.NoError(t, b.db.Get(&failed, `SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL`))
		require.Zero(t, failed)

		old := time.Now().Add(-13 * time.Hour).UTC()
		_, err := b.db.Exec(b.db.Rebind(`UPDATE outbox SET created_at = ?`), old)
		require.NoError(t, err)
		s.failNext(errors.New("502 bad gateway"))
		require.NoError(t, disp.Work(context.Background(), chat))
		var reason string
		require.NoError(t, b.db.Get(&reason, `SELECT error FROM outbox WHERE failed_at IS NOT NULL`))
		require.Contains(t, reason, "502")
	})
}
