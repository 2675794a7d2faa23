package triage

import (
	_ "embed" // learned.json
	"encoding/json"
	"fmt"
	"math"

	"github.com/tend-health/tend/knowledge"
	"github.com/tend-health/tend/knowledge/wordvec"
)

// The learned detector: a logistic regression over the features of
// features.go, fitted on the training part of the project's own triage
// data by `go run ./guards/triage/fit` and shipped as learned.json. Its
// probability is read against three thresholds chosen on cross-validated
// predictions: at or above High the message is an emergency; at or above
// Mid, or at or above Low when a red-flag concept is in the message, it is
// a possible emergency (the guidance first, then "is this happening
// now?"). See docs/triage.md.

//go:embed learned.json
var builtinLearned []byte

// LearnedFile is learned.json.
type LearnedFile struct {
	Version int `json:"version"`
	// Embedder names the sentence vectors the bank was made with (the
	// word vectors' and the analyzer's versions); re-fit when it changes.
	Embedder string    `json:"embedder"`
	Features []string  `json:"features"`
	Bias     float64   `json:"bias"`
	Weights  []float64 `json:"weights"`
	// High, Mid and Low are the thresholds on the probability: an
	// emergency at or above High; a possible emergency at or above Mid, or
	// at or above Low with a red-flag concept in the message. No Mid (0):
	// Mid is High.
	High float64 `json:"high"`
	Mid  float64 `json:"mid,omitempty"`
	Low  float64 `json:"low"`
	// Bank is the training messages' sentence vectors, int8 per dimension
	// with one scale per row, and their labels: E (emergency, 911 reply),
	// C (emergency, crisis reply) or N; and categories.
	Bank struct {
		Dims int `json:"dims"`
		// Input and Basis project a sentence vector (Input numbers) onto
		// Dims main directions (Basis: Dims rows of Input numbers); no
		// Basis: the vectors are kept whole.
		Input      int       `json:"input,omitempty"`
		Basis      []float32 `json:"basis,omitempty"`
		Vectors    string    `json:"vectors"`
		Scales     []float32 `json:"scales"`
		Labels     string    `json:"labels"`
		Categories []string  `json:"categories"`
	} `json:"bank"`
	// Reply is the reply model: among emergencies, the probability that the
	// crisis reply (988) is the right one.
	Reply struct {
		Features []string  `json:"features"`
		Bias     float64   `json:"bias"`
		Weights  []float64 `json:"weights"`
		// Words are the words' log-odds of a crisis among emergencies.
		Words map[string]float64 `json:"words"`
		// Threshold: the crisis reply at or above it.
		Threshold float64 `json:"threshold"`
	} `json:"reply"`
	// Words are the bag-of-words log-odds (naive Bayes, smoothed), for
	// words in at least two training messages.
	Words map[string]float64 `json:"words"`
	// Fit is the fit's report (cross-validated numbers), for people.
	Fit json.RawMessage `json:"fit,omitempty"`
}

// learned is a loaded LearnedFile.
type learned struct {
	bias           float64
	weights        []float64 // over the full feature vector (allFeatureNames)
	high, mid, low float64
	bank           *bank
	proj           *projection
	words          map[string]float64
	embedder       string
	// The reply model, over replyNames.
	replyBias    float64
	replyWeights []float64
	crisisWords  map[string]float64
	replyCut     float64
}

// maxEmbedRunes bounds the text embedded: a sentence vector of a very long
// message says little, and the cost grows with it.
const maxEmbedRunes = 2000

// sentenceVector is a message's SIF sentence vector (Arora, Liang & Ma
// 2017) over the bundled GloVe vectors (knowledge/wordvec), unit length:
// the message's words as the rules read them, less stop words and
// numbers; a Spanish message is first read through the Spanish-English
// glossary (knowledge.SpanishGlossary), so both languages share one space.
// It is knowledge.SIF's reading without its figure concepts ("$35" as
// "cost"), which triage does not need and which cost most of the time.
func sentenceVector(text, lang string) []float32 { return sentenceVectorOf(text, nil, lang) }

// sentenceVectorOf is sentenceVector with the message's tokens when they
// are at hand (nil: tokenized here).
func sentenceVectorOf(text string, toks []token, lang string) []float32 {
	if lang == "es" {
		text, toks = knowledge.SpanishGlossary().Translate(text), nil
	}
	if toks == nil {
		toks = tokenize(text)
	}
	an := knowledge.DefaultAnalyzer()
	words := make([]string, 0, len(toks))
	read := 0
	for _, t := range toks {
		if read += len(t.text) + 1; read > maxEmbedRunes {
			break // a long message's first maxEmbedRunes or so
		}
		if len(t.text) < 2 || isNumber(t.text) || an.IsStopword(t.text) {
			continue
		}
		words = append(words, t.text)
	}
	v := wordvec.Default().SentenceWith(words, nil, wordvec.SentenceOptions{A: wordvec.DefaultA, Mode: wordvec.Fuzzy,
		Skip: an.IsStopword})
	n := 0.0
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n > 0 {
		inv := float32(1 / math.Sqrt(n))
		for i := range v {
			v[i] *= inv
		}
	}
	return v
}

