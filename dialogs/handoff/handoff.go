// Package handoff hands a conversation to a person and tells the patient
// what happens at each step. Staff are reached through a Notifier: the
// Machine (state machine, see machine.go) with a Board (the Slack thread),
// when Slack is configured. Without one, the request is recorded for staff
// to follow up and the patient is given the clinic's phone number.
//
// While a handoff is open ("waiting") or taken ("staff"), the Machine's
// Guard keeps the bot quiet: every patient message is mirrored to staff and
// the turn stops there. A waiting patient gets a "still waiting" note at
// most every Options.NoticeEvery, with a button to go back to the
// assistant; a patient talking to staff gets no bot replies at all. Triage
// runs before the guard, so emergencies are still answered and escalated.
package handoff

import (
	"embed"
	"io/fs"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/textutil"
)

// Name is the dialog's key.
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

// Locales are the dialog's catalog messages.
func Locales() fs.FS {
	sub, _ := fs.Sub(locales, "locales")
	return sub
}

// Notifier tells staff about a new handoff, inside the transaction that
// opened it (typically by enqueuing a job). The Slack module's Machine is
// the one in use when Slack is configured.
type Notifier interface {
	HandoffOpened(t *bot.Turn, h store.Handoff) error
}

// Escalator is a Notifier that can also be told that triage flagged an
// emergency in a conversation whose handoff was already open or taken.
type Escalator interface {
	HandoffEscalated(t *bot.Turn, h store.Handoff, newlyUrgent bool) error
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

// Dialog handles "talk to a person".
type Dialog struct {
	// Notifier reaches staff; nil means no staff channel is configured.
	Notifier Notifier
}

// Name implements bot.Dialog.
func (Dialog) Name() string { return Name }

var askPhrases = []string{
	"talk to a person", "speak to a person", "talk to someone", "speak to someone", "talk to a human",
	"speak to a human", "real person", "a human", "live person", "live agent", "talk to an agent", "agent",
	"representative", "operator", "receptionist", "front desk", "talk to staff", "call me", "call me back",
	"can someone call", "someone call me", "person please", "human please", "talk to somebody",
	"hablar con una persona", "hablar con alguien", "una persona", "persona real", "humano", "agente",
	"representante", "recepcion", "llamenme", "que me llamen",
}

// Match claims explicit requests for a person.
func (Dialog) Match(t *bot.Turn) int {
	if textutil.HasAny(textutil.Normalize(t.Text()), askPhrases...) {
		return 95
	}
	return 0
}

// Handle records the request and tells the patient what happens next; the
// "cancel" button takes a waiting patient back to the assistant.
func (d Dialog) Handle(t *bot.Turn) (bool, error) {
	reason := ReasonAsked
	if action, args, ok := t.Payload(Name); ok {
		switch action {
		case "request":
			if len(args) == 1 && args[0] == ReasonUnanswered {
				reason = ReasonUnanswered
			}
		case "cancel":
			if c, ok := d.Notifier.(canceller); ok {
				return true, c.cancel(t)
			}
			t.Reply(bot.Reply{Text: t.T("handoff.cancelled")})
			return true, nil
		default:
			return false, nil
		}
	}
	return true, Request(t, reason, false, d.Notifier)
}

// Request opens a handoff (or joins the open one) and tells the patient. It
// is also what other dialogs call: triage for emergencies (urgent, and no
// words added to the emergency reply), surveys for unhappy answers.
func Request(t *bot.Turn, reason string, urgent bool, n Notifier) error {
	wasUrgent := false
	if urgent {
		prev, err := activeFor(t.Ctx, t.Tx.Q, t.Conv.ID)
		if err != nil && !isNotFound(err) {
			return err
		}
		wasUrgent = err == nil && prev.Urgent
	}
	h, created, err := t.Tx.RequestHandoff(t.Ctx, t.Conv.ID, reason, urgent, t.Now)
	if err != nil {
		return err
	}
	if n == nil {
		if reason != ReasonEmergency {
			t.Reply(bot.Reply{Text: t.T("handoff.recorded"), Action: bot.ActionHandoff})
		}
		return nil
	}
	if created && t.Conv.Mode == store.ModeBot {
		t.Conv.Mode = store.ModeWaiting
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
