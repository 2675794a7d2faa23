package store

import (
	"context"
	"fmt"
	"time"
)

// FlaggedConversations lists the conversations triage flagged as an
// emergency at or after since, the latest flag first (the console's inbox
// lists them whether or not a handoff was opened).
func (q Q) FlaggedConversations(ctx context.Context, since time.Time, limit int) ([]Conversation, error) {
	return q.conversations(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE flagged_at IS NOT NULL AND flagged_at >= $1 ORDER BY flagged_at DESC, id DESC LIMIT $2`, since, limit)
}

// PatientConversations lists the conversations linked to a registry
// patient, the most recently active first.
func (q Q) PatientConversations(ctx context.Context, patientID int64, limit int) ([]Conversation, error) {
	return q.conversations(ctx, `SELECT `+conversationCols+` FROM conversations
		WHERE patient_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2`, patientID, limit)
}

func (q Q) conversations(ctx context.Context, sql string, args ...any) ([]Conversation, error) {
	rows, err := q.q.query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list conversations: %w", err)
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		c, err := q.scanConversation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
