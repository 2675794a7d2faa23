// Package askperson is the patient-facing "talk to a person" dialog: it
// recognises the request and the handoff buttons and leaves the rest to the
// handoff domain package (internal/handoff), which records the handoff,
// tells the patient what happens next and reaches staff through the
// Notifier the dialog was built with.
package askperson

import (
	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/textutil"
)

// Dialog handles "talk to a person".
type Dialog struct {
	// Notifier reaches staff; nil means no staff channel is configured.
	Notifier handoff.Notifier
}

// Name implements bot.Dialog.
func (Dialog) Name() string { return handoff.Name }

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
	reason := handoff.ReasonAsked
	if action, args, ok := t.Payload(handoff.Name); ok {
		switch action {
		case "request":
			if len(args) == 1 && args[0] == handoff.ReasonUnanswered {
				reason = handoff.ReasonUnanswered
			}
		case "cancel":
			return true, handoff.Cancel(t, d.Notifier)
		default:
			return false, nil
		}
	}
	return true, handoff.Request(t, reason, false, d.Notifier)
}
