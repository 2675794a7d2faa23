package survey

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// api is the survey's HTTP surface; every route is for staff (admin token).
type api struct {
	S    *Service
	http *httpserver.Server // for Page: the console's layout
}

// routes registers the endpoints; guard wraps each (httpserver.RequireAdmin).
func (a *api) routes(h *httpserver.Server, guard func(http.Handler) http.Handler) {
	a.http = h
	h.Handle("POST /api/v1/visits", guard(http.HandlerFunc(a.postVisits)))
	h.Handle("GET /api/v1/surveys/responses", guard(http.HandlerFunc(a.responses)))
	h.Handle("GET /api/v1/surveys/summary", guard(http.HandlerFunc(a.summary)))
	h.Handle("GET /admin/surveys", guard(http.HandlerFunc(a.page)))
}

const maxVisitsBody = 4 << 20

// postVisits takes one visit object or an array of them; each is scheduled
// on its own, and the answer lists what became of each, in order.
func (a *api) postVisits(w http.ResponseWriter, r *http.Request) {
	body, ok := httpserver.ReadJSON(w, r, httpserver.JSONOptions{MaxBytes: maxVisitsBody})
	if !ok {
		return
	}
	visits, err := DecodeVisits(body)
	if err != nil {
		httpserver.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := make([]Scheduled, len(visits))
	var problems []string
	err = a.S.DB.InTx(r.Context(), func(tx *store.Tx) error {
		problems = problems[:0]
		for i, v := range visits {
			res, err := a.S.Fulfilled(r.Context(), tx, v)
			if errors.Is(err, ErrUnknownVisit) {
				problems = append(problems, "["+strconv.Itoa(i)+"]: "+err.Error())
				continue
			}
			if err != nil {
				return err
			}
			out[i] = res
		}
		if len(problems) > 0 {
			return errBadVisits
		}
		return nil
	})
	switch {
	case errors.Is(err, errBadVisits):
		httpserver.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "nothing recorded", "problems": problems})
	case err != nil:
		a.S.Log.ErrorContext(r.Context(), "survey: record visits", "error", err)
		httpserver.WriteError(w, http.StatusInternalServerError, "could not record the visits")
	default:
		httpserver.WriteJSON(w, http.StatusOK, map[string]any{"visits": out})
	}
}

var errBadVisits = errors.New("survey: bad visits")

// DecodeVisits reads a visit object or an array of them (JSON).
func DecodeVisits(body []byte) ([]Visit, error) {
	body = bytes.TrimSpace(body)
	var vs []Visit
	if len(body) > 0 && body[0] == '{' {
		var v Visit
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, errors.New("the body must be a visit object or an array of visits: " + err.Error())
		}
		return []Visit{v}, nil
	}
	if err := json.Unmarshal(body, &vs); err != nil {
		return nil, errors.New("the body must be a visit object or an array of visits: " + err.Error())
	}
	return vs, nil
}

func (a *api) filter(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Status: q.Get("status"), ProviderID: q.Get("provider"), LocationID: q.Get("location")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := parseTime(v, a.S.Clinic.Location())
			if err != nil {
				return f, errors.New("from and to must be RFC 3339 times or YYYY-MM-DD dates")
			}
			*p.dst = t
		}
	}
	return f, nil
}

// list reads the responses the query selects; on a bad query or a
// database error it has answered already.
func (a *api) list(w http.ResponseWriter, r *http.Request) ([]Response, bool) {
	f, err := a.filter(r)
	if err != nil {
		httpserver.WriteError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	list, err := List(r.Context(), a.S.DB.Q(), f)
	if err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "could not read the responses")
		return nil, false
	}
	return list, true
}

func parseTime(v string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02", v, loc)
}

// responses exports answers as QuestionnaireResponse JSON, or CSV with
// format=csv (or Accept: text/csv).
func (a *api) responses(w http.ResponseWriter, r *http.Request) {
	list, ok := a.list(w, r)
	if !ok {
		return
	}
	records := a.recordNumbers(r, list)
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv") {
		a.writeCSV(w, r, list, records)
		return
	}
	out := make([]map[string]any, 0, len(list))
	for _, resp := range list {
		out = append(out, a.S.fhir(resp, records[resp.PatientID]))
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"resourceType": "Bundle", "type": "collection", "total": len(out),
		"entry": entries(out)})
}

