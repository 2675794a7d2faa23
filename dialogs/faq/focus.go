package faq

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tend-health/tend/knowledge"
)

// Question-focused trimming. Most passages fit a chat message whole. A long
// one (a public-health FAQ answer of 2,000 characters) used to be cut after
// its first 900 characters, so "how long does the skin test take to read?"
// could get the paragraph about who needs the test and lose the sentence
// with "48 to 72 hours". A long passage now keeps its first sentence (what
// the entry is about), then the sentences that hold the question's words
// (rare words weigh most, and a sentence with a figure of the kind asked,
// a price for "how much", counts extra), then what fits in order; the
// sentences keep their order and "…" marks what was left out. Only the
// quoted passage's own sentences are shown: nothing is stitched from
// another entry.

// focusForChat shortens text to limit characters around what question
// asks (questionLang: the language it is written in).
func focusForChat(a *knowledge.Analyzer, question, questionLang, text, passageLang string, limit int) string {
	text = strings.TrimSpace(text)
	if a == nil || utf8.RuneCountInString(text) <= limit {
		return TrimForChat(text, limit)
	}
	if passageLang == "" {
		passageLang = "en"
	}
	if questionLang == "es" && passageLang != "es" {
		question = knowledge.SpanishGlossary().Translate(question)
	}
	want := map[string]float64{}
	for _, tok := range a.Analyze(question, passageLang) {
		want[tok.Term] = a.Specificity(tok.Term)
	}
	units := chatUnits(text)
	scores := make([]float64, len(units))
	any := false
	for i, u := range units {
		seen := map[string]bool{}
		for _, tok := range a.Analyze(u.text, passageLang) {
			if w, ok := want[tok.Term]; ok && !seen[tok.Term] {
				seen[tok.Term] = true
				scores[i] += w
			}
		}
		any = any || (i > 0 && scores[i] > 0)
	}
	if !any {
		return TrimForChat(text, limit)
	}
	keep := make([]bool, len(units))
	used := 0
	take := func(i int) bool {
		n := utf8.RuneCountInString(units[i].text)
		if keep[i] || used+n+2 > limit {
			return false
		}
		keep[i] = true
		used += n + 2 // room for a gap's " …"
		return true
	}
	if !take(0) {
		return TrimForChat(text, limit) // one enormous first sentence
	}
	order := make([]int, 0, len(units))
	for i := 1; i < len(units); i++ {
		if scores[i] > 0 {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(x, y int) bool { return scores[order[x]] > scores[order[y]] })
	for _, i := range order {
		take(i)
	}
	for i := 1; i < len(units); i++ { // what still fits, in order
		take(i)
	}
	return joinUnits(units, keep)
}

// chatUnit is a sentence or list item, and whether it starts a line.
type chatUnit struct {
	text      string
	lineStart bool
}

// chatUnits splits text into sentences, keeping line starts (list items
// and paragraphs).
func chatUnits(text string) []chatUnit {
	var out []chatUnit
	for _, line := range strings.Split(text, "\n") {
		first := true
		for _, s := range sentenceUnits(line) {
			if strings.TrimSpace(s) == "" {
				continue
			}
			out = append(out, chatUnit{text: strings.TrimSpace(s), lineStart: first})
			first = false
		}
	}
	return out
}

// joinUnits writes the kept units in order: a line break before a unit
// that starts a line, a space otherwise, and "…" where units were left out.
func joinUnits(units []chatUnit, keep []bool) string {
	var b strings.Builder
	gap := false
	for i, c := range units {
		if !keep[i] {
			gap = true
			continue
		}
		if b.Len() > 0 {
			if gap {
				b.WriteString(" …")
			}
			if c.lineStart {
				b.WriteString("\n")
			} else {
				b.WriteString(" ")
			}
		}
		b.WriteString(c.text)
		gap = false
	}
	if gap {
		b.WriteString(" …")
	}
	return b.String()
}
