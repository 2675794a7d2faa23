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

// Recovery runs at least every recoverEvery. River runs periodic jobs only
// on its leader, and when the only process dies, its restarted successor
// becomes leader only once the dead one's leadership expires (15 s after
// its last renewal, then up to 6 s until the next bid). So each recovery
// job, inserted every recoverChainEvery by the leader, keeps itself going
// for recoverChainFor by snoozing between runs: a job snoozed for no longer
// than River's scheduler interval (5 s) becomes available again by itself,
// to whichever process fetches first, leader or not. Three chains overlap,
// their runs staggered by chainStagger, so that a crash catching one in the
// middle of a run (which leaves it "running" until River's rescuer, and
// River records a snooze up to 50 ms after the run) leaves another.
const (
	recoverEvery      = 5 * time.Second
	recoverChainEvery = 20 * time.Second
	recoverChainFor   = time.Minute
	chainStagger      = 200 * time.Millisecond
)

// Work handles stale pending messages and deliveries whose job died, then
// snoozes to run again while its chain lasts.
func (w *RecoverWorker) Work(ctx context.Context, job *river.Job[RecoverArgs]) error {
	if err := w.engine.RecoverPending(ctx); err != nil {
		return err
	}
	if time.Since(job.CreatedAt) >= recoverChainFor {
		return nil
	}
	stagger := time.Duration(job.ID%3) * chainStagger
	return river.JobSnooze(min(recoverEvery, w.engine.nextRecovery(ctx)+stagger))
}

// nextRecovery is how long recovery waits before looking again:
// recoverEvery, or less when a delivery lease runs out sooner, so that a
// delivery whose job died is taken over as soon as its lease ends rather
// than up to recoverEvery later. (Leases of live jobs are renewed when a
// third has gone, so while deliveries run this is 3-5 s.)
func (e *Engine) nextRecovery(ctx context.Context) time.Duration {
	now := e.clock.Now()
	var until *time.Time
	if err := e.db.Q().QueryRow(ctx, `SELECT min(sending_until) FROM outbound_messages
		WHERE status IN ('queued', 'sending') AND sending_until > $1`, now).Scan(&until); err != nil || until == nil {
		return recoverEvery
	}
	return min(recoverEvery, max(recoverMinWait, until.Sub(now)+recoverSlack))
}

// recoverMinWait and recoverSlack bound how soon recovery looks again
// for a lease about to run out.
const (
	recoverMinWait = 500 * time.Millisecond
	recoverSlack   = 100 * time.Millisecond
)

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
	if err := e.redeliverUncovered(ctx); err != nil {
		return err
	}
	return e.redeliverStalled(ctx)
}

// takeoverPeriod: at most one takeover job per conversation tail within it
// (River unique jobs), however often recovery finds it uncovered (its
// takeover waiting for the lock, or failing).
const takeoverPeriod = time.Minute

