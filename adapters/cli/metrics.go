package cli

import "activation-bot/adapters/metrics"

// metrics builds the Prometheus metrics of serve and makes them the
// observer of the engines built after.
func (a *app) metrics() *metrics.Metrics {
	m := metrics.New(a.db.QueueDepth, a.log)
	a.observer = m
	return m
}
