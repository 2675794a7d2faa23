package scheduling_test

import (
	"testing"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/scheduling"
	"github.com/tend-health/tend/scheduling/schedtest"
)

func dbHarness(t *testing.T, db *store.DB) schedtest.Harness {
	d := schedtest.ImportSample(t, db)
	_ = d
	// Tuesday 2026-12-01 in Chicago: Dr. Chen works 08:00-12:00, 13:00-17:00.
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
