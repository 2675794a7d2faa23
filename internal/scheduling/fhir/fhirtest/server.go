// Package fhirtest is a small in-memory FHIR R4 server for tests: Slot
// search with paging, reads with ETags, transaction Bundles applied all or
// nothing under If-Match, OperationOutcome errors, 409/412 conflicts.
package fhirtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tend-health/tend/internal/scheduling/fhir"
)

// Server is the fake FHIR server.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	slots    map[string]*fhir.Slot
	appts    map[string]*fhir.Appointment
	next     int
	PageSize int
	// failNext, when set, answers the next transaction with this status.
	failNext int
	// Requests counts requests by "METHOD path".
	Requests map[string]int
}

// New starts a server; it stops when the test ends via Close.
func New() *Server {
	s := &Server{slots: map[string]*fhir.Slot{}, appts: map[string]*fhir.Appointment{}, PageSize: 10, Requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /Slot", s.search)
	mux.HandleFunc("GET /{type}/{id}", s.read)
	mux.HandleFunc("POST /{$}", s.transaction)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.Requests[r.Method+" "+r.URL.Path]++
		s.mu.Unlock()
		if r.Method == "POST" && r.Header.Get("Content-Type") != "application/fhir+json" {
			outcome(w, http.StatusUnsupportedMediaType, "not-supported", "Content-Type must be application/fhir+json")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return s
}

// AddSlot adds a free Slot on a schedule and returns its id.
func (s *Server) AddSlot(schedule string, start, end time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	id := fmt.Sprintf("s%d", s.next)
	s.slots[id] = &fhir.Slot{ResourceType: "Slot", ID: id, Meta: &fhir.Meta{VersionID: "1"},
		Schedule: fhir.Reference{Reference: schedule}, Status: "free", Start: start.UTC(), End: end.UTC()}
	return id
}

// SlotStatus is a slot's status ("" if unknown).
func (s *Server) SlotStatus(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl := s.slots[strings.TrimPrefix(id, "Slot/")]; sl != nil {
		return sl.Status
	}
	return ""
}

// AppointmentStatus is an appointment's status ("" if unknown).
func (s *Server) AppointmentStatus(ref string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.appts[strings.TrimPrefix(ref, "Appointment/")]; a != nil {
		return a.Status
	}
	return ""
}

// FailNextTransaction makes the next transaction fail with status (409, 412, 500).
func (s *Server) FailNextTransaction(status int) {
	s.mu.Lock()
	s.failNext = status
	s.mu.Unlock()
}

// TouchSlot bumps a slot's version, as another client's edit would.
func (s *Server) TouchSlot(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl := s.slots[id]; sl != nil {
		sl.Meta.VersionID = bump(sl.Meta.VersionID)
	}
}

func bump(v string) string {
	n, _ := strconv.Atoi(v)
	return strconv.Itoa(n + 1)
}

func outcome(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(fhir.OperationOutcome{ResourceType: "OperationOutcome",
		Issue: []fhir.Issue{{Severity: "error", Code: code, Diagnostics: msg}}})
}

func writeJSON(w http.ResponseWriter, status int, etag string, v any) {
	w.Header().Set("Content-Type", "application/fhir+json")
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var from, to time.Time
	for _, p := range q["start"] {
		t, err := time.Parse(time.RFC3339, p[2:])
		if err != nil || len(p) < 3 {
			outcome(w, http.StatusBadRequest, "invalid", "bad start parameter "+p)
			return
		}
		switch p[:2] {
		case "ge":
			from = t
		case "lt":
			to = t
		default:
			outcome(w, http.StatusBadRequest, "not-supported", "start prefix "+p[:2])
			return
		}
	}
	s.mu.Lock()
	var hits []fhir.Slot
	for _, sl := range s.slots {
		if (q.Get("schedule") == "" || sl.Schedule.Reference == q.Get("schedule")) &&
			(q.Get("status") == "" || sl.Status == q.Get("status")) &&
			(from.IsZero() || !sl.Start.Before(from)) && (to.IsZero() || sl.Start.Before(to)) {
			hits = append(hits, *sl)
		}
	}
	s.mu.Unlock()
	sort.Slice(hits, func(i, j int) bool { return hits[i].Start.Before(hits[j].Start) })
	off, _ := strconv.Atoi(q.Get("_offset"))
	size := s.PageSize
	total := len(hits)
	b := fhir.Bundle{ResourceType: "Bundle", Type: "searchset", Total: &total}
	end := min(off+size, len(hits))
	for _, h := range hits[min(off, len(hits)):end] {
		raw, _ := json.Marshal(h)
		b.Entry = append(b.Entry, fhir.BundleEntry{FullURL: s.URL + "/Slot/" + h.ID, Resource: raw})
	}
	if end < len(hits) {
		q.Set("_offset", strconv.Itoa(end))
		b.Link = append(b.Link, fhir.BundleLink{Relation: "next", URL: s.URL + "/Slot?" + q.Encode()})
	}
	writeJSON(w, http.StatusOK, "", b)
}

func (s *Server) read(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	switch r.PathValue("type") {
	case "Slot":
		if sl := s.slots[id]; sl != nil {
			writeJSON(w, http.StatusOK, fhir.ETag(sl.Meta.VersionID), sl)
			return
		}
	case "Appointment":
		if a := s.appts[id]; a != nil {
			writeJSON(w, http.StatusOK, fhir.ETag(a.Meta.VersionID), a)
			return
		}
	}
	outcome(w, http.StatusNotFound, "not-found", r.URL.Path+" is not known")
}
