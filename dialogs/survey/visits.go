package survey

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/csvfile"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
)

// Visit is a fulfilled visit, as booking, the API or an import reports it:
// either a booked appointment (AppointmentID) or the clinic's own visit
// record (VisitID and the patient's record number).
type Visit struct {
	AppointmentID *int64    `json:"appointment_id,omitempty"`
	VisitID       string    `json:"visit_id,omitempty"`
	Patient       string    `json:"patient,omitempty"` // the patient's record number
	ProviderID    string    `json:"provider,omitempty"`
	LocationID    string    `json:"location,omitempty"`
	VisitType     string    `json:"visit_type,omitempty"`
	EndedAt       time.Time `json:"ended_at"`
}

// Scheduled is what became of a reported visit.
type Scheduled struct {
	ResponseID int64     `json:"response_id,omitempty"`
	Status     string    `json:"status"` // scheduled, duplicate, skipped
	Reason     string    `json:"reason,omitempty"`
	InviteAt   time.Time `json:"invite_at,omitzero"`
}

// ErrUnknownVisit means the visit names no known appointment or patient.
var ErrUnknownVisit = errors.New("survey: unknown appointment or patient")

// Fulfilled records a visit and schedules its invitation (durable job) in
// tx: Delay after the visit, moved out of the patient's quiet hours. A visit
// reported twice is surveyed once; one older than the invitation's life is
// recorded as skipped.
func (s *Service) Fulfilled(ctx context.Context, tx *store.Tx, v Visit) (Scheduled, error) {
	now := s.Clock.Now()
	r, p, err := s.responseFor(ctx, tx.Q, v)
	if err != nil {
		return Scheduled{}, err
	}
	r.Questionnaire, r.Status, r.CreatedAt = s.Q.Canonical(), StatusScheduled, now
	at := r.VisitAt.Add(s.Cfg.Delay)
	if at.Before(now) {
		at = now
	}
	r.InviteAt = s.Cfg.Quiet.Next(at, p.Location(s.Clinic.Location()))
	if now.Sub(r.VisitAt) > s.Cfg.ExpireAfter {
		r.Status, r.Reason = StatusSkipped, "too_old"
	}
	inserted, err := insertResponse(ctx, tx.Q, &r)
	if err != nil || !inserted {
		return Scheduled{Status: "duplicate"}, err
	}
	if r.Status == StatusSkipped {
		return Scheduled{ResponseID: r.ID, Status: r.Status, Reason: r.Reason}, nil
	}
	if err := tx.Enqueue(ctx, JobArgs{ResponseID: r.ID, What: jobInvite}, jobOpts(r.InviteAt)); err != nil {
		return Scheduled{}, err
	}
	s.Log.InfoContext(ctx, "survey scheduled", "response_id", r.ID, "patient_id", r.PatientID)
	return Scheduled{ResponseID: r.ID, Status: StatusScheduled, InviteAt: r.InviteAt}, nil
}

// responseFor fills a new response from the visit's appointment or record.
func (s *Service) responseFor(ctx context.Context, q store.Q, v Visit) (Response, patients.Patient, error) {
	var r Response
	if v.AppointmentID != nil {
		a, err := scheduling.GetAppointment(ctx, q, *v.AppointmentID)
		if errors.Is(err, store.ErrNotFound) {
			return r, patients.Patient{}, fmt.Errorf("%w: appointment %d", ErrUnknownVisit, *v.AppointmentID)
		}
		if err != nil {
			return r, patients.Patient{}, err
		}
		r = Response{VisitKey: "appt:" + strconv.FormatInt(a.ID, 10), PatientID: a.PatientID, AppointmentID: &a.ID,
			ConversationID: a.ConversationID, ProviderID: a.ProviderID, LocationID: a.LocationID, VisitType: a.VisitType,
			VisitAt: a.End}
		if !v.EndedAt.IsZero() {
			r.VisitAt = v.EndedAt
		}
		p, err := patients.Get(ctx, q, a.PatientID)
		return r, p, err
	}
	if v.VisitID == "" || v.Patient == "" || v.EndedAt.IsZero() {
		return r, patients.Patient{}, fmt.Errorf("%w: a visit needs appointment_id, or visit_id, patient and ended_at", ErrUnknownVisit)
	}
	p, err := patients.GetByExternalID(ctx, q, v.Patient)
	if errors.Is(err, store.ErrNotFound) {
		return r, p, fmt.Errorf("%w: no patient with that record number", ErrUnknownVisit)
	}
	if err != nil {
		return r, p, err
	}
	r = Response{VisitKey: "visit:" + v.VisitID, PatientID: p.ID, ProviderID: v.ProviderID, LocationID: v.LocationID,
		VisitType: v.VisitType, VisitAt: v.EndedAt}
	return r, p, nil
}

// ParseVisitsCSV reads a visits file: a header row, then one visit per row,
// with appointment_id, or visit_id + patient (record number) + ended_at
// (RFC 3339, or "2006-01-02 15:04" in loc), and optional provider,
// location and visit_type. Every problem is reported by line.
func ParseVisitsCSV(r io.Reader, loc *time.Location) ([]Visit, error) {
	var out []Visit
	problems, err := csvfile.Read(r, nil, func(get csvfile.Get) string {
		v, msg := visitRow(get, loc)
		if msg == "" {
			out = append(out, v)
		}
		return msg
	})
	if err != nil {
		return nil, fmt.Errorf("visits: %w", err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("visits: %d problem(s), nothing recorded:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return out, nil
}

func visitRow(get csvfile.Get, loc *time.Location) (Visit, string) {
	v := Visit{VisitID: get("visit_id"), Patient: get("patient"), ProviderID: get("provider"), LocationID: get("location"),
		VisitType: get("visit_type")}
	if s := get("appointment_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return v, fmt.Sprintf("appointment_id %q is not a number", s)
		}
		v.AppointmentID = &id
	}
	if s := get("ended_at"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t, err = time.ParseInLocation("2006-01-02 15:04", s, loc)
		}
		if err != nil {
			return v, fmt.Sprintf("ended_at %q must be like 2026-03-10 14:30 or RFC 3339", s)
		}
		v.EndedAt = t
	}
	if v.AppointmentID == nil && (v.VisitID == "" || v.Patient == "" || v.EndedAt.IsZero()) {
		return v, "give appointment_id, or visit_id, patient and ended_at"
	}
	return v, ""
}
