package survey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Statuses of a survey response. in-progress, completed and stopped are
// FHIR QuestionnaireResponse statuses; the others are the invitation's life
// before and around them.
const (
	StatusScheduled  = "scheduled"   // the invitation waits for its time
	StatusInvited    = "invited"     // sent, nothing answered yet
	StatusInProgress = "in-progress" // partly answered
	StatusCompleted  = "completed"
	StatusStopped    = "stopped" // the patient ended it (or opted out)
	StatusExpired    = "expired" // the invitation ran out; partial answers kept
	StatusSkipped    = "skipped" // never sent: Reason says why
)

// Reasons an invitation was not sent.
const (
	ReasonAnotherSurvey = "another_survey"
)

// Response is one visit's survey.
type Response struct {
	ID             int64
	VisitKey       string
	Questionnaire  string
	PatientID      int64
	AppointmentID  *int64
	ConversationID *int64
	ProviderID     string
	LocationID     string
	VisitType      string
	VisitAt        time.Time
	Status         string
	Reason         string
	Lang           string
	Current        int
	Items          []ResponseItem
	Score          *int
	Alert          string
	InviteAt       time.Time
	InvitedAt      *time.Time
	RemindedAt     *time.Time
	ExpiresAt      *time.Time
	FinishedAt     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Open reports whether the patient can still answer.
func (r Response) Open(now time.Time) bool {
	return (r.Status == StatusInvited || r.Status == StatusInProgress) && (r.ExpiresAt == nil || now.Before(*r.ExpiresAt))
}

// Answers maps linkIds to answers.
func (r Response) Answers() map[string]Answer {
	m := make(map[string]Answer, len(r.Items))
	for _, it := range r.Items {
		if len(it.Answer) > 0 {
			m[it.LinkID] = it.Answer[0]
		}
	}
	return m
}

// FHIRStatus is the QuestionnaireResponse status: an expired response with
// answers was stopped; nothing else leaves Tend's own vocabulary.
func (r Response) FHIRStatus() string {
	switch r.Status {
	case StatusInvited, StatusInProgress, StatusScheduled:
		return "in-progress"
	case StatusExpired, StatusSkipped:
		return "stopped"
	}
	return r.Status
}

const responseCols = `id, visit_key, questionnaire, patient_id, appointment_id, conversation_id, provider_id, location_id,
	visit_type, visit_at, status, reason, lang, current_item, answers, score, alert, invite_at, invited_at, reminded_at,
	expires_at, finished_at, created_at, updated_at`

func scanResponse(row store.Row) (Response, error) {
	var r Response
	var answers string
	err := row.Scan(&r.ID, &r.VisitKey, &r.Questionnaire, &r.PatientID, &r.AppointmentID, &r.ConversationID, &r.ProviderID,
		&r.LocationID, &r.VisitType, &r.VisitAt, &r.Status, &r.Reason, &r.Lang, &r.Current, &answers, &r.Score, &r.Alert,
		&r.InviteAt, &r.InvitedAt, &r.RemindedAt, &r.ExpiresAt, &r.FinishedAt, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return r, err
	}
	if answers != "" {
		if err := json.Unmarshal([]byte(answers), &r.Items); err != nil {
			return r, fmt.Errorf("survey: response %d answers: %w", r.ID, err)
		}
	}
	return r, nil
}

// insertResponse stores a new scheduled response; false when the visit was
// seen before (a visit is surveyed at most once).
func insertResponse(ctx context.Context, q store.Q, r *Response) (bool, error) {
	err := q.QueryRow(ctx, `INSERT INTO survey_responses (visit_key, questionnaire, patient_id, appointment_id,
		conversation_id, provider_id, location_id, visit_type, visit_at, status, invite_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
		ON CONFLICT (visit_key) DO NOTHING RETURNING id`,
		r.VisitKey, r.Questionnaire, r.PatientID, r.AppointmentID, r.ConversationID, r.ProviderID, r.LocationID,
		r.VisitType, r.VisitAt, r.Status, r.InviteAt, r.CreatedAt).Scan(&r.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("survey: insert response: %w", err)
	}
	return true, nil
}

// lockResponse loads a response and locks it until the transaction ends.
func lockResponse(ctx context.Context, q store.Q, id int64) (Response, error) {
	return scanResponse(q.QueryRow(ctx, `SELECT `+responseCols+` FROM survey_responses WHERE id = $1`+q.ForUpdate(), id))
}

// openFor returns the conversation's open response, if any.
func openFor(ctx context.Context, q store.Q, conversationID int64, now time.Time) (Response, bool, error) {
	r, err := scanResponse(q.QueryRow(ctx, `SELECT `+responseCols+` FROM survey_responses
		WHERE conversation_id = $1 AND status IN ('invited', 'in-progress') ORDER BY id DESC LIMIT 1`, conversationID))
	if errors.Is(err, store.ErrNotFound) {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	return r, r.Open(now), nil
}

// activeForPatient reports whether the patient has another open survey.
func activeForPatient(ctx context.Context, q store.Q, patientID, except int64, now time.Time) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM survey_responses WHERE patient_id = $1 AND id <> $2
		AND status IN ('invited', 'in-progress') AND (expires_at IS NULL OR expires_at > $3)`, patientID, except, now).Scan(&n)
	return n > 0, err
}

// saveResponse writes back a response's mutable fields.
func saveResponse(ctx context.Context, q store.Q, r *Response, now time.Time) error {
	items, err := json.Marshal(r.Items)
	if err != nil {
		return err
	}
	if r.Items == nil {
		items = []byte("[]")
	}
	r.UpdatedAt = now
	_, err = q.Exec(ctx, `UPDATE survey_responses SET conversation_id = $2, status = $3, reason = $4, lang = $5,
		current_item = $6, answers = $7, score = $8, alert = $9, invited_at = $10, reminded_at = $11, expires_at = $12,
		finished_at = $13, updated_at = $14 WHERE id = $1`,
		r.ID, r.ConversationID, r.Status, r.Reason, r.Lang, r.Current, string(items), r.Score, r.Alert, r.InvitedAt,
		r.RemindedAt, r.ExpiresAt, r.FinishedAt, now)
	if err != nil {
		return fmt.Errorf("survey: save response %d: %w", r.ID, err)
	}
	return nil
}

// Filter selects responses for the export and the summaries.
type Filter struct {
	From, To   time.Time
	Status     string
	ProviderID string
	LocationID string
	Limit      int
}

// List returns responses by visit time.
func List(ctx context.Context, q store.Q, f Filter) ([]Response, error) {
	var w store.Where
	w.Between("visit_at", f.From, f.To)
	w.Equal("status", f.Status)
	w.Equal("provider_id", f.ProviderID)
	w.Equal("location_id", f.LocationID)
	sql := `SELECT ` + responseCols + ` FROM survey_responses` + w.SQL() + " ORDER BY visit_at, id" + w.Limit(f.Limit, 50000)
	rs, err := q.Query(ctx, sql, w.Args()...)
	if err != nil {
		return nil, fmt.Errorf("survey: list: %w", err)
	}
	return store.Collect[Response](rs, nil)(scanResponse)
}

// openIDs lists the open or scheduled responses of a conversation or a patient.
func openIDs(ctx context.Context, q store.Q, conversationID int64, patientID *int64) ([]int64, error) {
	var pid int64 = -1
	if patientID != nil {
		pid = *patientID
	}
	ids, err := store.IDs(q.Query(ctx, `SELECT id FROM survey_responses WHERE (conversation_id = $1 OR patient_id = $2)
		AND status IN ('scheduled', 'invited', 'in-progress') ORDER BY id`, conversationID, pid))
	if err != nil {
		return nil, fmt.Errorf("survey: open responses: %w", err)
	}
	return ids, nil
}
