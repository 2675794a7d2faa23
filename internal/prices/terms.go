package prices

import (
	"regexp"
	"slices"
	"strings"

	"github.com/tend-health/tend/internal/textutil"
	"github.com/tend-health/tend/knowledge"
)

// Descriptions and questions go through the knowledge base's analyzer
// (stems, synonyms: "dye" is "contrast"), after the few rewrites below,
// applied to both sides alike, for how files and patients name things
// differently.

type rewrite struct {
	re *regexp.Regexp
	to string
}

func rw(pattern, to string) rewrite { return rewrite{regexp.MustCompile(pattern), to} }

// rewrites run on normalized text (lower case, accents folded). Negation
// is kept as one word, "without", since the analyzer drops "no" as a stop
// word and "MRI (no contrast)" is not "MRI with contrast".
var rewrites = []rewrite{
	rw(`\b(no|without|w/o|wo|sin|non)\b`, "without"),
	rw(`\ber\b`, "emergency room"),
	rw(`\bc ?section\b`, "cesarean section"),
	rw(`\bbmp\b`, "basic metabolic panel"),
}

// spanish are words the bundled glossary leaves in Spanish that price
// lists use (the glossary is for the clinic's documents).
var spanish = map[string]string{
	"cesarea": "cesarean", "reemplazo": "replacement", "reparacion": "repair", "metabolico": "metabolic",
	"basico": "basic", "aspirina": "aspirin", "cama": "bed", "nivel": "level", "rodilla": "knee",
	"observacion": "observation", "habitacion": "room", "cuarto": "room", "marcapasos": "pacemaker",
	"cerebro": "brain", "cadera": "hip", "inguinal": "inguinal", "quirurgica": "surgical", "medica": "medical",
	"trasplante": "transplant", "corazon": "heart", "conductual": "behavioral", "residencial": "residential",
	"crema": "cream", "capsula": "capsule", "capsulas": "capsule", "inyeccion": "injection", "tableta": "tablet",
}

// costWords are the analyzer's terms for asking a price, not for naming
// the thing priced.
var costWords = map[string]bool{"cost": true, "charg": true, "charge": true, "pay": true, "fee": true, "price": true,
	"bill": true, "much": true, "estim": true, "estimate": true, "rate": true, "negoti": true, "cash": true, "self": true,
	"insur": true, "insurance": true, "plan": true, "cover": true, "coverage": true, "code": true, "servic": true,
	"service": true, "procedur": true, "procedure": true, "get": true, "need": true, "want": true, "like": true}

func normalizeText(s, lang string) string {
	s = textutil.Normalize(s)
	if lang == "es" {
		s = knowledge.SpanishGlossary().Translate(s)
		words := strings.Fields(s)
		for i, w := range words {
			if en, ok := spanish[w]; ok {
				words[i] = en
			}
		}
		s = strings.Join(words, " ")
	}
	for _, r := range rewrites {
		s = r.re.ReplaceAllString(s, r.to)
	}
	return s
}

// descriptionTerms are the indexed terms of an item's description.
func (c *Catalog) descriptionTerms(desc string) string {
	return strings.Join(dedupe(c.termsOf(desc, "en")), " ")
}

func (c *Catalog) termsOf(text, lang string) []string {
	var out []string
	for _, t := range c.an.Analyze(normalizeText(text, lang), "en") {
		if strings.HasPrefix(t.Term, "fig") && t.Term == t.Raw {
			continue // a figure marker
		}
		out = append(out, t.Term)
	}
	return out
}

func dedupe(ts []string) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// queryTerms are what a question names: its terms without the words of
// asking a price and without the words of the payers' and plans' names
// (those pick the plan, not the item).
func (c *Catalog) queryTerms(question, lang string, payers []Payer) []string {
	payerWords := map[string]bool{}
	for _, p := range payers {
		for _, t := range c.termsOf(p.Payer+" "+p.Plan, "en") {
			payerWords[t] = true
		}
	}
	var out []string
	for _, t := range dedupe(c.termsOf(question, lang)) {
		if costWords[t] || payerWords[t] || isDigits(t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

func isDigits(s string) bool { return s != "" && digits(s) }
