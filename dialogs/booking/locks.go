package booking

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// Locks lets staff see a patient's identity verification limits (wrong
// answers, locks, codes sent) and lift a lock: over the admin API and with
// `tend patients unlock`.
type Locks struct {
	db     *store.DB
	keys   patients.CodeKeys
	limits patients.Limits
	clock  clock.Clock
}

// installLimits keys the dialog's one-time codes and gives staff the
// verification locks (Module.Locks, the admin API).
func (m *Module) installLimits(ctx context.Context, a *host.Host, cfg Config, d *Dialog) error {
	keys, err := codeKeys(ctx, a, cfg, m.Keys)
	if err != nil {
		return err
	}
	d.keys = keys
	m.Locks = &Locks{db: a.DB, keys: keys, limits: d.limits, clock: a.Clock}
	if a.HTTP != nil {
		guard := func(h http.HandlerFunc) http.Handler { return httpserver.RequireAdmin(cfg.AdminToken.Reveal(), h) }
		a.HTTP.Handle("GET /api/v1/patients/{id}/verification", guard(m.Locks.httpGet))
		a.HTTP.Handle("POST /api/v1/patients/{id}/verification/unlock", guard(m.Locks.httpUnlock))
	}
	return nil
}

// LockStatus is what staff see of a patient's verification limits.
type LockStatus struct {
	PatientID int64  `json:"patient_id"`
	Record    string `json:"patient"` // the clinic's record number
	// Locked: no verification as this patient succeeds until LockedUntil,
	// on any channel (the patient is told to call the clinic).
	Locked      bool       `json:"locked"`
	LockedUntil *time.Time `json:"locked_until,omitempty"`
	// Limits are the counts of the patient, of the phone on file ("phone")
	// and of the e-mail on file ("email"), where there are any.
	Limits []LabelledLimit `json:"limits"`
	// CodesSentLastHour and CodesSentLastDay count one-time codes sent to
	// the patient, against the caps.
	CodesSentLastHour int `json:"codes_sent_last_hour"`
	CodesSentLastDay  int `json:"codes_sent_last_day"`
	CodesPerHour      int `json:"codes_per_hour"`
	CodesPerDay       int `json:"codes_per_day"`
	// Events are the last 30 days of the patient's history, newest first
	// (at most 100): failure, lock, success, code_sent, code_withheld,
	// unlock, with the conversation and channel.
	Events []patients.LimitEvent `json:"events"`
}

// LabelledLimit is one subject's count, named for staff.
type LabelledLimit struct {
	What string `json:"what"` // patient, phone, email
	patients.LimitState
}

func (l *Locks) subjects(p patients.Patient) map[string]string {
	return map[string]string{"patient": patients.LimitPatient(p.ID), "phone": l.keys.Contact(p.Phone),
		"email": l.keys.Contact(p.Email)}
}

// Status reads a patient's verification limits.
func (l *Locks) Status(ctx context.Context, q store.Q, p patients.Patient) (LockStatus, error) {
	now := l.clock.Now()
	st := LockStatus{PatientID: p.ID, Record: p.ExternalID, Limits: []LabelledLimit{}, CodesPerHour: l.limits.CodesPerHour,
		CodesPerDay: l.limits.CodesPerDay}
	subjects := l.subjects(p)
	for _, what := range []string{"patient", "phone", "email"} {
		states, err := l.limits.LimitStates(ctx, q, now, subjects[what])
		if err != nil {
			return st, err
		}
		for _, s := range states {
			s.Subject = what
			st.Limits = append(st.Limits, LabelledLimit{What: what, LimitState: s})
			if s.Locked(now) {
				st.Locked = true
				if st.LockedUntil == nil || s.LockedUntil.After(*st.LockedUntil) {
					st.LockedUntil = s.LockedUntil
				}
			}
		}
	}
	var err error
	patient := subjects["patient"]
	if st.CodesSentLastHour, err = patients.CodesSent(ctx, q, patient, now.Add(-time.Hour)); err != nil {
		return st, err
	}
	if st.CodesSentLastDay, err = patients.CodesSent(ctx, q, patient, now.Add(-24*time.Hour)); err != nil {
		return st, err
	}
	if st.Events, err = patients.LimitEvents(ctx, q, patient, now.Add(-30*24*time.Hour), 100); err != nil {
		return st, err
	}
	if st.Events == nil {
		st.Events = []patients.LimitEvent{}
	}
	return st, nil
}

// Unlock lifts the patient's lock and clears the counts of the patient, of
// the phone and e-mail on file, and of the conversations linked to the
// patient or on the patient's WhatsApp number, so the patient can verify
// again at once on any channel.
func (l *Locks) Unlock(ctx context.Context, p patients.Patient) (LockStatus, error) {
	var st LockStatus
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		subjects := l.subjects(p)
		list := []string{subjects["patient"], subjects["phone"], subjects["email"]}
		ids, err := store.IDs(tx.Q.Query(ctx, `SELECT id FROM conversations WHERE patient_id = $1`, p.ID))
		if err != nil {
			return err
		}
		if p.Phone != "" {
			c, err := tx.Q.FindConversation(ctx, "whatsapp", p.Phone)
			if err == nil {
				ids = append(ids, c.ID)
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		for _, id := range ids {
			list = append(list, patients.LimitConversation(id))
		}
		if err := patients.Unlock(ctx, tx.Q, l.clock.Now(), list...); err != nil {
			return err
		}
		st, err = l.Status(ctx, tx.Q, p)
		return err
	})
	return st, err
}

func (l *Locks) patient(w http.ResponseWriter, r *http.Request) (patients.Patient, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		httpserver.WriteError(w, http.StatusNotFound, "no such patient")
		return patients.Patient{}, false
	}
	p, err := patients.Get(r.Context(), l.db.Q(), id)
	if errors.Is(err, store.ErrNotFound) {
		httpserver.WriteError(w, http.StatusNotFound, "no such patient")
		return p, false
	}
	if err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "could not read the patient")
		return p, false
	}
	return p, true
}

func (l *Locks) httpGet(w http.ResponseWriter, r *http.Request) {
	p, ok := l.patient(w, r)
	if !ok {
		return
	}
	st, err := l.Status(r.Context(), l.db.Q(), p)
	if err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "could not read the verification limits")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpserver.WriteJSON(w, http.StatusOK, st)
}

func (l *Locks) httpUnlock(w http.ResponseWriter, r *http.Request) {
	p, ok := l.patient(w, r)
	if !ok {
		return
	}
	st, err := l.Unlock(r.Context(), p)
	if err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "could not unlock")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpserver.WriteJSON(w, http.StatusOK, st)
}

// Subjects are every verification limit subject of the patient: the
// patient's own and those of the phone and e-mail on file, under every
// key (for an export or an erase).
func (l *Locks) Subjects(p patients.Patient) []string {
	out := []string{patients.LimitPatient(p.ID)}
	out = append(out, l.keys.Contacts(p.Phone)...)
	return append(out, l.keys.Contacts(p.Email)...)
}
