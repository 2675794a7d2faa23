package scheduling

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Errors a booking may end in; each says what to do next.
var (
	// ErrSlotTaken: someone else booked it first; offer the next free slots.
	ErrSlotTaken = errors.New("scheduling: slot already taken")
	// ErrSlotPast: the slot starts in the past or too soon; offer later ones.
	ErrSlotPast = errors.New("scheduling: slot is in the past or too soon")
	// ErrNotInSchedule: the time is not one the provider works (a forged or
	// outdated slot); offer the real ones.
	ErrNotInSchedule = errors.New("scheduling: not a slot in the schedule")
	// ErrUnknown: the provider, location or visit type does not exist.
	ErrUnknown = errors.New("scheduling: unknown provider, location or visit type")
)

// StaleError says the appointment changed since the caller saw it (an old
// button): Current is how it is now.
type StaleError struct{ Current Appointment }

func (e *StaleError) Error() string {
	return fmt.Sprintf("scheduling: appointment %d changed (now version %d, %s)", e.Current.ID, e.Current.Version, e.Current.Status)
}

// SlotQuery asks for free slots.
type SlotQuery struct {
	Provider *Provider
	Visit    *VisitType
	Location string // "" for any of the provider's
	From, To time.Time
	Limit    int // 0 for all
}

// Backend is where slots are found and booked: the built-in database or a
// FHIR server. Every implementation passes schedtest's conformance suite.
type Backend interface {
	// Name is stored with each appointment ("db", "fhir").
	Name() string
	// FreeSlots lists bookable slots in [q.From, q.To), sorted by start.
	FreeSlots(ctx context.Context, q store.Q, dir *Directory, sq SlotQuery) ([]Slot, error)
	// Reserve books s for appointment a (already inserted, so a.ID is set)
	// inside q's transaction, and may set a.ExternalID and a.ExternalSlot. It returns
	// ErrSlotTaken when the slot is no longer free.
	Reserve(ctx context.Context, q store.Q, dir *Directory, a *Appointment, s Slot) error
	// Release frees the slot a holds.
	Release(ctx context.Context, q store.Q, a Appointment) error
	// Move gives a the slot s in place of old's, all or nothing: on error,
	// old keeps its slot.
	Move(ctx context.Context, q store.Q, dir *Directory, old Appointment, a *Appointment, s Slot) error
}

// DBBackend books in Tend's own database: a slot unit is held by one row in
// appointment_slots, whose primary key (provider, start) makes a double
// booking impossible whatever the concurrency.
type DBBackend struct{}

// Name implements Backend.
func (DBBackend) Name() string { return "db" }

// FreeSlots implements Backend: the template candidates minus held units.
func (DBBackend) FreeSlots(ctx context.Context, q store.Q, dir *Directory, sq SlotQuery) ([]Slot, error) {
	cands := dir.Candidates(sq.Provider.ID, sq.Location, sq.Visit.Minutes, sq.From, sq.To)
	if len(cands) == 0 {
		return nil, nil
	}
	rs, err := q.Query(ctx, `SELECT starts_at FROM appointment_slots WHERE provider_id = $1 AND starts_at >= $2 AND starts_at < $3`,
		sq.Provider.ID, cands[0].Start, cands[len(cands)-1].End)
	if err != nil {
		return nil, fmt.Errorf("scheduling: held slots: %w", err)
	}
	defer rs.Close()
	held := make(map[int64]bool, len(cands)/2)
	for rs.Next() {
		var t time.Time
		if err := rs.Scan(&t); err != nil {
			return nil, err
		}
		held[t.Unix()] = true
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	out := cands[:0]
	unit := int64(dir.Unit() / time.Second)
	n := int64(len(dir.Units(time.Time{}, sq.Visit.Minutes)))
	for _, c := range cands {
		free := true
		for k, s := int64(0), c.Start.Unix(); k < n; k++ {
			if held[s+k*unit] {
				free = false
				break
			}
		}
		if free {
			out = append(out, c)
			if sq.Limit > 0 && len(out) == sq.Limit {
				break
			}
		}
	}
	return out, nil
}

// Reserve implements Backend.
func (DBBackend) Reserve(ctx context.Context, q store.Q, dir *Directory, a *Appointment, s Slot) error {
	v, ok := dir.VisitType(a.VisitType)
	if !ok {
		return ErrUnknown
	}
	if !dir.IsCandidate(a.ProviderID, s.LocationID, v.Minutes, s.Start) {
		return ErrNotInSchedule
	}
	for _, u := range dir.Units(s.Start, v.Minutes) {
		// ON CONFLICT DO NOTHING rather than catching the violation: a
		// failed statement would abort a PostgreSQL transaction.
		n, err := q.Exec(ctx, `INSERT INTO appointment_slots (provider_id, starts_at, appointment_id) VALUES ($1, $2, $3)
			ON CONFLICT (provider_id, starts_at) DO NOTHING`, a.ProviderID, u, a.ID)
		if err != nil {
			return fmt.Errorf("scheduling: hold slot: %w", err)
		}
		if n == 0 {
			return ErrSlotTaken
		}
	}
	return nil
}

// Release implements Backend.
func (DBBackend) Release(ctx context.Context, q store.Q, a Appointment) error {
	if _, err := q.Exec(ctx, `DELETE FROM appointment_slots WHERE appointment_id = $1`, a.ID); err != nil {
		return fmt.Errorf("scheduling: release slot: %w", err)
	}
	return nil
}

// Move implements Backend; the caller's savepoint undoes the release when
// the new slot is taken.
func (b DBBackend) Move(ctx context.Context, q store.Q, dir *Directory, old Appointment, a *Appointment, s Slot) error {
	if err := b.Release(ctx, q, old); err != nil {
		return err
	}
	return b.Reserve(ctx, q, dir, a, s)
}
