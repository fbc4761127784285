package telegram_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// BenchmarkBroadcast sends one broadcast to 10,000 students through the
// fake Bot API at Telegram's limit (BENCH_SEND_RATE messages a second,
// default 30), and reports the rate achieved against the configured one
// and the heap at its peak. Run it with -benchtime=1x: one broadcast takes
// 10,000 / rate seconds.
func BenchmarkBroadcast(b *testing.B) {
	rate := 30.0
	if v := os.Getenv("BENCH_SEND_RATE"); v != "" {
		var err error
		rate, err = strconv.ParseFloat(v, 64)
		require.NoError(b, err)
	}
	students := 10_000
	if v := os.Getenv("BENCH_STUDENTS"); v != "" {
		var err error
		students, err = strconv.Atoi(v)
		require.NoError(b, err)
	}
	for _, name := range storagetest.Names(b) {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				overall := bot.Rate{Every: time.Duration(float64(time.Second) / rate), Burst: int(rate)}
				h := newHarness(b, name, options{overall: overall, perChat: bot.Rate{Every: time.Second, Burst: 3}})
				seedStudents(b, h.db.DB, students)
				store := storage.NewBroadcasts(h.queue)
				all, err := bot.ParseSegment("all", h.pack, time.UTC)
				require.NoError(b, err)
				peak := watchHeap(b)
				b.StartTimer()
				start := time.Now()
				_, err = store.Create(context.Background(), bot.Broadcast{Segment: all, CreatedBy: "bench",
					Texts: map[string]string{"en": "Welcome day is on Monday."}, SendAt: start})
				require.NoError(b, err)
				waitSentCount(b, h.db.DB, students, time.Duration(float64(students)/rate*3+60)*time.Second)
				took := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(students)/took.Seconds(), "msgs/s")
				b.ReportMetric(rate, "configured/s")
				b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
			}
		})
	}
}

// seedStudents writes n Telegram students in one transaction.
func seedStudents(b *testing.B, db *storage.DB, n int) {
	tx, err := db.Beginx()
	require.NoError(b, err)
	defer tx.Rollback()
	now := time.Now().UTC()
	for i := 1; i <= n; i++ {
		var id int64
		require.NoError(b, tx.Get(&id, tx.Rebind(`INSERT INTO students (created_at) VALUES (?) RETURNING id`), now))
		chat := strconv.Itoa(100000 + i)
		_, err := tx.Exec(tx.Rebind(`INSERT INTO identities (platform, platform_user_id, student_id, chat_id, created_at) VALUES ('telegram', ?, ?, ?, ?)`), chat, id, chat, now)
		require.NoError(b, err)
		_, err = tx.Exec(tx.Rebind(`INSERT INTO conversations (student_id, lang, updated_at) VALUES (?, 'en', ?)`), id, now)
		require.NoError(b, err)
	}
	require.NoError(b, tx.Commit())
}

// watchHeap samples the heap in use until the benchmark ends.
func watchHeap(b *testing.B) *atomic.Uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	b.Cleanup(func() { close(done) })
	go func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return &peak
}

func waitSentCount(b *testing.B, db *storage.DB, n int, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		var sent int
		require.NoError(b, db.Get(&sent, `SELECT COUNT(*) FROM proactive_sends WHERE status = 'sent'`))
		if sent >= n {
			return
		}
		if os.Getenv("BENCH_TRACE") != "" {
			var rows []struct {
				Status string `db:"status"`
				N      int    `db:"n"`
			}
			require.NoError(b, db.Select(&rows, `SELECT status, COUNT(*) AS n FROM proactive_sends GROUP BY status`))
			b.Logf("%s %+v", time.Now().Format("15:04:05.0"), rows)
			time.Sleep(time.Second)
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d sent", sent, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
