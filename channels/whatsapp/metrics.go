package whatsapp

import "github.com/prometheus/client_golang/prometheus"

// channelMetrics are WhatsApp's own counters, next to the shared ones
// (tend_webhook_rejections_total, tend_unknown_updates_total,
// tend_messages_out_total, tend_delivery_retries_total with channel="whatsapp").
type channelMetrics struct {
	templates  *prometheus.CounterVec // purpose, outcome (sent, missing, invalid)
	sendErrors *prometheus.CounterVec // kind (auth, rate_limited, unreachable, permanent, temporary)
	statuses   *prometheus.CounterVec // status (sent, delivered, read, failed)
	reads      *prometheus.CounterVec // outcome (sent, failed, dropped)
	duplicates prometheus.Counter
}

func newChannelMetrics(reg prometheus.Registerer) *channelMetrics {
	m := &channelMetrics{
		templates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tend_whatsapp_templates_total",
			Help: "Template messages sent instead of free-form ones (24-hour window closed), by purpose and outcome."},
			[]string{"purpose", "outcome"}),
		sendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tend_whatsapp_send_errors_total",
			Help: "Cloud API send failures by what Tend does about them."}, []string{"kind"}),
		statuses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tend_whatsapp_statuses_total",
			Help: "Delivery status notifications received, by status."}, []string{"status"}),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tend_whatsapp_read_receipts_total",
			Help: "Patient messages marked as read, by outcome."}, []string{"outcome"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "tend_whatsapp_duplicate_messages_total",
			Help: "Inbound messages delivered again by Meta and recognised as repeats."}),
	}
	reg.MustRegister(m.templates, m.sendErrors, m.statuses, m.reads, m.duplicates)
	return m
}
