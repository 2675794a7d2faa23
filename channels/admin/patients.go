package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
)

// Patients, for staff: search by record number, name or phone; a
// patient's page (the card, consent with its events, appointments, the
// conversations linked to them). Patient details are personal data
// (docs/security.md): a search is recorded in the audit trail with how
// many it found (never what was typed: it may be a name), and opening a
// patient is recorded as patient.card.read with the patient before
// anything is shown. Nothing of the patient is logged.

// maxFound bounds a search's answer.
const maxFound = 50

// found is one search result: enough to tell two patients apart.
type found struct {
	ID        int64  `json:"id"`
	Record    string `json:"record"`
	Name      string `json:"name"`
	BirthDate string `json:"birth_date"`
	Phone     string `json:"phone,omitempty"` // masked
}

func (m *Module) search(r *http.Request, query string) ([]found, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return []found{}, nil
	}
	if len([]rune(query)) > 100 {
		return nil, userError("at most 100 characters")
	}
	ps, err := patients.Search(r.Context(), m.h.DB.Q(), query, maxFound)
	if err != nil {
		return nil, err
	}
	out := make([]found, 0, len(ps))
	for _, p := range ps {
		out = append(out, found{ID: p.ID, Record: p.ExternalID, Name: strings.TrimSpace(p.FirstName + " " + p.LastName),
			BirthDate: p.BirthDate, Phone: patients.MaskPhone(p.Phone)})
	}
	m.note(r, "patients.search.result", map[string]any{"found": len(out)})
	return out, nil
}

// patientView is a patient's page: the card and what staff need around it.
type patientView struct {
	Patient       patients.Patient   `json:"patient"`
	Consent       []consent.State    `json:"consent"`
	Events        []consent.Event    `json:"consent_events"`
	Appointments  []appointmentRow   `json:"appointments"`
	Conversations []conversationLink `json:"conversations"`
}

type conversationLink struct {
	ID      int64      `json:"id"`
	Channel string     `json:"channel"`
	Lang    string     `json:"lang"`
	Flagged *time.Time `json:"flagged_at,omitempty"`
	Updated time.Time  `json:"updated_at"`
}

// patient loads a patient's page; the access is recorded first, so no card
// is shown without its audit row.
func (m *Module) patient(ctx context.Context, id int64) (patientView, error) {
	q := m.h.DB.Q()
	p, err := patients.Get(ctx, q, id)
	if err != nil {
		return patientView{}, err
	}
	if err := audit.Record(ctx, m.h.DB, audit.For(ctx, m.h.Clock.Now(), "patient.card.read", audit.Patient(p.ID),
		map[string]any{"page": "patient"})); err != nil {
		return patientView{}, err
	}
	v := patientView{Patient: p, Appointments: []appointmentRow{}, Conversations: []conversationLink{}}
	subj := consent.PatientSubject(p.ID)
	if v.Consent, err = consent.States(ctx, q, subj, ""); err != nil {
		return v, err
	}
	if v.Events, err = consent.Events(ctx, q, subj); err != nil {
		return v, err
	}
	list, err := scheduling.ListAppointments(ctx, q, scheduling.Filter{PatientID: p.ID, Limit: 100})
	if err != nil {
		return v, err
	}
	n := m.names(ctx, q)
	for _, a := range list {
		v.Appointments = append(v.Appointments, n.appointment(a))
	}
	convs, err := q.PatientConversations(ctx, p.ID, 20)
	if err != nil {
		return v, err
	}
	for _, c := range convs {
		v.Conversations = append(v.Conversations, conversationLink{ID: c.ID, Channel: c.Channel, Lang: c.Lang, Flagged: c.FlaggedAt, Updated: c.UpdatedAt})
	}
	if v.Consent == nil {
		v.Consent = []consent.State{}
	}
	if v.Events == nil {
		v.Events = []consent.Event{}
	}
	return v, nil
}

// — API —

// apiSearchPatients is GET /api/v1/patients/search?q=.
func (m *Module) apiSearchPatients(w http.ResponseWriter, r *http.Request) {
	out, err := m.search(r, r.URL.Query().Get("q"))
	var bad userError
	switch {
	case errors.As(err, &bad):
		httpserver.WriteError(w, http.StatusBadRequest, bad.Error())
	case err != nil:
		m.log.ErrorContext(r.Context(), "console: patient search", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not search; try again")
	default:
		httpserver.WriteJSON(w, http.StatusOK, out)
	}
}

// apiPatient is GET /api/v1/patients/{id}/card.
func (m *Module) apiPatient(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		httpserver.WriteError(w, http.StatusBadRequest, "id: a patient id")
		return
	}
	v, err := m.patient(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpserver.WriteError(w, http.StatusNotFound, "no such patient")
	case err != nil:
		m.log.ErrorContext(r.Context(), "console: patient", "patient_id", id, "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not read the patient; try again")
	default:
		w.Header().Set("Cache-Control", "no-store")
		httpserver.WriteJSON(w, http.StatusOK, v)
	}
}

// — pages —

type patientsData struct {
	Erased  bool // a patient was just erased (the erase form comes back here; no identifier in the address)
	Query   string
	Found   []found
	Asked   bool
	Problem string
}

func (m *Module) patientsPage(w http.ResponseWriter, r *http.Request) {
	d := patientsData{Query: r.URL.Query().Get("q"), Erased: r.URL.Query().Get("erased") != ""}
	if strings.TrimSpace(d.Query) != "" {
		d.Asked = true
		var err error
		d.Found, err = m.search(r, d.Query)
		var bad userError
		if errors.As(err, &bad) {
			d.Problem = bad.Error()
		} else if err != nil {
			m.log.ErrorContext(r.Context(), "console: patient search", "error", err)
			d.Problem = "Could not search; try again."
		}
	}
	m.render(w, r, "patients", page{Title: "Patients", Data: d})
}

type patientData struct {
	patientView
	Owner bool
}

func (m *Module) patientPage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	v, err := m.patient(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		w.WriteHeader(http.StatusNotFound)
		m.render(w, r, "message", page{Title: "No such patient", Data: "No patient has this id; search again."})
		return
	}
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: patient", "patient_id", id, "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not read the patient; try again")
		return
	}
	title := strings.TrimSpace(v.Patient.FirstName + " " + v.Patient.LastName)
	m.render(w, r, "patient", page{Title: title, Data: patientData{patientView: v, Owner: principal(r).Role == "owner"}})
}
