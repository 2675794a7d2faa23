// Package triage is the safety guard that sees every message first: it
// answers emergencies with "call 911 (or 988) or go to the nearest emergency
// room" and nothing else, flags the conversation and alerts staff, and it
// declines requests for a diagnosis, a dose or a treatment with a route to a
// clinician. What counts as either lives in rules.yaml, which a clinic can
// review and replace (docs/triage.md).
package triage

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
)

// Name is the guard's name.
const Name = "triage"

//go:embed locales/*.yaml
var localeFiles embed.FS

// Locales are the guard's catalog messages.
func Locales() fs.FS { return catalog.Locales(localeFiles) }

// Guard is the triage bot.Guard.
type Guard struct {
	detector *Detector
	// limiter groups urgent alerts (emergencies); possibleLimiter groups
	// the alerts for possible emergencies, apart, so that a "yes" after
	// one still makes the urgent alert.
	limiter, possibleLimiter *handoff.AlertLimiter
	// staff reaches clinic staff (nil: no staff channel is configured).
	staff handoff.Notifier
	log   *slog.Logger
}

// NewGuard returns a guard over compiled rules (with the built-in concept
// detector after them); staff may be nil (no staff channel), log may be
// nil. Urgent staff alerts are grouped per source (AlertLimiter).
func NewGuard(m *Matcher, staff handoff.Notifier, log *slog.Logger) *Guard {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Guard{detector: NewDetector(m), limiter: handoff.NewAlertLimiter(0), possibleLimiter: handoff.NewAlertLimiter(0),
		staff: staff, log: log}
}

// Name implements bot.Guard.
func (g *Guard) Name() string { return Name }

