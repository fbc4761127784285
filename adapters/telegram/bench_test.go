package telegram_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"activation-bot/storage/storagetest"
)

// BenchmarkWebhookToReply measures one student message from the webhook
// request to the reply accepted by the (fake) Bot API: inbox, chat job,
// engine, outbox and send. serial is the latency one student sees;
// parallel is the throughput with many students writing at once. Set
// TEST_DATABASE_URL to include Postgres.
func BenchmarkWebhookToReply(b *testing.B) {
	for _, name := range storagetest.Names(b) {
		b.Run(name+"/serial", func(b *testing.B) {
			h := newHarness(b, name, options{})
			const user = 77
			h.post(h.text(user, "hello")) // the student exists from here on
			h.waitSends(user, 1)
			h.settle()
			sent := len(h.sendsTo(user))
			b.ResetTimer()
			for range b.N {
				if s := h.post(h.text(user, "which account for toledo")); s != http.StatusOK {
					b.Fatalf("webhook answered %d", s)
				}
				sent++
				h.awaitSends(user, sent)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			h := newHarness(b, name, options{})
			var users atomic.Int64
			var replies atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				user := 1000 + users.Add(1)
				for pb.Next() {
					if s := h.post(h.text(user, "which account for toledo")); s != http.StatusOK {
						b.Errorf("webhook answered %d", s)
						return
					}
					replies.Add(1)
				}
			})
			// Every message of every student answered.
			for {
				var pending int
				if err := h.db.DB.Get(&pending, `SELECT (SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL) +
					(SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL)`); err != nil {
					b.Fatal(err)
				}
				if pending == 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(replies.Load())/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// awaitSends waits for chat's n-th message with a fine poll, for timing.
func (h *harness) awaitSends(chat int64, n int) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if len(h.fake.Sent(chat)) >= n {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
	h.t.Fatalf("chat %d never got message %d", chat, n)
}
