package triage

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tend-health/tend/knowledge/learn"
)

// Fitting the learned detector (learned.go) on the training part of the
// project's own triage data, evals/data/triage-*.jsonl. The held-out part
// is never read here: ReadExamples keeps training items only.
//
// The numbers the fit reports are k-fold cross-validated on the training
// part, and made as honest as the hand-written word lists allow:
//
//   - Neighbours and word counts leave the message itself out (leave one
//     out), in the folds' training messages and in the final model.
//   - The rules file and concepts.yaml were written while looking at the
//     training messages, so a phrase found in a single training message was
//     most likely written for it. Each message is therefore analyzed as if
//     the phrases found in no other training message were not in the files
//     (leave one out over the word lists). A phrase that helps only the
//     message it was written for earns nothing in cross-validation; one that
//     generalizes (found in two messages or more) does.
//
// Both the features the logistic regression is fitted on and the
// cross-validated decisions use these masked analyses; the shipped detector
// reads messages with the whole files.

// Example is a line of evals/data/triage-*.jsonl.
type Example struct {
	ID       string `json:"id"`
	Lang     string `json:"lang"`
	Category string `json:"category"`
	Clarity  string `json:"clarity"`
	Expect   string `json:"expect"`
	Reply    string `json:"reply"`
	Text     string `json:"text"`
	// Source is the file's author: "1" for triage-*.jsonl, "2" for
	// triage-*-2.jsonl (set by ReadExamples).
	Source string `json:"-"`
	// Ordinary marks an ordinary patient question (ReadQuestions): a
	// negative the logistic regression learns from, so that "address?"
	// or a button's label is not taken for an emergency, but not a hard
	// non-emergency: it is neither in the neighbour bank nor in the word
	// counts, and its false alarms are reported apart.
	Ordinary bool `json:"-"`
}

// OrdinaryCategory is the category of the ordinary questions.
const OrdinaryCategory = "ordinary_question"

// ReadQuestions reads the own question sets (evals/data/questions-*.jsonl:
// questions about a clinic's knowledge base, answerable or not) as
// ordinary non-emergency examples, and keeps the items of one split.
func ReadQuestions(split string, paths ...string) ([]Example, error) {
	var out []Example
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			var q struct {
				ID       string `json:"id"`
				Lang     string `json:"lang"`
				Question string `json:"question"`
			}
			if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &q) != nil || q.ID == "" || q.Question == "" {
				continue
			}
			if SplitOf(q.ID) == split {
				out = append(out, Example{ID: q.ID, Lang: q.Lang, Category: OrdinaryCategory, Expect: "none", Text: q.Question,
					Source: sourceOf(p), Ordinary: true})
			}
		}
	}
	return out, nil
}

// Splits of the own data (evals.SplitOf).
const (
	SplitTrain   = "train"
	SplitHeldOut = "heldout"
)

// SplitOf is evals.SplitOf: held out when FNV-1a 32 of "tend-split-v1/"+id
// mod 100 is below 30.
func SplitOf(id string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte("tend-split-v1/" + id))
	if h.Sum32()%100 < 30 {
		return SplitHeldOut
	}
	return SplitTrain
}

// foldOf is evals.Fold: the cross-validation fold of a training item.
func foldOf(id string, k int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte("tend-fold-v1/" + id))
	return int(h.Sum32() % uint32(k))
}

// ReadExamples reads triage data files and keeps the items of one split.
// A line that does not parse (being written by someone else) is skipped.
func ReadExamples(split string, paths ...string) ([]Example, error) {
	var out []Example
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			var e Example
			if json.Unmarshal(line, &e) != nil || e.ID == "" || e.Text == "" {
				continue
			}
			e.Source = sourceOf(p)
			if SplitOf(e.ID) == split {
				out = append(out, e)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sourceOf names the author of a data file by its name's suffix
// ("triage-emergency-2.jsonl": "2"; no suffix: "1").
func sourceOf(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), ".jsonl")
	if i := strings.LastIndexByte(base, '-'); i >= 0 {
		if n := base[i+1:]; n != "" && isNumber(n) {
			return n
		}
	}
	return "1"
}

// BaselinePhrases lists the phrases of a rules file and a concepts file
// (as they were at some earlier time), normalized as the matcher compares
// them, for FitOptions.Baseline.
func BaselinePhrases(rulesYAML, conceptsYAML []byte) (map[string]bool, error) {
	f, err := Parse("baseline rules", rulesYAML)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	m := Compile(f)
	// The slots' words only: an older file's slots need not match today's
	// concept rules.
	cf, _, err := conceptRulesFile(conceptsYAML, f)
	if err != nil {
		return nil, err
	}
	if err := cf.validate(); err != nil {
		return nil, fmt.Errorf("triage concepts: %w", err)
	}
	for _, mm := range []*Matcher{m, Compile(cf)} {
		for c := range mm.concepts {
			for p := range mm.concepts[c] {
				out[mm.phraseText(phrRef{concept: c, phrase: p})] = true
			}
		}
	}
	return out, nil
}

