package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/store"
)

// Handoff statuses.
const (
	StatusOpen     = "open"     // asked for, nobody has taken it
	StatusTaken    = "taken"    // a staff member owns it
	StatusReturned = "returned" // staff gave it back to the bot
	StatusResolved = "resolved" // closed
	// StatusAlert is a staff alert (an unhappy survey answer) that nobody has
	// acted on yet; "Contact patient" turns it into a taken handoff. Alerts are
	// outside the one-active-handoff rule until then.
	StatusAlert = "alert"
)

// Handoff is a request for a person to take a conversation: one row of the
// handoffs table.
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
	TakenAt        *time.Time
	NoticeAt       *time.Time // when the patient was last told they are waiting
	DeadlineAt     *time.Time // when the no-answer timeout is due
}

// Active reports whether the handoff holds the conversation (open or taken).
func (h Handoff) Active() bool {
	return h.Status == StatusOpen || h.Status == StatusTaken
}

const cols = `id, conversation_id, reason, status, urgent, owner, owner_name, external_ref, created_at, updated_at,
	closed_at, taken_at, notice_at, deadline_at`

func scan(r store.Row) (Handoff, error) {
	var h Handoff
	err := r.Scan(&h.ID, &h.ConversationID, &h.Reason, &h.Status, &h.Urgent, &h.Owner, &h.OwnerName, &h.ExternalRef,
		&h.CreatedAt, &h.UpdatedAt, &h.ClosedAt, &h.TakenAt, &h.NoticeAt, &h.DeadlineAt)
	return h, err
}

// Open opens a handoff for the conversation unless one is already open; it
// returns the open one either way (created tells which). A later urgent
// request makes the open one urgent.
func Open(ctx context.Context, q store.Q, conversationID int64, reason string, urgent bool, now time.Time) (Handoff, bool, error) {
	h, err := scan(q.QueryRow(ctx, `INSERT INTO handoffs (conversation_id, reason, urgent, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (conversation_id) WHERE status IN ('open', 'taken') DO NOTHING RETURNING `+cols,
		conversationID, reason, urgent, now))
	if err == nil {
		return h, true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return h, false, fmt.Errorf("handoff: open: %w", err)
	}
	h, err = ActiveFor(ctx, q, conversationID)
	if urgent && err == nil && !h.Urgent {
		_, err = q.Exec(ctx, `UPDATE handoffs SET urgent = $2, updated_at = $3 WHERE id = $1`, h.ID, true, now)
		h.Urgent = true
	}
	return h, false, err
}

// List lists handoffs with the given status, oldest first.
func List(ctx context.Context, q store.Q, status string, limit int) ([]Handoff, error) {
	return store.Collect[Handoff](q.Query(ctx, `SELECT `+cols+` FROM handoffs WHERE status = $1 ORDER BY id LIMIT $2`, status, limit))(scan)
}

// Get loads a handoff by id; store.ErrNotFound when there is none.
func Get(ctx context.Context, q store.Q, id int64) (Handoff, error) {
	h, err := scan(q.QueryRow(ctx, `SELECT `+cols+` FROM handoffs WHERE id = $1`, id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("handoff: get %d: %w", id, err)
	}
	return h, err
}

// ActiveFor returns the conversation's open or taken handoff;
// store.ErrNotFound when there is none.
func ActiveFor(ctx context.Context, q store.Q, conversationID int64) (Handoff, error) {
	h, err := scan(q.QueryRow(ctx, `SELECT `+cols+` FROM handoffs
		WHERE conversation_id = $1 AND status IN ('open', 'taken')`, conversationID))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("handoff: active for conversation %d: %w", conversationID, err)
	}
	return h, err
}

// transition moves a handoff from one status to another and reports whether
// it did: the WHERE on the old status makes two racing staff actions resolve
// to one winner even without the conversation lock.
func transition(ctx context.Context, q store.Q, id int64, from, to string, a Actor, now time.Time) (bool, error) {
	var n int64
	var err error
	switch to {
	case StatusTaken:
		n, err = q.Exec(ctx, `UPDATE handoffs SET status = $3, owner = $4, owner_name = $5, taken_at = $6,
			updated_at = $6, closed_at = NULL WHERE id = $1 AND status = $2`, id, from, to, a.ID, a.Name, now)
	default:
		n, err = q.Exec(ctx, `UPDATE handoffs SET status = $3, updated_at = $4, closed_at = $4, deadline_at = NULL
			WHERE id = $1 AND status = $2`, id, from, to, now)
	}
	if err != nil {
		return false, fmt.Errorf("handoff: %s -> %s: %w", from, to, err)
	}
	return n == 1, nil
}

