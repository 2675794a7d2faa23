// Package triage is the safety guard that sees every message first: it
// answers emergencies with "call 911 (or 988) or go to the nearest emergency
// room" and nothing else, flags the conversation and alerts staff, and it
// declines requests for a diagnosis, a dose or a treatment with a route to a
// clinician. What counts as either lives in rules.yaml, which a clinic can
// review and replace (docs/triage.md).
package triage

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/handoff"
	"github.com/tend-health/tend/internal/store"
)

// Name is the guard's name.
const Name = "triage"

//go:embed locales/*.yaml
var localeFiles embed.FS

// Locales are the guard's catalog messages.
func Locales() fs.FS {
	sub, _ := fs.Sub(localeFiles, "locales")
	return sub
}

// Guard is the triage bot.Guard.
type Guard struct {
	matcher *Matcher
	// notifier is looked up per message: the module that configures staff
	// alerts (Slack) may be installed after this one.
	notifier func() handoff.Notifier
	log      *slog.Logger
}

// NewGuard returns a guard over compiled rules; notifier may return nil
// (no staff channel), log may be nil.
func NewGuard(m *Matcher, notifier func() handoff.Notifier, log *slog.Logger) *Guard {
	if notifier == nil {
		notifier = func() handoff.Notifier { return nil }
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Guard{matcher: m, notifier: notifier, log: log}
}

// Name implements bot.Guard.
func (g *Guard) Name() string { return Name }

// Check implements bot.Guard. Message text is never logged, only the
// category and rule that matched.
func (g *Guard) Check(t *bot.Turn) (bool, error) {
	text := t.Text()
	if text == "" {
		return false, nil
	}
	res := g.matcher.Classify(text)
	switch res.Kind {
	case KindEmergency:
		return true, g.emergency(t, res)
	case KindAdvice:
		// A button press is never a question, and once staff own the
		// conversation they answer it themselves.
		if t.In.Payload != "" || t.Conv.Mode == store.ModeStaff {
			return false, nil
		}
		g.advice(t, res)
		return true, nil
	}
	return false, nil
}

// emergency gives the fixed reply, flags the conversation and asks staff to
// take it urgently. The reply is given even when alerting staff fails.
func (g *Guard) emergency(t *bot.Turn, res Result) error {
	t.Reply(bot.Reply{Text: g.text(t, res, "triage."+res.Reply), Action: bot.ActionEmergency})
	if t.Conv.FlaggedAt == nil {
		now := t.Now
		t.Conv.FlaggedAt = &now
	}
	g.log.WarnContext(t.Ctx, "triage: emergency", "conversation_id", t.Conv.ID, "inbound_id", t.InboundID,
		"category", res.Category, "rule", res.Rule)
	// A savepoint of our own: a failing staff alert must not roll back the
	// turn, which would replace the emergency reply with an apology.
	if _, err := t.Tx.Exec(t.Ctx, "SAVEPOINT triage_handoff"); err != nil {
		return fmt.Errorf("triage: savepoint: %w", err)
	}
	if err := handoff.Request(t, handoff.ReasonEmergency, true, g.notifier()); err != nil {
		g.log.ErrorContext(t.Ctx, "triage: could not open the emergency handoff", "conversation_id", t.Conv.ID, "error", err)
		if _, rerr := t.Tx.Exec(t.Ctx, "ROLLBACK TO SAVEPOINT triage_handoff"); rerr != nil {
			return fmt.Errorf("triage: rollback to savepoint: %w (handoff: %v)", rerr, err)
		}
	}
	if _, err := t.Tx.Exec(t.Ctx, "RELEASE SAVEPOINT triage_handoff"); err != nil {
		return fmt.Errorf("triage: release savepoint: %w", err)
	}
	return nil
}

// advice declines and offers a person, with the clinic's phone number in the text.
func (g *Guard) advice(t *bot.Turn, res Result) {
	g.log.InfoContext(t.Ctx, "triage: medical advice declined", "conversation_id", t.Conv.ID, "inbound_id", t.InboundID,
		"category", res.Category, "rule", res.Rule)
	t.Reply(bot.Reply{
		Text:    g.text(t, res, "triage."+res.Reply),
		Buttons: []bot.Button{{Label: g.text(t, res, "triage.advice_button"), Payload: bot.Payload(handoff.Name, "request", handoff.ReasonAsked)}},
		Action:  bot.ActionAbstain,
	})
}

// text renders a message in the language the patient wrote in when the
// rules can tell and the catalog has it, else in the conversation's.
func (g *Guard) text(t *bot.Turn, res Result, id string) string {
	lang := t.Lang()
	if res.Lang != "" && res.Lang != lang && t.Catalog().Supports(res.Lang) {
		lang = res.Lang
	}
	return t.Catalog().Text(lang, id, nil)
}
