package handoff

import (
	"context"
	"errors"

	"github.com/tend-health/tend/internal/store"
)

// Alerter posts staff alerts that are not requests for a person: the survey
// capability reports unhappy answers through it.
type Alerter interface {
	Alert(ctx context.Context, tx *store.Tx, conversationID int64, summary string, answers []Answer) (Handoff, error)
}

// ErrNoStaffChannel means no staff channel (Slack) is configured.
var ErrNoStaffChannel = errors.New("handoff: no staff channel is configured")

// Alert tells staff about an unhappy survey answer, inside the caller's
// transaction: one message in the handoff channel with the summary, the
// answers and a "Contact patient" button. Pressing it makes the presser the
// owner of the conversation, as Take over does, and the patient is told that
// a person from the clinic has joined; nothing is said to the patient before.
// n is the app's HandoffNotifier; without a staff channel the alert is not
// recorded and ErrNoStaffChannel is returned.
func Alert(ctx context.Context, tx *store.Tx, n Notifier, conversationID int64, summary string, answers []Answer) error {
	a, ok := n.(Alerter)
	if !ok || n == nil {
		return ErrNoStaffChannel
	}
	_, err := a.Alert(ctx, tx, conversationID, summary, answers)
	return err
}

// Alert implements Alerter.
func (m *Machine) Alert(ctx context.Context, tx *store.Tx, conversationID int64, summary string, answers []Answer) (Handoff, error) {
	conv, err := tx.LockConversation(ctx, conversationID)
	if err != nil {
		return Handoff{}, err
	}
	now := m.now()
	h, err := insertAlert(ctx, tx.Q, conv.ID, now)
	if err != nil {
		return h, err
	}
	snap, err := m.snapshot(ctx, tx.Q, conv, now)
	if err != nil {
		return h, err
	}
	snap.Lines, snap.Summary, snap.Answers = nil, clip(summary), answers
	return h, m.o.Board.Post(ctx, tx, Event{Kind: EventAlert, Handoff: h, At: now, Snapshot: snap})
}
