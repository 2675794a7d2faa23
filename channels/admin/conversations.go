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
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
)

// The conversation view: a conversation with or without a handoff (an
// emergency flag, a patient's page's link): the transcript, channel,
// language, consent state with its events and, once the patient has
// verified who they are, the card (on request: an audited access) and
// their upcoming appointments.

// around is what staff see beside a transcript.
type around struct {
	Consent  []consent.State  `json:"consent"`
	Events   []consent.Event  `json:"consent_events"`
	Upcoming []appointmentRow `json:"upcoming,omitempty"`
}

// aroundOf reads a conversation's consent (the patient's, once verified:
// it includes every linked conversation's) and, with the card shown, the
// patient's upcoming appointments.
func (m *Module) aroundOf(ctx context.Context, q store.Q, c store.Conversation, withCard bool) (around, error) {
	subj := consent.ConversationSubject(c)
	var a around
	var err error
	if a.Consent, err = consent.States(ctx, q, subj, ""); err != nil {
		return a, err
	}
	if a.Events, err = consent.Events(ctx, q, subj); err != nil {
		return a, err
	}
	if withCard && c.PatientID != nil {
		list, err := scheduling.ListAppointments(ctx, q, scheduling.Filter{PatientID: *c.PatientID, From: m.h.Clock.Now(),
			Status: scheduling.StatusBooked, Limit: 10})
		if err != nil {
			return a, err
		}
		n := m.names(ctx, q)
		for _, x := range list {
			a.Upcoming = append(a.Upcoming, n.appointment(x))
		}
	}
	if a.Consent == nil {
		a.Consent = []consent.State{}
	}
	if a.Events == nil {
		a.Events = []consent.Event{}
	}
	return a, nil
}

// cardOf opens a verified patient's card, recording the access first.
func (m *Module) cardOf(ctx context.Context, q store.Q, patientID int64, detail map[string]any) (*card, error) {
	p, err := patients.Get(ctx, q, patientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, m.h.DB, audit.For(ctx, m.h.Clock.Now(), "patient.card.read", audit.Patient(p.ID), detail)); err != nil {
		return nil, err // no card without its audit row
	}
	return &card{PatientID: p.ID, Record: p.ExternalID, Name: strings.TrimSpace(p.FirstName + " " + p.LastName),
		BirthDate: p.BirthDate, Phone: p.Phone}, nil
}

// chat is a conversation for the conversation view.
type chat struct {
	ID        int64      `json:"id"`
	Channel   string     `json:"channel"`
	Lang      string     `json:"lang"`
	Mode      string     `json:"mode"`
	Verified  bool       `json:"verified"`
	FlaggedAt *time.Time `json:"flagged_at,omitempty"`
	Handoff   *item      `json:"handoff,omitempty"` // the open or taken request
	Lines     []line     `json:"transcript"`
	Card      *card      `json:"patient,omitempty"`
	around
}

func (m *Module) chat(ctx context.Context, id int64, withCard bool) (chat, error) {
	q := m.h.DB.Q()
	c, err := q.GetConversation(ctx, id)
	if err != nil {
		return chat{}, err
	}
	v := chat{ID: c.ID, Channel: c.Channel, Lang: c.Lang, Mode: c.Mode, Verified: c.PatientID != nil, FlaggedAt: c.FlaggedAt}
	if h, err := handoff.ActiveFor(ctx, q, c.ID); err == nil {
		it, err := m.itemOf(ctx, q, h)
		if err != nil {
			return v, err
		}
		v.Handoff = &it
	} else if !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	if v.Lines, err = transcript(ctx, q, c); err != nil {
		return v, err
	}
	if withCard && c.PatientID != nil {
		if v.Card, err = m.cardOf(ctx, q, *c.PatientID, map[string]any{"conversation": c.ID}); err != nil {
			return v, err
		}
	}
	v.around, err = m.aroundOf(ctx, q, c, v.Card != nil)
	return v, err
}

// flag is a conversation triage flagged, for the inbox.
type flag struct {
	ConversationID int64     `json:"conversation_id"`
	FlaggedAt      time.Time `json:"flagged_at"`
	Channel        string    `json:"channel"`
	Lang           string    `json:"lang"`
	Verified       bool      `json:"verified"`
	// Handoff is the open or taken request, if any: a flag is listed
	// whether or not one was opened (or is still open).
	Handoff *item `json:"handoff,omitempty"`
}

// flagDays is how far back the inbox lists emergency flags.
const flagDays = 7

func (m *Module) flags(ctx context.Context) ([]flag, error) {
	q := m.h.DB.Q()
	convs, err := q.FlaggedConversations(ctx, m.h.Clock.Now().AddDate(0, 0, -flagDays), 200)
	if err != nil {
		return nil, err
	}
	out := []flag{}
	for _, c := range convs {
		f := flag{ConversationID: c.ID, FlaggedAt: *c.FlaggedAt, Channel: c.Channel, Lang: c.Lang, Verified: c.PatientID != nil}
		if h, err := handoff.ActiveFor(ctx, q, c.ID); err == nil {
			it, err := m.itemOf(ctx, q, h)
			if err != nil {
				return nil, err
			}
			f.Handoff = &it
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// — API —

func (m *Module) apiFlags(w http.ResponseWriter, r *http.Request) {
	fs, err := m.flags(r.Context())
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: flags", "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not list emergency flags")
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, fs)
}

func (m *Module) apiConversation(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		httpserver.WriteError(w, http.StatusBadRequest, "id: a positive number")
		return
	}
	v, err := m.chat(r.Context(), id, r.URL.Query().Get("card") == "1")
	if errors.Is(err, store.ErrNotFound) {
		httpserver.WriteError(w, http.StatusNotFound, "no such conversation")
		return
	}
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: conversation", "conversation_id", id, "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not read the conversation")
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, v)
}

// — pages —

func (m *Module) chatPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	v, err := m.chat(r.Context(), id, r.URL.Query().Get("card") == "1")
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		m.log.ErrorContext(r.Context(), "console: conversation", "conversation_id", id, "error", err)
		httpserver.WriteError(w, http.StatusServiceUnavailable, "could not read the conversation")
		return
	}
	m.render(w, r, "chat", page{Title: "Conversation " + strconv.FormatInt(id, 10), Data: v})
}
