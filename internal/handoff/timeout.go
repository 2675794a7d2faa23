package handoff

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/store"
)

// TimeoutArgs is the durable job that fires when a handoff has waited its
// expected time without anyone taking over. It is scheduled at the deadline
// (InsertOpts.ScheduledAt) in the transaction that opened the handoff.
type TimeoutArgs struct {
	HandoffID int64 `json:"handoff_id"`
}

// Kind implements river.JobArgs.
func (TimeoutArgs) Kind() string { return "handoff_timeout" }

// TimeoutWorker runs TimeoutArgs jobs.
type TimeoutWorker struct {
	river.WorkerDefaults[TimeoutArgs]
	Machine *Machine
}

// Work handles one timeout.
func (w *TimeoutWorker) Work(ctx context.Context, job *river.Job[TimeoutArgs]) error {
	return w.Machine.Timeout(ctx, job.Args.HandoffID)
}

// AddWorkers registers the machine's job workers.
func (m *Machine) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &TimeoutWorker{Machine: m})
}

// Timeout tells a patient whose handoff nobody has taken when to expect a
// reply and how to call, and reminds staff with the waiting time. Outside
// business hours it promises the next opening and fires again after the
// expected wait from then. A handoff taken, closed, or given a later
// deadline meanwhile is left alone, so a repeated or stale job does nothing.
func (m *Machine) Timeout(ctx context.Context, id int64) error {
	return m.engine.DB().InTx(ctx, func(tx *store.Tx) error {
		h, conv, ok, err := m.lock(ctx, tx, id)
		if err != nil || !ok || h.Status != StatusOpen {
			return err
		}
		now := m.now()
		if h.DeadlineAt == nil || now.Before(*h.DeadlineAt) {
			return nil
		}
		opening := m.nextOpening(now)
		var next *time.Time
		if opening.IsZero() {
			msg, data := "handoff.timeout", map[string]any(nil)
			if closes := m.closing(now); !closes.IsZero() {
				msg, data = "handoff.timeout_until", map[string]any{"Until": m.When(conv.Lang, now, closes)}
			}
			if err := m.tell(ctx, tx, conv, bot.KindNotice, msg, data); err != nil {
				return err
			}
		} else {
			when := m.When(conv.Lang, now, opening)
			if err := m.tell(ctx, tx, conv, bot.KindNotice, "handoff.timeout_after_hours", map[string]any{"When": when}); err != nil {
				return err
			}
			// Remind everyone again once the clinic has been open a while.
			at := opening.Add(m.o.WaitTimeout)
			next = &at
			if err := m.scheduleTimeout(ctx, tx, h.ID, at); err != nil {
				return err
			}
		}
		if err := setTimes(ctx, tx.Q, h.ID, &now, next, now); err != nil {
			return err
		}
		hid := h.ID
		if err := writeAudit(ctx, tx.Q, AuditEntry{HandoffID: &hid, ConversationID: h.ConversationID, Actor: "system",
			Action: "timeout", Outcome: string(Done), At: now}); err != nil {
			return err
		}
		h, err = Get(ctx, tx.Q, h.ID)
		if err != nil {
			return err
		}
		return m.o.Board.Post(ctx, tx, Event{Kind: EventTimeout, Handoff: h, At: now, Waited: now.Sub(h.CreatedAt),
			AfterHours: !opening.IsZero()})
	})
}
