package privacy

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// routes: the audit trail, a patient's export and erase, for staff (the
// admin token; a signed-in browser's cookie with the CSRF token for the
// erase). Each request is itself recorded: the list and the export before
// they answer, the erase in its own transaction.
func (m *Module) routes(s *httpserver.Server, token string) {
	guard := func(h http.HandlerFunc) http.Handler { return httpserver.RequireAdmin(token, h) }
	s.Handle("GET /api/v1/audit", guard(m.httpAudit))
	s.Handle("GET /api/v1/patients/{id}/export", guard(m.httpExport))
	s.Handle("POST /api/v1/patients/{id}/erase", guard(m.httpErase))
}

// auditPage is GET /api/v1/audit's answer.
type auditPage struct {
	Rows []audit.Row `json:"rows"`
	// NextBefore pages on: pass it as before= for older rows; 0 at the end.
	NextBefore int64  `json:"next_before,omitempty"`
	HeadSeq    int64  `json:"head_seq"`
	HeadHash   string `json:"head_hash"`
}

// httpAudit lists rows newest first: subject=, actor=, action= (exact, or
// a prefix ending in "."), before= (seq), limit= (at most 1,000).
func (m *Module) httpAudit(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	f := audit.Filter{Subject: v.Get("subject"), Actor: v.Get("actor"), Action: v.Get("action")}
	for _, p := range []struct {
		name string
		set  func(int64)
	}{{"before", func(n int64) { f.Before = n }}, {"limit", func(n int64) { f.Limit = int(n) }}} {
		if s := v.Get(p.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				httpserver.WriteError(w, http.StatusBadRequest, p.name+" must be a whole number")
				return
			}
			p.set(n)
		}
	}
	rows, err := audit.List(r.Context(), m.a.DB.Q(), f)
	if err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "could not read the audit trail")
		return
	}
	page := auditPage{Rows: nonNil(rows)}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if len(rows) == min(limit, 1000) && len(rows) > 0 {
		page.NextBefore = rows[len(rows)-1].Seq
	}
	if page.HeadSeq, page.HeadHash, err = audit.Head(r.Context(), m.a.DB.Q()); err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "could not read the audit trail")
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, page)
}

func (m *Module) patient(w http.ResponseWriter, r *http.Request) (patients.Patient, bool) {
	p, code, msg := m.findPatient(r)
	if code != 0 {
		httpserver.WriteError(w, code, msg)
		return p, false
	}
	return p, true
}

// findPatient reads the patient the path's {id} names; code is 0, or the
// HTTP status and message to answer.
func (m *Module) findPatient(r *http.Request) (patients.Patient, int, string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return patients.Patient{}, http.StatusNotFound, "no such patient"
	}
	p, err := patients.Get(r.Context(), m.a.DB.Q(), id)
	if errors.Is(err, store.ErrNotFound) {
		return p, http.StatusNotFound, "no such patient"
	}
	if err != nil {
		return p, http.StatusInternalServerError, "could not read the patient"
	}
	return p, 0, ""
}

// pathSubject is the audit subject of the path's {id}: "patient:12", or
// "patient:?" for what is not an id (what a client typed is not copied).
func pathSubject(r *http.Request) string {
	if id, err := strconv.ParseInt(r.PathValue("id"), 10, 64); err == nil && id > 0 {
		return audit.Patient(id)
	}
	return "patient:?"
}

// httpExport answers everything held about the patient, decrypted.
func (m *Module) httpExport(w http.ResponseWriter, r *http.Request) {
	p, ok := m.patient(w, r)
	if !ok {
		return
	}
	x, err := Collect(r.Context(), m.a.DB.Q(), p, m.Contacts, m.a.Clock.Now())
	if err != nil {
		m.a.Log.ErrorContext(r.Context(), "privacy: export", "patient_id", p.ID, "error", err)
		httpserver.WriteError(w, http.StatusInternalServerError, "could not export the patient's data")
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="patient-`+strconv.FormatInt(p.ID, 10)+`.json"`)
	httpserver.WriteJSON(w, http.StatusOK, x)
}

// httpErase erases the patient's personal data and answers the counts.
// The route records itself (audit.Route's self), so every way it ends is
// recorded here: the erase in its transaction, a failed erase by Erase, an
// unknown patient (not_found) or one that could not be read (failed) below;
// if that row cannot be written the answer is 503, as for any admin request
// that cannot be recorded.
func (m *Module) httpErase(w http.ResponseWriter, r *http.Request) {
	p, code, msg := m.findPatient(r)
	if code != 0 {
		outcome := outcomeNotFound
		if code != http.StatusNotFound {
			outcome = outcomeFailed
		}
		if err := recordErase(r.Context(), m.a.DB, pathSubject(r), outcome, m.a.Clock.Now()); err != nil {
			m.a.Log.ErrorContext(r.Context(), "audit: could not record an erase request; refused it", "error", err)
			if code == http.StatusNotFound {
				code, msg = http.StatusServiceUnavailable, "the audit trail could not be written; nothing was done"
			}
		}
		httpserver.WriteError(w, code, msg)
		return
	}
	res, err := Erase(r.Context(), m.a.DB, p, m.Contacts, m.a.Clock.Now())
	if err != nil {
		m.a.Log.ErrorContext(r.Context(), "privacy: erase", "patient_id", p.ID, "error", err)
		httpserver.WriteError(w, http.StatusInternalServerError, "could not erase the patient's data; nothing was changed")
		return
	}
	// The console's form names the page to show next (only a console page:
	// never a redirect elsewhere); programs get the JSON.
	if next := r.PostFormValue("next"); strings.HasPrefix(next, "/admin/") && !strings.ContainsAny(next, "\\\r\n") {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, res)
}
