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

// qualifiersUnpriced returns the qualifiers no price sentence of the
// passage names together (its heading counts as every sentence's
// context): nil when one sentence names them all.
func qualifiersUnpriced(a *Analyzer, quals []queryTerm, heading, text, lang string) []string {
	if len(quals) == 0 {
		return nil
	}
	head := termSet(a.Analyze(heading, lang))
	var best []string
	found := false
	for _, s := range passageSentences(text) {
		terms := termSet(a.Analyze(s, lang))
		if !terms[FigurePrice] && !freeRe(s) {
			continue
		}
		var miss []string
		for _, t := range quals {
			if !terms[t.term] && !head[t.term] {
				miss = append(miss, t.term)
			}
		}
		if len(miss) == 0 {
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
