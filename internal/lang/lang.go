// Package lang guesses whether a patient message is English or Spanish,
// conservatively: switching a patient's language by mistake is worse than
// not switching, so it answers only on a clear signal and "" otherwise.
package lang

import (
	"strings"

	"github.com/tend-health/tend/internal/textutil"
)

// Clear signals, in order:
//
//   - the patient names a language ("español", "in English please");
//   - a greeting or thanks that only one language uses ("hola", "gracias",
//     "thank you"), the usual first message;
//   - a message of at least minWords words whose common words belong to
//     one language only: at least two of its markers and none of the
//     other's, or three times as many.
//
// A short reply that reads in both languages ("a veces", "no", "ok",
// "Medicare", a name, a number) never switches: a Spanish survey answered
// "a veces" stays Spanish.
const minWords = 3

var names = map[string][]string{
	"es": {"espanol", "en espanol", "spanish", "in spanish", "castellano", "hablo espanol", "habla espanol"},
	"en": {"english", "in english", "ingles", "en ingles", "speak english", "english please"},
}

var greetings = map[string][]string{
	"es": {"hola", "gracias", "muchas gracias", "buenos dias", "buenas tardes", "buenas noches", "buen dia", "ayuda",
		"necesito ayuda", "por favor"},
	"en": {"hello", "thank you", "thanks", "good morning", "good afternoon", "good evening", "help", "i need help", "please"},
}

// Markers are common words of one language that the other does not use
// (words both use, like "a", "no", "me", "son", "con", "sin", are left out).
var markers = map[string]map[string]bool{
	"es": set("hola", "gracias", "buenos", "buenas", "dias", "tardes", "noches", "por", "favor", "que", "cuanto",
		"cuanta", "cuesta", "cuando", "donde", "quiero", "necesito", "puedo", "tengo", "tiene", "tienen", "mis", "el", "los",
		"las", "esta", "estoy", "para", "una", "uno", "del", "al", "seguro", "cita", "medico", "doctora", "precio",
		"costo", "aceptan", "ustedes", "usted", "hablar", "ayuda", "pero", "porque", "son", "muy", "tambien", "ahora",
		"hoy", "manana", "semana", "vacuna", "receta", "pagar", "dolor", "pecho", "estan", "puede", "quisiera", "gripe",
		"consulta", "clinica", "veces", "nunca", "siempre", "mucho", "poco", "bien", "mal", "tengo", "hay", "mi", "es",
		"de", "la", "y", "en", "como", "cual", "quien", "hijo", "hija", "mama", "papa", "esposo", "esposa"),
	"en": set("hello", "thanks", "thank", "please", "what", "how", "much", "when", "where", "want", "need",
		"can", "have", "has", "my", "the", "is", "are", "for", "with", "to", "of", "and", "does", "do", "you",
		"insurance", "appointment", "doctor", "price", "cost", "accept", "talk", "person", "help", "yes", "but",
		"because", "there", "very", "also", "now", "today", "tomorrow", "week", "shot", "refill", "pay", "pain",
		"i", "im", "it", "an", "your", "get", "should", "will", "would", "could", "visit", "english", "take",
		"sometimes", "never", "always", "often", "rarely", "usually", "this", "that", "which", "who", "why", "if"),
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// Detect returns "en" or "es" when the text clearly says which (see the
// clear signals above) and "" when it cannot tell.
func Detect(text string) string {
	norm := textutil.Normalize(text)
	if norm == "" {
		return ""
	}
	for _, l := range []string{"es", "en"} {
		if whole(norm, names[l]) || whole(norm, greetings[l]) {
			return l
		}
	}
	words := strings.Fields(norm)
	if len(words) < minWords {
		return ""
	}
	var es, en int
	for _, w := range words {
		if markers["es"][w] && !markers["en"][w] {
			es++
		}
		if markers["en"][w] && !markers["es"][w] {
			en++
		}
	}
	switch {
	case es >= 2 && en == 0, es >= 3 && es >= 3*en:
		return "es"
	case en >= 2 && es == 0, en >= 3 && en >= 3*es:
		return "en"
	}
	return ""
}

// whole reports whether the normalized text is one of the phrases,
// optionally followed or preceded by "please"/"por favor".
func whole(norm string, phrases []string) bool {
	norm = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(norm, "por favor "), " por favor"))
	norm = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(norm, "please "), " please"))
	for _, p := range phrases {
		if norm == p {
			return true
		}
	}
	return false
}
