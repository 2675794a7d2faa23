// Package consent records what proactive messages each patient accepts, per
// channel and purpose, with the audit trail of every change, and answers
// "may this message go out?" for reminders, surveys and campaigns.
//
// The registry's flags (patients.consent_reminders, consent_messages) are
// the defaults, as the clinic imported them; rows here override them, so a
// re-import never undoes a patient's STOP. STOP is an opt-out row of its
// own, so START can lift it without granting anything the patient never
// agreed to.
package consent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/patients"
)

// Purposes of proactive messages.
const (
	Reminders = "reminders" // reminders of booked appointments: transactional
	Surveys   = "surveys"   // post-visit surveys
	Campaigns = "campaigns" // outreach (flu shots, screenings, refills)
	optOut    = "optout"    // the STOP row
)

// Purposes lists the purposes a patient can grant or revoke.
var Purposes = []string{Reminders, Surveys, Campaigns}

// AnyChannel is the channel of a change that applies on every channel.
const AnyChannel = "*"

// Statuses of a state row.
const (
	Granted    = "granted"
	Revoked    = "revoked"
	Stopped    = "stopped"     // STOP: nothing proactive but reminders of booked visits
	StoppedAll = "stopped_all" // STOP ALL: nothing proactive at all
	Resumed    = "resumed"     // START after a STOP
)

// Reasons a message may not go out.
const (
	ReasonOptedOut  = "opted_out"
	ReasonNoConsent = "no_consent"
)

// Subject is who a message would reach: a registered patient, one channel
// identity, or both (a conversation linked to a patient).
type Subject struct {
	PatientID *int64
	Channel   string
	ChatID    string
}

// PatientSubject is a registered patient on no particular channel.
func PatientSubject(id int64) Subject { return Subject{PatientID: &id} }

// ConversationSubject is the subject of a conversation: its channel identity
// and, when the conversation is linked to the registry, the patient.
func ConversationSubject(c store.Conversation) Subject {
	return Subject{PatientID: c.PatientID, Channel: c.Channel, ChatID: c.ChatID}
}

func (s Subject) keys() []string {
	var out []string
	if s.PatientID != nil {
		out = append(out, "patient:"+strconv.FormatInt(*s.PatientID, 10))
	}
	if s.Channel != "" && s.ChatID != "" {
		out = append(out, "chat:"+s.Channel+":"+s.ChatID)
	}
	return out
}

// Change is one consent change for the audit trail.
type Change struct {
	Subject Subject
	// Channel the change applies to; AnyChannel for all.
	Channel string
	Purpose string
	Status  string
	// Source says how it changed: keyword, button, import, api, ...
	Source         string
	ConversationID *int64
}

