package storage_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newQueue(t *testing.T, d storagetest.Database) *storage.Queue {
	t.Helper()
	q, err := storage.NewQueue(d.DB, quiet)
	require.NoError(t, err)
	return q
}

func startQueue(t *testing.T, q *storage.Queue, work func(context.Context, bot.Chat) error) {
	t.Helper()
	require.NoError(t, q.Start(context.Background(), work))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, q.Stop(ctx))
	})
}

// Two instances of the bot on one database share one limit: with a burst
// of 2, any three consecutive slots span at least one interval.
func TestReserveSharesTheLimitAcrossInstances(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		instances := []*storage.Queue{newQueue(t, d), newQueue(t, d)}
		rate := bot.Rate{Every: 50 * time.Millisecond, Burst: 2}
		var mu sync.Mutex
		var slots []time.Time
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				at, ok, err := instances[i%2].Reserve(context.Background(), "telegram", rate, time.Hour)
				require.NoError(t, err)
				require.True(t, ok)
				mu.Lock()
				slots = append(slots, at)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.SortFunc(slots, func(a, b time.Time) int { return a.Compare(b) })
		for i := 0; i+2 < len(slots); i++ {
			require.GreaterOrEqual(t, slots[i+2].Sub(slots[i]), rate.Every, "slots %d..%d", i, i+2)
		}
		require.GreaterOrEqual(t, slots[len(slots)-1].Sub(slots[0]), 18*rate.Every, "20 sends with a burst of 2 take 18 intervals")
	})
}

// A slot too far away is reported, not taken: a chat that must wait does
// not push the others back.
func TestReserveLeavesFarSlots(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		q := newQueue(t, d)
		ctx := context.Background()
		rate := bot.Rate{Every: time.Hour, Burst: 1}
		first, ok, err := q.Reserve(ctx, "chat", rate, time.Second)
		require.NoError(t, err)
		require.True(t, ok)
		require.WithinDuration(t, time.Now(), first, time.Minute)
		for range 2 {
			next, ok, err := q.Reserve(ctx, "chat", rate, time.Second)
			require.NoError(t, err)
			require.False(t, ok)
			require.WithinDuration(t, first.Add(time.Hour), next, time.Second, "still the same slot: nothing was taken")
		}
		other, ok, err := q.Reserve(ctx, "other chat", rate, time.Second)
		require.NoError(t, err)
		require.True(t, ok, "limits are per key")
		require.WithinDuration(t, time.Now(), other, time.Minute)

		// Available looks without taking; Release gives the slot back.
		_, ok, err = q.Available(ctx, "chat", rate)
		require.NoError(t, err)
		require.False(t, ok)
		_, ok, err = q.Available(ctx, "never used", rate)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, q.Release(ctx, "chat"))
		_, ok, err = q.Reserve(ctx, "chat", rate, 0)
		require.NoError(t, err)
		require.True(t, ok, "released")
	})
}

// Events accepted while their chat's job runs are never stranded (the
// job checks under the chat's lock before it completes), and each chat's
// events are worked in order, once.
func TestNoEventStrandedAndOrderKept(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		q := newQueue(t, d)
		var mu sync.Mutex
		seen := map[string][]int{}
		startQueue(t, q, func(ctx context.Context, chat bot.Chat) error {
			for {
				in, ok, err := q.NextInbound(ctx, chat)
				if err != nil || !ok {
					return err
				}
				n, _ := strconv.Atoi(in.Text)
				if err := q.Notify(ctx, chat, in.InboxID, nil); err != nil {
					return err
				}
				mu.Lock()
				seen[chat.ID] = append(seen[chat.ID], n)
				mu.Unlock()
			}
		})
		const chats, perChat = 4, 60
		var wg sync.WaitGroup
		for c := range chats {
			wg.Go(func() {
				for i := range perChat {
					in := bot.Inbound{Platform: "test", EventID: fmt.Sprintf("%d-%d", c, i), UserID: fmt.Sprint(c),
						ChatID: fmt.Sprint(c), Text: strconv.Itoa(i)}
					require.NoError(t, q.Accept(context.Background(), in))
					// Pauses of varied length let the job drain the inbox and
					// try to complete just as the next event arrives.
					time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
				}
			})
		}
		wg.Wait()
		want := make([]int, perChat)
		for i := range want {
			want[i] = i
		}
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for c := range chats {
				if len(seen[fmt.Sprint(c)]) < perChat {
					return false
				}
			}
			return true
		}, 30*time.Second, 10*time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		for c := range chats {
			require.Equal(t, want, seen[fmt.Sprint(c)], "chat %d: every event once, in order", c)
		}
	})
}

func TestSettingIsSharedAndStable(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		n := 0
		gen := func() (string, error) { n++; return fmt.Sprintf("value-%d", n), nil }
		first, err := d.DB.Setting(ctx, "k", gen)
		require.NoError(t, err)
		again, err := d.DB.Setting(ctx, "k", gen)
		require.NoError(t, err)
		require.Equal(t, first, again)
		require.Equal(t, 1, n, "generated once")
	})
}

