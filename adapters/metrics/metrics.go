// Package metrics exposes the bot's work to Prometheus on /metrics: the
// events it takes in, the messages it sends and how long they waited, the
// sends that fail, and the work still queued. It implements bot.Observer,
// so package bot knows nothing of Prometheus.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"activation-bot/bot"
)

// DepthFunc counts the pending inbox and outbox rows (storage.DB.QueueDepth).
type DepthFunc func(ctx context.Context) (inbox, outbox int, err error)

// Metrics is the bot's Prometheus registry and its bot.Observer.
type Metrics struct {
	reg     *prometheus.Registry
	events  *prometheus.CounterVec
	sent    *prometheus.CounterVec
	failed  *prometheus.CounterVec
	latency *prometheus.HistogramVec
	log     *slog.Logger
}

var _ bot.Observer = (*Metrics)(nil)

const namespace = "activation_bot"

// New builds the metrics on a registry of their own (no global state, so
// tests and several servers in one process do not collide); depth is
// queried at each scrape.
func New(depth DepthFunc, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: log,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
			Name: "inbound_events_total", Help: "Events accepted into the inbox, by platform."}, []string{"platform"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
			Name: "messages_sent_total", Help: "Outbox rows delivered, by platform."}, []string{"platform"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
			Name: "send_errors_total", Help: "Failed sends, by platform and kind (retry_after, unreachable, rejected, transient)."},
			[]string{"platform", "kind"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
			Name: "delivery_latency_seconds", Help: "From a reply written to the outbox to its delivery, by platform.",
			// From tens of milliseconds (a reply) to minutes (rate limits, retries).
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}, []string{"platform"}),
	}
	m.reg.MustRegister(m.events, m.sent, m.failed, m.latency, &depthCollector{depth: depth, log: log},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// EventAccepted implements bot.Observer.
func (m *Metrics) EventAccepted(platform string) { m.events.WithLabelValues(platform).Inc() }

// MessageSent implements bot.Observer.
func (m *Metrics) MessageSent(platform string, latency time.Duration) {
	m.sent.WithLabelValues(platform).Inc()
	m.latency.WithLabelValues(platform).Observe(max(latency, 0).Seconds())
}

// SendFailed implements bot.Observer.
func (m *Metrics) SendFailed(platform, kind string) { m.failed.WithLabelValues(platform, kind).Inc() }

// Handler serves the metrics in Prometheus' text format. A failing depth
// query leaves only the depth out: the counters are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		Timeout:       5 * time.Second,
	})
}

// depthCollector reads the queue depth from the database at scrape time,
// so every instance reports the shared queue as it is.
type depthCollector struct {
	depth DepthFunc
	log   *slog.Logger
}

var depthDesc = prometheus.NewDesc(namespace+"_queue_depth",
	"Pending work in the database, shared by every instance: unprocessed inbox events and unsent outbox rows.",
	[]string{"queue"}, nil)

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- depthDesc }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	if c.depth == nil {
		return
	}
	// Collect has no context of its own: bound the query.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	inbox, outbox, err := c.depth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(inbox), "inbox")
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(outbox), "outbox")
}