// Record applies a change to every key of the subject and writes its audit
// events, in the caller's transaction.
func Record(ctx context.Context, q store.Q, c Change, now time.Time) error {
	if c.Channel == "" {
		c.Channel = AnyChannel
	}
	keys := c.Subject.keys()
	if len(keys) == 0 {
		return errors.New("consent: a change needs a patient or a channel identity")
	}
	for _, k := range keys {
		if _, err := q.Exec(ctx, `INSERT INTO consent_states (subject, channel, purpose, status, source, changed_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subject, channel, purpose)
			DO UPDATE SET status = excluded.status, source = excluded.source, changed_at = excluded.changed_at`,
			k, c.Channel, c.Purpose, c.Status, c.Source, now); err != nil {
			return fmt.Errorf("consent: record: %w", err)
		}
		if _, err := q.Exec(ctx, `INSERT INTO consent_events (subject, channel, purpose, status, source, conversation_id, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, k, c.Channel, c.Purpose, c.Status, c.Source, c.ConversationID, now); err != nil {
			return fmt.Errorf("consent: audit: %w", err)
		}
	}
	return nil
}

// Stop opts the subject out of proactive messages on every channel; with
// all, appointment reminders stop too.
func Stop(ctx context.Context, q store.Q, s Subject, all bool, source string, convID *int64, now time.Time) error {
	status := Stopped
	if all {
		status = StoppedAll
	}
	return Record(ctx, q, Change{Subject: s, Purpose: optOut, Status: status, Source: source, ConversationID: convID}, now)
}

// Start lifts a STOP; per-purpose consent is what it was before.
func Start(ctx context.Context, q store.Q, s Subject, source string, convID *int64, now time.Time) error {
	return Record(ctx, q, Change{Subject: s, Purpose: optOut, Status: Resumed, Source: source, ConversationID: convID}, now)
}

// Set grants or revokes one purpose on a channel (AnyChannel for all).
func Set(ctx context.Context, q store.Q, s Subject, channel, purpose string, granted bool, source string, now time.Time) error {
	if !validPurpose(purpose) {
		return fmt.Errorf("consent: unknown purpose %q (use reminders, surveys or campaigns)", purpose)
	}
	status := Revoked
	if granted {
		status = Granted
	}
	return Record(ctx, q, Change{Subject: s, Channel: channel, Purpose: purpose, Status: status, Source: source}, now)
}

func validPurpose(p string) bool {
	for _, x := range Purposes {
		if x == p {
			return true
		}
	}
	return false
}

// State is one current consent row.
type State struct {
	Subject   string    `json:"subject"`
	Channel   string    `json:"channel"`
	Purpose   string    `json:"purpose"`
	Status    string    `json:"status"`
	Source    string    `json:"source"`
	ChangedAt time.Time `json:"changed_at"`
}

// States returns the subject's rows that apply on channel ("" for all rows).
func States(ctx context.Context, q store.Q, s Subject, channel string) ([]State, error) {
	var out []State
	for _, k := range s.keys() {
		rs, err := q.Query(ctx, `SELECT subject, channel, purpose, status, source, changed_at FROM consent_states
			WHERE subject = $1 AND ($2 = '' OR channel = '*' OR channel = $2) ORDER BY changed_at`, k, channel)
		if err != nil {
			return nil, fmt.Errorf("consent: states: %w", err)
		}
		for rs.Next() {
			var st State
			if err := rs.Scan(&st.Subject, &st.Channel, &st.Purpose, &st.Status, &st.Source, &st.ChangedAt); err != nil {
				rs.Close()
				return nil, err
			}
			out = append(out, st)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// OptOut returns the subject's opt-out level: "", Stopped or StoppedAll.
func OptOut(ctx context.Context, q store.Q, s Subject) (string, error) {
	states, err := States(ctx, q, s, s.Channel)
	if err != nil {
		return "", err
	}
	return optOutOf(states), nil
}

func optOutOf(states []State) string {
	level := ""
	for _, st := range states {
		switch {
		case st.Purpose != optOut:
		case st.Status == StoppedAll:
			return StoppedAll
		case st.Status == Stopped:
			level = Stopped
		}
	}
	return level
}

// Decision says whether a proactive message may go out, and why not.
type Decision struct {
	Allowed bool
	Reason  string
}

// Check decides whether a message for purpose may reach the subject; p is
// the registry's record of the subject (nil when not registered), whose
// flags are the defaults.
func Check(ctx context.Context, q store.Q, s Subject, p *patients.Patient, purpose string) (Decision, error) {
	states, err := States(ctx, q, s, s.Channel)
	if err != nil {
		return Decision{}, err
	}
	switch optOutOf(states) {
	case StoppedAll:
		return Decision{Reason: ReasonOptedOut}, nil
	case Stopped:
		if purpose != Reminders {
			return Decision{Reason: ReasonOptedOut}, nil
		}
	}
	var best *State
	for i, st := range states {
		if st.Purpose != purpose {
			continue
		}
		// A channel's own row beats an every-channel one; then the newest.
		if best == nil || (st.Channel != AnyChannel && best.Channel == AnyChannel) ||
			(st.Channel == best.Channel && st.ChangedAt.After(best.ChangedAt)) {
			best = &states[i]
		}
	}
	if best != nil {
		return decision(best.Status == Granted), nil
	}
	if p == nil {
		return decision(false), nil
	}
	switch purpose {
	case Campaigns:
		return decision(p.ConsentMessages), nil
	default:
		// A post-visit survey is part of the care relationship: it follows
		// the reminders flag unless the patient says otherwise.
		return decision(p.ConsentReminders), nil
	}
}

func decision(ok bool) Decision {
	if ok {
		return Decision{Allowed: true}
	}
	return Decision{Reason: ReasonNoConsent}
}

// Event is one audit entry.
type Event struct {
	Subject        string    `json:"subject"`
	Channel        string    `json:"channel"`
	Purpose        string    `json:"purpose"`
	Status         string    `json:"status"`
	Source         string    `json:"source"`
	ConversationID *int64    `json:"conversation_id,omitempty"`
	At             time.Time `json:"at"`
}

// Events returns the subject's audit trail, oldest first.
func Events(ctx context.Context, q store.Q, s Subject) ([]Event, error) {
	var out []Event
	for _, k := range s.keys() {
		rs, err := q.Query(ctx, `SELECT subject, channel, purpose, status, source, conversation_id, at
			FROM consent_events WHERE subject = $1 ORDER BY at, id`, k)
		if err != nil {
			return nil, fmt.Errorf("consent: events: %w", err)
		}
		for rs.Next() {
			var e Event
			if err := rs.Scan(&e.Subject, &e.Channel, &e.Purpose, &e.Status, &e.Source, &e.ConversationID, &e.At); err != nil {
				rs.Close()
				return nil, err
			}
			out = append(out, e)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
