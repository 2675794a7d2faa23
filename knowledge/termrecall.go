package knowledge

import (
	"math"

	"github.com/tend-health/tend/knowledge/learn"
	"github.com/tend-health/tend/knowledge/wordvec"
)

// TermRecall predicts, for each word of a question, whether a passage that
// answers the question has that word or one close to it in meaning: the
// word's "term recall" (Zheng & Callan 2015, "Learning to reweight terms
// with distributed representations"). The input is the word's vector and
// its difference from the question's mean vector, so the weight depends on
// the word and on what the rest of the question is about: "lab" in "is the
// lab open on Saturdays? weekdays are hard with my job" is what an answer
// must speak of; "hard" and "job" are the patient's circumstances.
//
// SIF's weighting counts a word by its rarity in English, and the
// knowledge base's IDF by its rarity in the documents; neither says which
// words of a long question carry the request. The decision reads the
// first passage's coverage weighted by predicted recall (tr_cov) and the
// closest the passage comes to the words an answer must have (tr_least).
// Fitted by evals/fit on the training questions only, each with its right
// passage; shipped in the model file.
type TermRecall struct {
	Bias    float64   `json:"bias"`
	Weights []float64 `json:"weights"`
}

// termRecallInputs is one word's input: its unit vector, its difference
// from the question's mean, and its SIF weight.
func termRecallInputs(w, mean []float32, sifWeight float64) []float64 {
	x := make([]float64, 0, 2*len(w)+1)
	for _, v := range w {
		x = append(x, float64(v))
	}
	for i, v := range w {
		x = append(x, float64(v-mean[i]))
	}
	return append(x, sifWeight)
}

// termRecallCovered: a passage word this close in meaning counts as the
// question's word (the same word is 1; "doctor" and "physician" about 0.7).
const termRecallCovered = 0.7

// questionWord is one question word's vector and its closest passage word.
type questionWord struct {
	vec  []float32
	sif  float64
	best float64
}

// questionWords reads a question's words with their vectors and how close
// the passage comes to each.
func (s *SIF) questionWords(question, qlang, passage, plang string) ([]questionWord, []float32) {
	if qlang == "es" {
		question = SpanishGlossary().Translate(question)
	}
	if plang == "es" {
		passage = SpanishGlossary().Translate(passage)
	}
	pv := s.passageVectors(passage, 200)
	if len(pv) == 0 {
		return nil, nil // nothing to compare with (SoftCoverage's 0, 0)
	}
	v := s.vectors
	dims := v.Dims()
	var out []questionWord
	idx := make([]int, 0, 2)
	mean := make([]float32, dims)
	for _, w := range s.Words(question) {
		idx = v.Resolve(w, wordvec.Fuzzy, idx[:0])
		if len(idx) == 0 {
			continue
		}
		q := wordvec.Normalize(v.Vector(idx[0], nil))
		best := 0.0
		for at := 0; at+dims <= len(pv); at += dims {
			best = math.Max(best, float64(dot(q, pv[at:at+dims])))
		}
		out = append(out, questionWord{vec: q, sif: s.a / (s.a + v.ProbIndex(idx[0])), best: best})
		for i, x := range q {
			mean[i] += x
		}
	}
	if len(out) > 0 {
		for i := range mean {
			mean[i] /= float32(len(out))
		}
	}
	return out, mean
}

// TermRecallSamples are the training rows of one answered question: per
// word, its inputs and whether the right passage covers it.
func (s *SIF) TermRecallSamples(question, qlang, passage, plang string) (x [][]float64, y []float64) {
	words, mean := s.questionWords(question, qlang, passage, plang)
	for _, w := range words {
		x = append(x, termRecallInputs(w.vec, mean, w.sif))
		label := 0.0
		if w.best >= termRecallCovered {
			label = 1
		}
		y = append(y, label)
	}
	return x, y
}

// coverage is a passage's coverage of a question with each word weighted
// by its predicted recall (cov), and the closest the passage comes to the
// words an answer most likely needs (least: 1 when there are none); the
// term-recall half of SIF.Coverages.
func (tr *TermRecall) coverage(words []questionWord, mean []float32) (cov, least float64) {
	m := learn.Logistic{Bias: tr.Bias, W: tr.Weights}
	var sum, wsum float64
	least = 1
	for _, w := range words {
		x := termRecallInputs(w.vec, mean, w.sif)
		if len(x) != len(m.W) {
			return 0, 0 // fitted for other vectors
		}
		r := m.Prob(x)
		sum += r * w.best
		wsum += r
		if r >= 0.5 {
			least = math.Min(least, w.best)
		}
	}
	if wsum == 0 {
		return 0, 0
	}
	return sum / wsum, least
}
