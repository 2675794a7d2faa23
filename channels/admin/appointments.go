package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
)

// The appointments page: a day range of appointments with the provider,
// location and visit type by name and the patient's record number and
// name (staff's, as GET /api/v1/appointments; its CSV has the same names).

type appointmentsData struct {
	From, To           string
	Provider, Location string
	Providers          []option
	Locations          []option
	Rows               []appointmentRow
	CSV                string
	Days               int
	Problem            string
}

type option struct{ ID, Name string }

func (m *Module) appointmentsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	loc := time.UTC
	if m.h.Clinic != nil {
		loc = m.h.Clinic.Location()
	}
	today := m.h.Clock.Now().In(loc)
	from, err := time.ParseInLocation(time.DateOnly, q.Get("from"), loc)
	d := appointmentsData{Provider: q.Get("provider"), Location: q.Get("location")}
	if err != nil {
		if q.Get("from") != "" {
			d.Problem = "from: a date like 2026-12-07"
		}
		from = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	}
	days, err := strconv.Atoi(q.Get("days"))
	if err != nil || days < 1 || days > 62 {
		days = 7
	}
	to := from.AddDate(0, 0, days)
	d.From, d.To, d.Days = from.Format(time.DateOnly), to.Format(time.DateOnly), days
	db := m.h.DB.Q()
	list, err := scheduling.ListAppointments(r.Context(), db, scheduling.Filter{From: from, To: to, ProviderID: d.Provider,
		LocationID: d.Location, Limit: 1000})
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: appointments", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not list appointments")
		return
	}
	n := m.names(r.Context(), db)
	if n.dir != nil {
		for _, p := range n.dir.Schedule.Providers {
			d.Providers = append(d.Providers, option{p.ID, p.Name})
		}
		for _, l := range n.dir.Schedule.Locations {
			d.Locations = append(d.Locations, option{l.ID, l.Name})
		}
	}
	seen := map[int64]patients.Patient{}
	for _, a := range list {
		row := n.appointment(a)
		p, ok := seen[a.PatientID]
		if !ok {
			p, _ = patients.Get(r.Context(), db, a.PatientID)
			seen[a.PatientID] = p
		}
		row.PatientRecord, row.PatientName = p.ExternalID, strings.TrimSpace(p.FirstName+" "+p.LastName)
		d.Rows = append(d.Rows, row)
	}
	v := url.Values{"format": {"csv"}, "from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	if d.Provider != "" {
		v.Set("provider", d.Provider)
	}
	if d.Location != "" {
		v.Set("location", d.Location)
	}
	d.CSV = "/api/v1/appointments?" + v.Encode()
	m.render(w, r, "appointments", page{Title: "Appointments", Data: d})
}
