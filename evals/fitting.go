package evals

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/knowledge"
	"github.com/tend-health/tend/knowledge/learn"
	"github.com/tend-health/tend/sample"
)

// Fitting the knowledge model (knowledge/model.go) on the own training
// questions. Two passes over the questions: the first collects every
// candidate passage's features and fits the ranker; the second searches
// again under the new ranker and fits the answer/abstain decision on what
// the first passage then is. The threshold is chosen on out-of-fold
// predictions of the decision, never on the data it reports.

// FitOptions adjust a fit.
type FitOptions struct {
	// Meaning is the sentence encoder the bot runs with (nil: none).
	Meaning knowledge.Embedder
	// Embedder makes the stored vectors (nil: the hashed offline one).
	Embedder knowledge.Embedder
	// NoMeaning, NoCorrection and NoGlossary turn those parts off
	// (knowledge.Options).
	NoMeaning, NoCorrection, NoGlossary bool
	// Drop lists candidate and decision features to leave out (set to
	// zero weight), for the ablation table.
	Drop []string
	// Name of the model (default "fit").
	Name string
	// Dump, when set, receives each cross-validated question's result.
	Dump io.Writer
}

// FitReport says what a fit saw.
type FitReport struct {
	Questions  int     `json:"questions"`
	Answerable int     `json:"answerable"`
	Rankable   int     `json:"rankable"` // answerable questions whose right passage was a candidate
	TopRight   float64 `json:"top_right"`
	DecisionN  int     `json:"decision_samples"`
	Threshold  float64 `json:"threshold"`
}

// searched is one question and what the knowledge base found for it.
type searched struct {
	item Item
	resp knowledge.Response
}

// kbPool holds each knowledge base synced into its own temporary SQLite
// database, once per process and embedder, to search the own questions
// against under one model after another.
type kbPool struct {
	mu  sync.Mutex
	dbs map[string]*store.DB
	dir string
}

var pool = &kbPool{dbs: map[string]*store.DB{}}

// base returns the knowledge base name searched with o's settings and m.
func (p *kbPool) base(ctx context.Context, name string, m *knowledge.Model, o FitOptions) (*knowledge.Base, error) {
	opts := knowledge.Options{Model: m, Meaning: o.Meaning, Embedder: o.Embedder, NoMeaning: o.NoMeaning,
		NoCorrection: o.NoCorrection, NoGlossary: o.NoGlossary}
	model := "default"
	if o.Embedder != nil {
		model = o.Embedder.Model()
	}
	key := name + "\x00" + model
	p.mu.Lock()
	defer p.mu.Unlock()
	if db, ok := p.dbs[key]; ok {
		return knowledge.New(db, opts), nil
	}
	if p.dir == "" {
		dir, err := os.MkdirTemp("", "tend-fit-")
		if err != nil {
			return nil, err
		}
		p.dir = dir
	}
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(p.dir, fmt.Sprintf("kb%d.db", len(p.dbs))),
		Migrations: schema.All()})
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	kb := knowledge.New(db, opts)
	fsys, err := kbFS(name)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	rep, err := kb.Sync(ctx, knowledge.Source{Name: name, FS: fsys}, knowledge.SyncOptions{})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if len(rep.Failed) > 0 {
		_ = db.Close()
		return nil, fmt.Errorf("fit: %s: %s failed: %v", name, rep.Failed[0].Path, rep.Failed[0].Err)
	}
	p.dbs[key] = db
	return kb, nil
}

// CloseFitting removes the knowledge bases fitting synced.
func CloseFitting() {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	for k, db := range pool.dbs {
		_ = db.Close()
		delete(pool.dbs, k)
	}
	if pool.dir != "" {
		_ = os.RemoveAll(pool.dir)
		pool.dir = ""
	}
}

// kbFS is a knowledge base's documents: "sample", an own KB's name, or
// "dir:" and a folder (an external data set's generated documents).
func kbFS(name string) (fs.FS, error) {
	if name == "sample" {
		return sample.KB(), nil
	}
	if dir, ok := strings.CutPrefix(name, "dir:"); ok {
		return os.DirFS(dir), nil
	}
	return OwnKBFiles(name)
}

