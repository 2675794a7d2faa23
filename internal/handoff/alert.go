package handoff

import (
	"context"
	"errors"

	"github.com/tend-health/tend/internal/store"
)

// Alerter posts staff alerts that are not requests for a person: the survey
// capability reports unhappy answers through it.
type Alerter interface {
	Alert(ctx context.Context, w store.Work, conversationID int64, summary string, answers []Answer) (Handoff, error)
}

// ErrNoStaffChannel means no staff channel (Slack) is configured.
var ErrNoStaffChannel = errors.New("handoff: no staff channel is configured")

// Alert tells staff about an unhappy survey answer, inside the caller's
// transaction (w): one message in the handoff channel with the summary, the
// answers and a "Contact patient" button. Pressing it makes the presser the
// owner of the conversation, as Take over does, and the patient is told that
// a person from the clinic has joined; nothing is said to the patient before.
// n is the staff side (nil: none is configured); without it the alert is not
// recorded and ErrNoStaffChannel is returned.
func Alert(ctx context.Context, w store.Work, n Notifier, conversationID int64, summary string, answers []Answer) error {
	a, ok := n.(Alerter)
	if !ok || n == nil {
		return ErrNoStaffChannel
	}
	_, err := a.Alert(ctx, w, conversationID, summary, answers)
	return err
}

// Alert implements Alerter.
func (m *Machine) Alert(ctx context.Context, w store.Work, conversationID int64, summary string, answers []Answer) (Handoff, error) {
	q := w.Querier()
	conv, err := q.LockConversation(ctx, conversationID)
	if err != nil {
		return Handoff{}, err
	}
	now := m.now()
	h, err := insertAlert(ctx, q, conv.ID, now)
	if err != nil {
		return h, err
	}
	snap, err := m.snapshot(ctx, q, conv, now)
	if err != nil {
		return h, err
	}
	snap.Lines, snap.Summary, snap.Answers = nil, clip(summary), answers
	return h, m.o.Board.Post(ctx, w, Event{Kind: EventAlert, Handoff: h, At: now, Snapshot: snap})
}