func entries(rs []map[string]any) []map[string]any {
	out := make([]map[string]any, len(rs))
	for i, r := range rs {
		out[i] = map[string]any{"resource": r}
	}
	return out
}

// recordNumbers maps patient ids to the clinic's record numbers.
func (a *api) recordNumbers(r *http.Request, list []Response) map[int64]string {
	out := map[int64]string{}
	for _, resp := range list {
		if _, ok := out[resp.PatientID]; ok {
			continue
		}
		if p, err := patients.Get(r.Context(), a.S.DB.Q(), resp.PatientID); err == nil {
			out[resp.PatientID] = p.ExternalID
		}
	}
	return out
}

// fhir is a response as a FHIR QuestionnaireResponse resource.
func (s *Service) fhir(r Response, record string) map[string]any {
	items := r.Items
	if items == nil {
		items = []ResponseItem{}
	}
	res := map[string]any{
		"resourceType": "QuestionnaireResponse", "id": strconv.FormatInt(r.ID, 10),
		"questionnaire": r.Questionnaire, "status": r.FHIRStatus(),
		"subject": map[string]any{"reference": "Patient/" + strconv.FormatInt(r.PatientID, 10),
			"identifier": map[string]string{"value": record}},
		"item": items,
		"extension": []map[string]any{
			{"url": "urn:tend:survey:status", "valueString": r.Status},
			{"url": "urn:tend:survey:visit", "valueString": r.VisitKey},
			{"url": "urn:tend:survey:provider", "valueString": r.ProviderID},
			{"url": "urn:tend:survey:location", "valueString": r.LocationID},
			{"url": "urn:tend:survey:visit-time", "valueDateTime": r.VisitAt.UTC().Format(time.RFC3339)},
		},
	}
	if r.FinishedAt != nil {
		res["authored"] = r.FinishedAt.UTC().Format(time.RFC3339)
	} else if r.InvitedAt != nil {
		res["authored"] = r.InvitedAt.UTC().Format(time.RFC3339)
	}
	return res
}

// writeCSV writes one row per response: provider and location by name
// (their schedule ids last, for programs), then one column per question.
func (a *api) writeCSV(w http.ResponseWriter, req *http.Request, list []Response, records map[int64]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="survey-responses.csv"`)
	names := a.S.directory(req.Context())
	cw := csv.NewWriter(w)
	header := []string{"id", "patient", "questionnaire", "status", "fhir_status", "provider", "location", "visit_type",
		"visit_at", "score", "alert"}
	for _, it := range a.S.Q.Item {
		header = append(header, it.LinkID)
	}
	header = append(header, "provider_id", "location_id")
	_ = cw.Write(header)
	for _, r := range list {
		score := ""
		if r.Score != nil {
			score = strconv.Itoa(*r.Score)
		}
		row := []string{strconv.FormatInt(r.ID, 10), records[r.PatientID], r.Questionnaire, r.Status, r.FHIRStatus(),
			names.provider(r.ProviderID), names.location(r.LocationID), r.VisitType, r.VisitAt.UTC().Format(time.RFC3339), score, r.Alert}
		byLink := map[string]string{}
		for _, it := range r.Items {
			byLink[it.LinkID] = answerText(it)
		}
		for _, it := range a.S.Q.Item {
			row = append(row, byLink[it.LinkID])
		}
		row = append(row, r.ProviderID, r.LocationID)
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from running a patient's text as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (a *api) summary(w http.ResponseWriter, r *http.Request) {
	list, ok := a.list(w, r)
	if !ok {
		return
	}
	sum := a.S.Q.Summarize(list, a.S.monthOf)
	names := a.S.directory(r.Context())
	for i := range sum.ByProvider {
		sum.ByProvider[i].Name = names.provider(sum.ByProvider[i].Key)
	}
	for i := range sum.ByLocation {
		sum.ByLocation[i].Name = names.location(sum.ByLocation[i].Key)
	}
	httpserver.WriteJSON(w, http.StatusOK, sum)
}

func (s *Service) monthOf(r Response) string {
	return r.VisitAt.In(s.Clinic.Location()).Format("2006-01")
}
