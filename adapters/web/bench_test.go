package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"activation-bot/storage/storagetest"
)

// BenchmarkSayToReply measures a student's message on the chat page, as
// the page's script posts it, until the bot's answer is in the student's
// mailbox (what the live page shows next): the web's whole round trip
// through the inbox, the engine and the outbox.
func BenchmarkSayToReply(b *testing.B) {
	for _, name := range storagetest.Names(b) {
		b.Run(name, func(b *testing.B) {
			s := newSite(b, storagetest.Open(b, name))
			br := s.browser()
			csrf := br.csrf("/")
			ctx := context.Background()
			post := func(text string) {
				form := url.Values{"text": {text}, "csrf": {csrf}, "event": {newID()}}
				req, err := http.NewRequest(http.MethodPost, s.HTTP.URL+"/say", strings.NewReader(form.Encode()))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Accept", "application/json")
				resp, err := br.http.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					b.Fatalf("post: %d", resp.StatusCode)
				}
			}
			post("/start")
			id := br.studentID()
			answered := func(n int) {
				deadline := time.Now().Add(10 * time.Second)
				for time.Now().Before(deadline) {
					lines, err := s.Server.chats.Messages(ctx, id, 0, 1)
					if err == nil && len(lines) == 1 && !lines[0].In && int(lines[0].ID) >= n {
						return
					}
					time.Sleep(200 * time.Microsecond)
				}
				b.Fatal("no answer within 10 s")
			}
			answered(0)
			b.ResetTimer()
			for b.Loop() {
				last, _ := s.Server.chats.Messages(ctx, id, 0, 1)
				post("which account for Toledo?")
				answered(int(last[0].ID) + 2) // the student's line, then the answer
			}
		})
	}
}
