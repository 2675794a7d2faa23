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
	"strings"
	"time"

	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
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
	// Via is the channel the patient said it on ("" for staff, imports).
	Via string
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
	return recordKeys(ctx, q, keys, c, now)
}

// recordKeys applies a change to each subject key, with its audit events.
func recordKeys(ctx context.Context, q store.Q, keys []string, c Change, now time.Time) error {
	if c.Channel == "" {
		c.Channel = AnyChannel
	}
	for _, k := range keys {
		if _, err := q.Exec(ctx, `INSERT INTO consent_states (subject, channel, purpose, status, source, changed_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subject, channel, purpose)
			DO UPDATE SET status = excluded.status, source = excluded.source, changed_at = excluded.changed_at`,
			k, c.Channel, c.Purpose, c.Status, c.Source, now); err != nil {
			return fmt.Errorf("consent: record: %w", err)
		}
		if _, err := q.Exec(ctx, `INSERT INTO consent_events (subject, channel, purpose, status, source, conversation_id, at, via)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, k, c.Channel, c.Purpose, c.Status, c.Source, c.ConversationID, now,
			c.Via); err != nil {
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

// States returns the subject's rows that apply on channel ("" for all
// rows): for a patient, with the rows of every conversation linked to them.
func States(ctx context.Context, q store.Q, s Subject, channel string) ([]State, error) {
	keys, err := allKeys(ctx, q, s, nil)
	if err != nil {
		return nil, err
	}
	return statesOf(ctx, q, keys, channel)
}

func statesOf(ctx context.Context, q store.Q, keys []string, channel string) ([]State, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	args := []any{channel}
	for _, k := range keys {
		args = append(args, k)
	}
	out, err := store.Collect[State](q.Query(ctx, `SELECT subject, channel, purpose, status, source, changed_at FROM consent_states
		WHERE subject IN (`+placeholders(2, len(keys))+`) AND ($1 = '' OR channel = '*' OR channel = $1)
		ORDER BY changed_at, subject, channel, purpose`, args...))(func(r store.Row) (State, error) {
		var st State
		err := r.Scan(&st.Subject, &st.Channel, &st.Purpose, &st.Status, &st.Source, &st.ChangedAt)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("consent: states: %w", err)
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
//
// For a patient, an opt-out said in any conversation linked to them counts
// (see links.go): consent belongs to the patient, not to a channel.
func Check(ctx context.Context, q store.Q, s Subject, p *patients.Patient, purpose string) (Decision, error) {
	keys, err := allKeys(ctx, q, s, p)
	if err != nil {
		return Decision{}, err
	}
	states, err := statesOf(ctx, q, keys, s.Channel)
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

// Event is one audit entry: Channel is the channel the change applies to
// ("*" for every channel), Via the channel it was said on ("" when staff
// recorded it).
type Event struct {
	Subject        string    `json:"subject"`
	Channel        string    `json:"channel"`
	Via            string    `json:"via"`
	Purpose        string    `json:"purpose"`
	Status         string    `json:"status"`
	Source         string    `json:"source"`
	ConversationID *int64    `json:"conversation_id,omitempty"`
	At             time.Time `json:"at"`
}

// Events returns the subject's audit trail, oldest first: for a patient,
// with the changes said in every conversation linked to them. A change
// recorded for several of these keys at once is listed once, under the
// patient's key when it is one of them.
func Events(ctx context.Context, q store.Q, s Subject) ([]Event, error) {
	keys, err := allKeys(ctx, q, s, nil)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	all, err := store.Collect[Event](q.Query(ctx, `SELECT subject, channel, via, purpose, status, source, conversation_id, at
		FROM consent_events WHERE subject IN (`+placeholders(1, len(keys))+`) ORDER BY at, id`, args...))(
		func(r store.Row) (Event, error) {
			var e Event
			err := r.Scan(&e.Subject, &e.Channel, &e.Via, &e.Purpose, &e.Status, &e.Source, &e.ConversationID, &e.At)
			return e, err
		})
	if err != nil {
		return nil, fmt.Errorf("consent: events: %w", err)
	}
	var out []Event
	seen := map[string]int{}
	for _, e := range all {
		conv := ""
		if e.ConversationID != nil {
			conv = strconv.FormatInt(*e.ConversationID, 10)
		}
		id := strings.Join([]string{e.At.UTC().Format(time.RFC3339Nano), e.Channel, e.Via, e.Purpose, e.Status, e.Source, conv}, "|")
		if i, ok := seen[id]; ok {
			if strings.HasPrefix(e.Subject, "patient:") && !strings.HasPrefix(out[i].Subject, "patient:") {
				out[i].Subject = e.Subject
			}
			continue
		}
		seen[id] = len(out)
		out = append(out, e)
	}
	return out, nil
}