// embedderID names the sentence vectors' source, recorded in the model.
func embedderID() string {
	return "triage-sif-v1-" + wordvec.Default().Version() + "-" + knowledge.DefaultAnalyzer().Version()
}

// allFeatureNames is the full feature vector's layout.
func (d *conceptDetector) allFeatureNames() []string {
	names := d.staticNames()
	names = append(names, knnNames...)
	return append(names, fgBOW+":nb")
}

// loadLearned reads a model file against the concept detector whose
// features it uses.
func loadLearned(data []byte, d *conceptDetector) (*learned, error) {
	var f LearnedFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("triage: learned model: %w", err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("triage: learned model: version must be 1, got %d", f.Version)
	}
	if len(f.Features) != len(f.Weights) {
		return nil, fmt.Errorf("triage: learned model: %d features, %d weights", len(f.Features), len(f.Weights))
	}
	names := d.allFeatureNames()
	index := map[string]int{}
	for i, n := range names {
		index[n] = i
	}
	l := &learned{bias: f.Bias, weights: make([]float64, len(names)), high: f.High, mid: f.Mid, low: f.Low, words: f.Words,
		embedder: f.Embedder}
	if l.mid == 0 {
		l.mid = l.high
	}
	for i, n := range f.Features {
		j, ok := index[n]
		if !ok {
			return nil, fmt.Errorf("triage: learned model: unknown feature %q (re-fit: go run ./guards/triage/fit)", n)
		}
		l.weights[j] = f.Weights[i]
	}
	rnames := d.replyNames()
	rindex := map[string]int{}
	for i, n := range rnames {
		rindex[n] = i
	}
	if len(f.Reply.Features) != len(f.Reply.Weights) {
		return nil, fmt.Errorf("triage: learned model: reply: %d features, %d weights", len(f.Reply.Features), len(f.Reply.Weights))
	}
	l.replyBias, l.replyWeights, l.crisisWords, l.replyCut = f.Reply.Bias, make([]float64, len(rnames)), f.Reply.Words, f.Reply.Threshold
	for i, n := range f.Reply.Features {
		j, ok := rindex[n]
		if !ok {
			return nil, fmt.Errorf("triage: learned model: reply: unknown feature %q (re-fit: go run ./guards/triage/fit)", n)
		}
		l.replyWeights[j] = f.Reply.Weights[i]
	}
	if !(l.low > 0 && l.low <= l.mid && l.mid <= l.high && l.high < 1) {
		return nil, fmt.Errorf("triage: learned model: thresholds %v, %v and %v are not 0 < low <= mid <= high < 1", f.Low, f.Mid, f.High)
	}
	vecs, err := decodeVectors(f.Bank.Vectors, f.Bank.Scales, f.Bank.Dims)
	if err != nil {
		return nil, err
	}
	n := len(f.Bank.Scales)
	if len(f.Bank.Labels) != n || len(f.Bank.Categories) != n {
		return nil, fmt.Errorf("triage: learned model: %d vectors, %d labels, %d categories", n, len(f.Bank.Labels), len(f.Bank.Categories))
	}
	if len(f.Bank.Basis) > 0 {
		if f.Bank.Input <= 0 || len(f.Bank.Basis) != f.Bank.Input*f.Bank.Dims {
			return nil, fmt.Errorf("triage: learned model: basis of %d numbers for %d x %d", len(f.Bank.Basis), f.Bank.Dims, f.Bank.Input)
		}
		l.proj = &projection{in: f.Bank.Input, basis: f.Bank.Basis}
	}
	b := &bank{dims: f.Bank.Dims, vecs: vecs}
	for i := 0; i < n; i++ {
		lab := f.Bank.Labels[i]
		b.emergency = append(b.emergency, lab == 'E' || lab == 'C')
		b.crisis = append(b.crisis, lab == 'C')
		b.category = append(b.category, f.Bank.Categories[i])
	}
	l.bank = b
	return l, nil
}

// nb is the bag-of-words log-odds of a message's words.
func nbScore(words []string, logodds map[string]float64) float64 {
	s := 0.0
	for _, w := range words {
		s += logodds[w]
	}
	return s
}

// prob is the model's probability for a full feature vector.
func (l *learned) prob(x []float64) float64 {
	z := l.bias
	for i, w := range l.weights {
		z += w * x[i]
	}
	return sigmoid(z)
}

// replyProb is the reply model's probability of the crisis reply.
func (l *learned) replyProb(d *conceptDetector, info staticInfo, nb neighbours, words []string) float64 {
	x := d.replyInputs(info, nb, nbScore(words, l.crisisWords))
	z := l.replyBias
	for i, w := range l.replyWeights {
		z += w * x[i]
	}
	return sigmoid(z)
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
