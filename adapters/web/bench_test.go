package web

import (
	"bufio"
	"runtime"

	"activation-bot/bot"
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

// BenchmarkOpenPages keeps many chat pages open (their live streams) and
// measures what one more open page costs in memory, and how long a line
// for every page takes to reach all of them (a broadcast). The client's
// side runs in the same process: the memory is an upper bound.
func BenchmarkOpenPages(b *testing.B) {
	const pages = 500
	for _, name := range storagetest.Names(b) {
		b.Run(name, func(b *testing.B) {
			s := newSite(b, storagetest.Open(b, name))
			client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: pages}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			goroutines := runtime.NumGoroutine()
			got := make(chan string, pages)
			ids := make([]string, pages)
			for i := range ids {
				ids[i] = newID()
				cookie, err := s.Server.codec.Encode(studentCookie, ids[i])
				if err != nil {
					b.Fatal(err)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.HTTP.URL+"/events", nil)
				req.AddCookie(&http.Cookie{Name: studentCookie, Value: cookie})
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				go func(id string, resp *http.Response) {
					defer resp.Body.Close()
					sc := bufio.NewScanner(resp.Body)
					for sc.Scan() {
						if strings.HasPrefix(sc.Text(), "event: line") {
							got <- id
						}
					}
				}(ids[i], resp)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap := float64(after.HeapInuse-before.HeapInuse) / pages
			perPage := float64(runtime.NumGoroutine()-goroutines) / pages
			sender := s.Server.Sender()
			b.ResetTimer()
			for b.Loop() {
				for _, id := range ids {
					d := bot.Delivery{Chat: bot.Chat{Platform: Platform, ID: id}, Message: &bot.Outbound{Text: "Reminder"}}
					if _, err := sender.Send(ctx, d); err != nil {
						b.Fatal(err)
					}
				}
				for range ids {
					select {
					case <-got:
					case <-time.After(30 * time.Second):
						b.Fatal("a page did not get its line")
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pages), "ns/line")
			b.ReportMetric(heap, "heap-B/page")
			b.ReportMetric(perPage, "goroutines/page")
		})
	}
}
