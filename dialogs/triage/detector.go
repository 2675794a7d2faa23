package triage

import (
	"fmt"
	"sync"
)

// Detector is the whole triage decision: the reviewed rules file first
// (the clinic's contract), then the concept detector (concept.go) for
// emergencies the word lists do not foresee. A concept rule marked
// possible gives a possible emergency: the emergency guidance first, then
// one question, "is this happening now?".
type Detector struct {
	rules    *Matcher
	concepts *conceptDetector
}

var (
	builtinConceptsOnce sync.Once
	builtinConceptsDet  *conceptDetector
	builtinConceptsErr  error
)

// NewDetector returns a detector over compiled rules and the built-in
// concepts (which use the built-in rules' context cues, whatever rules
// file the clinic uses).
func NewDetector(m *Matcher) *Detector {
	builtinConceptsOnce.Do(func() {
		f, err := Builtin()
		if err != nil {
			builtinConceptsErr = err
			return
		}
		builtinConceptsDet, builtinConceptsErr = parseConcepts(builtinConcepts, f)
	})
	if builtinConceptsErr != nil {
		// The embedded files are tested; this is a build that broke them.
		panic(fmt.Sprintf("triage: built-in concepts: %v", builtinConceptsErr))
	}
	return &Detector{rules: m, concepts: builtinConceptsDet}
}

// ConceptCategory is the category reported for a concept-detector match.
const ConceptCategory = "concept"

// Classify decides one message. The rules' emergency categories come
// first; then the concept rules; then the rules' advice categories.
func (d *Detector) Classify(text string) Result {
	r := d.rules.Classify(text)
	if r.Kind == KindEmergency {
		return r
	}
	s, a := d.concepts.fill(text)
	if c, k, ok := d.concepts.decide(s); ok {
		lang := r.Lang
		if lang == "" {
			lang = a.language()
		}
		return Result{Kind: KindEmergency, Category: ConceptCategory + ":" + c.name, Reply: c.reply, Rule: k, Lang: lang,
			Possible: c.possible}
	}
	return r
}

// Explain lists the concept slots a message fills (for tests and `tend
// triage test`); it never includes the message's words.
func (d *Detector) Explain(text string) string {
	s, _ := d.concepts.fill(text)
	return d.concepts.explain(s)
}
