package knowledge

import (
	"strings"
)

// Price attribution. A question asking what something costs ("how much is
// the pneumonia vaccine?") is answered only by a passage that states a
// price for that thing: a passage that names the pneumonia vaccine in one
// sentence and the Tdap booster's $50 in another would quote a price
// nobody asked about. A passage states a price for a thing when one
// sentence (or list item) names the thing and a price, or says it is free.

// priceEntities are the entities whose price a question asks for: those
// of the hard classes (services, tests, vaccines, ...), not the insurance
// plan or a drug mentioned along the way.
func (qi *queryInfo) priceEntities() []queryEntity {
	asks := false
	for _, f := range qi.figures {
		if f == FigurePrice {
			asks = true
		}
	}
	if !asks {
		return nil
	}
	var out []queryEntity
	for _, e := range qi.entities {
		if class, _ := qi.analyzer.Entity(e.term); hardClasses[class] && class != "insurance" {
			out = append(out, e)
		}
	}
	return out
}

// pricedFor reports whether some sentence of the passage names the entity
// and states a price. The passage's heading counts as a sentence of its
// own and as context of every sentence ("How much is a flu shot?" then
// "It costs $30.").
func pricedFor(a *Analyzer, e queryEntity, heading, text, lang string) bool {
	headTerms := termSet(a.Analyze(heading, lang))
	headNames := headTerms[e.term]
	for _, s := range passageSentences(text) {
		terms := termSet(a.Analyze(s, lang))
		if !terms[FigurePrice] && !freeRe(s) {
			continue
		}
		if terms[e.term] || (headNames && !namesOtherEntity(a, terms, e.term)) {
			return true
		}
	}
	return false
}

// namesOtherEntity reports whether a sentence names an entity other than
// term of the same class (then its price is that one's).
func namesOtherEntity(a *Analyzer, terms map[string]bool, term string) bool {
	class, _ := a.Entity(term)
	for t := range terms {
		if c, ok := a.Entity(t); ok && c == class && t != term {
			return true
		}
	}
	return false
}

func termSet(toks []Token) map[string]bool {
	m := make(map[string]bool, len(toks))
	for _, t := range toks {
		m[t.Term] = true
	}
	return m
}

// passageSentences splits a passage into sentences and list items.
func passageSentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		start := 0
		for i := 0; i+1 < len(line); i++ {
			if (line[i] == '.' || line[i] == '!' || line[i] == '?' || line[i] == ';') && line[i+1] == ' ' {
				out = append(out, line[start:i+1])
				start = i + 2
			}
		}
		if start < len(line) {
			out = append(out, line[start:])
		}
	}
	return out
}

var freeWords = []string{"free", "no charge", "no cost", "at no cost", "costs you nothing", "cost you nothing",
	"costs nothing", "without charge", "gratis", "sin costo", "no cuesta", "no le cuesta", "no cobramos"}

// freeRe reports a sentence saying something costs nothing.
func freeRe(s string) bool {
	n := " " + strings.ToLower(s) + " "
	for _, w := range freeWords {
		if strings.Contains(n, " "+w+" ") || strings.Contains(n, " "+w+".") || strings.Contains(n, " "+w+",") {
			return true
		}
	}
	return false
}

// priceCandidates is how many of the best passages are checked for a
// price of the thing asked about.
const priceCandidates = 5

// attributePrices marks, among the best passages, those that do not state
// a price for the thing whose price is asked (Signals.Conflict), and moves
// the first one that does to the front when the first does not: of two
// passages about vaccines, the one with the pneumonia vaccine's price
// answers "how much is the pneumonia vaccine?".
func (b *Base) attributePrices(results []Result, qi *queryInfo) {
	n := min(len(results), priceCandidates)
	ok := make([]bool, n)
	any := false
	for i := 0; i < n; i++ {
		r := &results[i]
		q := qi.forPassage(r.Language)
		ents := q.priceEntities()
		quals := q.priceQualifiers()
		if len(ents) == 0 && len(quals) == 0 {
			return // no price of a named thing is asked for
		}
		ok[i] = true
		for _, e := range ents {
			if !pricedFor(b.analyzer, e, r.Heading, r.Text, r.Language) {
				ok[i] = false
				r.Signals.Conflict = true
				r.Signals.Unpriced = append(r.Signals.Unpriced, e.term)
			}
		}
		if missing := qualifiersUnpriced(b.analyzer, q, quals, r.Heading, r.Text, r.Language); len(missing) > 0 {
			ok[i] = false
			r.Signals.Conflict = true
			r.Signals.Unpriced = append(r.Signals.Unpriced, missing...)
		}
		any = any || ok[i]
	}
	if ok[0] || !any {
		return
	}
	for i := 1; i < n; i++ {
		if ok[i] {
			first := results[i]
			copy(results[1:i+1], results[:i])
			results[0] = first
			return
		}
	}
}
