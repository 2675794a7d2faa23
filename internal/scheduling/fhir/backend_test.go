package fhir_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/scheduling/fhir"
	"github.com/tend-health/tend/internal/scheduling/fhir/fhirtest"
	"github.com/tend-health/tend/internal/scheduling/schedtest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/sample"
)

// harness imports the sample directory with Dr. Chen mapped to a FHIR
// Schedule, and fills the fake server with her slots for the next week.
func harness(t *testing.T, db *store.DB) (schedtest.Harness, *fhirtest.Server) {
	srv := fhirtest.New()
	t.Cleanup(srv.Close)
	s, err := scheduling.ParseYAML(sample.ScheduleYAML())
	require.NoError(t, err)
	for i := range s.Providers {
		s.Providers[i].FHIRSchedule = "Schedule/" + s.Providers[i].ID
	}
	var dir *scheduling.Directory
	require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
		dir, err = scheduling.Save(context.Background(), tx, s, "test", schedtest.Now)
		return err
	}))
	for _, sl := range dir.Candidates("chen", "", 20, schedtest.Now, schedtest.Now.AddDate(0, 0, 7)) {
		srv.AddSlot("Schedule/chen", sl.Start, sl.End)
	}
	b := fhir.New(srv.URL, fhir.WithHTTPClient(srv.Client()), fhir.WithToken("test-token"))
	return schedtest.Harness{DB: db, Service: scheduling.NewService(b, schedtest.NewClock(), nil),
		Provider: "chen", VisitType: "follow-up", From: schedtest.Now, To: schedtest.Now.AddDate(0, 0, 3),
		Patients: schedtest.SeedPatients(t, db, 50)}, srv
}

func TestFHIRBackendConformance(t *testing.T) {
	t.Parallel()
	schedtest.Run(t, func(t *testing.T) schedtest.Harness {
		h, _ := harness(t, storetest.OpenSQLite(t))
		return h
	})
}

func book(h schedtest.Harness, s scheduling.Slot) (scheduling.Appointment, error) {
	var a scheduling.Appointment
	err := h.DB.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		a, err = h.Service.Book(context.Background(), tx.Q, scheduling.BookRequest{PatientID: h.Patients[0], VisitType: h.VisitType, Slot: s})
		return err
	})
	return a, err
}

func TestFHIRWire(t *testing.T) {
	t.Parallel()
	h, srv := harness(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	slots, err := h.Service.FreeSlots(ctx, h.DB.Q(), "chen", "follow-up", h.From, h.To, 0)
	require.NoError(t, err)
	require.Greater(t, len(slots), srv.PageSize, "results span several pages")
	require.Greater(t, srv.Requests["GET /Slot"], 1, "next links are followed")

	a, err := book(h, slots[0])
	require.NoError(t, err)
	require.Equal(t, "busy", srv.SlotStatus(slots[0].Ref))
	require.Equal(t, "booked", srv.AppointmentStatus(a.ExternalID))
	require.Equal(t, slots[0].Ref, a.ExternalSlot)

	// A 409 or 412 from the server is a taken slot; the DB keeps nothing.
	for _, status := range []int{http.StatusConflict, http.StatusPreconditionFailed} {
		srv.FailNextTransaction(status)
		_, err = book(h, slots[1])
		require.ErrorIs(t, err, scheduling.ErrSlotTaken)
	}
	list, err := scheduling.ListAppointments(ctx, h.DB.Q(), scheduling.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 1, "failed bookings leave no appointment row")

	// Someone else edited the slot between our read and our write.
	srv.FailNextTransaction(http.StatusInternalServerError)
	_, err = book(h, slots[2])
	var fe *fhir.Error
	require.True(t, errors.As(err, &fe))
	require.Equal(t, 500, fe.Status)
	require.Equal(t, "injected failure", fe.Diagnostics)
	require.False(t, errors.Is(err, scheduling.ErrSlotTaken))

	// A slot ref the server does not know is not in the schedule.
	bogus := slots[3]
	bogus.Ref = "Slot/nope"
	_, err = book(h, bogus)
	require.ErrorIs(t, err, scheduling.ErrNotInSchedule)

	// Cancelling frees the slot and cancels the Appointment on the server.
	require.NoError(t, h.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := h.Service.Cancel(ctx, tx.Q, a.ID, a.Version)
		return err
	}))
	require.Equal(t, "free", srv.SlotStatus(slots[0].Ref))
	require.Equal(t, "cancelled", srv.AppointmentStatus(a.ExternalID))
}

func TestFHIRProviderWithoutSchedule(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	schedtest.ImportSample(t, db)
	srv := fhirtest.New()
	defer srv.Close()
	svc := scheduling.NewService(fhir.New(srv.URL), schedtest.NewClock(), nil)
	_, err := svc.FreeSlots(context.Background(), db.Q(), "chen", "follow-up", schedtest.Now, schedtest.Now.Add(72*time.Hour), 3)
	require.ErrorIs(t, err, scheduling.ErrUnknown)
}