// FitOptions adjust a fit.
type FitOptions struct {
	// Folds of the cross-validation (0: 5).
	Folds int
	// L2 is the ridge penalty on standardized weights (0: 3).
	L2 float64
	// Drop lists feature groups ("knn", "bow", "slot", ...) or single
	// features ("shape:words") to leave out.
	Drop []string
	// Support: a phrase found in at most this many training messages is
	// left out of their analysis (0: 1; negative: no masking, which shows
	// how optimistic unmasked numbers are).
	Support int
	// Recall is the cross-validated recall (rules and learned detector)
	// beyond which the band's thresholds look for fewer false alarms
	// rather than more emergencies (0: 0.99); FalseAlarms caps the share
	// of the hard non-emergencies the learned detector may add to the
	// rules' false alarms (0: 0.01, half of it the high threshold's),
	// OrdinaryFalseAlarms the share of the
	// ordinary questions (0: 0.003). See thresholds.
	Recall              float64
	FalseAlarms         float64
	OrdinaryFalseAlarms float64
	// HighFalseAlarms is the share of the hard non-emergencies the learned
	// detector alone may call a certain emergency: the high threshold
	// (0: 0.005).
	HighFalseAlarms float64
	// Dims is the number of main directions the neighbour bank keeps of
	// the sentence vectors (0: 32; negative: all, no projection).
	Dims int
	// OrdinaryWeight is the weight of an ordinary question in the fit
	// (0: 1).
	OrdinaryWeight float64
	// Baseline lists, per source (author), the phrases of the word lists
	// that were written before that author's messages arrived
	// (BaselinePhrases): they cannot have been written for those messages
	// and are never masked for them.
	Baseline map[string]map[string]bool
	// RulesWeight is the weight in the logistic regression of a message
	// the rules already call an emergency (the learned detector only reads
	// the others); 0: 1, negative: 0.
	RulesWeight float64
}

func (o *FitOptions) defaults() {
	if o.Folds <= 1 {
		o.Folds = 5
	}
	if o.L2 <= 0 {
		o.L2 = 3
	}
	if o.Support == 0 {
		o.Support = 1
	}
	if o.Recall <= 0 {
		o.Recall = 0.99
	}
	if o.FalseAlarms <= 0 {
		o.FalseAlarms = 0.01
	}
	if o.OrdinaryFalseAlarms <= 0 {
		o.OrdinaryFalseAlarms = 0.003
	}
	if o.HighFalseAlarms <= 0 {
		o.HighFalseAlarms = 0.005
	}
	if o.Dims == 0 {
		o.Dims = 32
	}
	if o.OrdinaryWeight <= 0 {
		o.OrdinaryWeight = 1
	}
}

// prepared is one training example read once: its static features and
// vector, and the decisions of the rules and of the concept rules on the
// masked analysis.
type prepared struct {
	ex        Example
	y         bool
	crisis    bool
	static    []float64
	info      staticInfo
	raw       []float32 // the sentence vector
	vec       []float32 // projected, as the shipped bank holds it (int8)
	words     []string
	bankRow   int    // the row in the fold's bank (-1: not in it)
	rules     Result // built-in rules, masked
	oldAlarm  bool   // rules or concept rules (the detector before the learned one), masked
	oldPoss   bool
	oldReply  string
	fold      int
	prob      float64 // out-of-fold
	replyProb float64 // out-of-fold, of the crisis reply
	replyCut  float64 // the reply threshold
	neighbour neighbours
}

// FitReport is what a fit measured, all on the training part.
type FitReport struct {
	Examples, Emergencies int
	Folds                 int
	Support               int
	L2                    float64
	Dropped               []string `json:",omitempty"`
	// AUROC of the out-of-fold probabilities.
	AUROC float64
	ECE   float64
	// The thresholds and the cross-validated decisions at them.
	High, Mid, Low float64
	// The reply model's AUROC among emergencies and its threshold.
	ReplyAUROC, ReplyThreshold float64
	// CV is rules then the learned detector; Before is rules then the
	// concept rules (the detector before the learned one); Rules is the
	// rules alone; all cross-validated and masked, on the triage messages.
	CV, Before, Rules Counts
	// The same on the ordinary questions (false alarms only).
	OrdinaryCV, OrdinaryBefore, OrdinaryRules Counts
	Curve                                     []CurvePoint `json:",omitempty"`
	Groups                                    []GroupCounts
	// Misses, false alarms and wrong replies of the cross-validated
	// decisions (training messages), for people; not stored in the model.
	Errors []string `json:"-"`
	// Predictions are every training message's out-of-fold reading, for
	// studying thresholds (fit -dump); not stored in the model.
	Predictions []Prediction `json:"-"`
}

