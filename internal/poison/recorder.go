package poison

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/store"
)

// Recorder is one channel's record of the inbound items it skips for good:
// the judge of its failures, the rejection counter, the log and the
// inbound_rejections table. Use it as a pointer.
type Recorder struct {
	Channel    string // the channel label of the counter and of the table's rows
	DB         *store.DB
	Clock      clock.Clock
	Log        *slog.Logger
	Rejections *prometheus.CounterVec // tend_webhook_rejections_total{channel,reason}

	judge Judge
}

// Rejection is one item skipped for good.
type Rejection struct {
	What   string // what the item is, for the log: "update", "message", ...
	ID     string // its external_id in inbound_rejections ("" when unknown: counted and logged only)
	ChatID string // "" when unknown
	Reason string // one of the reasons above; Settle fills it in
	Err    error
	Attrs  []any // more log attributes (never patient text)
}

// OK notes that the item key was recorded, for the judge.
func (r *Recorder) OK(key string) { r.judge.OK(key) }

// Settle decides about an item whose recording (counted under key) failed
// with rej.Err: it returns nil when the item was rejected before (the
// platform sent it again) or is rejected now, so the caller skips it, and
// rej.Err when the item must come again.
func (r *Recorder) Settle(ctx context.Context, key string, rej Rejection) error {
	if rej.ID != "" && r.rejectedBefore(ctx, rej.ID) {
		return nil
	}
	if rej.Reason = r.judge.Failed(key, rej.Err, func() bool { return r.dbUp(ctx) }); rej.Reason == "" {
		return rej.Err
	}
	r.Reject(ctx, rej)
	return nil
}

// Reject records a poison item: the rejection counter, a log line (no
// patient text) and, when its id is known, a row in inbound_rejections.
// Recording the row is best effort; the item is skipped either way.
func (r *Recorder) Reject(ctx context.Context, rej Rejection) {
	r.Rejections.WithLabelValues(r.Channel, rej.Reason).Inc()
	r.Log.WarnContext(ctx, r.Channel+": "+rej.What+" rejected and skipped",
		slices.Concat(rej.Attrs, []any{"reason", rej.Reason, "error", ErrClass(rej.Err)})...)
	if rej.ID == "" {
		return
	}
	detail := ErrClass(rej.Err)
	if len(detail) > 200 {
		detail = detail[:200]
	}
	// The row is written even when the request that brought the item ends.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.record(ctx, rej, detail); err != nil {
		r.Log.WarnContext(ctx, r.Channel+": could not record a rejected "+rej.What,
			slices.Concat(rej.Attrs, []any{"error", ErrClass(err)})...)
	}
}

func (r *Recorder) record(ctx context.Context, rej Rejection, detail string) error {
	_, err := r.DB.Q().Exec(ctx, `INSERT INTO inbound_rejections (channel, external_id, chat_id, reason, detail, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel, external_id) DO NOTHING`,
		r.Channel, rej.ID, rej.ChatID, rej.Reason, detail, r.Clock.Now())
	return err
}

// rejectedBefore reports whether the item was rejected already (by this
// process or another replica).
func (r *Recorder) rejectedBefore(ctx context.Context, id string) bool {
	var n int
	err := r.DB.Q().QueryRow(ctx, `SELECT count(*) FROM inbound_rejections WHERE channel = $1 AND external_id = $2`,
		r.Channel, id).Scan(&n)
	return err == nil && n > 0
}

// dbUp reports whether the database answers: the judge counts no failure
// while it does not.
func (r *Recorder) dbUp(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return r.DB.Ping(ctx) == nil
}