func setTimes(ctx context.Context, q store.Q, id int64, notice, deadline *time.Time, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE handoffs SET notice_at = $2, deadline_at = $3, updated_at = $4 WHERE id = $1`,
		id, notice, deadline, now)
	if err != nil {
		return fmt.Errorf("handoff: set times: %w", err)
	}
	return nil
}

func setNotice(ctx context.Context, q store.Q, id int64, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE handoffs SET notice_at = $2 WHERE id = $1`, id, now)
	if err != nil {
		return fmt.Errorf("handoff: set notice: %w", err)
	}
	return nil
}

func setMode(ctx context.Context, q store.Q, conversationID int64, mode string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE conversations SET mode = $2, updated_at = $3 WHERE id = $1`, conversationID, mode, now)
	if err != nil {
		return fmt.Errorf("handoff: set mode: %w", err)
	}
	return nil
}

func insertAlert(ctx context.Context, q store.Q, conversationID int64, now time.Time) (Handoff, error) {
	h, err := scan(q.QueryRow(ctx, `INSERT INTO handoffs (conversation_id, reason, status, urgent, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5) RETURNING `+cols, conversationID, ReasonSurvey, StatusAlert, false, now))
	if err != nil {
		return h, fmt.Errorf("handoff: insert alert: %w", err)
	}
	return h, nil
}

// AuditEntry is one staff action on a handoff.
type AuditEntry struct {
	ID             int64
	HandoffID      *int64
	ConversationID int64
	Actor          string
	ActorName      string
	Action         string // take, return, resolve, reply, contact, cancel, timeout
	Outcome        string // a Result
	Detail         string // never message text
	At             time.Time
}

func writeAudit(ctx context.Context, q store.Q, e AuditEntry) error {
	_, err := q.Exec(ctx, `INSERT INTO handoff_audit (handoff_id, conversation_id, actor, actor_name, action, outcome, detail, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.HandoffID, e.ConversationID, e.Actor, e.ActorName, e.Action, e.Outcome, e.Detail, e.At)
	if err != nil {
		return fmt.Errorf("handoff: audit: %w", err)
	}
	return chainAudit(ctx, q, e)
}

// chainAudit copies a staff action into Tend's tamper-evident audit trail
// (internal/audit), in the same transaction: "handoff.<action>" on the
// conversation, by "slack:<user>" (or "system:handoff"), with the outcome.
func chainAudit(ctx context.Context, q store.Q, e AuditEntry) error {
	actor := "slack:" + e.Actor
	if e.Actor == "system" || e.Actor == "" {
		actor = "system:handoff"
	}
	detail := map[string]any{"outcome": e.Outcome}
	if e.HandoffID != nil {
		detail["handoff"] = *e.HandoffID
	}
	return audit.AppendIn(ctx, q, audit.Entry{At: e.At, Actor: actor, Action: "handoff." + e.Action,
		Subject: audit.Conversation(e.ConversationID), Detail: detail})
}

// AuditLog lists a conversation's staff actions, oldest first.
func AuditLog(ctx context.Context, q store.Q, conversationID int64) ([]AuditEntry, error) {
	rs, err := q.Query(ctx, `SELECT id, handoff_id, conversation_id, actor, actor_name, action, outcome, detail, at
		FROM handoff_audit WHERE conversation_id = $1 ORDER BY id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("handoff: audit log: %w", err)
	}
	defer rs.Close()
	var out []AuditEntry
	for rs.Next() {
		var e AuditEntry
		if err := rs.Scan(&e.ID, &e.HandoffID, &e.ConversationID, &e.Actor, &e.ActorName, &e.Action, &e.Outcome,
			&e.Detail, &e.At); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rs.Err()
}
