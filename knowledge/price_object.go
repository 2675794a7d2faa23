package knowledge

import (
	_ "embed"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Price qualifiers. An entity says what service a price question is about
// (an X-ray); a qualifier says which one (of the shoulder). The passage
// must price the variant asked about, not a sibling: see
// lexicon/qualifiers.yaml.

//go:embed lexicon/qualifiers.yaml
var qualifiersYAML []byte

// qualifierTerms are the analyzed terms of the qualifier words per
// language, built once per analyzer.
type qualifierTerms struct {
	once  sync.Once
	terms map[string]map[string]bool // lang -> qualifier term
	heads map[string]map[string]bool // lang -> service word term
}

func (a *Analyzer) qualifiers(lang string) (quals, heads map[string]bool) {
	a.qual.once.Do(func() {
		var file struct {
			En    []string            `yaml:"en"`
			Es    []string            `yaml:"es"`
			Heads map[string][]string `yaml:"heads"`
		}
		if err := yaml.Unmarshal(qualifiersYAML, &file); err != nil {
			panic(err) // the embedded file is tested
		}
		a.qual.terms = map[string]map[string]bool{"en": a.termsOf(file.En, "en", true), "es": a.termsOf(file.Es, "es", true)}
		a.qual.heads = map[string]map[string]bool{}
		for l, ws := range file.Heads {
			a.qual.heads[l] = a.termsOf(ws, l, false)
		}
	})
	return a.qual.terms[lang], a.qual.heads[lang]
}

// termsOf analyzes words in lang; with plainOnly it keeps only the terms
// that are neither entities nor lexicon concepts (those have rules of
// their own).
func (a *Analyzer) termsOf(words []string, lang string, plainOnly bool) map[string]bool {
	set := map[string]bool{}
	for _, w := range words {
		for _, t := range a.Analyze(w, lang) {
			if _, isEntity := a.entities[t.Term]; plainOnly && (isEntity || a.concepts[t.Term]) {
				continue
			}
			set[t.Term] = true
		}
	}
	return set
}

// priceQualifiers are the question's qualifier terms when it asks for a
// price (nil otherwise).
func (qi *queryInfo) priceQualifiers() []queryTerm {
	asks := false
	for _, f := range qi.figures {
		if f == FigurePrice {
			asks = true
		}
	}
	if !asks {
		return nil
	}
	set, heads := qi.analyzer.qualifiers(qi.lang)
	var out []queryTerm
	named := false
	for _, t := range qi.terms {
		if t.context {
			continue
		}
		if set[t.term] {
			out = append(out, t)
		}
		class, _ := qi.analyzer.Entity(t.term)
		named = named || heads[t.term] || class == "test" || class == "procedure" || class == "vaccine"
	}
	if !named {
		return nil
	}
	return out
}

// qualifiersUnpriced returns the qualifiers the passage prices no variant
// for: nil when one price sentence (its heading as context) names them all,
// or names no variant at all (a price for the service in general: "MRI with
// and without contrast: $950" prices a head MRI with and without contrast);
// otherwise every price sentence is a sibling's ("A chest X-ray costs $90"
// for a shoulder X-ray, the flu shot's price for a B12 shot).
func qualifiersUnpriced(a *Analyzer, qi *queryInfo, quals []queryTerm, heading, text, lang string) []string {
	if len(quals) == 0 {
		return nil
	}
	// An English question against a Spanish passage (a translation ranked
	// first): the passage is read in English through the glossary, so
	// "radiografía de tórax" is a chest X-ray, not a price without a variant.
	translate := lang == "es" && qi.lang == "en"
	if translate {
		lang = "en"
	}
	analyze := func(s string) map[string]bool {
		if translate {
			s = SpanishGlossary().Translate(s)
		}
		return termSet(a.Analyze(s, lang))
	}
	head := analyze(heading)
	asked := map[string]bool{}
	for _, t := range qi.terms {
		asked[t.term] = true
	}
	known, heads := a.qualifiers(lang)
	var services []string // the question's service words: a price sentence must be about one
	for _, t := range qi.terms {
		if class, _ := a.Entity(t.term); heads[t.term] || class == "test" || class == "procedure" || class == "vaccine" {
			services = append(services, t.term)
		}
	}
	var best []string
	found := false
	for _, s := range passageSentences(text) {
		terms := analyze(s)
		if !terms[FigurePrice] && !freeRe(s) {
			continue
		}
		if !namesOneOf(services, terms, head) {
			continue // another service's price ("Urine test: $12" for a B12 shot)
		}
		var miss []string
		for _, t := range quals {
			if !terms[t.term] && !head[t.term] {
				miss = append(miss, t.term)
			}
		}
		if len(miss) == 0 || !namesOtherVariant(a, terms, asked, known) {
			return nil
		}
		if !found || len(miss) < len(best) {
			best, found = miss, true
		}
	}
	if !found {
		for _, t := range quals {
			best = append(best, t.term)
		}
	}
	return best
}

func namesOneOf(ts []string, sets ...map[string]bool) bool {
	for _, t := range ts {
		for _, set := range sets {
			if set[t] {
				return true
			}
		}
	}
	return false
}

// namesOtherVariant reports whether a sentence names a qualifier or a test,
// procedure or vaccine the question does not: then its price is that
// variant's.
func namesOtherVariant(a *Analyzer, terms, asked, qualifiers map[string]bool) bool {
	for t := range terms {
		if asked[t] {
			continue
		}
		if qualifiers[t] {
			return true
		}
		if class, ok := a.Entity(t); ok && (class == "test" || class == "procedure" || class == "vaccine") {
			return true
		}
	}
	return false
}
