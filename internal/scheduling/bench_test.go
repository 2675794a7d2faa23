package scheduling_test

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/jobs"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/scheduling/schedtest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// benchSchedule is a clinic of n providers who all work weekdays 8-12 and
// 13-17 in 20-minute slots, for booking across many different slots.
func benchSchedule(n int) scheduling.Schedule {
	s := scheduling.Schedule{HorizonDays: 120, MinNoticeMinutes: 1,
		Locations:  []scheduling.Location{{ID: "main", Name: "Main", Address: "1 Road", TimeZone: "America/Chicago"}},
		VisitTypes: []scheduling.VisitType{{ID: "follow-up", Name: scheduling.Text{"en": "Follow-up"}, Minutes: 20}}}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("p%d", i)
		s.Providers = append(s.Providers, scheduling.Provider{ID: id, Name: "Dr. " + id, Locations: []string{"main"}})
		s.Templates = append(s.Templates, scheduling.TemplateSpec{Provider: id, Location: "main", Hours: map[string]string{
			"mon": "08:00-12:00, 13:00-17:00", "tue": "08:00-12:00, 13:00-17:00", "wed": "08:00-12:00, 13:00-17:00",
			"thu": "08:00-12:00, 13:00-17:00", "fri": "08:00-12:00, 13:00-17:00"}})
	}
	return s
}

func setupBench(b *testing.B, db *store.DB, providers int) (*scheduling.Service, *scheduling.Directory, []int64) {
	b.Helper()
	ctx := context.Background()
	var dir *scheduling.Directory
	require.NoError(b, db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		dir, err = scheduling.Save(ctx, tx, benchSchedule(providers), "bench", schedtest.Now)
		return err
	}))
	_, err := jobs.New(db, jobs.Options{}) // insert-only, as in a booking turn
	require.NoError(b, err)
	return scheduling.NewService(nil, schedtest.NewClock(), nil), dir, schedtest.SeedPatients(b, db, 20)
}

type benchReminder struct {
	AppointmentID int64  `json:"appointment_id" river:"unique"`
	Version       int    `json:"version" river:"unique"`
	What          string `json:"what" river:"unique"`
}

func (benchReminder) Kind() string { return "bench_reminder" }

// book books one slot the way the dialog does: the appointment, its slot
// claim and two unique reminder jobs in one transaction.
func bookOne(ctx context.Context, db *store.DB, svc *scheduling.Service, patient int64, s scheduling.Slot) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		a, err := svc.Book(ctx, tx.Q, scheduling.BookRequest{PatientID: patient, VisitType: "follow-up", Slot: s})
		if err != nil {
			return err
		}
		for _, before := range []time.Duration{72 * time.Hour, 24 * time.Hour} {
			if err := tx.Enqueue(ctx, benchReminder{a.ID, a.Version, before.String()},
				&river.InsertOpts{ScheduledAt: a.Start.Add(-before), UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkFreeSlots60Days searches one provider's free slots over 60 days
// with a third of them booked, and reports the 99th percentile.
func BenchmarkFreeSlots60Days(b *testing.B) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		b.Run(dialect, func(b *testing.B) {
			db := openBench(b, dialect)
			ctx := context.Background()
			svc, dir, pats := setupBench(b, db, 1)
			cands := dir.Candidates("p0", "", 20, schedtest.Now.Add(time.Hour), schedtest.Now.AddDate(0, 0, 60))
			for i := 0; i < len(cands); i += 3 {
				require.NoError(b, bookOne(ctx, db, svc, pats[i%len(pats)], cands[i]))
			}
			durs := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				slots, err := svc.FreeSlots(ctx, db.Q(), "p0", "follow-up", schedtest.Now, schedtest.Now.AddDate(0, 0, 60), 0)
				durs = append(durs, time.Since(t0))
				if err != nil || len(slots) < len(cands)/2 {
					b.Fatalf("free slots: %d, %v", len(slots), err)
				}
			}
			b.StopTimer()
			sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
			b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
		})
	}
}

// BenchmarkBookings books different slots from parallel goroutines and
// reports sustained bookings per second.
func BenchmarkBookings(b *testing.B) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		b.Run(dialect, func(b *testing.B) {
			db := openBench(b, dialect)
			ctx := context.Background()
			svc, dir, pats := setupBench(b, db, 60)
			var slots []scheduling.Slot
			for _, p := range dir.Providers("") {
				slots = append(slots, dir.Candidates(p.ID, "", 20, schedtest.Now.Add(time.Hour), schedtest.Now.AddDate(0, 0, 110))...)
			}
			var next atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			t0 := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1) - 1
					if int(i) >= len(slots) {
						b.Error("ran out of slots")
						return
					}
					if err := bookOne(ctx, db, svc, pats[i%int64(len(pats))], slots[i]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "bookings/s")
		})
	}
}

func openBench(b *testing.B, dialect string) *store.DB {
	if dialect == "postgres" {
		return storetest.OpenPostgres(b)
	}
	return storetest.OpenSQLite(b)
}
