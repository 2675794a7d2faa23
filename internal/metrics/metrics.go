// Package metrics defines Tend's Prometheus metrics on a registry of its own,
// passed explicitly to the parts that record them.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the counters and histograms the server exposes at /metrics.
type Metrics struct {
	Registry          *prometheus.Registry
	MessagesIn        *prometheus.CounterVec   // channel
	MessagesOut       *prometheus.CounterVec   // channel, status (sent, failed)
	DeliveryRetries   *prometheus.CounterVec   // channel
	HandleSeconds     *prometheus.HistogramVec // channel
	Errors            *prometheus.CounterVec   // where
	WebhookRejections *prometheus.CounterVec   // channel, reason
	UnknownUpdates    *prometheus.CounterVec   // channel, kind
	Actions           *prometheus.CounterVec   // action (answer, abstain, emergency, handoff, ...)
	Prepared          *prometheus.CounterVec   // key, result (used, stale)
}

// New creates the metrics and registers them with Go runtime collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		MessagesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_messages_in_total", Help: "Inbound patient messages accepted, per channel."}, []string{"channel"}),
		MessagesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_messages_out_total", Help: "Outgoing messages by delivery outcome, per channel."}, []string{"channel", "status"}),
		DeliveryRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_delivery_retries_total", Help: "Delivery attempts that will be retried, per channel."}, []string{"channel"}),
		HandleSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tend_handle_seconds", Help: "Time to handle one inbound message (state, replies, jobs).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"channel"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_errors_total", Help: "Errors by where they happened."}, []string{"where"}),
		WebhookRejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_webhook_rejections_total", Help: "Webhook requests refused, by reason."}, []string{"channel", "reason"}),
		UnknownUpdates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_unknown_updates_total", Help: "Channel events ignored because Tend does not handle their kind."}, []string{"channel", "kind"}),
		Actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_actions_total", Help: "Bot decisions per reply (answer, abstain, emergency, handoff, ...)."}, []string{"action"}),
		Prepared: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_prepared_total", Help: "Work done before a turn's transaction that the turn used, or found stale and did again."},
			[]string{"key", "result"}),
	}
	r.MustRegister(m.MessagesIn, m.MessagesOut, m.DeliveryRetries, m.HandleSeconds, m.Errors,
		m.WebhookRejections, m.UnknownUpdates, m.Actions, m.Prepared,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// QueueDepth registers a gauge that asks depth for the number of waiting
// jobs at most once per scrape, with a short timeout.
func (m *Metrics) QueueDepth(depth func(ctx context.Context) (int64, error)) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tend_job_queue_depth", Help: "Durable jobs waiting to run (available or retryable).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := depth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}
