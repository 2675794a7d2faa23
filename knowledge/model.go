package knowledge

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/tend-health/tend/knowledge/learn"
)

// The learned parts of search. A candidate passage is described by a fixed
// vector of features (CandidateFeatures); a linear ranker orders the
// candidates, and a logistic model over the first candidate's features and
// the question's (DecisionFeatures) gives the probability that the first
// passage answers the question: the confidence. Both are fitted by
// `go run ./evals/fit` on the project's own training split (never on the
// held-out split or a shared set) and ship as data in model/answer.json.

// Candidate features, in order.
var CandidateFeatures = []string{
	"cos",        // cosine of the stored vectors (the configured embedder)
	"bm25",       // fielded BM25 (heading 2.5, body 1, context 0.5), scaled 0..1
	"head_bm25",  // BM25 over the heading alone (for a FAQ entry: its question)
	"head_cov",   // weighted share of the question's terms in the heading
	"cov",        // weighted share of the question's terms in the passage
	"miss_top",   // weight share of the most important term the passage lacks
	"text_rr",    // 1/rank among full-text candidates (0 if not proposed)
	"vec_rr",     // 1/rank among vector candidates (0 if not proposed)
	"sif_head",   // SIF sentence-vector cosine, question vs heading
	"sif_body",   // SIF sentence-vector cosine, question vs passage
	"ent_match",  // share of the entities the question names that the passage names (1 if none)
	"lang_match", // 1 when the passage is in the question's language
	"type_ok",    // share of the figures the question asks for (a price, a time, a phone number, a duration) that the passage states (1 if none)
	"body_bm25",  // BM25 over the passage's text alone
	"ctx_bm25",   // BM25 over its context alone (document title, parent headings, tags)
}

// Decision features, in order: the first candidate's, and the question's.
var DecisionFeatures = []string{
	"score",        // the ranker's score of the first passage
	"margin",       // its lead over the best passage of another document
	"cov",          // the first passage's coverage
	"head_cov",     // ... heading coverage
	"miss_top",     // ... the weight share of the most important missing term
	"cos",          // ... stored-vector cosine
	"bm25",         // ... BM25
	"sif_head",     // ... SIF cosine with the heading
	"sif_body",     // ... SIF cosine with the passage
	"ent_missing",  // share of the entities the question names that the passage does not
	"info",         // how much the question says: min(1, weighted rarity / 3)
	"unknown",      // weight share of the question's terms the index has never seen
	"agree",        // 1 when the passage leads both the full-text and the vector list
	"n_terms",      // log(1 + number of question terms)
	"lang_match",   // the first passage is in the question's language
	"type_ok",      // the first passage states the kinds of figures asked for
	"asks_figure",  // 1 when the question asks for a figure at all
	"miss_unknown", // weight share of the question's terms no passage has
	"cov_lead",     // the first passage's coverage minus that of the best passage of another document
	"soft_cov",     // word-vector coverage: each question word's closest passage word, weighted by rarity
	"soft_least",   // the least-covered important question word's closest passage word
	"tr_cov",       // soft coverage with each word weighted by its predicted term recall (termrecall.go)
	"tr_least",     // the closest the passage comes to a word an answer likely needs
}

// Model is the ranker's and the decision's weights.
type Model struct {
	// Name identifies the fit (the fit program writes a date and a hash).
	Name string `json:"name"`
	// Rank is the linear ranker: a weight per candidate feature.
	Rank map[string]float64 `json:"rank"`
	// Answer is the logistic decision: a bias and a weight per decision
	// feature.
	Answer struct {
		Bias    float64            `json:"bias"`
		Weights map[string]float64 `json:"weights"`
	} `json:"answer"`
	// TermRecall weighs the question's words for tr_cov and tr_least
	// (nil: those features are 0).
	TermRecall *TermRecall `json:"term_recall,omitempty"`
	// Rerank is the search's second stage (nil: none).
	Rerank *Rerank `json:"rerank,omitempty"`
	// Threshold is the confidence at or above which the bot answers,
	// chosen by the fit on cross-validated training predictions.
	Threshold float64 `json:"threshold"`
	// Fit records how the model was made and what it scored (for the docs).
	Fit json.RawMessage `json:"fit,omitempty"`

	rank   []float64 // aligned with CandidateFeatures
	answer []float64 // aligned with DecisionFeatures
}

