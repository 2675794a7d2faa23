// Package handoff hands a conversation to a person: it owns the handoffs and
// handoff_audit tables, the state machine (Machine, see machine.go) and the
// staff side it drives through a Board (the Slack thread). It tells the
// patient what happens at each step. Staff are reached through a Notifier:
// the Machine, when Slack is configured. Without one, a request is recorded
// for staff to follow up and the patient is given the clinic's phone number.
//
// While a handoff is open ("waiting") or taken ("staff"), the Machine's
// Guard keeps the bot quiet: every patient message is mirrored to staff and
// the turn stops there. A waiting patient gets a "still waiting" note at
// most every Options.NoticeEvery, with a button to go back to the
// assistant; a patient talking to staff gets no bot replies at all. Triage
// runs before the guard, so emergencies are still answered and escalated.
//
// The patient-facing "talk to a person" dialog is dialogs/askperson.
package handoff

import (
	"embed"
	"io/fs"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/store"
)

// Name is the handoff dialog's key: button payloads "handoff:…" reach it.
const Name = "handoff"

// Reasons recorded with a handoff.
const (
	ReasonAsked      = "asked"      // the patient asked for a person
	ReasonUnanswered = "unanswered" // the bot could not answer and the patient accepted a person
	ReasonEmergency  = "emergency"  // triage flagged an emergency
	ReasonSurvey     = "survey"     // an unhappy survey answer
)

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the patient-facing handoff messages.
func Locales() fs.FS { return catalog.Locales(locales) }

// Notifier tells staff about a new handoff, inside the transaction that
// opened it (typically by enqueuing a job). The Slack module's Machine is
// the one in use when Slack is configured.
type Notifier interface {
	HandoffOpened(t *bot.Turn, h Handoff) error
}

// Escalator is a Notifier that can also be told that triage flagged an
// emergency in a conversation whose handoff was already open or taken.
type Escalator interface {
	HandoffEscalated(t *bot.Turn, h Handoff, newlyUrgent bool) error
}

// waitEstimator is a Notifier that knows how long staff usually take.
type waitEstimator interface {
	ExpectedWait() time.Duration
	Duration(lang string, d time.Duration) string
	When(lang string, now, at time.Time) string
}

// canceller is a Notifier that lets a waiting patient go back to the assistant.
type canceller interface {
	cancel(t *bot.Turn) error
}

// Request opens a handoff (or joins the open one) and tells the patient. The
// handoff dialog calls it when a patient asks for a person; triage calls it
// for emergencies (urgent, and no words added to the emergency reply). n is
// the staff channel; nil means none is configured.
func Request(t *bot.Turn, reason string, urgent bool, n Notifier) error {
	wasUrgent := false
	if urgent {
		prev, err := ActiveFor(t.Ctx, t.Q(), t.ConversationID())
		if err != nil && !isNotFound(err) {
			return err
		}
		wasUrgent = err == nil && prev.Urgent
	}
	h, created, err := Open(t.Ctx, t.Q(), t.ConversationID(), reason, urgent, t.Now)
	if err != nil {
		return err
	}
	if n == nil {
		if reason != ReasonEmergency {
			t.Reply(bot.Reply{Text: t.T("handoff.recorded"), Action: bot.ActionHandoff})
		}
		return nil
	}
	if created && t.Mode() == store.ModeBot {
		t.SetMode(store.ModeWaiting)
	}
	if !created {
		if reason == ReasonEmergency {
			// Triage stops the turn, so this message reaches staff here.
			if e, ok := n.(Escalator); ok {
				return e.HandoffEscalated(t, h, urgent && !wasUrgent)
			}
			return nil
		}
		t.Reply(bot.Reply{Text: t.T("handoff.already_waiting"), Action: bot.ActionHandoff})
		return nil
	}
	if err := n.HandoffOpened(t, h); err != nil {
		return err
	}
	if reason == ReasonEmergency {
		// The emergency reply has been given; staff are alerted without
		// adding words that could distract from it.
		return nil
	}
	t.Reply(bot.Reply{Text: promise(t, n), Action: bot.ActionHandoff})
	return nil
}

// Cancel takes a waiting patient back to the assistant (the "Continue with
// the assistant" button). Without a staff channel there is nothing to cancel.
func Cancel(t *bot.Turn, n Notifier) error {
	if c, ok := n.(canceller); ok {
		return c.cancel(t)
	}
	t.Reply(bot.Reply{Text: t.T("handoff.cancelled")})
	return nil
}

// promise tells the patient what to expect: the usual wait when the clinic
// is open, the next opening (and the phone number) when it is closed.
func promise(t *bot.Turn, n Notifier) string {
	w, ok := n.(waitEstimator)
	open := t.Clinic == nil || t.Clinic.IsOpen(t.Now)
	switch {
	case !ok && open:
		return t.T("handoff.requested")
	case !ok:
		return t.T("handoff.requested_after_hours")
	case open:
		return t.T("handoff.requested_wait", map[string]any{"Wait": w.Duration(t.Lang(), w.ExpectedWait())})
	}
	next := t.Clinic.NextOpening(t.Now)
	if next.IsZero() {
		return t.T("handoff.requested_after_hours")
	}
	return t.T("handoff.requested_after_hours_when", map[string]any{"When": w.When(t.Lang(), t.Now, next)})
}
