package fhirtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tend-health/tend/internal/scheduling/fhir"
)

// transaction applies a Bundle all or nothing: every If-Match is checked
// before anything changes.
func (s *Server) transaction(w http.ResponseWriter, r *http.Request) {
	var b fhir.Bundle
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&b); err != nil || b.ResourceType != "Bundle" {
		outcome(w, http.StatusBadRequest, "structure", "body is not a Bundle")
		return
	}
	if b.Type != "transaction" {
		outcome(w, http.StatusBadRequest, "not-supported", "only transaction Bundles are accepted")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext != 0 {
		status := s.failNext
		s.failNext = 0
		outcome(w, status, "conflict", "injected failure")
		return
	}
	for _, e := range b.Entry {
		if status, msg := s.check(e); status != 0 {
			code := "conflict"
			if status == http.StatusNotFound {
				code = "not-found"
			} else if status == http.StatusBadRequest {
				code = "invalid"
			}
			outcome(w, status, code, msg)
			return
		}
	}
	resp := fhir.Bundle{ResourceType: "Bundle", Type: "transaction-response"}
	for _, e := range b.Entry {
		resp.Entry = append(resp.Entry, fhir.BundleEntry{Response: s.apply(e)})
	}
	writeJSON(w, http.StatusOK, "", resp)
}

func (s *Server) check(e fhir.BundleEntry) (int, string) {
	if e.Request == nil {
		return http.StatusBadRequest, "entry without request"
	}
	switch {
	case e.Request.Method == "POST" && e.Request.URL == "Appointment":
		return 0, ""
	case e.Request.Method == "PUT":
		typ, id, ok := strings.Cut(e.Request.URL, "/")
		if !ok {
			return http.StatusBadRequest, "PUT needs Type/id"
		}
		version := ""
		switch typ {
		case "Slot":
			if sl := s.slots[id]; sl != nil {
				version = sl.Meta.VersionID
			}
		case "Appointment":
			if a := s.appts[id]; a != nil {
				version = a.Meta.VersionID
			}
		}
		if version == "" {
			return http.StatusNotFound, e.Request.URL + " is not known"
		}
		if e.Request.IfMatch != "" && fhir.VersionFromETag(e.Request.IfMatch) != version {
			return http.StatusPreconditionFailed, fmt.Sprintf("%s is at version %s, not %s", e.Request.URL, version, e.Request.IfMatch)
		}
		return 0, ""
	}
	return http.StatusBadRequest, "unsupported entry " + e.Request.Method + " " + e.Request.URL
}

func (s *Server) apply(e fhir.BundleEntry) *fhir.EntryResponse {
	if e.Request.Method == "POST" {
		var a fhir.Appointment
		_ = json.Unmarshal(e.Resource, &a)
		s.next++
		a.ID, a.Meta = fmt.Sprintf("a%d", s.next), &fhir.Meta{VersionID: "1"}
		s.appts[a.ID] = &a
		return &fhir.EntryResponse{Status: "201 Created", Location: "Appointment/" + a.ID + "/_history/1", Etag: fhir.ETag("1")}
	}
	typ, id, _ := strings.Cut(e.Request.URL, "/")
	var v string
	if typ == "Slot" {
		var sl fhir.Slot
		_ = json.Unmarshal(e.Resource, &sl)
		old := s.slots[id]
		sl.ID, sl.Meta = id, &fhir.Meta{VersionID: bump(old.Meta.VersionID)}
		s.slots[id], v = &sl, sl.Meta.VersionID
	} else {
		var a fhir.Appointment
		_ = json.Unmarshal(e.Resource, &a)
		old := s.appts[id]
		a.ID, a.Meta = id, &fhir.Meta{VersionID: bump(old.Meta.VersionID)}
		s.appts[id], v = &a, a.Meta.VersionID
	}
	return &fhir.EntryResponse{Status: "200 OK", Location: e.Request.URL + "/_history/" + v, Etag: fhir.ETag(v)}
}