// Prediction is one training message's out-of-fold reading.
type Prediction struct {
	ID, Category, Lang  string
	Emergency, Ordinary bool
	Rules               bool    // the rules (masked) call it an emergency
	Prob                float64 // the learned detector's probability
	Evidence            bool    // a red-flag concept (bandCounts)
	Rule                string  // the concept rule that holds, if any
}

// ruleName is the concept rule that holds in a message ("" for none).
func ruleName(i staticInfo) string {
	if !i.ruleOK {
		return ""
	}
	return i.rule.name
}

// Counts are recall and false alarms.
type Counts struct {
	Emergencies, Caught, Possible, WrongReply int
	Others, FalseAlarms, FalsePossible        int
}

// Recall is Caught/Emergencies.
func (c Counts) Recall() float64 { return float64(c.Caught) / math.Max(1, float64(c.Emergencies)) }

// FalseAlarmRate is FalseAlarms/Others.
func (c Counts) FalseAlarmRate() float64 {
	return float64(c.FalseAlarms) / math.Max(1, float64(c.Others))
}

func (c Counts) String() string {
	return fmt.Sprintf("recall %d/%d (%.1f%%, possible %d, wrong reply %d), false alarms %d/%d (%.1f%%, possible %d)",
		c.Caught, c.Emergencies, 100*c.Recall(), c.Possible, c.WrongReply, c.FalseAlarms, c.Others, 100*c.FalseAlarmRate(), c.FalsePossible)
}

// CurvePoint is the cross-validated trade-off at one low threshold.
type CurvePoint struct {
	Threshold   float64
	Recall      float64
	FalseAlarms float64
}

// GroupCounts are the cross-validated counts of one category and language.
type GroupCounts struct {
	Group         string
	Before, After Counts
}

