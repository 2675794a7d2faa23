package scheduling

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/store"
)

// Service is scheduling as the booking dialog and the API use it.
type Service struct {
	Backend Backend
	Clock   clock.Clock
	// Holidays close the whole clinic (the clinic profile's).
	Holidays []string
	cache    cache
}

// NewService returns a service on a back end (nil means the database).
func NewService(b Backend, c clock.Clock, holidays []string) *Service {
	if b == nil {
		b = DBBackend{}
	}
	if c == nil {
		c = clock.Real{}
	}
	return &Service{Backend: b, Clock: c, Holidays: holidays}
}

// Directory is the current directory (cached by version).
func (s *Service) Directory(ctx context.Context, q store.Q) (*Directory, error) {
	return s.cache.get(ctx, q, s.Holidays)
}

// FreeSlots lists bookable slots: never in the past, never sooner than the
// minimum notice, never beyond the horizon.
func (s *Service) FreeSlots(ctx context.Context, q store.Q, providerID, visitType string, from, to time.Time, limit int) ([]Slot, error) {
	dir, err := s.Directory(ctx, q)
	if err != nil {
		return nil, err
	}
	p, ok1 := dir.Provider(providerID)
	v, ok2 := dir.VisitType(visitType)
	if !ok1 || !ok2 || !p.Offers(visitType) {
		return nil, ErrUnknown
	}
	now := s.Clock.Now()
	if earliest := now.Add(dir.MinNotice()); from.Before(earliest) {
		from = earliest
	}
	if latest := now.Add(dir.Horizon()); to.IsZero() || to.After(latest) {
		to = latest
	}
	if !from.Before(to) {
		return nil, nil
	}
	return s.Backend.FreeSlots(ctx, q, dir, SlotQuery{Provider: p, Visit: v, From: from, To: to, Limit: limit})
}

// BookRequest asks for a slot for a patient.
type BookRequest struct {
	PatientID      int64
	ConversationID *int64
	VisitType      string
	Slot           Slot
}

// Book books a slot in q, which must be a transaction's (a savepoint undoes
// a failed attempt). It fails with ErrSlotTaken when someone was faster (the
// transaction stays usable: offer Alternatives), ErrSlotPast,
// ErrNotInSchedule or ErrUnknown.
func (s *Service) Book(ctx context.Context, q store.Q, req BookRequest) (Appointment, error) {
	dir, err := s.Directory(ctx, q)
	if err != nil {
		return Appointment{}, err
	}
	p, ok1 := dir.Provider(req.Slot.ProviderID)
	v, ok2 := dir.VisitType(req.VisitType)
	if !ok1 || !ok2 || !p.Offers(v.ID) {
		return Appointment{}, ErrUnknown
	}
	now := s.Clock.Now()
	if req.Slot.Start.Before(now.Add(dir.MinNotice())) {
		return Appointment{}, ErrSlotPast
	}
	a := Appointment{PatientID: req.PatientID, ConversationID: req.ConversationID, ProviderID: p.ID,
		LocationID: req.Slot.LocationID, VisitType: v.ID, Start: req.Slot.Start.UTC(),
		End: req.Slot.Start.Add(time.Duration(v.Minutes) * time.Minute).UTC(), Status: StatusBooked, Version: 1,
		Backend: s.Backend.Name(), CreatedAt: now, UpdatedAt: now}
	err = savepoint(ctx, q, func() error {
		if err := insertAppt(ctx, q, &a); err != nil {
			return err
		}
		if err := s.Backend.Reserve(ctx, q, dir, &a, req.Slot); err != nil {
			return err
		}
		return updateAppt(ctx, q, &a)
	})
	if err != nil {
		return Appointment{}, err
	}
	return a, nil
}

// Alternatives are the next free slots after a slot that could not be had.
func (s *Service) Alternatives(ctx context.Context, q store.Q, visitType string, after Slot, n int) ([]Slot, error) {
	alts, err := s.FreeSlots(ctx, q, after.ProviderID, visitType, after.Start.Add(time.Minute), time.Time{}, n)
	return alts, err
}

