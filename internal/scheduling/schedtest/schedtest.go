// Package schedtest is the conformance suite every schedule back end passes
// (the built-in database and FHIR), and helpers to set up its data.
package schedtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/sample"
)

// Now is the suite's fixed "now": a Monday morning in Maple Grove.
var Now = time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)

// Harness is one back end ready for the suite.
type Harness struct {
	DB      *store.DB
	Service *scheduling.Service
	// Provider and VisitType to book; From..To holds at least 8 free slots.
	Provider, VisitType string
	From, To            time.Time
	// Patients are registered patient ids (at least 50).
	Patients []int64
}

// Run runs the suite; open returns a fresh harness per test.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	tests := map[string]func(t *testing.T, h Harness){
		"FreeSlotsSortedInWindow": testFreeSlots,
		"BookHidesSlot":           testBookHides,
		"DoubleBookIsTaken":       testDoubleBook,
		"CancelFreesSlot":         testCancel,
		"RescheduleMoves":         testReschedule,
		"PastSlotRejected":        testPast,
		"ForgedSlotRejected":      testForged,
		"ConcurrentBookingOneWins": func(t *testing.T, h Harness) {
			RaceOneSlot(t, h, 20)
		},
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

// ImportSample stores the sample clinic's schedule.
func ImportSample(t testing.TB, db *store.DB) *scheduling.Directory {
	t.Helper()
	s, err := scheduling.ParseYAML(sample.ScheduleYAML())
	require.NoError(t, err)
	var d *scheduling.Directory
	require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
		d, err = scheduling.Save(context.Background(), tx, s, "sample", Now)
		return err
	}))
	return d
}

// SeedPatients registers n fictional patients and returns their ids.
func SeedPatients(t testing.TB, db *store.DB, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
		for i := range ids {
			p := patients.Patient{ExternalID: fmt.Sprintf("T-%d", i), FirstName: "Test", LastName: fmt.Sprint(i),
				BirthDate: "1950-01-01", Phone: fmt.Sprintf("1555%07d", i), ConsentReminders: true}
			if err := patients.Upsert(context.Background(), tx.Q, &p, Now); err != nil {
				return err
			}
			ids[i] = p.ID
		}
		return nil
	}))
	return ids
}

// NewClock is a fake clock at Now.
func NewClock() *clock.Fake { return clock.NewFake(Now) }

func free(t *testing.T, h Harness) []scheduling.Slot {
	t.Helper()
	slots, err := h.Service.FreeSlots(context.Background(), h.DB.Q(), h.Provider, h.VisitType, h.From, h.To, 0)
	require.NoError(t, err)
	return slots
}

func book(h Harness, patient int64, s scheduling.Slot) (scheduling.Appointment, error) {
	var a scheduling.Appointment
	err := h.DB.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		a, err = h.Service.Book(context.Background(), tx.Q, scheduling.BookRequest{PatientID: patient, VisitType: h.VisitType, Slot: s})
		return err
	})
	return a, err
}

func has(slots []scheduling.Slot, s scheduling.Slot) bool {
	for _, x := range slots {
		if x.Start.Equal(s.Start) && x.ProviderID == s.ProviderID {
			return true
		}
	}
	return false
}

func testFreeSlots(t *testing.T, h Harness) {
	slots := free(t, h)
	require.GreaterOrEqual(t, len(slots), 8)
	for i, s := range slots {
		require.Equal(t, h.Provider, s.ProviderID)
		require.False(t, s.Start.Before(h.From), "slot before the window")
		require.True(t, s.Start.Before(h.To), "slot after the window")
		require.True(t, s.Start.After(Now), "slot in the past")
		require.True(t, s.End.After(s.Start))
		if i > 0 {
			require.True(t, slots[i-1].Start.Before(s.Start), "slots out of order")
		}
	}
	limited, err := h.Service.FreeSlots(context.Background(), h.DB.Q(), h.Provider, h.VisitType, h.From, h.To, 3)
	require.NoError(t, err)
	require.Equal(t, slots[:3], limited)
}

func testBookHides(t *testing.T, h Harness) {
	s := free(t, h)[2]
	a, err := book(h, h.Patients[0], s)
	require.NoError(t, err)
	require.Equal(t, scheduling.StatusBooked, a.Status)
	require.Equal(t, h.Service.Backend.Name(), a.Backend)
	require.True(t, a.Start.Equal(s.Start))
	require.False(t, has(free(t, h), s))
	got, err := scheduling.GetAppointment(context.Background(), h.DB.Q(), a.ID)
	require.NoError(t, err)
	require.Equal(t, a.ExternalID, got.ExternalID)
	require.Equal(t, 1, got.Version)
}

