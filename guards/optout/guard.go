// Package consent is the STOP / START / HELP guard: it runs right after
// triage, before every dialog, on every channel. STOP (and its synonyms, in
// English and Spanish) stops proactive messages on every channel at once
// and answers with one confirmation that markets nothing; START resumes;
// HELP says how to reach the clinic and how to stop. See docs/surveys.md.
package optout

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/menu"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/store"
)

// Name is the guard's name; its buttons are "consent:…".
const Name = "consent"

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the guard's catalog messages.
func Locales() fs.FS { return catalog.Locales(locales) }

// Listener is a dialog that must hear of an opt-out in its conversation:
// a survey in progress stops, queued campaign messages are cancelled.
type Listener interface {
	OptedOut(t *bot.Turn, all bool) error
}

// Hook is told of an opt-out inside the turn's transaction (a channel
// dropping messages it holds, such as WhatsApp's held replies).
type Hook func(ctx context.Context, q store.Q, conversationID int64) error

// Guard is the consent bot.Guard, and the dialog for its buttons.
type Guard struct {
	// Listeners name the dialogs told of an opt-out (when installed).
	Listeners []string
	Hooks     []Hook
	Log       *slog.Logger
}

// Name implements bot.Guard and bot.Dialog.
func (*Guard) Name() string { return Name }

// Check implements bot.Guard. Only typed text counts: a button's label is
// never a command.
func (g *Guard) Check(t *bot.Turn) (bool, error) {
	if t.In.Payload != "" {
		return false, nil
	}
	switch Classify(t.Text()) {
	case Stop:
		return true, g.stop(t, false, "keyword")
	case StopAll:
		return true, g.stop(t, true, "keyword")
	case Start:
		return g.start(t)
	case Help:
		text := t.T("consent.help")
		level, err := consent.ConversationOptOut(t.Ctx, t.Q(), t.Conversation())
		if err != nil {
			return true, err
		}
		if level != "" {
			text += "\n\n" + t.T("consent.help_stopped")
		}
		t.Reply(bot.Reply{Text: text, Buttons: menu.MainButtons(t)})
		return true, nil
	}
	return false, nil
}

// Handle implements bot.Dialog for the confirmation's button.
func (g *Guard) Handle(t *bot.Turn) (bool, error) {
	if action, _, ok := t.Payload(Name); ok && action == "stopall" {
		return true, g.stop(t, true, "button")
	}
	return false, nil
}

// stop records the opt-out for the conversation's channel identity and
// for every registry patient the conversation is linked to (verified,
// reached by a survey or campaign, or the registry's WhatsApp number), on
// every channel; then tells the listeners and confirms once.
func (g *Guard) stop(t *bot.Turn, all bool, source string) error {
	linked, err := consent.StopConversation(t.Ctx, t.Q(), t.Conversation(), all, source, t.Now)
	if err != nil {
		return err
	}
	conv := t.ConversationID()
	for _, name := range g.Listeners {
		if l, ok := t.Dialog(name).(Listener); ok {
			if err := l.OptedOut(t, all); err != nil {
				return err
			}
		}
	}
	for _, h := range g.Hooks {
		if err := h(t.Ctx, t.Q(), conv); err != nil {
			return err
		}
	}
	g.log().InfoContext(t.Ctx, "consent: opted out", "conversation_id", conv, "all", all, "patients", linked)
	if all {
		t.Reply(bot.Reply{Text: t.T("consent.stopped_all")})
		return nil
	}
	t.Reply(bot.Reply{Text: t.T("consent.stopped"),
		Buttons: []bot.Button{t.Button("consent.button.stop_reminders", bot.Payload(Name, "stopall"))}})
	return nil
}

// start resumes messages for a stopped conversation or patient; anyone
// else's START is a greeting and goes on to the menu.
func (g *Guard) start(t *bot.Turn) (bool, error) {
	resumed, err := consent.StartConversation(t.Ctx, t.Q(), t.Conversation(), "keyword", t.Now)
	if err != nil || !resumed {
		return false, err
	}
	g.log().InfoContext(t.Ctx, "consent: resumed", "conversation_id", t.ConversationID())
	t.Reply(bot.Reply{Text: t.T("consent.started"), Buttons: menu.MainButtons(t)})
	return true, nil
}

func (g *Guard) log() *slog.Logger {
	if g.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.Log
}