// lockCurrent locks an appointment and checks that the caller saw its
// current version; a mismatch is a *StaleError.
func lockCurrent(ctx context.Context, q store.Q, id int64, version int) (Appointment, error) {
	a, err := LockAppointment(ctx, q, id)
	if err != nil {
		return a, err
	}
	if a.Version != version || a.Status != StatusBooked {
		return a, &StaleError{Current: a}
	}
	return a, nil
}

// Reschedule moves an appointment (seen at version) to a new slot, all or
// nothing (q is a transaction's, as for Book); the version rises so old
// reminders and buttons see the change.
func (s *Service) Reschedule(ctx context.Context, q store.Q, id int64, version int, slot Slot) (Appointment, error) {
	dir, err := s.Directory(ctx, q)
	if err != nil {
		return Appointment{}, err
	}
	old, err := lockCurrent(ctx, q, id, version)
	if err != nil {
		return old, err
	}
	v, ok := dir.VisitType(old.VisitType)
	if !ok || slot.ProviderID != old.ProviderID {
		return old, ErrUnknown
	}
	now := s.Clock.Now()
	if slot.Start.Before(now.Add(dir.MinNotice())) {
		return old, ErrSlotPast
	}
	a := old
	a.LocationID, a.Start = slot.LocationID, slot.Start.UTC()
	a.End = a.Start.Add(time.Duration(v.Minutes) * time.Minute)
	a.Version++
	a.LateCancel = old.Start.Sub(now) < dir.LateCancel()
	a.ConfirmedAt, a.RemindedAt, a.UpdatedAt = nil, nil, now
	err = savepoint(ctx, q, func() error {
		if err := s.Backend.Move(ctx, q, dir, old, &a, slot); err != nil {
			return err
		}
		return updateAppt(ctx, q, &a)
	})
	if err != nil {
		return old, err
	}
	return a, nil
}

// Cancel cancels an appointment seen at version.
func (s *Service) Cancel(ctx context.Context, q store.Q, id int64, version int) (Appointment, error) {
	dir, err := s.Directory(ctx, q)
	if err != nil {
		return Appointment{}, err
	}
	a, err := lockCurrent(ctx, q, id, version)
	if err != nil {
		return a, err
	}
	now := s.Clock.Now()
	if err := s.Backend.Release(ctx, q, a); err != nil {
		return a, err
	}
	a.Status, a.Version, a.CancelledAt, a.UpdatedAt = StatusCancelled, a.Version+1, &now, now
	a.LateCancel = a.Start.Sub(now) < dir.LateCancel()
	return a, updateAppt(ctx, q, &a)
}

// Confirm records that the patient will come.
func (s *Service) Confirm(ctx context.Context, q store.Q, id int64, version int) (Appointment, error) {
	a, err := lockCurrent(ctx, q, id, version)
	if err != nil {
		return a, err
	}
	now := s.Clock.Now()
	a.ConfirmedAt, a.UpdatedAt = &now, now
	return a, updateAppt(ctx, q, &a)
}

// savepoint runs fn so that its writes are undone if it fails, leaving the
// surrounding transaction usable (a taken slot is an answer, not a crash).
func savepoint(ctx context.Context, q store.Q, fn func() error) error {
	if _, err := q.Exec(ctx, "SAVEPOINT scheduling"); err != nil {
		return fmt.Errorf("scheduling: savepoint: %w", err)
	}
	ferr := fn()
	if ferr != nil {
		if _, err := q.Exec(ctx, "ROLLBACK TO SAVEPOINT scheduling"); err != nil {
			return errors.Join(ferr, fmt.Errorf("scheduling: rollback to savepoint: %w", err))
		}
	}
	if _, err := q.Exec(ctx, "RELEASE SAVEPOINT scheduling"); err != nil {
		return errors.Join(ferr, fmt.Errorf("scheduling: release savepoint: %w", err))
	}
	return ferr
}
