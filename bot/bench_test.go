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
