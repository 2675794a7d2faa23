package prices

import (
	"github.com/tend-health/tend/knowledge/wordvec"
	"sort"
	"strings"
	"sync"
)

// Words by meaning: a question's word no description has ("scan",
// "sonogram", "counseling") is read as the description word closest to it
// in the knowledge engine's word vectors ("MRI", "ultrasound", "therapy")
// when they are close enough, before the words are matched with the usual
// rules (60 % of the question's weight, every part of the body named).
// Without it such a word was left out when everyday ("heart scan" found
// the heart transplant) or blocked the question when specific.

// minMeaning is the cosine a question word needs with a description word
// to be read as it ("scan" and "MRI" 0.78). Word vectors put related but
// different things close ("dental" and "surgical" 0.69, "counseling" and
// "therapy" 0.71, "cleaning" and "repair" 0.63, "toe" and "foot" 0.57);
// the services the lists lack (the eval set's absent questions) must stay
// unanswered, so the bar is high.
const minMeaning = 0.72

// minMeaningSpecificity is how specific a question's word must be to be
// read by meaning: "scan" (0.66) is, "may", "morning", "sleep" or "study"
// (0.4-0.6) are not; they were close to "days" or "bed".
const minMeaningSpecificity = 0.6

// meaningVocab is the description words the vectors know, with their unit
// vectors in one flat slice, built once per snapshot at the first lookup
// that needs it.
type meaningVocab struct {
	once  sync.Once
	words []string
	vecs  []float32
}

func (c *Catalog) vocab(s *snapshot) *meaningVocab {
	m := &s.meaning
	m.once.Do(func() {
		v := wordvec.Default()
		dims := v.Dims()
		words := make([]string, 0, len(s.words))
		for w := range s.words {
			words = append(words, w)
		}
		sort.Strings(words) // ties go to the same word every time
		for _, w := range words {
			ts := c.termsOf(w, "en")
			// Only specific words: everyday ones ("days", "without",
			// "program") are close to too much.
			if len(w) < 3 || !isLetters(w) || len(ts) != 1 || !c.meaningful(ts[0], s) || c.lexicon().anatomy[ts[0]] ||
				c.an.Specificity(ts[0]) < everyday {
				continue
			}
			i, ok := v.Lookup(w)
			if !ok {
				continue
			}
			m.words = append(m.words, w)
			m.vecs = append(m.vecs, wordvec.Normalize(v.Vector(i, make([]float32, dims)))...)
		}
	})
	return m
}

// meaningful reports a term that names a service: a description's, and
// not a word of asking, paying, a payer or the people around a question.
func (c *Catalog) meaningful(t string, s *snapshot) bool {
	return s.terms[t] > 0 && !costWords[t] && !s.payerTerms[t] && !c.lexicon().filler[t] && !isDigits(t) &&
		t != "without" && t != "withandwithout" // the rewrites' markers
}

// byMeaning rewrites the words of a normalized question that no
// description has to their closest description words; ok reports a
// rewrite.
func (c *Catalog) byMeaning(text string, s *snapshot) (string, bool) {
	words := strings.Fields(text)
	var vocab *meaningVocab
	var q []float32
	ok := false
	for i, w := range words {
		if len(w) < 3 || !isLetters(w) || s.words[w] {
			continue
		}
		ts := c.termsOf(w, "en")
		// Not a part of the body ("toe" is not "foot"), nor a word of
		// asking, paying, a payer or the people around the question.
		if len(ts) != 1 || s.terms[ts[0]] > 0 || costWords[ts[0]] || s.payerTerms[ts[0]] || c.lexicon().filler[ts[0]] ||
			c.lexicon().anatomy[ts[0]] || c.an.Specificity(ts[0]) < minMeaningSpecificity {
			continue
		}
		v := wordvec.Default()
		at, found := v.Lookup(w)
		if !found {
			continue
		}
		if vocab == nil {
			vocab = c.vocab(s)
			q = make([]float32, v.Dims())
		}
		q = wordvec.Normalize(v.Vector(at, q))
		dims := len(q)
		best, bestCos := -1, minMeaning
		for j := range vocab.words {
			if cos := dot32(q, vocab.vecs[j*dims:(j+1)*dims]); cos >= bestCos {
				best, bestCos = j, cos
			}
		}
		if best >= 0 {
			words[i], ok = vocab.words[best], true
		}
	}
	if !ok {
		return text, false
	}
	return strings.Join(words, " "), true
}

func dot32(a, b []float32) float64 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return float64(s)
}
