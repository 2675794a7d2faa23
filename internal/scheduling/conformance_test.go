package scheduling_test

import (
	"testing"

	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/scheduling/schedtest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func dbHarness(t *testing.T, db *store.DB) schedtest.Harness {
	schedtest.ImportSample(t, db)
	// From Monday 2026-11-30 08:00 in Chicago, three days of Dr. Chen's slots.
	return schedtest.Harness{DB: db, Service: scheduling.NewService(scheduling.DBBackend{}, schedtest.NewClock(), nil),
		Provider: "chen", VisitType: "follow-up", From: schedtest.Now, To: schedtest.Now.AddDate(0, 0, 3),
		Patients: schedtest.SeedPatients(t, db, 50)}
}

func TestDBBackendConformance(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		schedtest.Run(t, func(t *testing.T) schedtest.Harness { return dbHarness(t, storetest.OpenSQLite(t)) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		schedtest.Run(t, func(t *testing.T) schedtest.Harness { return dbHarness(t, storetest.OpenPostgres(t)) })
	})
}

// TestFiftyRaceForOneSlot is the acceptance test: 50 concurrent
// bookings of one slot, on both databases; one wins, 49 get alternatives.
func TestFiftyRaceForOneSlot(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		schedtest.RaceOneSlot(t, dbHarness(t, db), 50)
	})
}
