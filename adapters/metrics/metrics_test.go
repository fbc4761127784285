package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/metrics"
	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// sender delivers every message, or refuses every one with err.
type sender struct {
	mu  sync.Mutex
	n   int
	err error
}

func (s *sender) Send(context.Context, bot.Delivery) (bot.Sent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return bot.Sent{}, s.err
	}
	s.n++
	return bot.Sent{Ref: strconv.Itoa(s.n)}, nil
}

func (s *sender) Limits() (bot.Rate, bot.Rate) { return bot.Rate{}, bot.Rate{} }

func (s *sender) sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

// value is the sample of series (name and labels as Prometheus prints them).
func value(t *testing.T, body, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	require.NotNil(t, m, "no series %s in\n%s", series, body)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// TestMetricsAfterAnEventAndASend runs real events through the engine,
// the queue and the dispatcher, and reads the result on /metrics.
func TestMetricsAfterAnEventAndASend(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		ctx := context.Background()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		m := metrics.New(d.DB.QueueDepth, log)
		srv := httptest.NewServer(m.Handler())
		defer srv.Close()
		pack, err := flows.Default()
		require.NoError(t, err)
		q, err := storage.NewQueue(d.DB, log)
		require.NoError(t, err)
		engine, err := bot.NewEngine(bot.Config{Pack: pack, Store: storage.NewConversations(d.DB).WithQueue(q),
			Queue: q, Logger: log, Observer: m})
		require.NoError(t, err)

		require.NoError(t, engine.Accept(ctx, bot.Inbound{Platform: "tg", EventID: "1", UserID: "anna", ChatID: "anna", Text: "hi"}))
		require.NoError(t, engine.Accept(ctx, bot.Inbound{Platform: "sl", EventID: "1", UserID: "bert", ChatID: "bert", Text: "hi"}))
		require.ErrorIs(t, engine.Accept(ctx, bot.Inbound{Platform: "tg", EventID: "1", UserID: "anna", ChatID: "anna", Text: "hi"}),
			bot.ErrDuplicate)
		body := scrape(t, srv.URL)
		require.Equal(t, 1.0, value(t, body, `activation_bot_inbound_events_total{platform="tg"}`), "a duplicate is not counted")
		require.Equal(t, 1.0, value(t, body, `activation_bot_inbound_events_total{platform="sl"}`))
		require.Equal(t, 2.0, value(t, body, `activation_bot_queue_depth{queue="inbox"}`), "nothing worked yet")
		require.Equal(t, 0.0, value(t, body, `activation_bot_queue_depth{queue="outbox"}`))

		ok, refused := &sender{}, &sender{err: bot.ErrRejected}
		d2 := bot.NewDispatcher(engine, q, map[string]bot.Sender{"tg": ok, "sl": refused}, log)
		require.NoError(t, q.Start(ctx, d2.Work))
		defer func() {
			stop, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			require.NoError(t, q.Stop(stop))
		}()
		storagetest.Settle(t, d.DB)

		var replies int
		require.NoError(t, d.DB.Get(&replies, `SELECT COUNT(*) FROM outbox WHERE platform = 'tg' AND sent_at IS NOT NULL`))
		require.Positive(t, replies)
		require.Equal(t, replies, ok.sent())
		body = scrape(t, srv.URL)
		require.Equal(t, float64(replies), value(t, body, `activation_bot_messages_sent_total{platform="tg"}`))
		require.Equal(t, float64(replies), value(t, body, `activation_bot_delivery_latency_seconds_count{platform="tg"}`))
		require.Positive(t, value(t, body, `activation_bot_delivery_latency_seconds_sum{platform="tg"}`))
		var refusedRows int
		require.NoError(t, d.DB.Get(&refusedRows, `SELECT COUNT(*) FROM outbox WHERE platform = 'sl' AND failed_at IS NOT NULL`))
		require.Positive(t, refusedRows)
		require.Equal(t, float64(refusedRows), value(t, body, `activation_bot_send_errors_total{kind="rejected",platform="sl"}`),
			"every reply to bert was refused")
		require.NotContains(t, body, `activation_bot_messages_sent_total{platform="sl"}`)
		require.Equal(t, 0.0, value(t, body, `activation_bot_queue_depth{queue="inbox"}`))
	})
}

// A database that does not answer leaves the depth out, not the counters.
func TestMetricsWithoutDatabase(t *testing.T) {
	d := storagetest.Open(t, "sqlite")
	m := metrics.New(d.DB.QueueDepth, slog.New(slog.NewTextHandler(io.Discard, nil)))
	m.SendFailed("tg", bot.SendRetryAfter)
	require.NoError(t, d.DB.Close())
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 1.0, value(t, string(body), `activation_bot_send_errors_total{kind="retry_after",platform="tg"}`))
	require.NotContains(t, string(body), "activation_bot_queue_depth{")
}
