package booking

import (
	"encoding/csv"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tend-health/tend/internal/clinic"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
)

type httpHandler = http.Handler

// router is what routes are added to (httpserver.Server, http.ServeMux).
type router interface {
	Handle(pattern string, h http.Handler)
}

// httpAPI is booking's HTTP surface: the signed calendar link, and for staff
// (behind the admin token) appointments, the schedule and patients.
type httpAPI struct {
	DB      *store.DB
	Service *scheduling.Service
	Links   *linkSigner
	Clinic  *clinic.Profile
	Clock   clock.Clock
	Log     *slog.Logger
}

// Routes registers the endpoints; guard wraps the staff ones.
func (api *httpAPI) Routes(r router, guard func(http.Handler) http.Handler) {
	r.Handle("GET /api/v1/appointments/{id}/ics", http.HandlerFunc(api.ics))
	r.Handle("GET /api/v1/appointments", guard(http.HandlerFunc(api.appointments)))
	r.Handle("GET /api/v1/schedule", guard(http.HandlerFunc(api.getSchedule)))
	r.Handle("PUT /api/v1/schedule", guard(http.HandlerFunc(api.putSchedule)))
	r.Handle("GET /api/v1/schedule/slots", guard(http.HandlerFunc(api.slots)))
	r.Handle("GET /api/v1/patients", guard(http.HandlerFunc(api.listPatients)))
	r.Handle("POST /api/v1/patients", guard(http.HandlerFunc(api.importPatients)))
}

const maxImport = 8 << 20

func (api *httpAPI) ics(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	version, ok := api.Links.check(id, r.URL.Query(), api.Clock.Now())
	if err != nil || !ok {
		httpserver.WriteError(w, http.StatusForbidden, "this calendar link is not valid or has expired")
		return
	}
	a, err := scheduling.GetAppointment(r.Context(), api.DB.Q(), id)
	if err != nil {
		httpserver.WriteError(w, http.StatusNotFound, "no such appointment")
		return
	}
	if a.Version != version {
		httpserver.WriteError(w, http.StatusGone, "the appointment changed since this link was made; ask the assistant for a new one")
		return
	}
	dir, err := api.Service.Directory(r.Context(), api.DB.Q())
	if err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "schedule unavailable")
		return
	}
	lang := "en"
	if p, err := patients.Get(r.Context(), api.DB.Q(), a.PatientID); err == nil && p.Lang != "" {
		lang = p.Lang
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="appointment.ics"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(ICS(a, dir, api.Clinic.Name, lang))
}

// staffAppointment is an appointment with the patient, provider and
// location named, for staff.
type staffAppointment struct {
	scheduling.Appointment
	PatientExternalID string `json:"patient_external_id"`
	PatientName       string `json:"patient_name"`
	ProviderName      string `json:"provider_name"`
	LocationName      string `json:"location_name"`
}

func (api *httpAPI) appointments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := scheduling.Filter{ProviderID: q.Get("provider"), LocationID: q.Get("location"), Status: q.Get("status")}
	var bad []string
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := parseAPITime(v)
			if err != nil {
				bad = append(bad, p.name)
			}
			*p.dst = t
		}
	}
	if v := q.Get("patient_id"); v != "" {
		f.PatientID, _ = strconv.ParseInt(v, 10, 64)
	}
	if len(bad) > 0 {
		httpserver.WriteError(w, http.StatusBadRequest, "from and to must be RFC 3339 times or YYYY-MM-DD dates")
		return
	}
	list, err := scheduling.ListAppointments(r.Context(), api.DB.Q(), f)
	if err != nil {
		api.fail(w, err)
		return
	}
	out := make([]staffAppointment, 0, len(list))
	names := map[int64]patients.Patient{}
	dir, _ := api.Service.Directory(r.Context(), api.DB.Q()) // nil without a schedule: ids stand in for names
	for _, a := range list {
		p, ok := names[a.PatientID]
		if !ok {
			p, _ = patients.Get(r.Context(), api.DB.Q(), a.PatientID)
			names[a.PatientID] = p
		}
		sa := staffAppointment{Appointment: a, PatientExternalID: p.ExternalID, PatientName: p.FirstName + " " + p.LastName,
			ProviderName: a.ProviderID, LocationName: a.LocationID}
		if dir != nil {
			if pr, ok := dir.Provider(a.ProviderID); ok && pr.Name != "" {
				sa.ProviderName = pr.Name
			}
			if l, ok := dir.Location(a.LocationID); ok && l.Name != "" {
				sa.LocationName = l.Name
			}
		}
		out = append(out, sa)
	}
	if q.Get("format") == "csv" || r.Header.Get("Accept") == "text/csv" {
		writeCSV(w, out)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"appointments": out})
}

