package slack_test

import (
	"net/http"
	"testing"
	"time"

	"activation-bot/adapters/slack"
	"activation-bot/storage/storagetest"
)

// BenchmarkSignedEventToReply measures one DM from the signed Events API
// request to the reply accepted by the (fake) Slack API: signature check,
// inbox, chat job, engine, outbox and chat.postMessage. Set
// TEST_DATABASE_URL to include Postgres.
func BenchmarkSignedEventToReply(b *testing.B) {
	for _, name := range storagetest.Names(b) {
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, name, options{})
			const user = "U0BENCH"
			h.sendEvent(h.dm(user, "hello"), false) // the student exists from here on
			h.waitPosted("D"+user, 1)
			h.settle()
			sent := len(h.fake.Posted("D" + user))
			b.ResetTimer()
			for range b.N {
				body := mustJSON(b, h.dm(user, "which account for toledo"))
				if s, _ := h.postSigned(b, slack.EventsPath, "application/json", body, sign(body, time.Now(), signingSecret)); s != http.StatusOK {
					b.Fatalf("events answered %d", s)
				}
				sent++
				for deadline := time.Now().Add(20 * time.Second); len(h.fake.Posted("D"+user)) < sent; {
					if time.Now().After(deadline) {
						b.Fatal("no reply")
					}
					time.Sleep(100 * time.Microsecond)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
		})
	}
}
