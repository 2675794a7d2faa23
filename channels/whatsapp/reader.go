package whatsapp

import (
	"context"
	"log/slog"
	"time"
)

// reader marks patients' messages as read in the background, so the
// webhook's answer never waits for the Cloud API. A read receipt is
// cosmetic: when the queue is full or the process stops, receipts are
// dropped (and counted), never messages.
type reader struct {
	ch  chan string
	api *client
	log *slog.Logger
	m   *channelMetrics
}

func newReader(api *client, log *slog.Logger, m *channelMetrics) *reader {
	return &reader{ch: make(chan string, 4096), api: api, log: log, m: m}
}

func (r *reader) enqueue(wamid string) {
	select {
	case r.ch <- wamid:
	default:
		r.m.reads.WithLabelValues("dropped").Inc()
	}
}

// run marks messages read until ctx ends.
func (r *reader) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-r.ch:
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := r.api.markRead(cctx, id)
			cancel()
			if err != nil {
				r.m.reads.WithLabelValues("failed").Inc()
				r.log.DebugContext(ctx, "whatsapp: mark as read failed", "error", err)
				continue
			}
			r.m.reads.WithLabelValues("sent").Inc()
		}
	}
}
