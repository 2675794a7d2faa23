package optout

import (
	"slices"
	"strings"

	"github.com/tend-health/tend/internal/textutil"
)

// Keyword is what a message asks of consent.
type Keyword int

// Keywords.
const (
	None    Keyword = iota
	Stop            // stop proactive messages (booked-visit reminders stay)
	StopAll         // stop everything, reminders included
	Start           // resume after a stop
	Help            // how to reach the clinic and how to stop
)

// The rule: a keyword counts only as the whole message, give or take the
// filler words below ("STOP", "stop all messages please", "no más
// mensajes"). "Cancel my appointment" keeps words that are neither, so it
// is booking's; so is "stop booking".
var (
	stopWords = []string{"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "opt out", "optout", "revoke",
		"alto", "parar", "para", "baja", "dar de baja", "darme de baja", "cancelar", "detener", "no mas", "basta",
		"fin", "salir", "revocar", "desuscribir", "desuscribirme", "anular suscripcion", "cancelar suscripcion"}
	startWords = []string{"start", "unstop", "resume", "subscribe", "restart", "opt in", "optin",
		"reanudar", "iniciar", "comenzar", "alta", "darme de alta", "suscribir", "suscribirme"}
	helpWords = []string{"help", "info", "information", "ayuda", "informacion"}
	// fillers may surround a keyword; allWords make a STOP cover reminders.
	fillers = []string{"please", "pls", "now", "me", "my", "messages", "message", "texts", "texting", "sending",
		"messaging", "contacting", "to", "us", "from", "por", "favor", "mensajes", "ya", "de", "los", "a"}
	allWords = []string{"all", "everything", "reminders", "todo", "todos", "recordatorios"}
)

// strip drops filler words from keyword phrases, so that "darme de baja"
// matches however the filler words around it fall.
func strip(phrases []string) []string {
	out := make([]string, 0, len(phrases))
	for _, p := range phrases {
		var kept []string
		for _, w := range strings.Fields(p) {
			if !slices.Contains(fillers, w) {
				kept = append(kept, w)
			}
		}
		out = append(out, strings.Join(kept, " "))
	}
	return out
}

var (
	stopPhrases  = strip(stopWords)
	startPhrases = strip(startWords)
)

// Classify reads a typed message.
func Classify(text string) Keyword {
	words := textutil.Words(text)
	if len(words) == 0 || len(words) > 8 {
		return None
	}
	var core []string
	all := false
	for _, w := range words {
		switch {
		case slices.Contains(allWords, w):
			all = true
		case slices.Contains(fillers, w):
		default:
			core = append(core, w)
		}
	}
	phrase := strings.Join(core, " ")
	switch {
	case phrase == "":
		return None
	case slices.Contains(stopPhrases, phrase):
		if all {
			return StopAll
		}
		return Stop
	case all:
		return None // "start all", "help all": not a command
	case slices.Contains(startPhrases, phrase):
		return Start
	case slices.Contains(helpWords, phrase) && len(words) <= 3:
		return Help
	}
	return None
}
