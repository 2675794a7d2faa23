package triage

import (
	"crypto/sha256"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Matcher is a compiled rules file. It is safe for concurrent use.
type Matcher struct {
	vocab    *vocab
	concepts [][][]int        // concept -> phrases -> word ids
	starts   map[int][]phrRef // first word id -> phrases starting with it
	filler   int              // concept ids
	breaks   int
	cues     []cue
	cats     []category
	langs    []langMarkers
	window   int
	// fingerprint identifies the rules compiled (a hash of the file): the
	// detector reuses a message's analysis when a clinic's rules are the
	// built-in ones.
	fingerprint [32]byte
}

type phrRef struct{ concept, phrase int }

type cue struct {
	name          string
	role          string
	before, after int
	gap           string
	concept       int
	// takenBackBy lists the affirming cues that take this doubt back
	// (indexes into Matcher.cues); empty: every affirming cue.
	takenBackBy []int
}

type category struct {
	id, kind, reply string
	cues            []int // indexes into Matcher.cues
	unless          exclusion
	rules           []rule
}

type rule struct {
	groups   [][]int // concept ids per part
	within   int
	ordered  bool
	question bool
	unless   exclusion
}

// exclusion is a compiled Unless; concept -1 means none.
type exclusion struct {
	concept int
	within  int
}

type langMarkers struct {
	code    string
	concept int
}

// Compile builds a Matcher from a validated file.
func Compile(f *File) *Matcher {
	m := &Matcher{vocab: newVocab(f.Settings.Typos), starts: map[int][]phrRef{}, window: f.Settings.Window}
	if data, err := json.Marshal(f); err == nil {
		m.fingerprint = sha256.Sum256(data)
	}
	lex := map[string]int{}
	for _, name := range slices.Sorted(maps.Keys(f.Lexicon)) {
		lex[name] = m.concept(f.Lexicon[name], true)
	}
	m.filler = m.contextConcept(f.Context.Filler)
	m.breaks = m.contextConcept(f.Context.Breaks)
	cueIdx := map[string]int{}
	for _, c := range f.Context.Cues {
		cueIdx[c.Name] = len(m.cues)
		m.cues = append(m.cues, cue{name: c.Name, role: c.Role, before: c.Before, after: c.After, gap: c.Gap,
			concept: m.contextConcept(c.Phrases)})
	}
	for i, c := range f.Context.Cues {
		for _, name := range c.TakenBackBy {
			m.cues[i].takenBackBy = append(m.cues[i].takenBackBy, cueIdx[name])
		}
	}
	for _, code := range slices.Sorted(maps.Keys(f.Languages)) {
		m.langs = append(m.langs, langMarkers{code: code, concept: m.concept(Phrases{code: f.Languages[code].Markers}, false)})
	}
	// Emergencies are always looked for first, whatever the file's order.
	for _, kind := range []string{KindEmergency, KindAdvice} {
		for _, c := range f.Categories {
			if c.Kind != kind {
				continue
			}
			cat := category{id: c.ID, kind: c.Kind, reply: c.Reply, unless: m.exclusion(c.Unless)}
			for _, name := range c.Context {
				cat.cues = append(cat.cues, cueIdx[name])
			}
			for _, r := range c.Rules {
				cr := rule{within: r.Within, ordered: r.Ordered, question: r.Question, unless: m.exclusion(r.Unless)}
				if cr.within == 0 {
					cr.within = m.window
				}
				for _, g := range r.All {
					var ids []int
					var inline []string
					for _, term := range g {
						if name, ok := strings.CutPrefix(term, "@"); ok {
							ids = append(ids, lex[name])
						} else {
							inline = append(inline, term)
						}
					}
					if len(inline) > 0 {
						ids = append(ids, m.concept(Phrases{"": inline}, true))
					}
					cr.groups = append(cr.groups, ids)
				}
				cat.rules = append(cat.rules, cr)
			}
			m.cats = append(m.cats, cat)
		}
	}
	return m
}

func (m *Matcher) exclusion(u *Unless) exclusion {
	if u == nil {
		return exclusion{concept: -1}
	}
	return exclusion{concept: m.contextConcept(u.Phrases), within: u.Within}
}

// concept registers a set of phrases (all languages together) and returns
// its id; typos says whether misspellings of its words count.
func (m *Matcher) concept(p Phrases, typos bool) int { return m.conceptOf(p, typos, false) }

// contextConcept registers context words (cues, filler, breaks, unless):
// matched exactly, with "#" also matching a count written as a word.
func (m *Matcher) contextConcept(p Phrases) int { return m.conceptOf(p, false, true) }

func (m *Matcher) conceptOf(p Phrases, typos, counts bool) int {
	id := len(m.concepts)
	var phrases [][]int
	for _, lang := range slices.Sorted(maps.Keys(p)) {
		for _, ph := range p[lang] {
			words := phraseWords(ph)
			ids := make([]int, len(words))
			for i, w := range words {
				if counts && w.text == anyNumber && !w.prefix {
					w.text = anyCount
				}
				ids[i] = m.vocab.add(w, typos)
			}
			m.starts[ids[0]] = append(m.starts[ids[0]], phrRef{concept: id, phrase: len(phrases)})
			phrases = append(phrases, ids)
		}
	}
	m.concepts = append(m.concepts, phrases)
	return id
}

// span is an occurrence of a phrase: tokens start..end inclusive.
type span struct{ start, end int }

// analysis is one message as the rules see it.
type analysis struct {
	m      *Matcher
	toks   []token
	occ    [][]span // per concept, sorted by start
	filler []bool
	breaks []bool
}

func (m *Matcher) analyze(text string) *analysis { return m.analyzeWith(text, nil, nil) }

// phraseText is a compiled phrase as normalized text ("word*" for a stem).
func (m *Matcher) phraseText(r phrRef) string {
	ids := m.concepts[r.concept][r.phrase]
	parts := make([]string, len(ids))
	for i, id := range ids {
		w := m.vocab.words[id]
		parts[i] = w.text
		if w.text == anyCount {
			parts[i] = anyNumber
		}
		if w.prefix {
			parts[i] += "*"
		}
	}
	return strings.Join(parts, " ")
}

// phraseMask leaves phrases out of an analysis, as if the file did not have
// them (the fit's leave-one-out over the word lists, fit.go).
type phraseMask map[phrRef]bool

// analyzeWith is analyze with the phrases in skip left out; seen, when not
// nil, is told of every phrase found.
func (m *Matcher) analyzeWith(text string, skip phraseMask, seen func(phrRef)) *analysis {
	return m.analyzeTokens(tokenize(text), skip, seen)
}

// analyzeTokens is analyzeWith on a message already tokenized (the
// detector reads one message with several matchers; toks is not changed).
func (m *Matcher) analyzeTokens(toks []token, skip phraseMask, seen func(phrRef)) *analysis {
	a := &analysis{m: m, toks: toks, occ: make([][]span, len(m.concepts))}
	cache := map[string][]int{}
	words := make([][]int, len(a.toks))
	for i, t := range a.toks {
		ids, ok := cache[t.text]
		if !ok {
			ids = m.vocab.lookup(t.text)
			cache[t.text] = ids
		}
		words[i] = ids
	}
	for i := range a.toks {
		for _, w := range words[i] {
			for _, ref := range m.starts[w] {
				ph := m.concepts[ref.concept][ref.phrase]
				if i+len(ph) > len(a.toks) || !phraseAt(words, i, ph) || skip[ref] ||
					a.toks[i+len(ph)-1].clause != a.toks[i].clause {
					continue // a phrase never spans a clause break ("Sí, me duele" is not "si me")
				}
				if seen != nil {
					seen(ref)
				}
				s := span{i, i + len(ph) - 1}
				occ := a.occ[ref.concept]
				if n := len(occ); n > 0 && occ[n-1].start == s.start {
					occ[n-1].end = max(occ[n-1].end, s.end) // keep the longest phrase at a start
					continue
				}
				a.occ[ref.concept] = append(occ, s)
			}
		}
	}
	a.filler = a.mark(m.filler)
	a.breaks = a.mark(m.breaks)
	return a
}

func phraseAt(words [][]int, i int, ph []int) bool {
	for k, w := range ph {
		if !slices.Contains(words[i+k], w) {
			return false
		}
	}
	return true
}

func (a *analysis) mark(concept int) []bool {
	out := make([]bool, len(a.toks))
	for _, s := range a.occ[concept] {
		for i := s.start; i <= s.end; i++ {
			out[i] = true
		}
	}
	return out
}

// language is the language with the most marker words, "" on a tie.
func (a *analysis) language() string {
	best, bestN, tie := "", 0, false
	for _, l := range a.m.langs {
		n := len(a.occ[l.concept])
		switch {
		case n > bestN:
			best, bestN, tie = l.code, n, false
		case n == bestN && n > 0:
			tie = true
		}
	}
	if tie {
		return ""
	}
	return best
}