// maxCandidates asks a search for every candidate it scored.
const maxCandidates = 1000

// searchAll searches every question against its knowledge base.
func searchAll(ctx context.Context, items []Item, model *knowledge.Model, o FitOptions) ([]searched, error) {
	byKB := map[string][]Item{}
	for _, it := range items {
		byKB[it.KB] = append(byKB[it.KB], it)
	}
	kbs := make([]string, 0, len(byKB))
	for k := range byKB {
		kbs = append(kbs, k)
	}
	sort.Strings(kbs)
	var out []searched
	for _, name := range kbs {
		kb, err := pool.base(ctx, name, model, o)
		if err != nil {
			return nil, err
		}
		for _, it := range byKB[name] {
			resp, err := kb.SearchDB(ctx, it.Question, knowledge.SearchOptions{Lang: it.Lang, Limit: maxCandidates})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", it.ID, err)
			}
			out = append(out, searched{item: it, resp: resp})
		}
	}
	return out, nil
}

// answers reports whether a passage answers an item: from one of its
// documents and holding every must_contain string.
func answers(it Item, r knowledge.Result) bool {
	return contains(it.Docs, original(r)) && containsAll(r.Text, it.MustContain)
}

// original is a passage's document, or the one it translates.
func original(r knowledge.Result) string {
	if r.TranslationOf != "" {
		return r.TranslationOf
	}
	return r.Document
}

// relevance marks each candidate that answers the item; when none holds
// the must_contain strings, any passage of a right document counts.
func relevance(it Item, results []knowledge.Result) []bool {
	rel := make([]bool, len(results))
	any := false
	for i, r := range results {
		rel[i] = answers(it, r)
		any = any || rel[i]
	}
	if !any {
		for i, r := range results {
			rel[i] = contains(it.Docs, original(r))
		}
	}
	return rel
}

// Fit fits the ranker and the decision on items (the own training split's
// questions) and returns the model.
func Fit(ctx context.Context, items []Item, o FitOptions) (*knowledge.Model, FitReport, error) {
	var rep FitReport
	var qs []Item
	for _, it := range items {
		if it.Expect == ExpectAnswer || it.Expect == ExpectAbstain {
			qs = append(qs, it)
		}
	}
	rep.Questions = len(qs)
	drop := map[string]bool{}
	for _, d := range o.Drop {
		drop[d] = true
	}
	first, err := searchAll(ctx, qs, knowledge.DefaultModel(), o)
	if err != nil {
		return nil, rep, err
	}
	var rq []learn.Query
	for _, s := range first {
		if s.item.Expect != ExpectAnswer {
			continue
		}
		rep.Answerable++
		rel := relevance(s.item, s.resp.Results)
		q := learn.Query{Relevant: rel}
		for _, r := range s.resp.Results {
			q.X = append(q.X, masked(r.Features(), knowledge.CandidateFeatures, drop))
		}
		if anyTrue(rel) {
			rep.Rankable++
		}
		rq = append(rq, q)
	}
	rank, err := learn.FitRanker(rq, learn.Options{L2: 1})
	if err != nil {
		return nil, rep, fmt.Errorf("fit ranker: %w", err)
	}
	ranked := knowledge.NewModel("ranker-only", rank, learn.Logistic{W: make([]float64, len(knowledge.DecisionFeatures))}, 0.5)
	tr, err := fitTermRecall(first, o)
	if err != nil {
		return nil, rep, fmt.Errorf("fit term recall: %w", err)
	}
	ranked.TermRecall = tr
	second, err := searchAll(ctx, qs, ranked, o)
	if err != nil {
		return nil, rep, err
	}
	if rr := fitRerank(second, tr, o); rr != nil {
		ranked.Rerank = rr
		if second, err = searchAll(ctx, qs, ranked, o); err != nil {
			return nil, rep, err
		}
	}
	x, y := decisionSamples(second, drop)
	rep.DecisionN = len(x)
	right := 0
	for _, v := range y {
		if v == 1 {
			right++
		}
	}
	rep.TopRight = float64(right) / float64(max(rep.Answerable, 1))
	dec, err := learn.FitLogistic(x, y, learn.Options{L2: 1})
	if err != nil {
		return nil, rep, fmt.Errorf("fit decision: %w", err)
	}

	for i, n := range knowledge.CandidateFeatures {
		if drop[n] {
			rank[i] = 0
		}
	}
	for i, n := range knowledge.DecisionFeatures {
		if drop[n] {
			dec.W[i] = 0
		}
	}
	rep.Threshold = chooseThreshold(second, x, y)
	name := o.Name
	if name == "" {
		name = "fit"
	}
	m := knowledge.NewModel(name, rank, dec, rep.Threshold)
	m.TermRecall, m.Rerank = tr, ranked.Rerank
	return m, rep, nil
}

