package triage

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tend-health/tend/internal/textutil"
)

// maxRunes bounds the text read: the engine stores at most 16,000 runes of
// a message, and the guard's cost stays linear up to there.
const maxRunes = 16000

// minPrefix is the shortest stem a "word*" may have; shorter stems match
// too many unrelated words.
const minPrefix = 3

// maxFuzzyRunes: longer tokens are not typo-matched (they are not words).
const maxFuzzyRunes = 24

// token is one normalized word of the message and the clause it is in;
// context cues never reach across a clause (". , ; ? !" or a new line).
type token struct {
	text     string
	clause   int
	sentence int  // sentences end at ". ! ?" and a new line, not at "," ";" ":"
	question bool // the clause ends with "?" or starts with "¿"
}

// isClauseBreak reports the punctuation that ends a clause.
func isClauseBreak(r rune) bool {
	switch r {
	case '.', ',', ';', ':', '!', '?', '¡', '¿', '\n', '\r':
		return true
	}
	return false
}

// isSentenceBreak reports the punctuation that ends a sentence; cues with
// gap "sentence" reach across commas but not across these.
func isSentenceBreak(r rune) bool {
	switch r {
	case '.', '!', '?', '¡', '¿', '\n', '\r':
		return true
	}
	return false
}

// tokenize splits text into normalized words (see textutil.Normalize),
// numbering clauses as it goes.
func tokenize(text string) []token {
	if utf8.RuneCountInString(text) > maxRunes {
		text = string([]rune(text)[:maxRunes])
	}
	var toks []token
	clause, sentence, start, opened := 0, 0, 0, false
	flush := func(seg string, question bool) {
		first := len(toks)
		for _, w := range strings.Fields(textutil.Normalize(seg)) {
			toks = append(toks, token{text: w, clause: clause, sentence: sentence, question: question})
		}
		if len(toks) > first {
			clause++
		}
	}
	prev := ' '
	for i, r := range text {
		if !isClauseBreak(r) {
			prev = r
			continue
		}
		flush(text[start:i], opened || r == '?')
		opened = r == '¿'
		start = i + utf8.RuneLen(r)
		// "101.3" is a number, not the end of a sentence.
		if isSentenceBreak(r) && !(r == '.' && prev >= '0' && prev <= '9') && len(toks) > 0 && toks[len(toks)-1].sentence == sentence {
			sentence++
		}
		prev = r
	}
	flush(text[start:], opened)
	return toks
}

// anyNumber, written as a word of a phrase, matches any number ("# years
// ago", "hace # anos").
const anyNumber = "#"

// anyCount is anyNumber in a context phrase (cues, filler, breaks,
// unless): there it also matches a count written as a word ("two weeks
// ago", "hace dos semanas", "a few years ago"), which time expressions
// use as often as digits. In red-flag phrases and concept slots "#" stays
// digits only ("took #" is not "took one look").
const anyCount = "#count"

// countWords are the counts written as words that anyCount matches.
var countWords = map[string]bool{
	"one": true, "two": true, "three": true, "four": true, "five": true, "six": true, "seven": true, "eight": true,
	"nine": true, "ten": true, "eleven": true, "twelve": true, "fifteen": true, "twenty": true, "thirty": true,
	"forty": true, "fifty": true, "few": true, "couple": true, "several": true, "many": true,
	"un": true, "uno": true, "una": true, "dos": true, "tres": true, "cuatro": true, "cinco": true, "seis": true,
	"siete": true, "ocho": true, "nueve": true, "diez": true, "once": true, "doce": true, "quince": true,
	"veinte": true, "treinta": true, "unos": true, "unas": true, "varios": true, "varias": true, "muchos": true,
	"muchas": true,
}

// word is one word of a phrase: exact, or a stem when written "word*".
type word struct {
	text   string
	prefix bool
}

// phraseWords normalizes a phrase as written in the rules file.
func phraseWords(ph string) []word {
	var out []word
	for _, piece := range strings.Fields(ph) {
		if piece == anyNumber {
			out = append(out, word{text: anyNumber})
			continue
		}
		stem, prefix := strings.CutSuffix(piece, "*")
		if strings.Contains(stem, "*") {
			return []word{{}} // reported by checkPhrase
		}
		parts := strings.Fields(textutil.Normalize(stem))
		if len(parts) == 0 && prefix {
			return []word{{}}
		}
		for i, p := range parts {
			out = append(out, word{text: p, prefix: prefix && i == len(parts)-1})
		}
	}
	return out
}

// vocab maps message tokens to the rule words they stand for, exactly, by
// stem, or with a typo.
type vocab struct {
	ids      map[word]int
	words    []word
	typoed   []bool           // per word: in the typo index
	exact    map[string][]int // token text -> exact word ids
	prefixes map[string][]int // first minPrefix bytes -> stem word ids
	deletes  map[string][]int // typo index: words and their deletions
	never    map[string]bool
	swaps    int
	oneEdit  int
	twoEdits int
}

