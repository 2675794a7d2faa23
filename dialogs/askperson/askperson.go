// Package askperson is the patient-facing "talk to a person" dialog: it
// recognises the request and the handoff buttons and leaves the rest to the
// handoff domain package (internal/handoff), which records the handoff,
// tells the patient what happens next and reaches staff through the
// Notifier the dialog was built with.
package askperson

import (
	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/handoff"
)

// Dialog handles "talk to a person".
type Dialog struct {
	// Notifier reaches staff; nil means no staff channel is configured.
	Notifier handoff.Notifier
}

// Name implements bot.Dialog.
func (Dialog) Name() string { return handoff.Name }

// Match claims explicit requests for a person.
func (Dialog) Match(t *bot.Turn) int {
	if AsksForPerson(t.Text()) {
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
