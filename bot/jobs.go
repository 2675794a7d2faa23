package bot

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// ProcessArgs is the durable job that handles a conversation's accepted messages.
type ProcessArgs struct {
	ConversationID int64 `json:"conversation_id"`
}

// Kind implements river.JobArgs.
func (ProcessArgs) Kind() string { return "process_inbound" }

// ProcessWorker runs ProcessArgs jobs.
type ProcessWorker struct {
	river.WorkerDefaults[ProcessArgs]
	engine *Engine
}

// Work handles the conversation's pending messages.
func (w *ProcessWorker) Work(ctx context.Context, job *river.Job[ProcessArgs]) error {
	return w.engine.ProcessPending(ctx, job.Args.ConversationID)
}

// RecoverArgs is the periodic job that finds messages accepted but never
// handled (a crash between accepting and handling) and handles them.
type RecoverArgs struct{}

// Kind implements river.JobArgs.
func (RecoverArgs) Kind() string { return "recover_inbound" }

// RecoverWorker runs RecoverArgs jobs.
type RecoverWorker struct {
	river.WorkerDefaults[RecoverArgs]
	engine *Engine
}

// recoverAfter is how old a pending message must be before recovery takes
// it; younger ones are still in the hands of their process job.
const recoverAfter = 10 * time.Second

// Work handles stale pending messages.
func (w *RecoverWorker) Work(ctx context.Context, _ *river.Job[RecoverArgs]) error {
	return w.engine.RecoverPending(ctx)
}

// RecoverPending handles every conversation whose messages have waited too long.
func (e *Engine) RecoverPending(ctx context.Context) error {
	ids, err := e.db.Q().ConversationsWithPending(ctx, e.clock.Now().Add(-recoverAfter), 500)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := e.ProcessPending(ctx, id); err != nil {
			return err
		}
	}
	if len(ids) > 0 {
		e.log.InfoContext(ctx, "recovered pending messages", "conversations", len(ids))
	}
	return nil
}

// AddWorkers registers the engine's job workers.
func (e *Engine) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &DeliverWorker{engine: e})
	river.AddWorker(w, &ProcessWorker{engine: e})
	river.AddWorker(w, &RecoverWorker{engine: e})
}

// PeriodicJobs are the engine's recurring jobs.
func (e *Engine) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(15*time.Second),
			func() (river.JobArgs, *river.InsertOpts) { return RecoverArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}