func newVocab(t Typos) *vocab {
	v := &vocab{ids: map[word]int{}, exact: map[string][]int{}, prefixes: map[string][]int{},
		deletes: map[string][]int{}, never: map[string]bool{}, swaps: t.SwapsFrom, oneEdit: t.OneEditFrom,
		twoEdits: t.TwoEditsFrom}
	for _, w := range t.Never {
		for _, n := range strings.Fields(textutil.Normalize(w)) {
			v.never[n] = true
		}
	}
	return v
}

// add registers a word and returns its id. Only words that typos should
// reach (the red flags themselves, not the context words around them) go
// into the typo index, which keeps it, and start-up, small.
func (v *vocab) add(w word, typos bool) int {
	id, ok := v.ids[w]
	if !ok {
		id = len(v.words)
		v.ids[w] = id
		v.words = append(v.words, w)
		v.typoed = append(v.typoed, false)
		if w.prefix {
			key := w.text[:minPrefixBytes(w.text)]
			v.prefixes[key] = append(v.prefixes[key], id)
		} else {
			v.exact[w.text] = append(v.exact[w.text], id)
		}
	}
	if typos && !w.prefix && !v.typoed[id] {
		v.typoed[id] = true
		if d := v.edits(utf8.RuneCountInString(w.text)); d > 0 {
			eachDeletion(w.text, d, func(del []byte) {
				// A word's deletions come together, so a repeat ("aab" less
				// either "a") is always the last id on its key.
				if l := v.deletes[string(del)]; len(l) == 0 || l[len(l)-1] != id {
					v.deletes[string(del)] = append(l, id)
				}
			})
		}
	}
	return id
}

// minPrefixBytes is the byte length of the first minPrefix runes of s.
func minPrefixBytes(s string) int {
	n := 0
	for i := range s {
		if n == minPrefix {
			return i
		}
		n++
	}
	return len(s)
}

// edits is how many typos a word of n runes tolerates.
func (v *vocab) edits(n int) int {
	switch {
	case v.twoEdits > 0 && n >= v.twoEdits:
		return 2
	case v.oneEdit > 0 && n >= v.oneEdit:
		return 1
	}
	return 0
}

// lookup returns the ids of the words tok stands for. A token that is a
// rule word itself, or listed as never a typo, is not typo-matched.
func (v *vocab) lookup(tok string) []int {
	var ids []int
	ids = append(ids, v.exact[tok]...)
	if isNumber(tok) {
		ids = append(ids, v.exact[anyNumber]...)
	}
	if isNumber(tok) || countWords[tok] {
		ids = append(ids, v.exact[anyCount]...)
	}
	if len(tok) >= minPrefix {
		for _, id := range v.prefixes[tok[:minPrefixBytes(tok)]] {
			if strings.HasPrefix(tok, v.words[id].text) {
				ids = append(ids, id)
			}
		}
	}
	if len(v.exact[tok]) > 0 || v.never[tok] || isNumber(tok) {
		return ids
	}
	n := utf8.RuneCountInString(tok)
	if v.swaps > 0 && n >= v.swaps && (v.oneEdit == 0 || n < v.oneEdit) {
		ids = append(ids, v.swapped(tok)...) // too short for edits, but "pian" is "pain"
	}
	// A token one letter shorter than one_edit_from may still have lost a
	// letter of a longer word ("hart").
	if v.oneEdit == 0 || n < v.oneEdit-1 || n > maxFuzzyRunes {
		return ids
	}
	// Words taking two typos are long, so only a long token needs the
	// deletions of two letters to meet them.
	d := 1
	if v.twoEdits > 0 && n >= v.twoEdits-2 {
		d = 2
	}
	var seen []int
	eachDeletion(tok, d, func(del []byte) {
		for _, id := range v.deletes[string(del)] { // no allocation for a map key
			if slices.Contains(seen, id) {
				continue
			}
			seen = append(seen, id)
			w := v.words[id].text
			if firstRune(w) == firstRune(tok) && textutil.EditDistance(tok, w, v.edits(utf8.RuneCountInString(w))) <= v.edits(utf8.RuneCountInString(w)) {
				ids = append(ids, id)
			}
		}
	})
	return ids
}

// eachDeletion calls fn with s and with s minus each choice of up to d
// (1 or 2) runes, in a reused buffer (typo matching's hot path); fn must
// copy what it keeps.
func eachDeletion(s string, d int, fn func([]byte)) {
	r := []rune(s)
	buf := make([]byte, 0, len(s))
	emit := func(skipA, skipB int) {
		buf = buf[:0]
		for i, c := range r {
			if i != skipA && i != skipB {
				buf = utf8.AppendRune(buf, c)
			}
		}
		if len(buf) > 0 {
			fn(buf)
		}
	}
	emit(-1, -1)
	for i := range r {
		emit(i, -1)
		if d < 2 {
			continue
		}
		for j := i + 1; j < len(r); j++ {
			emit(i, j)
		}
	}
}

// swapped finds the words that tok is with two neighbouring letters swapped.
func (v *vocab) swapped(tok string) []int {
	var ids []int
	r := []rune(tok)
	for i := 1; i < len(r); i++ {
		if r[i] == r[i-1] {
			continue
		}
		r[i], r[i-1] = r[i-1], r[i]
		ids = append(ids, v.exact[string(r)]...)
		r[i], r[i-1] = r[i-1], r[i]
	}
	return ids
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