// Check implements bot.Guard. Message text is never logged, only the
// category and rule that matched.
func (g *Guard) Check(t *bot.Turn) (bool, error) {
	if action, args, ok := t.Payload(Name); ok && action == actionNow {
		return true, g.answerNow(t, args)
	}
	text := t.Text()
	if text == "" {
		return false, nil
	}
	res := g.classify(t, text)
	switch res.Kind {
	case KindEmergency:
		if res.Possible {
			return true, g.possible(t, res)
		}
		return true, g.emergency(t, res)
	case KindAdvice:
		// A button press is never a question, and once staff own the
		// conversation they answer it themselves.
		if t.In.Payload != "" || t.Mode() == store.ModeStaff {
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
	t.Reply(bot.Reply{Text: g.replyText(t, res), Action: bot.ActionEmergency})
	t.Flag()
	g.log.WarnContext(t.Ctx, "triage: emergency", "conversation_id", t.ConversationID(), "inbound_id", t.InboundID,
		"category", res.Category, "rule", res.Rule)
	// One source (a conversation, a web session, an address) makes one
	// urgent mention per window; the next emergencies reach staff
	// grouped, without it (the patient's reply is the same).
	urgent, grouped := g.limiter.Allow(t.Now, handoff.Sources(t.ConversationID(), t.In)...)
	if !urgent {
		g.log.WarnContext(t.Ctx, "triage: urgent alert grouped", "conversation_id", t.ConversationID(), "grouped", grouped)
	}
	// A savepoint of our own: a failing staff alert must not roll back the
	// turn, which would replace the emergency reply with an apology.
	if _, err := t.Q().Exec(t.Ctx, "SAVEPOINT triage_handoff"); err != nil {
		return fmt.Errorf("triage: savepoint: %w", err)
	}
	if err := handoff.Request(t, handoff.ReasonEmergency, urgent, g.staff); err != nil {
		g.log.ErrorContext(t.Ctx, "triage: could not open the emergency handoff", "conversation_id", t.ConversationID(), "error", err)
		if _, rerr := t.Q().Exec(t.Ctx, "ROLLBACK TO SAVEPOINT triage_handoff"); rerr != nil {
			return fmt.Errorf("triage: rollback to savepoint: %w (handoff: %v)", rerr, err)
		}
	}
	if _, err := t.Q().Exec(t.Ctx, "RELEASE SAVEPOINT triage_handoff"); err != nil {
		return fmt.Errorf("triage: release savepoint: %w", err)
	}
	return nil
}

// actionNow is the payload action of the "is this happening now?" buttons:
// triage:now:yes:<reply>[:line] and triage:now:no.
const actionNow = "now"

// possible is a possible emergency: the emergency guidance first, then one
// question with Yes/No buttons. Staff are alerted (not a handoff: the
// conversation goes on with the assistant unless the patient says yes).
func (g *Guard) possible(t *bot.Turn, res Result) error {
	text := g.replyText(t, res) + "\n\n" + g.text(t, res, "triage.possible_question")
	t.Reply(bot.Reply{
		Text: text,
		Buttons: []bot.Button{
			{Label: g.text(t, res, "triage.possible_yes"), Payload: yesPayload(res)},
			{Label: g.text(t, res, "triage.possible_no"), Payload: bot.Payload(Name, actionNow, "no")},
		},
		Action: bot.ActionEmergency,
	})
	g.log.WarnContext(t.Ctx, "triage: possible emergency", "conversation_id", t.ConversationID(), "inbound_id", t.InboundID,
		"category", res.Category, "rule", res.Rule)
	ok, grouped := g.possibleLimiter.Allow(t.Now, handoff.Sources(t.ConversationID(), t.In)...)
	if !ok {
		g.log.WarnContext(t.Ctx, "triage: possible-emergency alert grouped", "conversation_id", t.ConversationID(), "grouped", grouped)
		return nil
	}
	if _, err := t.Q().Exec(t.Ctx, "SAVEPOINT triage_alert"); err != nil {
		return fmt.Errorf("triage: savepoint: %w", err)
	}
	summary := "Possible emergency (" + res.Category + "): the patient was given the emergency numbers and asked whether it is happening now."
	if err := handoff.Alert(t.Ctx, t.Work(), g.staff, t.ConversationID(), summary, nil); err != nil && !errors.Is(err, handoff.ErrNoStaffChannel) {
		g.log.ErrorContext(t.Ctx, "triage: could not alert staff of a possible emergency", "conversation_id", t.ConversationID(), "error", err)
		if _, rerr := t.Q().Exec(t.Ctx, "ROLLBACK TO SAVEPOINT triage_alert"); rerr != nil {
			return fmt.Errorf("triage: rollback to savepoint: %w (alert: %v)", rerr, err)
		}
	}
	if _, err := t.Q().Exec(t.Ctx, "RELEASE SAVEPOINT triage_alert"); err != nil {
		return fmt.Errorf("triage: release savepoint: %w", err)
	}
	return nil
}

// yesPayload is the "yes, it is happening now" button's payload: the
// reply to give, and "line" when the crisis line goes with it.
func yesPayload(res Result) string {
	if res.CrisisLine {
		return bot.Payload(Name, actionNow, "yes", res.Reply, "line")
	}
	return bot.Payload(Name, actionNow, "yes", res.Reply)
}

// answerNow handles the buttons of a possible emergency: yes gives the full
// emergency reply and the urgent alert; no goes on as usual.
func (g *Guard) answerNow(t *bot.Turn, args []string) error {
	if len(args) >= 1 && args[0] == "yes" {
		reply := ReplyEmergency
		if len(args) >= 2 && args[1] == ReplyCrisis {
			reply = ReplyCrisis
		}
		line := len(args) >= 3 && args[2] == "line"
		return g.emergency(t, Result{Kind: KindEmergency, Category: "confirmed", Reply: reply, CrisisLine: line})
	}
	t.Reply(bot.Reply{Text: t.T("triage.possible_not_now")})
	return nil
}

// advice declines and offers a person, with the clinic's phone number in the text.
func (g *Guard) advice(t *bot.Turn, res Result) {
	g.log.InfoContext(t.Ctx, "triage: medical advice declined", "conversation_id", t.ConversationID(), "inbound_id", t.InboundID,
		"category", res.Category, "rule", res.Rule)
	t.Reply(bot.Reply{
		Text:    g.text(t, res, "triage."+res.Reply),
		Buttons: []bot.Button{{Label: g.text(t, res, "triage.advice_button"), Payload: bot.Payload(handoff.Name, "request", handoff.ReasonAsked)}},
		Action:  bot.ActionAbstain,
	})
}

// replyText is an emergency's or a crisis's reply, with the crisis line
// after the emergency one when the message speaks of self-harm.
func (g *Guard) replyText(t *bot.Turn, res Result) string {
	text := g.text(t, res, "triage."+res.Reply)
	if res.CrisisLine && res.Reply == ReplyEmergency {
		text += "\n\n" + g.text(t, res, "triage.crisis_line")
	}
	return text
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
