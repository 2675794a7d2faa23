package askperson

import (
	"strings"

	"github.com/tend-health/tend/internal/textutil"
)

// A request for a person is told in two ways, and a question that only
// mentions staff is neither: "Can I pay cash at the front desk?", "Will
// someone call me if my labs are off?", "the HPV vaccine" ("virus del
// papiloma humano"), "is there a way to book without having to talk to
// someone?" are for the knowledge base, not for staff.
//
//   - requestPhrases say it in any message: "talk to a person", "call me
//     back", "hablar con alguien" (unless "without" or "sin" comes just
//     before: "without having to talk to someone");
//   - personWords say it only when the message says nothing else:
//     "agent", "front desk?", "human please", "una persona por favor". In
//     a longer message they are a place or a word ("the front desk gave
//     me a code", "my insurance agent").
var requestPhrases = []string{
	"talk to a person", "speak to a person", "talk to someone", "speak to someone", "talk to a human",
	"speak to a human", "talk to somebody", "speak to somebody", "talk to a real", "speak to a real",
	"speak with a person", "speak with someone", "talk with someone", "talk with a person",
	"real person", "live person", "live agent", "talk to an agent", "speak to an agent", "talk to staff",
	"speak to staff", "talk to the front desk", "speak to the front desk", "call me back", "please call me",
	"can someone call me", "could someone call me", "have someone call me", "can you call me", "could you call me",
	"can someone call", "person please", "human please", "transfer me", "connect me to", "connect me with",
	"put me through", "i want a person",
	"hablar con una persona", "hablar con alguien", "hablar con un humano", "hablar con una recepcionista",
	"hablar con recepcion", "hablar con el personal", "persona real", "llamenme", "que me llamen",
	"me pueden llamar", "me puede llamar", "comunicarme con alguien", "pasame con", "paseme con",
}

// personWords are requests only when the message says nothing else:
// every word of it is one of these or a requestFiller ("front desk
// please", "can i get an agent", "una persona por favor"); "front desk
// hours" asks for the hours.
var personWords = wordSet("person", "human", "agent", "representative", "operator", "receptionist", "front", "desk",
	"staff", "someone", "somebody", "call", "persona", "humano", "agente", "representante", "recepcion",
	"recepcionista", "alguien", "llamada")

var requestFiller = wordSet("a", "an", "the", "please", "pls", "plz", "can", "could", "i", "get", "have", "me", "my",
	"speak", "talk", "to", "with", "want", "need", "would", "like", "now", "real", "live", "yes", "hi", "hello",
	"una", "un", "con", "por", "favor", "quiero", "necesito", "hablar", "me", "la", "el", "puedo", "hola", "ahora")

func wordSet(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// turningWords before a request phrase turn it around: "without having
// to talk to someone", "sin hablar con nadie", "instead of calling".
var turningWords = wordSet("without", "sin", "instead")

// turningPairs do the same as two words: "I don't want to talk to anyone",
// "I'd rather not", "no quiero hablar con nadie".
var turningPairs = [][2]string{{"dont", "want"}, {"dont", "have"}, {"rather", "not"}, {"not", "have"}, {"no", "quiero"}}

// vaguePhrases name no one in particular ("I think I should talk to
// someone"): next to counselWords the someone is a counselor, and the
// message asks how to reach counseling, which the knowledge base answers
// (with its crisis line; triage has read the message before any dialog).
var vaguePhrases = map[string]bool{
	"talk to someone": true, "speak to someone": true, "talk to somebody": true, "speak to somebody": true,
	"speak with someone": true, "talk with someone": true, "hablar con alguien": true,
}

var counselWords = []string{"counseling", "counselling", "counselor", "counsellor", "therapy", "therapist", "mental health",
	"psychologist", "support group", "crisis line", "hotline", "consejeria", "consejero", "consejera", "terapia", "terapeuta",
	"psicologo", "psicologa", "salud mental", "grupo de apoyo"}

// AsksForPerson reports whether a patient's message asks to be put in touch
// with staff.
func AsksForPerson(text string) bool {
	norm := textutil.Normalize(text)
	words := strings.Fields(norm)
	if len(words) == 0 {
		return false
	}
	counsel := textutil.HasAny(norm, counselWords...)
	for _, p := range requestPhrases {
		if counsel && vaguePhrases[p] {
			continue
		}
		if at := phraseAt(words, strings.Fields(textutil.Normalize(p))); at >= 0 && !turnedAround(words, at) {
			return true
		}
	}
	person := false
	for _, w := range words {
		switch {
		case personWords[w]:
			person = true
		case !requestFiller[w]:
			return false
		}
	}
	return person
}

// phraseAt is the index of the first word of phrase in words, or -1.
func phraseAt(words, phrase []string) int {
	for i := 0; i+len(phrase) <= len(words); i++ {
		ok := true
		for j, w := range phrase {
			if words[i+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

// turnedAround reports a turning word or pair up to five words before
// index at.
func turnedAround(words []string, at int) bool {
	for i := max(0, at-5); i < at; i++ {
		if turningWords[words[i]] {
			return true
		}
		for _, p := range turningPairs {
			if i+1 < at && words[i] == p[0] && words[i+1] == p[1] {
				return true
			}
		}
	}
	return false
}
