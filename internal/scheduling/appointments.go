package scheduling

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Appointment statuses.
const (
	StatusBooked    = "booked"
	StatusCancelled = "cancelled"
)

// Appointment is a booked (or cancelled) visit.
type Appointment struct {
	ID             int64      `json:"id"`
	PatientID      int64      `json:"patient_id"`
	ConversationID *int64     `json:"conversation_id,omitempty"`
	ProviderID     string     `json:"provider"`
	LocationID     string     `json:"location"`
	VisitType      string     `json:"visit_type"`
	Start          time.Time  `json:"start"`
	End            time.Time  `json:"end"`
	Status         string     `json:"status"`
	Version        int        `json:"version"`
	Backend        string     `json:"backend"`
	ExternalID     string     `json:"external_id,omitempty"`
	ExternalSlot   string     `json:"external_slot,omitempty"`
	LateCancel     bool       `json:"late_cancel"`
	ConfirmedAt    *time.Time `json:"confirmed_at,omitempty"`
	RemindedAt     *time.Time `json:"reminded_at,omitempty"`
	CancelledAt    *time.Time `json:"cancelled_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Upcoming reports whether the appointment is booked and not yet started.
func (a Appointment) Upcoming(now time.Time) bool {
	return a.Status == StatusBooked && a.Start.After(now)
}

const apptCols = `id, patient_id, conversation_id, provider_id, location_id, visit_type, starts_at, ends_at, status,
	version, backend, external_id, external_slot, late_cancel, confirmed_at, reminded_at, cancelled_at, created_at, updated_at`

func scanAppt(r store.Row) (Appointment, error) {
	var a Appointment
	err := r.Scan(&a.ID, &a.PatientID, &a.ConversationID, &a.ProviderID, &a.LocationID, &a.VisitType, &a.Start, &a.End,
		&a.Status, &a.Version, &a.Backend, &a.ExternalID, &a.ExternalSlot, &a.LateCancel, &a.ConfirmedAt, &a.RemindedAt,
		&a.CancelledAt, &a.CreatedAt, &a.UpdatedAt)
	return a, err
}

// GetAppointment loads an appointment.
func GetAppointment(ctx context.Context, q store.Q, id int64) (Appointment, error) {
	a, err := scanAppt(q.QueryRow(ctx, `SELECT `+apptCols+` FROM appointments WHERE id = $1`, id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("scheduling: get appointment %d: %w", id, err)
	}
	return a, err
}

// LockAppointment loads an appointment and locks it until the transaction ends.
func LockAppointment(ctx context.Context, q store.Q, id int64) (Appointment, error) {
	a, err := scanAppt(q.QueryRow(ctx, `SELECT `+apptCols+` FROM appointments WHERE id = $1`+q.ForUpdate(), id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("scheduling: lock appointment %d: %w", id, err)
	}
	return a, err
}

func insertAppt(ctx context.Context, q store.Q, a *Appointment) error {
	err := q.QueryRow(ctx, `INSERT INTO appointments (patient_id, conversation_id, provider_id, location_id, visit_type,
		starts_at, ends_at, status, version, backend, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
		a.PatientID, a.ConversationID, a.ProviderID, a.LocationID, a.VisitType, a.Start, a.End, a.Status, a.Version,
		a.Backend, a.CreatedAt).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("scheduling: insert appointment: %w", err)
	}
	return nil
}

func updateAppt(ctx context.Context, q store.Q, a *Appointment) error {
	_, err := q.Exec(ctx, `UPDATE appointments SET location_id = $2, starts_at = $3, ends_at = $4, status = $5,
		version = $6, external_id = $7, external_slot = $8, late_cancel = $9, confirmed_at = $10, reminded_at = $11,
		cancelled_at = $12, updated_at = $13 WHERE id = $1`,
		a.ID, a.LocationID, a.Start, a.End, a.Status, a.Version, a.ExternalID, a.ExternalSlot, a.LateCancel,
		a.ConfirmedAt, a.RemindedAt, a.CancelledAt, a.UpdatedAt)
	if err != nil {
		return fmt.Errorf("scheduling: update appointment %d: %w", a.ID, err)
	}
	return nil
}

// MarkReminded records that a reminder went out (a typed "C" confirms it).
func MarkReminded(ctx context.Context, q store.Q, id int64, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE appointments SET reminded_at = $2 WHERE id = $1`, id, now)
	return err
}

// Filter selects appointments for the staff list.
type Filter struct {
	From, To   time.Time
	ProviderID string
	LocationID string
	Status     string
	PatientID  int64
	Limit      int
}

// ListAppointments returns appointments by start time.
func ListAppointments(ctx context.Context, q store.Q, f Filter) ([]Appointment, error) {
	var w store.Where
	w.Between("starts_at", f.From, f.To)
	w.Equal("provider_id", f.ProviderID)
	w.Equal("location_id", f.LocationID)
	w.Equal("status", f.Status)
	w.Equal("patient_id", f.PatientID)
	sql := `SELECT ` + apptCols + ` FROM appointments` + w.SQL() + " ORDER BY starts_at, id" + w.Limit(f.Limit, 5000)
	rs, err := q.Query(ctx, sql, w.Args()...)
	if err != nil {
		return nil, fmt.Errorf("scheduling: list appointments: %w", err)
	}
	return store.Collect[Appointment](rs, nil)(scanAppt)
}

// Upcoming lists a patient's booked appointments that have not started.
func Upcoming(ctx context.Context, q store.Q, patientID int64, now time.Time) ([]Appointment, error) {
	return ListAppointments(ctx, q, Filter{PatientID: patientID, From: now, Status: StatusBooked, Limit: 20})
}

// LastProvider is the provider of the patient's most recent past visit.
func LastProvider(ctx context.Context, q store.Q, patientID int64, now time.Time) (string, error) {
	var p string
	err := q.QueryRow(ctx, `SELECT provider_id FROM appointments WHERE patient_id = $1 AND status = 'booked'
		AND starts_at < $2 ORDER BY starts_at DESC LIMIT 1`, patientID, now).Scan(&p)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return p, err
}