// rerankK is how many first passages the second stage reads: on the
// training questions 3 did as well as 5.
const rerankK = 3

// rerankGrid are the weights the second stage's fit tries for each
// coverage.
var rerankGrid = []float64{0, 2, 4, 8, 12, 16, 24}

// fitRerank chooses knowledge.Rerank's weights on the answerable training
// questions: the pair that puts a passage holding the answer first most
// often (ties: the smaller weights). Nil without the meaning features,
// when dropped ("rerank"), or when no weight helps.
func fitRerank(ss []searched, tr *knowledge.TermRecall, o FitOptions) *knowledge.Rerank {
	if o.NoMeaning || slices.Contains(o.Drop, "rerank") {
		return nil
	}
	sif, ok := knowledge.DefaultMeaning().(*knowledge.SIF)
	if !ok {
		return nil
	}
	type cand struct {
		score, soft, tr float64
		right           bool
	}
	var qs [][]cand
	for _, s := range ss {
		if s.item.Expect != ExpectAnswer || len(s.resp.Results) == 0 {
			continue
		}
		var cs []cand
		for _, r := range s.resp.Results[:min(rerankK, len(s.resp.Results))] {
			if r.Document != s.resp.Results[0].Document {
				continue // the second stage chooses within the first passage's document
			}
			soft, _, trc, _ := sif.Coverages(tr, s.item.Question, s.item.Lang, r.Heading+"\n"+r.Text, r.Language)
			cs = append(cs, cand{score: r.Score, soft: soft, tr: trc, right: answers(s.item, r)})
		}
		qs = append(qs, cs)
	}
	rightFirst := func(ws, wt float64) int {
		n := 0
		for _, cs := range qs {
			best, bestV := 0, cs[0].score+ws*cs[0].soft+wt*cs[0].tr
			for i := 1; i < len(cs); i++ {
				if v := cs[i].score + ws*cs[i].soft + wt*cs[i].tr; v > bestV {
					best, bestV = i, v
				}
			}
			if cs[best].right {
				n++
			}
		}
		return n
	}
	base := rightFirst(0, 0)
	bestN, bestS, bestT := base, 0.0, 0.0
	for _, ws := range rerankGrid {
		for _, wt := range rerankGrid {
			if n := rightFirst(ws, wt); n > bestN || n == bestN && ws+wt < bestS+bestT {
				bestN, bestS, bestT = n, ws, wt
			}
		}
	}
	if bestN == base {
		return nil
	}
	return &knowledge.Rerank{K: rerankK, Soft: bestS, TR: bestT}
}

// termRecallL2 is the term recall model's ridge penalty: 201 inputs from
// some thousands of words, so it leans on the penalty more than the
// decision does.
const termRecallL2 = 30

