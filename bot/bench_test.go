package bot_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"activation-bot/bot"
	"activation-bot/storage/storagetest"
)

// BenchmarkHandle measures one inbound message through the whole engine:
// redaction, matching, one transaction (lock, step, save, transcript).
//
//	go test ./bot -run '^$' -bench Handle -benchmem
func BenchmarkHandle(b *testing.B) {
	for _, dbName := range storagetest.Names(b) {
		b.Run(dbName+"/question", func(b *testing.B) {
			t := setup(b, dbName)
			ctx := context.Background()
			in := bot.Inbound{Platform: "console", UserID: "bench", Text: "which account do I need for Toledo?"}
			if _, err := t.engine.Handle(ctx, in); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := t.engine.Handle(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
		// Many students at once, as in the first week of the year.
		b.Run(dbName+"/parallel_students", func(b *testing.B) {
			t := setup(b, dbName)
			ctx := context.Background()
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				user := fmt.Sprintf("student-%d", next.Add(1))
				texts := []string{"hi", "which account for my mailbox", "I never got the e-mail", "/status"}
				i := 0
				for pb.Next() {
					in := bot.Inbound{Platform: "console", UserID: user, Text: texts[i%len(texts)]}
					if _, err := t.engine.Handle(ctx, in); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkLink measures linking two students who both have progress
// and history: /link on one, the code and Merge on the other (three
// messages, the merge's moves in one transaction).
//
//	go test ./bot -run '^$' -bench Link -benchmem
func BenchmarkLink(b *testing.B) {
	for _, dbName := range storagetest.Names(b) {
		b.Run(dbName, func(b *testing.B) {
			t := setup(b, dbName)
			ctx := context.Background()
			handle := func(platform, user, text, button string) []bot.Outbound {
				out, err := t.engine.Handle(ctx, bot.Inbound{Platform: platform, UserID: user, ChatID: user, Text: text, ButtonID: button})
				if err != nil {
					b.Fatal(err)
				}
				return out
			}
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				n++
				laptop, phone := fmt.Sprintf("laptop-%d", n), fmt.Sprintf("%d", n)
				for _, s := range [][2]string{{"", "start_activation"}, {"", "emails_both"}, {"it came 10 minutes ago", ""}} {
					handle("console", laptop, s[0], s[1])
				}
				handle("telegram", phone, "which account for Toledo?", "")
				for _, id := range []string{"start_activation", "emails_both", "odisee_ready", "odisee_done"} {
					handle("telegram", phone, "", id)
				}
				b.StartTimer()
				code := handle("console", laptop, "/link", "")[0].Secret
				ask := handle("telegram", phone, code, "")
				if ask[0].Intent != bot.IntentLinkConfirm {
					b.Fatalf("got %s", ask[0].Intent)
				}
				if out := handle("telegram", phone, "", ask[0].Buttons[0].ID); out[0].Intent != bot.IntentLinked {
					b.Fatalf("got %s", out[0].Intent)
				}
			}
		})
	}
}
