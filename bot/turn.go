package bot

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/store"
)

// What a turn may read and write besides its replies and state: the turn's
// transaction, lent a piece at a time, and the few fields of its
// conversation that dialogs and guards use. Everything here commits with
// the turn's replies and state change, or not at all.

// Q is the turn's transaction as a querier, for the domain services a
// dialog calls (patients, scheduling, the knowledge base) and the SQL of
// the tables the dialog owns. A dialog never opens a transaction of its own
// and never uses the DB's Q during a turn: what it wrote there would commit
// apart from the turn, even when the turn rolls back.
func (t *Turn) Q() store.Q { return t.tx.Q }

// Work lends the turn's transaction to a domain service that writes and
// enqueues jobs in it (the handoff board's posts to staff, staff alerts).
func (t *Turn) Work() store.Work { return turnWork{t.tx} }

// turnWork hides the transaction behind store.Work: a type assertion on
// what Work returns cannot get the *store.Tx back.
type turnWork struct{ tx *store.Tx }

func (w turnWork) Querier() store.Q { return w.tx.Q }

func (w turnWork) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	return w.tx.Enqueue(ctx, args, opts)
}

// Enqueue inserts a durable job (a reminder, a scheduled message) that
// becomes visible only if the turn commits.
func (t *Turn) Enqueue(args river.JobArgs, opts *river.InsertOpts) error {
	return t.tx.Enqueue(t.Ctx, args, opts)
}

// AfterCommit runs fn once the turn has committed, and not at all if it
// rolls back: for what cannot be taken back, such as sending a one-time
// code by e-mail.
func (t *Turn) AfterCommit(fn func()) { t.tx.AfterCommit(fn) }

// ConversationID is the id of the turn's conversation.
func (t *Turn) ConversationID() int64 { return t.conv.ID }

// Conversation is a copy of the conversation as it stands in this turn, for
// a service that reads a whole row (consent, the staff's snapshot). Writing
// to the copy changes nothing: the setters below do.
func (t *Turn) Conversation() store.Conversation { return *t.conv }

// Mode is who answers the conversation: store.ModeBot, ModeWaiting (a
// handoff is open) or ModeStaff.
func (t *Turn) Mode() string { return t.conv.Mode }

// SetMode hands the conversation to staff, marks it waiting for them, or
// gives it back to the bot (the handoff machine's states).
func (t *Turn) SetMode(mode string) { t.conv.Mode = mode }

// PatientID is the registry patient the conversation is linked to (a copy;
// nil when none).
func (t *Turn) PatientID() *int64 {
	if t.conv.PatientID == nil {
		return nil
	}
	id := *t.conv.PatientID
	return &id
}

// LinkPatient links the conversation to a registry patient whose identity
// the patient has just proved (booking's verification).
func (t *Turn) LinkPatient(patientID int64) { t.conv.PatientID = &patientID }

// FlaggedAt is when triage first flagged an emergency in the conversation
// (a copy; nil when never).
func (t *Turn) FlaggedAt() *time.Time {
	if t.conv.FlaggedAt == nil {
		return nil
	}
	at := *t.conv.FlaggedAt
	return &at
}

// Flag marks the conversation as having had an emergency, at the turn's
// time; the first flag is kept.
func (t *Turn) Flag() {
	if t.conv.FlaggedAt == nil {
		now := t.Now
		t.conv.FlaggedAt = &now
	}
}
