package bot

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// DeliverLease is exported for tests.
const DeliverLease = deliverLease

// LeaseGrace is exported for tests.
const LeaseGrace = leaseGrace

func init() {
	// Tests move an injected clock past the lease; renewing often lets a
	// test see a renewal without waiting seconds of real time.
	leaseRenewEvery = 5 * time.Millisecond
}

// RecoverWork runs the recovery job's work as River would for a job
// inserted at createdAt.
func RecoverWork(ctx context.Context, e *Engine, createdAt time.Time) error {
	w := &RecoverWorker{engine: e}
	return w.Work(ctx, &river.Job[RecoverArgs]{JobRow: &rivertype.JobRow{CreatedAt: createdAt}})
}
