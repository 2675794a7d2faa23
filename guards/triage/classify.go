package triage

import (
	"slices"
	"sort"
)

// Result is what the rules make of one message.
type Result struct {
	// Kind is KindEmergency, KindAdvice or "" (nothing to do).
	Kind string
	// Category is the matching category's id; Reply its reply.
	Category string
	Reply    string
	// Rule is the index of the matching rule within its category.
	Rule int
	// Lang is the language the message seems written in ("" if unclear).
	Lang string
	// Possible marks a possible emergency (Kind is KindEmergency): the
	// emergency guidance is given and the patient is asked whether it is
	// happening now.
	Possible bool
	// CrisisLine: an emergency (911) reply to a message with a self-harm
	// concept (a means, hopelessness, a farewell, a lethal amount) also
	// gives the crisis line, so that whichever reply the detector chose, a
	// person in a suicidal crisis is given 988 (docs/triage.md).
	CrisisLine bool
}

// maxCombos bounds the search for one rule in one message, so that a
// pathological message (the same words thousands of times) stays cheap.
const maxCombos = 20000

// Classify applies the rules to a message. Emergency categories are tried
// first; the first matching category wins.
func (m *Matcher) Classify(text string) Result { return m.classify(m.analyze(text)) }

// classify applies the rules to an analyzed message.
func (m *Matcher) classify(a *analysis) Result {
	if len(a.toks) == 0 {
		return Result{}
	}
	for i := range m.cats {
		c := &m.cats[i]
		for j := range c.rules {
			if a.matchRule(c, &c.rules[j]) {
				return Result{Kind: c.kind, Category: c.id, Reply: c.reply, Rule: j, Lang: a.language()}
			}
		}
	}
	return Result{}
}

// search is the state of one rule's search for a combination of its parts.
type search struct {
	a      *analysis
	cat    *category
	r      *rule
	parts  [][]span // occurrences per part
	chosen []span
	budget int
	raw    bool
}

func (a *analysis) matchRule(c *category, r *rule) bool { return a.matchRuleWith(c, r, false) }

// matchRuleWith is matchRule; raw ignores the context cues and the unless
// words (the rule's words are there, whatever they mean).
func (a *analysis) matchRuleWith(c *category, r *rule, raw bool) bool {
	s := &search{a: a, cat: c, r: r, parts: make([][]span, len(r.groups)), chosen: make([]span, len(r.groups)), budget: maxCombos,
		raw: raw}
	for i, g := range r.groups {
		s.parts[i] = a.union(g)
		if len(s.parts[i]) == 0 {
			return false
		}
	}
	return s.try(0, -1, -1)
}