// The lost wake-up: an event accepted after the chat's job drained the
// inbox but before the job completed finds that job live, so no new job is
// inserted. The job must see the event before it completes.
func TestEventAcceptedAsTheJobFinishesIsWorked(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		q := newQueue(t, d)
		drained, accepted := make(chan struct{}), make(chan struct{})
		var mu sync.Mutex
		var worked []string
		first := true
		startQueue(t, q, func(ctx context.Context, chat bot.Chat) error {
			for {
				in, ok, err := q.NextInbound(ctx, chat)
				if err != nil {
					return err
				}
				if !ok {
					break
				}
				require.NoError(t, q.Notify(ctx, chat, in.InboxID, nil))
				mu.Lock()
				worked = append(worked, in.EventID)
				mu.Unlock()
			}
			if first {
				first = false
				close(drained)
				<-accepted
			}
			return nil
		})
		accept := func(id string) {
			require.NoError(t, q.Accept(context.Background(), bot.Inbound{Platform: "test", EventID: id, UserID: "1", ChatID: "1"}))
		}
		// The sweeper, the safety net for stranded chats, runs at start and
		// then each minute: let it pass first, so this tests the job itself.
		require.Eventually(t, func() bool {
			var n int
			err := d.DB.Get(&n, `SELECT COUNT(*) FROM river_job WHERE kind = 'sweep_chats' AND state = 'completed'`)
			return err == nil && n > 0
		}, 20*time.Second, 10*time.Millisecond)
		accept("a")
		<-drained
		accept("b")
		close(accepted)
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return slices.Equal(worked, []string{"a", "b"})
		}, 10*time.Second, 10*time.Millisecond, "the second event is worked")
	})
}

// An event whose processing keeps failing is set aside after a few
// attempts, with its error, so the chat's next events are handled.
func TestFailingEventIsSetAside(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		q := newQueue(t, d)
		ctx := context.Background()
		chat := bot.Chat{Platform: "test", ID: "1"}
		for _, id := range []string{"bad", "next"} {
			require.NoError(t, q.Accept(ctx, bot.Inbound{Platform: "test", EventID: id, UserID: "1", ChatID: "1", Text: id}))
		}
		for attempt := 1; ; attempt++ {
			in, ok, err := q.NextInbound(ctx, chat)
			require.NoError(t, err)
			require.True(t, ok)
			if in.Text == "next" {
				require.Equal(t, 6, attempt, "set aside after 5 failures")
				break
			}
			require.NoError(t, q.FailInbound(ctx, in.InboxID, fmt.Errorf("boom %d", attempt)))
		}
		var reason string
		require.NoError(t, d.DB.Get(&reason, `SELECT error FROM inbox WHERE event_id = 'bad' AND processed_at IS NOT NULL`))
		require.Equal(t, "boom 5", reason)
	})
}

// On a fake clock, Telegram's limit (30 a second, a burst of 30) gives a
// burst at once, then one slot every 1/30 s; a sender that takes each slot
// when it opens sends 10,000 messages in exactly the time the rate allows.
func TestReserveOnAFakeClock(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		q := newQueue(t, d)
		start := time.Date(2026, 9, 21, 9, 0, 0, 0, time.UTC)
		clock := storagetest.NewClock(start)
		q.SetClock(clock.Now)
		ctx := context.Background()
		rate := bot.Rate{Every: time.Second / 30, Burst: 30}
		for i := range 30 {
			at, ok, err := q.Reserve(ctx, "telegram", rate, 0)
			require.NoError(t, err)
			require.True(t, ok, "slot %d of the burst", i)
			require.True(t, start.Equal(at), "slot %d at %s", i, at)
		}
		at, ok, err := q.Reserve(ctx, "telegram", rate, 0)
		require.NoError(t, err)
		require.False(t, ok, "the burst is spent: not within 0")
		require.WithinDuration(t, start.Add(rate.Every), at, time.Microsecond, "microseconds are the limiter's unit")

		const n = 10_000
		last := start
		for range n - 30 {
			at, ok, err := q.Reserve(ctx, "telegram", rate, 2*rate.Every)
			require.NoError(t, err)
			require.True(t, ok)
			require.False(t, at.Before(last), "slots never go back")
			last = at
			clock.Set(at) // the sender sends when its slot opens
		}
		took := last.Sub(start)
		want := time.Duration(n-30) * rate.Every
		require.InDelta(t, want.Seconds(), took.Seconds(), 0.01, "10,000 sends at 30/s after a burst of 30")
	})
}

// A proactive message queued before the student sent /stop is not sent:
// it is set aside and counted skipped.
func TestProactiveMessageOfAStoppedStudentIsNotSent(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		q := newQueue(t, d)
		ctx := context.Background()
		in := bot.Inbound{Platform: "test", EventID: "e1", UserID: "anna", ChatID: "anna", Text: "hi"}
		require.NoError(t, storage.NewConversations(d.DB).Converse(ctx, in, func(c *bot.Conversation) (bot.Turn, error) {
			return bot.Turn{}, nil
		}))
		now := time.Now().UTC()
		var outbox int64
		require.NoError(t, d.DB.Get(&outbox, d.DB.Rebind(`INSERT INTO outbox (platform, chat_id, student_id, payload, created_at)
			VALUES ('test', 'anna', 1, '{"message":{"text":"News"},"proactive":true}', ?) RETURNING id`), now))
		_, err := d.DB.Exec(d.DB.Rebind(`INSERT INTO proactive_sends (student_id, kind, platform, chat_id, status, outbox_id, created_at, updated_at)
			VALUES (1, 'broadcast', 'test', 'anna', 'queued', ?, ?, ?)`), outbox, now, now)
		require.NoError(t, err)
		chat := bot.Chat{Platform: "test", ID: "anna"}

		_, found, err := q.NextDelivery(ctx, chat)
		require.NoError(t, err)
		require.True(t, found, "not stopped: it goes")
		_, err = d.DB.Exec(d.DB.Rebind(`UPDATE conversations SET opted_out_at = ? WHERE student_id = 1`), now)
		require.NoError(t, err)
		_, found, err = q.NextDelivery(ctx, chat)
		require.NoError(t, err)
		require.False(t, found, "stopped since: set aside")
		var status, reason string
		require.NoError(t, d.DB.QueryRow(`SELECT status, reason FROM proactive_sends`).Scan(&status, &reason))
		require.Equal(t, "skipped", status)
		require.Equal(t, "opted out", reason)
	})
}