// fitTermRecall fits knowledge.TermRecall on the answerable questions
// whose right passage was among the candidates: each word of the question
// is labelled by whether that passage has it or a word close in meaning.
// Nil without the meaning features or when they are dropped.
func fitTermRecall(ss []searched, o FitOptions) (*knowledge.TermRecall, error) {
	if o.NoMeaning || slices.Contains(o.Drop, "tr_cov") {
		return nil, nil
	}
	sif, ok := knowledge.DefaultMeaning().(*knowledge.SIF)
	if !ok {
		return nil, nil
	}
	var x [][]float64
	var y []float64
	for _, s := range ss {
		if s.item.Expect != ExpectAnswer {
			continue
		}
		for _, r := range s.resp.Results {
			if answers(s.item, r) {
				rx, ry := sif.TermRecallSamples(s.item.Question, s.item.Lang, r.Heading+"\n"+r.Text, r.Language)
				x, y = append(x, rx...), append(y, ry...)
				break
			}
		}
	}
	if len(x) == 0 {
		return nil, nil
	}
	m, err := learn.FitLogistic(x, y, learn.Options{L2: termRecallL2})
	if err != nil {
		return nil, err
	}
	tr := &knowledge.TermRecall{Bias: round6(m.Bias), Weights: make([]float64, len(m.W))}
	for i, w := range m.W {
		tr.Weights[i] = round6(w)
	}
	return tr, nil
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// decisionSamples are the decision features of each question's first
// passage, labelled 1 when it answers an answerable question.
func decisionSamples(ss []searched, drop map[string]bool) (x [][]float64, y []float64) {
	for _, s := range ss {
		if len(s.resp.Results) == 0 || s.resp.Decision == nil {
			continue // nothing to decide: the bot abstains whatever the model says
		}
		label := 0.0
		if s.item.Expect == ExpectAnswer && answers(s.item, s.resp.Results[0]) {
			label = 1
		}
		x = append(x, masked(s.resp.Decision, knowledge.DecisionFeatures, drop))
		y = append(y, label)
	}
	return x, y
}

// decisionFolds is the number of folds for the out-of-fold predictions
// the threshold is chosen on.
const decisionFolds = 5

// chooseThreshold picks the answering threshold on out-of-fold
// predictions: the one that makes the most right choices, where a right
// choice is answering when the first passage answers and abstaining when
// it does not (a wrong answer and a needless referral to staff count the
// same). With calibrated probabilities this lands near 0.5: the bot
// answers when it is more likely right than not.
func chooseThreshold(ss []searched, x [][]float64, y []float64) float64 {
	ids := make([]string, 0, len(ss))
	for _, s := range ss {
		if len(s.resp.Results) > 0 && s.resp.Decision != nil {
			ids = append(ids, s.item.ID)
		}
	}
	probs := make([]float64, len(x))
	for k := 0; k < decisionFolds; k++ {
		var tx [][]float64
		var ty []float64
		for i := range x {
			if Fold(ids[i], decisionFolds) != k {
				tx, ty = append(tx, x[i]), append(ty, y[i])
			}
		}
		m, err := learn.FitLogistic(tx, ty, learn.Options{L2: 1})
		if err != nil {
			continue
		}
		for i := range x {
			if Fold(ids[i], decisionFolds) == k {
				probs[i] = m.Prob(x[i])
			}
		}
	}
	best, bestT := -1e18, 0.5
	for t := 0.05; t < 0.951; t += 0.01 {
		v := 0.0
		for i, p := range probs {
			if (p >= t) == (y[i] == 1) {
				v++
			}
		}
		if v > best {
			best, bestT = v, t
		}
	}
	return float64(int(bestT*100+0.5)) / 100
}

func masked(f []float64, names []string, drop map[string]bool) []float64 {
	if len(drop) == 0 {
		return f
	}
	out := append([]float64(nil), f...)
	for i, n := range names {
		if drop[n] {
			out[i] = 0
		}
	}
	return out
}

func anyTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}

// TrainItems are the own questions of the training split.
func TrainItems() ([]Item, error) {
	all, err := OwnItems()
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, it := range all {
		if it.Split == SplitTrain && (it.Expect == ExpectAnswer || it.Expect == ExpectAbstain) {
			out = append(out, it)
		}
	}
	return out, nil
}

// describeFit is a one-line summary of a fit.
func (r FitReport) String() string {
	return strings.TrimSpace(fmt.Sprintf("%d questions (%d answerable, %d with the right passage among the candidates); first passage right on %.1f%% after ranking; threshold %.2f",
		r.Questions, r.Answerable, r.Rankable, 100*r.TopRight, r.Threshold))
}