// Fit fits the learned detector on training examples and reports its
// cross-validated numbers. The model's Fit field carries the report.
func Fit(examples []Example, o FitOptions) (*LearnedFile, *FitReport, error) {
	o.defaults()
	if len(examples) < 4*o.Folds {
		return nil, nil, errors.New("triage: fit: too few examples")
	}
	f, err := Builtin()
	if err != nil {
		return nil, nil, err
	}
	rules := Compile(f)
	cd, err := loadBuiltinConcepts()
	if err != nil {
		return nil, nil, err
	}
	ps := prepare(examples, rules, cd, o)
	// The bank's projection, from every training message's vector (no
	// label is used).
	var proj *projection
	if o.Dims > 0 {
		var raws [][]float32
		for _, p := range ps {
			if !p.ex.Ordinary && len(p.raw) > 0 {
				raws = append(raws, p.raw)
			}
		}
		if len(raws) > 0 {
			in := len(raws[0])
			proj = &projection{in: in, basis: principalBasis(raws, in, min(o.Dims, in))}
		}
	}
	for _, p := range ps {
		v := proj.apply(p.raw, nil)
		if len(v) > 0 {
			s, sc := encodeVectors(v, len(v))
			p.vec, _ = decodeVectors(s, sc, len(v))
		}
	}
	names := cd.allFeatureNames()
	keep := make([]bool, len(names))
	for i, n := range names {
		keep[i] = !hasGroup(n, o.Drop)
	}
	// Cross-validation.
	for k := 0; k < o.Folds; k++ {
		var train, test []*prepared
		for _, p := range ps {
			if p.fold == k {
				test = append(test, p)
			} else {
				train = append(train, p)
			}
		}
		ft, err := fitOn(cd, train, names, keep, o)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range test {
			p.prob, p.replyProb, p.neighbour = ft.predict(p)
		}
	}
	rep := &FitReport{Folds: o.Folds, Support: o.Support, L2: o.L2, Dropped: o.Drop}
	var probs []float64
	var labels []bool
	for _, p := range ps {
		if p.ex.Ordinary {
			continue
		}
		probs, labels = append(probs, p.prob), append(labels, p.y)
		rep.Examples++
		if p.y {
			rep.Emergencies++
		}
	}
	rep.AUROC = learn.AUROC(probs, labels)
	_, rep.ECE = learn.Reliability(probs, labels, 10)
	rep.ReplyAUROC, rep.ReplyThreshold = replyThreshold(ps)
	for _, p := range ps {
		p.replyCut = rep.ReplyThreshold
	}
	rep.Low, rep.Mid, rep.High, rep.Curve = thresholds(ps, o)
	groups := map[string]*GroupCounts{}
	group := func(key string) *GroupCounts {
		if groups[key] == nil {
			groups[key] = &GroupCounts{Group: key}
		}
		return groups[key]
	}
	for _, p := range ps {
		rep.Predictions = append(rep.Predictions, Prediction{ID: p.ex.ID, Category: p.ex.Category, Lang: p.ex.Lang,
			Emergency: p.y, Ordinary: p.ex.Ordinary, Rules: p.rules.Kind == KindEmergency, Prob: p.prob,
			Evidence: bandCounts(p.info), Rule: ruleName(p.info)})
		after := decideFit(p, rep.High, rep.Mid, rep.Low)
		before := fitDecision{alarm: p.oldAlarm, possible: p.oldPoss, reply: p.oldReply}
		rulesOnly := fitDecision{alarm: p.rules.Kind == KindEmergency, reply: p.rules.Reply}
		if p.ex.Ordinary {
			rep.OrdinaryCV.add(p, after)
			rep.OrdinaryBefore.add(p, before)
			rep.OrdinaryRules.add(p, rulesOnly)
			if after.alarm {
				rep.Errors = append(rep.Errors, fmt.Sprintf("false %s [%s/%s] p=%.3f rules=%s %s: %s", p.ex.ID, p.ex.Category, p.ex.Lang, p.prob, p.rules.Category, p.info.explain(), p.ex.Text))
			}
			continue
		}
		rep.CV.add(p, after)
		switch {
		case p.y && !after.alarm:
			rep.Errors = append(rep.Errors, fmt.Sprintf("missed %s [%s/%s] p=%.3f %s: %s", p.ex.ID, p.ex.Category, p.ex.Lang, p.prob, p.info.explain(), p.ex.Text))
		case p.y && p.ex.Reply != "" && after.reply != p.ex.Reply:
			rep.Errors = append(rep.Errors, fmt.Sprintf("reply %s %s [%s/%s] p=%.3f crisis=%.3f %s: %s", after.reply, p.ex.ID, p.ex.Category, p.ex.Lang, p.prob, p.replyProb, p.info.explain(), p.ex.Text))
		case !p.y && after.alarm:
			rep.Errors = append(rep.Errors, fmt.Sprintf("false %s [%s/%s] p=%.3f rules=%s %s: %s", p.ex.ID, p.ex.Category, p.ex.Lang, p.prob, p.rules.Category, p.info.explain(), p.ex.Text))
		}
		rep.Before.add(p, before)
		rep.Rules.add(p, rulesOnly)
		for _, key := range []string{p.ex.Category + "/" + p.ex.Lang, "*/" + p.ex.Lang, "author " + p.ex.Source} {
			g := group(key)
			g.Before.add(p, before)
			g.After.add(p, after)
		}
	}
	for _, k := range slices.Sorted(mapKeys(groups)) {
		rep.Groups = append(rep.Groups, *groups[k])
	}
	// The final model: every training example.
	ft, err := fitOn(cd, ps, names, keep, o)
	if err != nil {
		return nil, nil, err
	}
	m, b := ft.m, ft.b
	lf := &LearnedFile{Version: 1, Embedder: embedderID(), Bias: round6(m.Bias), High: rep.High, Mid: rep.Mid, Low: rep.Low,
		Words: ft.words}
	for i, n := range names {
		if keep[i] && m.W[i] != 0 {
			lf.Features = append(lf.Features, n)
			lf.Weights = append(lf.Weights, round6(m.W[i]))
		}
	}
	lf.Reply.Bias = round6(ft.reply.Bias)
	lf.Reply.Words = ft.crisisWords
	lf.Reply.Threshold = rep.ReplyThreshold
	for i, n := range cd.replyNames() {
		if ft.reply.W[i] != 0 {
			lf.Reply.Features = append(lf.Reply.Features, n)
			lf.Reply.Weights = append(lf.Reply.Weights, round6(ft.reply.W[i]))
		}
	}
	lf.Bank.Dims = b.dims
	if proj != nil {
		lf.Bank.Input = proj.in
		for _, x := range proj.basis {
			lf.Bank.Basis = append(lf.Bank.Basis, float32(round6(float64(x))))
		}
	}
	lf.Bank.Vectors, lf.Bank.Scales = encodeVectors(b.vecs, b.dims)
	var labs strings.Builder
	for i := range b.emergency {
		switch {
		case b.crisis[i]:
			labs.WriteByte('C')
		case b.emergency[i]:
			labs.WriteByte('E')
		default:
			labs.WriteByte('N')
		}
	}
	lf.Bank.Labels = labs.String()
	lf.Bank.Categories = b.category
	lf.Fit, _ = json.Marshal(rep)
	return lf, rep, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// prepare analyzes every example once, with the phrases only it contains
// left out.
func prepare(examples []Example, rules *Matcher, cd *conceptDetector, o FitOptions) []*prepared {
	// Which phrases each example contains, in each matcher.
	rulesSeen := make([]map[phrRef]bool, len(examples))
	conceptSeen := make([]map[phrRef]bool, len(examples))
	rulesSupport, conceptSupport := map[phrRef]int{}, map[phrRef]int{}
	for i, e := range examples {
		rulesSeen[i], conceptSeen[i] = map[phrRef]bool{}, map[phrRef]bool{}
		rules.analyzeWith(e.Text, nil, func(r phrRef) { rulesSeen[i][r] = true })
		cd.m.analyzeWith(e.Text, nil, func(r phrRef) { conceptSeen[i][r] = true })
		if e.Ordinary {
			continue // the word lists were not written looking at these
		}
		for r := range rulesSeen[i] {
			rulesSupport[r]++
		}
		for r := range conceptSeen[i] {
			conceptSupport[r]++
		}
	}
	mask := func(m *Matcher, seen map[phrRef]bool, support map[phrRef]int, source string) phraseMask {
		out := phraseMask{}
		if seen == nil {
			return out
		}
		older := o.Baseline[source]
		for r := range seen {
			if support[r] <= o.Support && !older[m.phraseText(r)] {
				out[r] = true
			}
		}
		return out
	}
	nstatic := len(cd.staticNames())
	ps := make([]*prepared, len(examples))
	for i, e := range examples {
		p := &prepared{ex: e, y: e.Expect == KindEmergency, crisis: e.Reply == ReplyCrisis, fold: foldOf(e.ID, o.Folds)}
		if e.Ordinary {
			rulesSeen[i], conceptSeen[i] = nil, nil
		}
		ra := rules.analyzeWith(e.Text, mask(rules, rulesSeen[i], rulesSupport, e.Source), nil)
		p.rules = rules.classify(ra)
		ca := cd.m.analyzeWith(e.Text, mask(cd.m, conceptSeen[i], conceptSupport, e.Source), nil)
		p.static = make([]float64, nstatic)
		p.info = cd.static(ca, ra, p.static)
		p.words = cd.bowWords(ca)
		p.raw = sentenceVector(e.Text, p.info.lang)
		p.oldAlarm, p.oldReply = p.rules.Kind == KindEmergency, p.rules.Reply
		if !p.oldAlarm && p.info.ruleOK {
			p.oldAlarm, p.oldPoss, p.oldReply = true, p.info.rule.possible, p.info.rule.reply
		}
		ps[i] = p
	}
	return ps
}

// minWordCount: a word counts in the bag of words when at least this many
// training messages (other than the one being scored) contain it.
const minWordCount = 2

// wordSmoothing is the naive Bayes prior count per class.
const wordSmoothing = 2.0

// fitted is one fit: the emergency model, the reply model, the bank and
// the word log-odds.
type fitted struct {
	m, reply    learn.Logistic
	b           *bank
	words       map[string]float64
	crisisWords map[string]float64
	cd          *conceptDetector
}

func sumWords(words []string, logodds map[string]float64) float64 {
	s := 0.0
	for _, w := range words {
		s += logodds[w]
	}
	return s
}

// replyNames are the reply model's features: the self-harm and violence
// slots, whether a crisis concept rule holds, the cosines to the nearest
// crisis and other emergency, and the words' log-odds of a crisis among
// emergencies.
func (d *conceptDetector) replyNames() []string {
	var out []string
	for _, n := range replySlots {
		out = append(out, "slot:"+n)
	}
	return append(out, fgRule+":crisis", "reply:crisis_max", "reply:emergency_max", "reply:crisis_margin", "reply:words",
		"reply:rules_crisis_words")
}

// replySlots are the slots the reply model reads.
var replySlots = []string{"hopeless", "farewell", "means", "lethal_question", "self_harm_act", "intrusive_harm", "after_death", "weapon",
	"threat", "violence_now", "at_home"}

// replyInputs is the reply model's input (replyNames).
func (d *conceptDetector) replyInputs(info staticInfo, nb neighbours, words float64) []float64 {
	x := make([]float64, 0, len(replySlots)+6)
	for _, n := range replySlots {
		x = append(x, b2f(info.slots[d.index[n]]))
	}
	return append(x, b2f(info.crisisRule), nb.crisisMax, nb.emergencyMax, nb.crisisMax-nb.emergencyMax, words,
		b2f(info.crisisWords))
}

// predict is the emergency probability and the crisis reply's probability
// of a prepared example.
func (f *fitted) predict(p *prepared) (float64, float64, neighbours) {
	x, nb := assemble(p, f.b, -1, f.words)
	return f.m.Prob(x), f.reply.Prob(f.cd.replyInputs(p.info, nb, sumWords(p.words, f.crisisWords))), nb
}

// fitOn fits the logistic regressions on examples, with neighbours and
// word counts that leave each example out.
func fitOn(cd *conceptDetector, ps []*prepared, names []string, keep []bool, o FitOptions) (*fitted, error) {
	b := &bank{}
	em, other, crisis := map[string]int{}, map[string]int{}, map[string]int{}
	nEm, nOther, nCrisis := 0, 0, 0
	for _, p := range ps {
		// Every message counts in the bag of words (ordinary questions
		// too: "can't log in" is not "can't breathe"); only the triage
		// messages are neighbours.
		p.bankRow = -1
		if !p.ex.Ordinary {
			if b.dims == 0 {
				b.dims = len(p.vec)
			}
			v := p.vec
			if len(v) != b.dims {
				v = make([]float32, b.dims)
			}
			p.bankRow = b.len()
			b.add(v, p.y, p.y && p.crisis, p.ex.Category)
		}
		for _, w := range p.words {
			if p.y {
				em[w]++
			} else {
				other[w]++
			}
			if p.y && p.crisis {
				crisis[w]++
			}
		}
		if p.y {
			nEm++
		} else {
			nOther++
		}
		if p.y && p.crisis {
			nCrisis++
		}
	}
	// The reply's log-odds: crisis emergencies against the others.
	crisisLogodds := func(w string, self *prepared) float64 {
		c, e, nc, ne := crisis[w], em[w]-crisis[w], nCrisis, nEm-nCrisis
		if self != nil && self.y {
			if self.crisis {
				c, nc = c-1, nc-1
			} else {
				e, ne = e-1, ne-1
			}
		}
		if c+e < minWordCount {
			return 0
		}
		return math.Log((float64(c)+wordSmoothing)/(float64(nc)+2*wordSmoothing)) -
			math.Log((float64(e)+wordSmoothing)/(float64(ne)+2*wordSmoothing))
	}
	logodds := func(w string, self *prepared) float64 {
		e, n, ne, nn := em[w], other[w], nEm, nOther
		if self != nil {
			if self.y {
				e, ne = e-1, ne-1
			} else {
				n, nn = n-1, nn-1
			}
		}
		if e+n < minWordCount {
			return 0
		}
		return math.Log((float64(e)+wordSmoothing)/(float64(ne)+2*wordSmoothing)) -
			math.Log((float64(n)+wordSmoothing)/(float64(nn)+2*wordSmoothing))
	}
	x := make([][]float64, len(ps))
	y := make([]float64, len(ps))
	sw := make([]float64, len(ps))
	var rx [][]float64
	var ry []float64
	for i, p := range ps {
		full, nb := assembleWith(p, b, p.bankRow, func(w string) float64 { return logodds(w, p) })
		x[i] = project(full, keep)
		y[i] = b2f(p.y)
		sw[i] = 1
		if p.ex.Ordinary {
			sw[i] = o.OrdinaryWeight
		}
		if p.rules.Kind == KindEmergency && o.RulesWeight != 0 {
			sw[i] = max(o.RulesWeight, 1e-6)
		}
		if p.y {
			cw := 0.0
			for _, w := range p.words {
				cw += crisisLogodds(w, p)
			}
			rx = append(rx, cd.replyInputs(p.info, nb, cw))
			ry = append(ry, b2f(p.crisis))
		}
	}
	m, err := learn.FitLogistic(x, y, learn.Options{L2: o.L2, SampleWeights: sw})
	if err != nil {
		return nil, err
	}
	reply, err := learn.FitLogistic(rx, ry, learn.Options{L2: o.L2})
	if err != nil {
		return nil, err
	}
	// Weights back over the full vector (left-out features weigh 0).
	w := make([]float64, len(names))
	j := 0
	for i := range names {
		if keep[i] {
			w[i] = m.W[j]
			j++
		}
	}
	m.W = w
	words := map[string]float64{}
	if !hasGroup(fgBOW+":nb", o.Drop) {
		for _, set := range []map[string]int{em, other} {
			for word := range set {
				if lo := logodds(word, nil); lo != 0 {
					words[word] = round6(lo)
				}
			}
		}
	}
	crisisWords := map[string]float64{}
	for word := range crisis {
		if lo := crisisLogodds(word, nil); lo != 0 {
			crisisWords[word] = round6(lo)
		}
	}
	return &fitted{m: m, reply: reply, b: b, words: words, crisisWords: crisisWords, cd: cd}, nil
}

func project(x []float64, keep []bool) []float64 {
	out := make([]float64, 0, len(x))
	for i, v := range x {
		if keep[i] {
			out = append(out, v)
		}
	}
	return out
}

// assemble is the full feature vector of a prepared example against a
// bank (leaving out row skip) and word log-odds.
func assemble(p *prepared, b *bank, skip int, words map[string]float64) ([]float64, neighbours) {
	return assembleWith(p, b, skip, func(w string) float64 { return words[w] })
}

func assembleWith(p *prepared, b *bank, skip int, logodds func(string) float64) ([]float64, neighbours) {
	x := make([]float64, len(p.static)+len(knnNames)+1)
	copy(x, p.static)
	nb := b.features(p.vec, skip, x[len(p.static):])
	s := 0.0
	for _, w := range p.words {
		s += logodds(w)
	}
	x[len(x)-1] = s
	return x, nb
}

// fitDecision is what the detector would do with an example.
type fitDecision struct {
	alarm, possible bool
	reply           string
}

func (c *Counts) add(p *prepared, d fitDecision) {
	if p.y {
		c.Emergencies++
		if d.alarm {
			c.Caught++
			if d.possible {
				c.Possible++
			}
			if p.ex.Reply != "" && d.reply != p.ex.Reply {
				c.WrongReply++
			}
		}
		return
	}
	c.Others++
	if d.alarm {
		c.FalseAlarms++
		if d.possible {
			c.FalsePossible++
		}
	}
}

// decideFit is Detector.Classify's decision on a prepared example, from
// its out-of-fold probability.
func decideFit(p *prepared, high, mid, low float64) fitDecision {
	if p.rules.Kind == KindEmergency {
		reply := p.rules.Reply
		if reply == ReplyEmergency && p.info.crisisSure {
			reply = ReplyCrisis // Detector.Classify
		}
		return fitDecision{alarm: true, reply: reply}
	}
	if !inBand(p.prob, low, mid, p.info) {
		return fitDecision{}
	}
	return fitDecision{alarm: true, possible: p.prob < high, reply: learnedReply(p.replyProb, p.replyCut)}
}

// learnedReply is the reply to a learned emergency: the crisis reply (988,
// which also says to call 911 in danger) when the reply model's
// probability reaches the threshold.
func learnedReply(crisisProb, threshold float64) string {
	if crisisProb >= threshold {
		return ReplyCrisis
	}
	return ReplyEmergency
}

// crisisMissCost is what a crisis (988) answered with the 911 reply costs
// against a 911 emergency answered with the crisis reply, when the reply
// threshold is chosen: the crisis reply says to call 911 in danger too,
// the 911 reply never names the crisis line.
const crisisMissCost = 2

// replyThreshold chooses the reply model's threshold with the fewest wrong
// replies among the emergencies (a missed crisis counting crisisMissCost),
// out of fold.
func replyThreshold(ps []*prepared) (auroc, threshold float64) {
	var probs []float64
	var labels []bool
	for _, p := range ps {
		if p.y {
			probs, labels = append(probs, p.replyProb), append(labels, p.crisis)
		}
	}
	auroc = learn.AUROC(probs, labels)
	best := -1
	threshold = 0.5
	for _, t := range probs {
		wrong := 0
		for i, q := range probs {
			if (q >= t) != labels[i] {
				wrong++
				if labels[i] {
					wrong += crisisMissCost - 1
				}
			}
		}
		if best < 0 || wrong < best || wrong == best && math.Abs(t-0.5) < math.Abs(threshold-0.5) {
			best, threshold = wrong, t
		}
	}
	return auroc, threshold
}

// thresholds chooses the thresholds on out-of-fold probabilities (see
// FitOptions) and returns the trade-off curve. The high threshold comes
// first: the lowest at which the learned detector alone raises at most
// HighFalseAlarms of the hard non-emergencies (those the rules leave
// alone). Then the band below it, on a grid of 0.01: the low and the mid
// threshold (a possible emergency from mid, or from low with a red-flag
// concept) that catch the most emergencies (rules and learned detector
// together, up to Recall) while the learned detector adds at most
// FalseAlarms to the rules' own false alarms and OrdinaryFalseAlarms on
// the ordinary questions; of those, the one with the fewest false alarms,
// then the highest thresholds.
func thresholds(ps []*prepared, o FitOptions) (low, mid, high float64, curve []CurvePoint) {
	var cands []float64
	others, ordinary, emergencies := 0, 0, 0
	for _, p := range ps {
		if p.ex.Ordinary {
			ordinary++
			continue
		}
		cands = append(cands, p.prob)
		if !p.y {
			others++
		} else {
			emergencies++
		}
	}
	sort.Float64s(cands)
	cands = slices.Compact(cands)
	high = 0.99
	for _, t := range cands {
		fa := 0
		for _, p := range ps {
			if !p.y && !p.ex.Ordinary && p.rules.Kind != KindEmergency && p.prob >= t {
				fa++
			}
		}
		if t >= 0.5 && float64(fa) <= o.HighFalseAlarms*float64(others) {
			high = t
			break
		}
	}
	type count struct{ caught, added, addedOrdinary int }
	at := func(low, mid float64) count {
		var c count
		for _, p := range ps {
			alarm := decideFit(p, high, mid, low).alarm
			switch {
			case p.ex.Ordinary:
				if alarm && p.rules.Kind != KindEmergency {
					c.addedOrdinary++
				}
			case p.y:
				if alarm {
					c.caught++
				}
			case alarm && p.rules.Kind != KindEmergency:
				c.added++
			}
		}
		return c
	}
	var grid []float64
	for t := 0.02; t < high; t += 0.01 {
		grid = append(grid, round6(t))
	}
	grid = append(grid, high)
	target := int(math.Ceil(o.Recall * float64(emergencies)))
	low, mid = high, high
	best := at(high, high)
	better := func(c, b count) bool {
		cc, bc := min(c.caught, target), min(b.caught, target)
		if cc != bc {
			return cc > bc
		}
		return c.added+c.addedOrdinary < b.added+b.addedOrdinary
	}
	for i := len(grid) - 1; i >= 0; i-- {
		for j := len(grid) - 1; j >= i; j-- {
			c := at(grid[i], grid[j])
			if float64(c.added) > o.FalseAlarms*float64(others) || float64(c.addedOrdinary) > o.OrdinaryFalseAlarms*float64(ordinary) {
				continue
			}
			if better(c, best) {
				best, low, mid = c, grid[i], grid[j]
			}
		}
	}
	for _, t := range []float64{0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9} {
		var c Counts
		for _, p := range ps {
			if !p.ex.Ordinary {
				c.add(p, decideFit(p, high, math.Min(t, high), math.Min(t, high)))
			}
		}
		curve = append(curve, CurvePoint{Threshold: t, Recall: round6(c.Recall()), FalseAlarms: round6(c.FalseAlarmRate())})
	}
	return low, mid, high, curve
}

// PrintFitReport writes a fit's cross-validated numbers.
func PrintFitReport(w io.Writer, r *FitReport, groups bool) {
	fmt.Fprintf(w, "training part: %d messages, %d emergencies; %d-fold cross-validation; phrases found in <= %d training messages masked; L2 %g\n",
		r.Examples, r.Emergencies, r.Folds, r.Support, r.L2)
	if len(r.Dropped) > 0 {
		fmt.Fprintf(w, "features left out: %s\n", strings.Join(r.Dropped, ", "))
	}
	fmt.Fprintf(w, "learned detector alone: AUROC %.3f, ECE %.3f; thresholds low %.3f (with a red-flag concept), mid %.3f, high %.3f\n",
		r.AUROC, r.ECE, r.Low, r.Mid, r.High)
	fmt.Fprintf(w, "reply model (crisis among emergencies): AUROC %.3f, threshold %.3f\n", r.ReplyAUROC, r.ReplyThreshold)
	fmt.Fprintf(w, "rules alone:            %s\n", r.Rules)
	fmt.Fprintf(w, "rules + concept rules:  %s\n", r.Before)
	fmt.Fprintf(w, "rules + learned:        %s\n", r.CV)
	fmt.Fprintf(w, "ordinary questions, false alarms: rules %d/%d, rules + concept rules %d/%d, rules + learned %d/%d\n",
		r.OrdinaryRules.FalseAlarms, r.OrdinaryRules.Others, r.OrdinaryBefore.FalseAlarms, r.OrdinaryBefore.Others,
		r.OrdinaryCV.FalseAlarms, r.OrdinaryCV.Others)
	fmt.Fprintf(w, "trade-off (rules + learned, a possible emergency from a threshold, with or without a concept):\n")
	for _, c := range r.Curve {
		fmt.Fprintf(w, "  %.2f  recall %5.1f%%  false alarms %5.1f%%\n", c.Threshold, 100*c.Recall, 100*c.FalseAlarms)
	}
	if !groups {
		return
	}
	for _, e := range r.Errors {
		fmt.Fprintln(w, " ", e)
	}
	fmt.Fprintf(w, "%-34s %-24s %-24s\n", "category/lang", "before", "after")
	for _, g := range r.Groups {
		cell := func(c Counts) string {
			if c.Emergencies > 0 {
				return fmt.Sprintf("recall %d/%d", c.Caught, c.Emergencies)
			}
			return fmt.Sprintf("alarms %d/%d", c.FalseAlarms, c.Others)
		}
		if g.After.Emergencies > 0 && g.After.Others > 0 {
			fmt.Fprintf(w, "%-34s recall %d/%d alarms %d/%d -> recall %d/%d alarms %d/%d\n", g.Group, g.Before.Caught, g.Before.Emergencies,
				g.Before.FalseAlarms, g.Before.Others, g.After.Caught, g.After.Emergencies, g.After.FalseAlarms, g.After.Others)
			continue
		}
		fmt.Fprintf(w, "%-34s %-24s %-24s\n", g.Group, cell(g.Before), cell(g.After))
	}
}