//go:embed model/answer.json
var defaultModelJSON []byte

var (
	defaultModel     *Model
	defaultModelOnce sync.Once
)

// DefaultModel is the bundled model.
func DefaultModel() *Model {
	defaultModelOnce.Do(func() {
		m, err := ParseModel(defaultModelJSON)
		if err != nil {
			panic(err) // the bundled model is tested
		}
		defaultModel = m
	})
	return defaultModel
}

// ParseModel reads a model file, refusing unknown feature names so a model
// fitted for other features fails loudly instead of ranking by half of them.
func ParseModel(data []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("knowledge: model: %w", err)
	}
	var err error
	if m.rank, err = align(m.Rank, CandidateFeatures); err != nil {
		return nil, fmt.Errorf("knowledge: model rank: %w", err)
	}
	if m.answer, err = align(m.Answer.Weights, DecisionFeatures); err != nil {
		return nil, fmt.Errorf("knowledge: model answer: %w", err)
	}

	if m.Threshold <= 0 || m.Threshold >= 1 {
		return nil, fmt.Errorf("knowledge: model threshold %v is not between 0 and 1", m.Threshold)
	}
	return &m, nil
}

// NewModel builds a model from weight vectors aligned with the feature
// lists (the fit program's output).
func NewModel(name string, rank []float64, answer learn.Logistic, threshold float64) *Model {
	m := &Model{Name: name, Rank: map[string]float64{}, Threshold: threshold, rank: rank, answer: answer.W}
	for i, f := range CandidateFeatures {
		m.Rank[f] = round6(rank[i])
	}
	m.Answer.Bias = round6(answer.Bias)
	m.Answer.Weights = map[string]float64{}
	for i, f := range DecisionFeatures {
		m.Answer.Weights[f] = round6(answer.W[i])
	}
	return m
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// JSON is the model file (weights in a stable order, for diffs).
func (m *Model) JSON() ([]byte, error) { return json.MarshalIndent(m, "", "  ") }

func align(weights map[string]float64, names []string) ([]float64, error) {
	index := map[string]int{}
	for i, n := range names {
		index[n] = i
	}
	out := make([]float64, len(names))
	keys := make([]string, 0, len(weights))
	for k := range weights {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		i, ok := index[k]
		if !ok {
			return nil, fmt.Errorf("unknown feature %q", k)
		}
		out[i] = weights[k]
	}
	return out, nil
}

// RankScore is the ranker's score of a candidate's features.
func (m *Model) RankScore(f []float64) float64 {
	s := 0.0
	for i, w := range m.rank {
		s += w * f[i]
	}
	return s
}

// Confidence is the probability that the first passage answers.
func (m *Model) Confidence(f []float64) float64 {
	z := m.Answer.Bias
	for i, w := range m.answer {
		z += w * f[i]
	}
	return learn.Sigmoid(z)
}

// Contribution is one decision feature's value and its share of the
// decision's log-odds (weight × value), for people reading a decision.
type Contribution struct {
	Feature string  `json:"feature"`
	Value   float64 `json:"value"`
	LogOdds float64 `json:"log_odds"`
}

// Contributions explains a decision: each feature's value and weighted
// share, in DecisionFeatures order, after the bias.
func (m *Model) Contributions(f []float64) (bias float64, cs []Contribution) {
	for i, w := range m.answer {
		if i < len(f) {
			cs = append(cs, Contribution{Feature: DecisionFeatures[i], Value: f[i], LogOdds: w * f[i]})
		}
	}
	return m.Answer.Bias, cs
}