func testDoubleBook(t *testing.T, h Harness) {
	s := free(t, h)[0]
	_, err := book(h, h.Patients[0], s)
	require.NoError(t, err)
	_, err = book(h, h.Patients[1], s)
	require.ErrorIs(t, err, scheduling.ErrSlotTaken)
	alts, err := h.Service.Alternatives(context.Background(), h.DB.Q(), h.VisitType, s, 3)
	require.NoError(t, err)
	require.Len(t, alts, 3)
	require.False(t, has(alts, s))
}

func testCancel(t *testing.T, h Harness) {
	s := free(t, h)[1]
	a, err := book(h, h.Patients[0], s)
	require.NoError(t, err)
	var c scheduling.Appointment
	require.NoError(t, h.DB.InTx(context.Background(), func(tx *store.Tx) error {
		c, err = h.Service.Cancel(context.Background(), tx.Q, a.ID, a.Version)
		return err
	}))
	require.Equal(t, scheduling.StatusCancelled, c.Status)
	require.Equal(t, 2, c.Version)
	require.True(t, has(free(t, h), s), "a cancelled slot is free again")
	err = h.DB.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := h.Service.Cancel(context.Background(), tx.Q, a.ID, a.Version)
		return err
	})
	var stale *scheduling.StaleError
	require.ErrorAs(t, err, &stale)
	require.Equal(t, scheduling.StatusCancelled, stale.Current.Status)
	_, err = book(h, h.Patients[1], s)
	require.NoError(t, err, "the freed slot can be booked again")
}

func testReschedule(t *testing.T, h Harness) {
	slots := free(t, h)
	a, err := book(h, h.Patients[0], slots[0])
	require.NoError(t, err)
	_, err = book(h, h.Patients[1], slots[3])
	require.NoError(t, err)
	reschedule := func(version int, s scheduling.Slot) (scheduling.Appointment, error) {
		var m scheduling.Appointment
		err := h.DB.InTx(context.Background(), func(tx *store.Tx) error {
			var err error
			m, err = h.Service.Reschedule(context.Background(), tx.Q, a.ID, version, s)
			return err
		})
		return m, err
	}
	_, err = reschedule(1, slots[3])
	require.ErrorIs(t, err, scheduling.ErrSlotTaken)
	got, err := scheduling.GetAppointment(context.Background(), h.DB.Q(), a.ID)
	require.NoError(t, err)
	require.True(t, got.Start.Equal(slots[0].Start), "a failed move keeps the old slot")
	require.False(t, has(free(t, h), slots[0]))

	m, err := reschedule(1, slots[5])
	require.NoError(t, err)
	require.Equal(t, 2, m.Version)
	require.True(t, m.Start.Equal(slots[5].Start))
	now := free(t, h)
	require.True(t, has(now, slots[0]), "the old slot is free")
	require.False(t, has(now, slots[5]), "the new slot is held")
	_, err = reschedule(1, slots[6])
	var stale *scheduling.StaleError
	require.ErrorAs(t, err, &stale)
}

func testPast(t *testing.T, h Harness) {
	s := free(t, h)[0]
	s.Start, s.End = Now.Add(-time.Hour), Now.Add(-40*time.Minute)
	_, err := book(h, h.Patients[0], s)
	require.ErrorIs(t, err, scheduling.ErrSlotPast)
}

func testForged(t *testing.T, h Harness) {
	s := free(t, h)[0]
	s.Start, s.End, s.Ref = s.Start.Add(7*time.Minute), s.End.Add(7*time.Minute), "Slot/forged"
	_, err := book(h, h.Patients[0], s)
	require.ErrorIs(t, err, scheduling.ErrNotInSchedule)
	s = free(t, h)[0]
	s.ProviderID = "nobody"
	_, err = book(h, h.Patients[0], s)
	require.ErrorIs(t, err, scheduling.ErrUnknown)
}

// RaceOneSlot books one slot from n goroutines at once: exactly one wins,
// and every loser is offered alternatives that exclude it.
func RaceOneSlot(t *testing.T, h Harness, n int) {
	t.Helper()
	require.GreaterOrEqual(t, len(h.Patients), n)
	s := free(t, h)[0]
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, taken := 0, 0
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(p int64) {
			defer wg.Done()
			<-start
			_, err := book(h, p, s)
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case errors.Is(err, scheduling.ErrSlotTaken):
				alts, aerr := h.Service.Alternatives(context.Background(), h.DB.Q(), h.VisitType, s, 3)
				if aerr != nil || len(alts) == 0 || has(alts, s) {
					errs <- fmt.Errorf("loser got no usable alternatives: %v %v", alts, aerr)
					return
				}
				mu.Lock()
				taken++
				mu.Unlock()
			default:
				errs <- err
			}
		}(h.Patients[i])
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, wins, "exactly one booking wins")
	require.Equal(t, n-1, taken, "every other booking is told the slot was taken")
}
