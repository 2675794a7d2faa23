package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Handoff statuses.
const (
	HandoffOpen     = "open"     // asked for, nobody has taken it
	HandoffTaken    = "taken"    // a staff member owns it
	HandoffReturned = "returned" // staff gave it back to the bot
	HandoffResolved = "resolved" // closed
)

// Handoff is a request for a person to take a conversation.
type Handoff struct {
	ID             int64
	ConversationID int64
	Reason         string
	Status         string
	Urgent         bool
	Owner          string
	OwnerName      string
	ExternalRef    string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ClosedAt       *time.Time
}

const handoffCols = `id, conversation_id, reason, status, urgent, owner, owner_name, external_ref, created_at, updated_at, closed_at`

func scanHandoff(r row) (Handoff, error) {
	var h Handoff
	err := r.Scan(&h.ID, &h.ConversationID, &h.Reason, &h.Status, &h.Urgent, &h.Owner, &h.OwnerName, &h.ExternalRef,
		&h.CreatedAt, &h.UpdatedAt, &h.ClosedAt)
	return h, err
}

// RequestHandoff opens a handoff for the conversation unless one is already
// open; it returns the open one either way (created tells which).
func (q Q) RequestHandoff(ctx context.Context, conversationID int64, reason string, urgent bool, now time.Time) (Handoff, bool, error) {
	h, err := scanHandoff(q.q.queryRow(ctx, `INSERT INTO handoffs (conversation_id, reason, urgent, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (conversation_id) WHERE status IN ('open', 'taken') DO NOTHING RETURNING `+handoffCols,
		conversationID, reason, urgent, now))
	if err == nil {
		return h, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return h, false, fmt.Errorf("store: request handoff: %w", err)
	}
	h, err = q.ActiveHandoff(ctx, conversationID)
	if urgent && err == nil && !h.Urgent {
		_, err = q.q.exec(ctx, `UPDATE handoffs SET urgent = $2, updated_at = $3 WHERE id = $1`, h.ID, true, now)
		h.Urgent = true
	}
	return h, false, err
}

// ActiveHandoff returns the conversation's open or taken handoff.
func (q Q) ActiveHandoff(ctx context.Context, conversationID int64) (Handoff, error) {
	return scanHandoff(q.q.queryRow(ctx, `SELECT `+handoffCols+` FROM handoffs
		WHERE conversation_id = $1 AND status IN ('open', 'taken')`, conversationID))
}

// ListHandoffs lists handoffs with the given status, oldest first.
func (q Q) ListHandoffs(ctx context.Context, status string, limit int) ([]Handoff, error) {
	return Collect[Handoff](q.q.query(ctx, `SELECT `+handoffCols+` FROM handoffs WHERE status = $1 ORDER BY id LIMIT $2`, status, limit))(scanHandoff)
}
