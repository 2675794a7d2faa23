package optout

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// api lets staff read a patient's consent with its audit trail, and record
// what the patient told them (on the phone, on a form).
type api struct{ a *host.Host }

func (x api) routes(token string) {
	guard := func(h http.HandlerFunc) http.Handler { return httpserver.RequireAdmin(token, h) }
	x.a.HTTP.Handle("GET /api/v1/patients/{id}/consent", guard(x.get))
	x.a.HTTP.Handle("PUT /api/v1/patients/{id}/consent", guard(x.put))
}

func (x api) patient(w http.ResponseWriter, r *http.Request) (patients.Patient, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	p, gerr := patients.Get(r.Context(), x.a.DB.Q(), id)
	if err != nil || errors.Is(gerr, store.ErrNotFound) {
		httpserver.WriteError(w, http.StatusNotFound, "no such patient")
		return p, false
	}
	if gerr != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "could not read the patient")
		return p, false
	}
	return p, true
}

func (x api) get(w http.ResponseWriter, r *http.Request) {
	p, ok := x.patient(w, r)
	if !ok {
		return
	}
	s := consent.PatientSubject(p.ID)
	states, err := consent.States(r.Context(), x.a.DB.Q(), s, "")
	if err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "could not read consent")
		return
	}
	events, err := consent.Events(r.Context(), x.a.DB.Q(), s)
	if err != nil {
		httpserver.WriteError(w, http.StatusInternalServerError, "could not read consent")
		return
	}
	effective := map[string]bool{}
	for _, purpose := range consent.Purposes {
		d, err := consent.Check(r.Context(), x.a.DB.Q(), s, &p, purpose)
		if err != nil {
			httpserver.WriteError(w, http.StatusInternalServerError, "could not read consent")
			return
		}
		effective[purpose] = d.Allowed
	}
	w.Header().Set("Cache-Control", "no-store")
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"patient": p.ExternalID, "effective": effective,
		"states": states, "events": events})
}

type change struct {
	Channel string `json:"channel"`
	Purpose string `json:"purpose"`
	Granted bool   `json:"granted"`
}

func (x api) put(w http.ResponseWriter, r *http.Request) {
	p, ok := x.patient(w, r)
	if !ok {
		return
	}
	var c change
	if !httpserver.DecodeJSON(w, r, &c, httpserver.JSONOptions{MaxBytes: 4096, Invalid: `the body must be {"channel","purpose","granted"}`}) {
		return
	}
	if c.Channel == "" {
		c.Channel = consent.AnyChannel
	}
	err := consent.Set(r.Context(), x.a.DB.Q(), consent.PatientSubject(p.ID), c.Channel, c.Purpose, c.Granted, "api", x.a.Clock.Now())
	if err != nil {
		httpserver.WriteError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	x.get(w, r)
}