// union merges the occurrences of several concepts, sorted by start.
func (a *analysis) union(concepts []int) []span {
	if len(concepts) == 1 {
		return a.occ[concepts[0]]
	}
	var out []span
	for _, c := range concepts {
		out = append(out, a.occ[c]...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// try picks an occurrence for part i, keeping the whole within the rule's
// window (lo..hi are the tokens covered so far), and checks the context
// once every part has one.
func (s *search) try(i, lo, hi int) bool {
	if i == len(s.parts) {
		s.budget--
		if s.r.question && !s.a.inQuestion(s.chosen) {
			return false
		}
		return s.raw || s.a.inContext(s.cat, s.r, s.chosen, lo, hi)
	}
	occ := s.parts[i]
	from := 0
	if lo >= 0 {
		// Occurrences starting before hi-within+1 cannot fit.
		first := hi - s.r.within + 1
		from = sort.Search(len(occ), func(k int) bool { return occ[k].start >= first })
	}
	for k := from; k < len(occ) && s.budget > 0; k++ {
		o := occ[k]
		if lo >= 0 && o.start > lo+s.r.within-1 {
			break
		}
		if s.r.ordered && i > 0 && o.start <= s.chosen[i-1].end {
			continue
		}
		// An emergency rule's parts are one statement: they stand in one
		// sentence ("... no pain, vision fine. Do I need drops?" is not an
		// eye and drops). An advice question may follow its symptom ("a
		// rash on my arm. what cream?").
		if i > 0 && s.cat.kind == KindEmergency && s.a.toks[o.start].sentence != s.a.toks[s.chosen[0].start].sentence {
			continue
		}
		nlo, nhi := o.start, o.end
		if lo >= 0 {
			nlo, nhi = min(lo, o.start), max(hi, o.end)
		}
		if nhi-nlo+1 > s.r.within {
			continue
		}
		s.chosen[i] = o
		if s.try(i+1, nlo, nhi) {
			return true
		}
	}
	return false
}

// inContext checks a candidate match against the exclusions and the
// category's context cues.
func (a *analysis) inContext(c *category, r *rule, parts []span, lo, hi int) bool {
	if a.excluded(c.unless, parts, lo, hi) || a.excluded(r.unless, parts, lo, hi) {
		return false
	}
	covered := func(i int) bool {
		for _, p := range parts {
			if i >= p.start && i <= p.end {
				return true
			}
		}
		return false
	}
	var doubts []span
	var doubters []*cue
	for _, ci := range c.cues {
		cu := &a.m.cues[ci]
		if cu.role == RoleAffirms {
			continue
		}
		o, ok := a.cueNear(cu, parts, covered)
		if !ok {
			continue
		}
		if cu.role == RoleNegates {
			return false
		}
		doubts = append(doubts, o)
		doubters = append(doubters, cu)
	}
	if len(doubts) == 0 {
		return true
	}
	// Where an affirming and a doubting phrase overlap, the longer one is
	// meant: "fine now" doubts, "has had" affirms.
	notAffirm := func(o span) bool {
		if overlaps(o, covered) {
			return true
		}
		for _, d := range doubts {
			if o.start <= d.end && d.start <= o.end && d.end-d.start >= o.end-o.start {
				return true
			}
		}
		return false
	}
	// The affirming cues near the match; every doubt must be taken back by
	// one it allows (taken_back_by; none listed: any).
	var found []int
	for _, ci := range c.cues {
		cu := &a.m.cues[ci]
		if cu.role == RoleAffirms {
			if _, ok := a.cueNearSkipping(cu, parts, covered, notAffirm); ok {
				found = append(found, ci)
			}
		}
	}
	if len(found) == 0 {
		return false
	}
	for _, d := range doubters {
		if len(d.takenBackBy) == 0 {
			continue
		}
		ok := false
		for _, ci := range found {
			if slices.Contains(d.takenBackBy, ci) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// excluded reports an unless phrase near the match: within x.within words
// and in the same clause as a part, or anywhere when x.within is 0.
func (a *analysis) excluded(x exclusion, parts []span, lo, hi int) bool {
	if x.concept < 0 {
		return false
	}
	for _, u := range a.occ[x.concept] {
		if x.within == 0 {
			return true
		}
		if u.end < lo-x.within || u.start > hi+x.within {
			continue
		}
		for _, p := range parts {
			if a.toks[u.start].clause == a.toks[p.start].clause || a.toks[u.end].clause == a.toks[p.end].clause {
				return true
			}
		}
	}
	return false
}

// cueNear finds an occurrence of the cue close enough before or after one
// of the parts, in the same clause, with only the allowed words between.
// Words that are part of the match itself are never cues ("not" in "not
// breathing").
func (a *analysis) cueNear(cu *cue, parts []span, covered func(int) bool) (span, bool) {
	return a.cueNearSkipping(cu, parts, covered, func(o span) bool { return overlaps(o, covered) })
}

// cueNearSkipping is cueNear where skip says which cue occurrences do not count.
func (a *analysis) cueNearSkipping(cu *cue, parts []span, covered func(int) bool, skip func(span) bool) (span, bool) {
	occ := a.occ[cu.concept]
	if len(occ) == 0 {
		return span{}, false
	}
	for _, p := range parts {
		// before/after count words from the match: 1 is right next to it.
		first := sort.Search(len(occ), func(k int) bool { return occ[k].start >= p.start-cu.before-maxPhraseWords })
		for k := first; k < len(occ); k++ {
			o := occ[k]
			if o.start > p.end+cu.after {
				break
			}
			if skip(o) {
				continue
			}
			switch {
			case o.end < p.start && p.start-o.end <= cu.before:
				if a.sameScope(cu, o.end, p.start) && a.gapOK(cu, o.end+1, p.start-1, covered) {
					return o, true
				}
			case o.start > p.end && o.start-p.end <= cu.after:
				if a.sameScope(cu, p.end, o.start) && a.gapOK(cu, p.end+1, o.start-1, covered) {
					return o, true
				}
			}
		}
	}
	return span{}, false
}

// maxPhraseWords is how far back a cue's start is looked for; cues are short.
const maxPhraseWords = 8

func overlaps(o span, covered func(int) bool) bool {
	for i := o.start; i <= o.end; i++ {
		if covered(i) {
			return true
		}
	}
	return false
}

// inQuestion reports whether any part stands in a question.
func (a *analysis) inQuestion(parts []span) bool {
	for _, p := range parts {
		if a.toks[p.start].question {
			return true
		}
	}
	return false
}

func (a *analysis) sameClause(i, j int) bool { return a.toks[i].clause == a.toks[j].clause }

// sameScope is the same clause, or the same sentence for a cue with gap sentence.
func (a *analysis) sameScope(cu *cue, i, j int) bool {
	if cu.gap == GapSentence {
		return a.toks[i].sentence == a.toks[j].sentence
	}
	return a.sameClause(i, j)
}

// gapOK checks the words between a cue and the match.
func (a *analysis) gapOK(cu *cue, from, to int, covered func(int) bool) bool {
	for i := from; i <= to; i++ {
		if covered(i) || cu.gap == GapClause || cu.gap == GapSentence {
			continue
		}
		if a.breaks[i] || (cu.gap == GapFiller && !a.filler[i]) {
			return false
		}
	}
	return true
}

// takenBack reports whether an emergency category's words are in the
// message while its context takes every match back ("no chest pain, just
// a refill", "what are the signs of a stroke"), and whether the words of a
// crisis category (988) are in it at all: features of the learned
// detector and of its reply model.
func (m *Matcher) takenBack(a *analysis) (taken, crisisWords bool) {
	if len(a.toks) == 0 {
		return false, false
	}
	lastCrisis := -1
	for i := range m.cats {
		if m.cats[i].kind == KindEmergency && m.cats[i].reply == ReplyCrisis {
			lastCrisis = i
		}
	}
	for i := range m.cats {
		c := &m.cats[i]
		if c.kind != KindEmergency {
			continue
		}
		if taken && i > lastCrisis {
			break // nothing more to learn
		}
		raw, real := false, false
		for j := range c.rules {
			if a.matchRuleWith(c, &c.rules[j], true) {
				raw = true
				if a.matchRule(c, &c.rules[j]) {
					real = true
					break
				}
			}
		}
		if raw && !real {
			taken = true
		}
		if raw && c.reply == ReplyCrisis {
			crisisWords = true
		}
	}
	return taken, crisisWords
}