func parseAPITime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", v)
}

func writeCSV(w http.ResponseWriter, list []staffAppointment) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="appointments.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	// Providers and locations by name, as staff know them; their schedule
	// ids in the last columns, for programs.
	_ = cw.Write([]string{"id", "start", "end", "provider", "location", "visit_type", "status", "patient_external_id",
		"patient_name", "confirmed", "late_cancel", "backend", "external_id", "version", "provider_id", "location_id"})
	for _, a := range list {
		_ = cw.Write([]string{strconv.FormatInt(a.ID, 10), a.Start.Format(time.RFC3339), a.End.Format(time.RFC3339),
			csvSafe(a.ProviderName), csvSafe(a.LocationName), a.VisitType, a.Status, csvSafe(a.PatientExternalID), csvSafe(a.PatientName),
			strconv.FormatBool(a.ConfirmedAt != nil), strconv.FormatBool(a.LateCancel), a.Backend, a.ExternalID,
			strconv.Itoa(a.Version), a.ProviderID, a.LocationID})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from running a cell as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}

func (api *httpAPI) getSchedule(w http.ResponseWriter, r *http.Request) {
	dir, err := api.Service.Directory(r.Context(), api.DB.Q())
	if errors.Is(err, scheduling.ErrNoSchedule) {
		httpserver.WriteError(w, http.StatusNotFound, "no schedule imported")
		return
	}
	if err != nil {
		api.fail(w, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"version": dir.Version, "schedule": dir.Schedule})
}

func (api *httpAPI) putSchedule(w http.ResponseWriter, r *http.Request) {
	data, ok := httpserver.ReadJSON(w, r, httpserver.JSONOptions{MaxBytes: maxImport})
	if !ok {
		return
	}
	s, err := scheduling.ParseJSON(data)
	var dir *scheduling.Directory
	if err == nil {
		err = api.DB.InTx(r.Context(), func(tx *store.Tx) error {
			dir, err = scheduling.Save(r.Context(), tx, s, "api", api.Clock.Now(), api.Clinic.Holidays...)
			return err
		})
	}
	var ie *scheduling.ImportError
	if errors.As(err, &ie) {
		httpserver.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "nothing imported", "problems": ie.Errors})
		return
	}
	if err != nil {
		api.fail(w, err)
		return
	}
	api.Log.Info("schedule imported", "version", dir.Version, "source", "api")
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"version": dir.Version})
}

func (api *httpAPI) slots(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, _ := parseAPITime(q.Get("from"))
	to, _ := parseAPITime(q.Get("to"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	slots, err := api.Service.FreeSlots(r.Context(), api.DB.Q(), q.Get("provider"), q.Get("visit_type"), from, to, limit)
	if errors.Is(err, scheduling.ErrUnknown) {
		httpserver.WriteError(w, http.StatusBadRequest, "unknown provider or visit type")
		return
	}
	if err != nil {
		api.fail(w, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"slots": slots})
}

func (api *httpAPI) listPatients(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	list, err := patients.List(r.Context(), api.DB.Q(), after, 500)
	if err != nil {
		api.fail(w, err)
		return
	}
	if list == nil {
		list = []patients.Patient{}
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"patients": list})
}

func (api *httpAPI) importPatients(w http.ResponseWriter, r *http.Request) {
	var ps []patients.Patient
	if !httpserver.DecodeJSON(w, r, &ps, httpserver.JSONOptions{MaxBytes: maxImport, KnownFieldsOnly: true,
		Invalid: "body must be a JSON array of patients"}) {
		return
	}
	now := api.Clock.Now()
	err := patients.Validate(ps, now)
	var ie *patients.ImportError
	if errors.As(err, &ie) {
		httpserver.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "nothing imported", "problems": ie.Errors})
		return
	}
	if err := patients.Import(r.Context(), api.DB, ps, now); err != nil {
		api.fail(w, err)
		return
	}
	api.Log.Info("patients imported", "count", len(ps), "source", "api")
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"imported": len(ps)})
}

func (api *httpAPI) fail(w http.ResponseWriter, err error) {
	api.Log.Error("booking api failed", "error", err)
	httpserver.WriteError(w, http.StatusInternalServerError, "internal error")
}