// redeliverUncovered gives a new delivery job to every conversation with an
// undelivered message that no live job covers: not leased (or its lease ran
// out), and, unless it is "sending", with no delivery job of its
// conversation waiting in River. That is a message whose job died with its
// process: a send cut off before its outcome was recorded (still
// "sending"), or a message queued behind it or about to be sent by the
// dead job. River would leave that job "running" until its rescuer takes
// it, minutes later (RescueStuckJobsAfter, which must exceed every job's
// timeout). The new job delivers up to the conversation's last undelivered
// message, so the replies held behind the cut-off one follow it, in order.
// It takes the delivery lock like any other, so a job that is alive after
// all (too slow to renew its lease, or running but not yet holding the
// lock) finishes first and nothing is sent twice. A message younger than a
// lease is left alone: its job may have been picked (River says
// "running") and not yet have leased it (or a send in a webhook's request
// may be about to). A takeover queued while a retried job is in that
// window is harmless: should the retry meet a rate limit again, its hold
// (deliveryLease.hold) makes the takeover wait for the retry_after too.
// A job that died leased its message anyway, so waiting as long as a
// lease costs a takeover nothing.
func (e *Engine) redeliverUncovered(ctx context.Context) error {
	now := e.clock.Now()
	// status IN (…) repeats the partial index's condition word for word:
	// SQLite uses a partial index only then (PostgreSQL infers it).
	rs, err := e.db.Q().Query(ctx, `SELECT o.conversation_id, min(o.id),
			(SELECT max(x.seq) FROM outbound_messages x
				WHERE x.conversation_id = o.conversation_id AND x.status IN ('queued', 'sending'))
		FROM outbound_messages o
		WHERE o.status IN ('queued', 'sending')
			AND (o.sending_until IS NULL OR o.sending_until <= $1) AND o.created_at > $2 AND o.created_at <= $3
			AND (o.status = 'sending' OR o.conversation_id NOT IN (
				SELECT CAST(j.args ->> 'conversation_id' AS BIGINT) FROM river_job j
				WHERE j.kind = 'deliver' AND j.state IN ('available', 'pending', 'retryable', 'scheduled')))
		GROUP BY o.conversation_id
		LIMIT 500`, now, now.Add(-redeliverWithin), now.Add(-deliverLease))
	cut, err := store.Collect[DeliverArgs](rs, err)(scanDeliverArgs)
	if err != nil || len(cut) == 0 {
		return err
	}
	e.log.WarnContext(ctx, "taking over deliveries whose job died", "conversations", len(cut))
	return e.enqueueAll(ctx, cut, river.InsertOpts{MaxAttempts: deliverMaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: takeoverPeriod}})
}

// Stalled deliveries: a message still undelivered this long after it was
// queued has lost its job or is waiting out a long retry. One extra
// single-attempt job per message per period is enough to move it along; the
// delivery lock and the message status keep it from being sent twice.
// (A message whose job died is taken over sooner: redeliverUncovered.)
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
	stalled, err := store.Collect[DeliverArgs](rs, err)(scanDeliverArgs)
	if err != nil || len(stalled) == 0 {
		return err
	}
	e.log.InfoContext(ctx, "re-enqueuing stalled deliveries", "conversations", len(stalled))
	return e.enqueueAll(ctx, stalled, river.InsertOpts{MaxAttempts: 1,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: redeliverPeriod}})
}

// scanDeliverArgs reads a (conversation_id, outbound id, seq) row: the
// delivery job a conversation needs.
func scanDeliverArgs(r store.Row) (DeliverArgs, error) {
	var a DeliverArgs
	return a, r.Scan(&a.ConversationID, &a.OutboundID, &a.Seq)
}

// enqueueAll gives each conversation of all a delivery job with opts, in
// one transaction.
func (e *Engine) enqueueAll(ctx context.Context, all []DeliverArgs, opts river.InsertOpts) error {
	return e.db.InTx(ctx, func(tx *store.Tx) error {
		for _, a := range all {
			o := opts // each insert its own copy
			if err := tx.Enqueue(ctx, a, &o); err != nil {
				return err
			}
		}
		return nil
	})
}

// StartRecovery inserts one recovery job when a process starts, leader
// or not. A process restarted after kill -9 becomes River's leader (and
// so inserts periodic jobs) only when the dead one's leadership expires,
// 10-20 s later; and a process killed in its first seconds may have
// inserted none. This chain, like the periodic ones, runs for
// recoverChainFor and looks again as each delivery lease runs out, so a
// send cut off by the kill is taken over about when its lease ends.
func (e *Engine) StartRecovery(ctx context.Context) error {
	return e.db.InTx(ctx, func(tx *store.Tx) error {
		return tx.Enqueue(ctx, RecoverArgs{}, nil)
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
		river.NewPeriodicJob(river.PeriodicInterval(recoverChainEvery),
			func() (river.JobArgs, *river.InsertOpts) { return RecoverArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}
