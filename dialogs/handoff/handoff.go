// Package handoff records a patient's wish to talk to a person and tells
// them what happens next. Staff are reached through a Notifier (Slack, when
// configured); without one, the request is recorded for staff to follow up
// and the patient is given the clinic's phone number.
package handoff

import (
	"embed"
	"io/fs"

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
// opened it (typically by enqueuing a job).
type Notifier interface {
	HandoffOpened(t *bot.Turn, h store.Handoff) error
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

// Handle records the request and tells the patient what happens next.
func (d Dialog) Handle(t *bot.Turn) (bool, error) {
	reason := ReasonAsked
	if action, args, ok := t.Payload(Name); ok {
		if action != "request" {
			return false, nil
		}
		if len(args) == 1 && args[0] == ReasonUnanswered {
			reason = ReasonUnanswered
		}
	}
	return true, Request(t, reason, false, d.Notifier)
}

// Request opens a handoff (or joins the open one) and tells the patient. It
// is also what other dialogs call: triage for emergencies, surveys for
// unhappy answers.
func Request(t *bot.Turn, reason string, urgent bool, n Notifier) error {
	h, created, err := t.Tx.RequestHandoff(t.Ctx, t.Conv.ID, reason, urgent, t.Now)
	if err != nil {
		return err
	}
	if reason == ReasonEmergency {
		// The emergency reply has been given; staff are alerted without
		// adding words that could distract from it.
		if created && n != nil {
			return n.HandoffOpened(t, h)
		}
		return nil
	}
	if n == nil {
		t.Reply(bot.Reply{Text: t.T("handoff.recorded"), Action: bot.ActionHandoff})
		return nil
	}
	if !created {
		t.Reply(bot.Reply{Text: t.T("handoff.already_waiting"), Action: bot.ActionHandoff})
		return nil
	}
	if t.Conv.Mode == store.ModeBot {
		t.Conv.Mode = store.ModeWaiting
	}
	if err := n.HandoffOpened(t, h); err != nil {
		return err
	}
	if t.Clinic != nil && !t.Clinic.IsOpen(t.Now) {
		t.Reply(bot.Reply{Text: t.T("handoff.requested_after_hours"), Action: bot.ActionHandoff})
		return nil
	}
	t.Reply(bot.Reply{Text: t.T("handoff.requested"), Action: bot.ActionHandoff})
	return nil
}
