package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
)

// Outbox operations.
const (
	opRoot   = "root"   // post the handoff message
	opThread = "thread" // post a note in its thread
	opUpdate = "update" // re-render the handoff message (chat.update)
)

// note is a thread post as queued; it is rendered in the staff language
// when sent. Text holds the patient's words for mirrors and is blanked once
// the post has gone out.
type note struct {
	Kind       handoff.EventKind `json:"kind"`
	Text       string            `json:"text,omitempty"`
	Actor      string            `json:"actor,omitempty"`
	At         time.Time         `json:"at"`
	Waited     time.Duration     `json:"waited,omitempty"`
	AfterHours bool              `json:"after_hours,omitempty"`
	Mention    bool              `json:"mention,omitempty"`
}

// The stored copies of what staff see are sealed at rest when a key is
// configured (docs/security.md, "Encryption at rest"): the handoff
// message's context (the patient's card and transcript), queued thread
// posts (the patient's words) and staff input waiting to be handled.
const (
	purposeRoot  = "slack_threads.root"
	purposePost  = "slack_outbox.body"
	purposeInbox = "slack_inbox.body"
)

// root is the stored context of a handoff message.
type root struct {
	Snapshot   *handoff.Snapshot `json:"snapshot,omitempty"`
	Alert      bool              `json:"alert,omitempty"`
	AfterHours bool              `json:"after_hours,omitempty"`
	// SummaryDone records that the summarizer ran (even if it failed), so
	// re-rendering never calls it again.
	SummaryDone bool `json:"summary_done,omitempty"`
}

// board is the Slack handoff channel as a handoff.Board: each event becomes
// outbox rows (in the caller's transaction) and a job that sends them.
type board struct{ m *Module }

// Post implements handoff.Board.
func (b *board) Post(ctx context.Context, w store.Work, e handoff.Event) error {
	id := e.Handoff.ID
	switch e.Kind {
	case handoff.EventOpened, handoff.EventAlert:
		r := root{Snapshot: e.Snapshot, Alert: e.Kind == handoff.EventAlert, AfterHours: e.AfterHours}
		created, err := b.ensureThread(ctx, w.Querier(), id, r, e.At)
		if err != nil || !created {
			return err
		}
		return b.enqueue(ctx, w, id, opRoot, nil, e.At)
	}
	// A handoff opened before Slack was set up has no message yet: post a
	// bare one first so the thread exists.
	created, err := b.ensureThread(ctx, w.Querier(), id, root{}, e.At)
	if err != nil {
		return err
	}
	if created {
		if err := b.enqueue(ctx, w, id, opRoot, nil, e.At); err != nil {
			return err
		}
	}
	n := note{Kind: e.Kind, Text: e.Text, Actor: e.Actor.Name, At: e.At, Waited: e.Waited, AfterHours: e.AfterHours,
		Mention: e.NewlyUrgent}
	if err := b.enqueue(ctx, w, id, opThread, n, e.At); err != nil {
		return err
	}
	if e.Kind == handoff.EventPatient {
		return nil // the handoff message does not change
	}
	return b.enqueue(ctx, w, id, opUpdate, nil, e.At)
}

// ensureThread records the handoff's Slack thread; created is false when it existed.
func (b *board) ensureThread(ctx context.Context, q store.Q, id int64, r root, now time.Time) (bool, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	var got int64
	err = q.QueryRow(ctx, `INSERT INTO slack_threads (handoff_id, channel, root, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (handoff_id) DO NOTHING RETURNING handoff_id`, id, b.m.channel, q.SealJSON(purposeRoot, string(body)),
		now).Scan(&got)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("slack: record thread: %w", err)
	}
	return true, nil
}

// enqueue appends a post to the handoff's outbox and a job to send it. Seq
// is allocated under the conversation's row lock, which every caller of
// Board.Post holds, so posts to one thread are numbered in commit order.
func (b *board) enqueue(ctx context.Context, w store.Work, id int64, op string, body any, now time.Time) error {
	raw := []byte("{}")
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	var seq int64
	q := w.Querier()
	err := q.QueryRow(ctx, `INSERT INTO slack_outbox (handoff_id, seq, op, body, created_at)
		VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM slack_outbox WHERE handoff_id = $1), $2, $3, $4)
		RETURNING seq`, id, op, q.SealJSON(purposePost, string(raw)), now).Scan(&seq)
	if err != nil {
		return fmt.Errorf("slack: queue %s: %w", op, err)
	}
	return w.Enqueue(ctx, PostArgs{HandoffID: id, Seq: seq}, &river.InsertOpts{MaxAttempts: postMaxAttempts})
}
