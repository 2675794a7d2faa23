// Package lang guesses whether a short patient message is English or
// Spanish, conservatively: it answers only when the message's common words
// clearly say so, because switching a patient's language by mistake is worse
// than not switching.
package lang

import (
	"github.com/tend-health/tend/internal/textutil"
)

// Words that are frequent in one language and rare in the other.
var markers = map[string]map[string]bool{
	"es": set("hola", "gracias", "buenos", "buenas", "dias", "tardes", "noches", "por", "favor", "que", "como",
		"cuanto", "cuanta", "cuesta", "cuando", "donde", "quiero", "necesito", "puedo", "tengo", "tiene", "tienen",
		"mi", "mis", "el", "la", "los", "las", "es", "esta", "estoy", "para", "con", "una", "uno", "del", "al",
		"seguro", "cita", "medico", "doctora", "precio", "costo", "aceptan", "ustedes", "usted", "hablar",
		"persona", "ayuda", "si", "sin", "pero", "porque", "hay", "son", "muy", "tambien", "ahora", "hoy",
		"manana", "semana", "vacuna", "receta", "pagar", "dolor", "pecho", "estan", "puede", "le", "lo", "me", "se",
		"espanol", "quisiera", "gripe", "consulta", "clinica"),
	"en": set("hello", "hi", "thanks", "thank", "please", "what", "how", "much", "when", "where", "want", "need",
		"can", "have", "has", "my", "the", "is", "are", "for", "with", "to", "of", "and", "does", "do", "you",
		"insurance", "appointment", "doctor", "price", "cost", "accept", "talk", "person", "help", "yes", "but",
		"because", "there", "very", "also", "now", "today", "tomorrow", "week", "shot", "refill", "pay", "pain",
		"i", "im", "it", "a", "an", "your", "get", "should", "will", "would", "could", "visit", "english", "take"),
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// Detect returns "en" or "es" when the text clearly reads as one of them,
// and "" when it cannot tell (too short, mixed, names, numbers).
func Detect(text string) string {
	words := textutil.Words(text)
	var es, en int
	for _, w := range words {
		if markers["es"][w] {
			es++
		}
		if markers["en"][w] {
			en++
		}
	}
	switch {
	case es >= 1 && en == 0 && (es >= 2 || len(words) <= 2):
		return "es"
	case en >= 1 && es == 0 && (en >= 2 || len(words) <= 2):
		return "en"
	case es >= 3 && es >= 3*en:
		return "es"
	case en >= 3 && en >= 3*es:
		return "en"
	}
	return ""
}
