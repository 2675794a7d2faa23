// Package menu is the greeting and help menu: what the bot says to "hi",
// the topic buttons, switching language, and the polite fallback for what no
// other dialog understood.
package menu

import (
	"embed"
	"io/fs"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/textutil"
)

// Name is the dialog's key.
const Name = "menu"

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the dialog's catalog messages.
func Locales() fs.FS { return catalog.Locales(locales) }

// Dialog is the menu.
type Dialog struct{}

// Name implements bot.Dialog.
func (Dialog) Name() string { return Name }

var greetings = []string{
	"hi", "hello", "hey", "hiya", "good morning", "good afternoon", "good evening", "start", "/start",
	"hola", "buenos dias", "buenas tardes", "buenas noches", "buenas",
}

var helpWords = []string{"help", "menu", "options", "what can you do", "ayuda", "menu principal", "opciones", "/help"}

// languageWords map what a patient might type to a language.
var languageWords = map[string][]string{
	"es": {"espanol", "spanish", "en espanol", "hablo espanol", "castellano"},
	"en": {"english", "ingles", "in english"},
}

// Match claims greetings, "help" and language names typed on their own.
func (Dialog) Match(t *bot.Turn) int {
	text := textutil.Normalize(t.Text())
	words := len(textutil.Words(text))
	if lang := languageOnly(text); lang != "" {
		return 95
	}
	if words <= 4 && textutil.HasAny(text, helpWords...) {
		return 90
	}
	if words <= 4 && textutil.HasAny(text, greetings...) {
		return 80
	}
	return 0
}

func languageOnly(text string) string {
	for lang, names := range languageWords {
		for _, n := range names {
			if text == n {
				return lang
			}
		}
	}
	return ""
}

// Handle answers greetings, menu buttons and language switches.
func (d Dialog) Handle(t *bot.Turn) (bool, error) {
	if action, args, ok := t.Payload(Name); ok {
		switch action {
		case "main":
			d.showMenu(t, "menu.main")
			return true, nil
		case "welcome":
			d.showMenu(t, "menu.welcome")
			return true, nil
		case "lang":
			if len(args) == 1 && t.Catalog().Supports(args[0]) {
				t.SetLang(args[0])
				d.showMenu(t, "menu.language_set")
				return true, nil
			}
		case "topic":
			if len(args) == 1 {
				if id := "menu.topic." + args[0]; t.Catalog().Has("en", id) {
					t.Say(id, t.Button("menu.button.main", bot.Payload(Name, "main")))
					return true, nil
				}
			}
		case "fallback":
			d.Fallback(t)
			return true, nil
		}
		return false, nil
	}
	text := textutil.Normalize(t.Text())
	if lang := languageOnly(text); lang != "" && t.Catalog().Supports(lang) {
		t.SetLang(lang)
		d.showMenu(t, "menu.language_set")
		return true, nil
	}
	if textutil.HasAny(text, greetings...) {
		d.showMenu(t, "menu.welcome")
		return true, nil
	}
	d.showMenu(t, "menu.main")
	return true, nil
}

// Fallback is the polite reply to a message no dialog understood.
func (d Dialog) Fallback(t *bot.Turn) {
	d.showMenu(t, "menu.fallback")
}

func (Dialog) showMenu(t *bot.Turn, textID string) {
	t.Reply(bot.Reply{Text: t.T(textID), Buttons: MainButtons(t)})
}

// MainButtons are the topics of the main menu, in the patient's language;
// booking appears only when the booking dialog is installed.
func MainButtons(t *bot.Turn) []bot.Button {
	b := []bot.Button{
		t.Button("menu.button.costs", bot.Payload(Name, "topic", "costs")),
		t.Button("menu.button.insurance", bot.Payload(Name, "topic", "insurance")),
		t.Button("menu.button.prep", bot.Payload(Name, "topic", "prep")),
	}
	if t.Dialog("booking") != nil {
		b = append(b, t.Button("menu.button.book", bot.Payload("booking", "start")))
	}
	b = append(b, t.Button("menu.button.person", bot.Payload("handoff", "request", "asked")))
	other := "es"
	if t.Lang() == "es" {
		other = "en"
	}
	if t.Catalog().Supports(other) {
		b = append(b, t.Button("menu.button.other_language", bot.Payload(Name, "lang", other)))
	}
	return b
}

// FallbackDialog adapts the menu's fallback to bot.Dialog so the engine can
// use it for what no other dialog claims.
type FallbackDialog struct{ Dialog }

// Name implements bot.Dialog.
func (FallbackDialog) Name() string { return "fallback" }

// Handle always answers with the fallback.
func (f FallbackDialog) Handle(t *bot.Turn) (bool, error) {
	f.Fallback(t)
	return true, nil
}
