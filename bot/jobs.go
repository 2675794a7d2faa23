package bot

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/store"
)

// ProcessArgs is the durable job that handles a conversation's accepted
// messages. A webhook names the conversation by its channel and chat: the
// job is inserted in the same round trip as the message, before the
// conversation's id is known. ConversationID is for jobs queued by earlier
// versions.
type ProcessArgs struct {
	ConversationID int64  `json:"conversation_id,omitempty"`
	Channel        string `json:"channel,omitempty"`
	ChatID         string `json:"chat_id,omitempty"`
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
	a := job.Args
	if a.ConversationID != 0 { // queued by an earlier version
		return w.engine.ProcessPending(ctx, a.ConversationID)
	}
	return w.engine.ProcessPendingChat(ctx, a.Channel, a.ChatID)
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

// RecoverPending handles every conversation whose messages have waited too
// long, and gives stalled deliveries another job.
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
	return e.redeliverStalled(ctx)
}

// Stalled deliveries: a message still undelivered this long after it was
// queued has lost its job (a crash mid-send leaves the job "running" until
// River rescues it) or is waiting out a long retry. One extra single-attempt
// job per message per period is enough to move it along; the delivery lock
// and the message status keep it from being sent twice.
const (
	redeliverAfter  = 2 * time.Minute
	redeliverWithin = 24 * time.Hour
	redeliverPeriod = 10 * time.Minute
)

func (e *Engine) redeliverStalled(ctx context.Context) error {
	now := e.clock.Now()
	rs, err := e.db.Q().Query(ctx, `SELECT o.conversation_id, o.id, o.seq FROM outbound_messages o
		WHERE o.status IN ('queued', 'sending') AND o.created_at < $1 AND o.created_at > $2
		AND o.seq = (SELECT max(x.seq) FROM outbound_messages x
			WHERE x.conversation_id = o.conversation_id AND x.status IN ('queued', 'sending'))
		LIMIT 500`, now.Add(-redeliverAfter), now.Add(-redeliverWithin))
	if err != nil {
		return err
	}
	var stalled []DeliverArgs
	for rs.Next() {
		var a DeliverArgs
		if err := rs.Scan(&a.ConversationID, &a.OutboundID, &a.Seq); err != nil {
			rs.Close()
			return err
		}
		stalled = append(stalled, a)
	}
	rs.Close()
	if err := rs.Err(); err != nil || len(stalled) == 0 {
		return err
	}
	e.log.InfoContext(ctx, "re-enqueuing stalled deliveries", "conversations", len(stalled))
	return e.db.InTx(ctx, func(tx *store.Tx) error {
		for _, a := range stalled {
			if err := tx.Enqueue(ctx, a, &river.InsertOpts{MaxAttempts: 1,
				UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: redeliverPeriod}}); err != nil {
				return err
			}
		}
		return nil
	})
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
