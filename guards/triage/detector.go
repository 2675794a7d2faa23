package triage

import (
	"fmt"
	"sync"
)

// Detector is the whole triage decision: the reviewed rules file first
// (the clinic's contract: a rule's emergency is always an emergency), then
// the learned detector (learned.go), which reads the message's concept
// slots (concept.go), context cues, meaning and words, for emergencies the
// word lists do not foresee. Above its high threshold a message is an
// emergency; from the mid threshold, or from the low one with a red-flag
// concept, it is a possible emergency: the emergency guidance first, then
// one question, "is this happening now?".
type Detector struct {
	rules    *Matcher
	concepts *conceptDetector
	learned  *learned
}

var (
	builtinOnce     sync.Once
	builtinConcDet  *conceptDetector
	builtinLearnDet *learned
	builtinErr      error
)

// loadBuiltinConcepts compiles concepts.yaml against the built-in rules'
// languages, settings and context cues.
func loadBuiltinConcepts() (*conceptDetector, error) {
	f, err := Builtin()
	if err != nil {
		return nil, err
	}
	d, err := parseConcepts(builtinConcepts, f)
	if err != nil {
		return nil, err
	}
	return d, d.checkLearnedSlots()
}

// NewDetector returns a detector over compiled rules and the built-in
// concepts and learned model (which use the built-in rules' context cues,
// whatever rules file the clinic uses).
func NewDetector(m *Matcher) *Detector {
	builtinOnce.Do(func() {
		builtinConcDet, builtinErr = loadBuiltinConcepts()
		if builtinErr != nil {
			return
		}
		builtinLearnDet, builtinErr = loadLearned(builtinLearned, builtinConcDet)
		// The word vectors, the analyzer and the Spanish glossary load on
		// first use: at start, not with a patient's first message.
		sentenceVector("warm up", "en")
		sentenceVector("hola", "es")
	})
	if builtinErr != nil {
		// The embedded files are tested; this is a build that broke them.
		panic(fmt.Sprintf("triage: built-in concepts or learned model: %v", builtinErr))
	}
	return &Detector{rules: m, concepts: builtinConcDet, learned: builtinLearnDet}
}

// Categories reported for the learned detector's decisions:
// "learned:<concept rule>" when a concept rule holds, else
// "learned:like-<category of the nearest training emergency>".
const (
	ConceptCategory = "concept"
	LearnedCategory = "learned"
)

// Classify decides one message. The rules' emergency categories come
// first; then the learned detector; then the rules' advice categories.
func (d *Detector) Classify(text string) Result {
	toks := tokenize(text)
	ra := d.rules.analyzeTokens(toks, nil, nil)
	r := d.rules.classify(ra)
	if r.Kind == KindEmergency {
		// An emergency the rules reply to with 911 ("took all my pills")
		// told with a self-harm concept (hopelessness or a farewell with a
		// means) gets the crisis reply, which says to call 911 too.
		if r.Reply == ReplyEmergency && d.crisisConcept(toks) {
			r.Reply = ReplyCrisis
		}
		if r.Reply == ReplyEmergency {
			r.CrisisLine = d.selfHarmSignal(toks)
		}
		return r
	}
	if d.rules.fingerprint != d.concepts.base.fingerprint {
		ra = nil // a clinic's own rules: the features read the built-in ones
	}
	s := d.score(text, toks, ra)
	if !s.ok || !inBand(s.prob, d.learned.low, d.learned.mid, s.info) {
		return r
	}
	lang := r.Lang
	if lang == "" {
		lang = s.info.lang
	}
	cat, rule := LearnedCategory+":like-"+s.nb.category, -1
	if s.info.ruleOK {
		cat, rule = LearnedCategory+":"+s.info.rule.name, s.info.ruleIdx
	}
	reply := learnedReply(s.reply, d.learned.replyCut)
	return Result{Kind: KindEmergency, Category: cat, Reply: reply, Rule: rule, Lang: lang,
		Possible: s.prob < d.learned.high, CrisisLine: reply == ReplyEmergency && s.info.selfHarm()}
}

// selfHarmSignal reports a self-harm concept in a message (a slot of the
// self-harm group filled in context, or a crisis category's words).
func (d *Detector) selfHarmSignal(toks []token) bool {
	a := d.concepts.m.analyzeTokens(toks, nil, nil)
	s := d.concepts.fillFrom(a, nil)
	for _, name := range selfHarmSlots {
		if i, ok := d.concepts.index[name]; ok && len(s[i]) > 0 {
			return true
		}
	}
	return false
}

// crisisConcept reports a definite crisis concept rule in a message.
func (d *Detector) crisisConcept(toks []token) bool {
	a := d.concepts.m.analyzeTokens(toks, nil, nil)
	s := d.concepts.fillFrom(a, nil)
	for _, r := range d.concepts.rules {
		// Not a question about a lethal dose alone: a friend's overdose
		// brings that question too.
		if r.reply == ReplyCrisis && !r.possible && r.name != "lethal_question" && r.holds(s) {
			return true
		}
	}
	return false
}

// bandCounts says whether a probability between the low and the mid
// threshold makes a possible emergency: only when a red-flag concept is in
// the message (a slot of a group or a concept rule). Similarity alone must
// reach the mid threshold.
func bandCounts(info staticInfo) bool { return info.evidence() }

// inBand reports a learned alarm (a possible emergency below the high
// threshold): at or above mid, or at or above low with a red-flag concept.
func inBand(prob, low, mid float64, info staticInfo) bool {
	return prob >= mid || prob >= low && bandCounts(info)
}

// learnedScore is the learned detector's reading of a message.
type learnedScore struct {
	ok    bool
	prob  float64
	reply float64 // probability of the crisis reply
	info  staticInfo
	nb    neighbours
}

// score reads a message with the learned detector; toks are its tokens and
// base its analysis by the built-in rules when they are at hand (else nil).
func (d *Detector) score(text string, toks []token, base *analysis) learnedScore {
	if toks == nil {
		toks = tokenize(text)
	}
	a := d.concepts.m.analyzeTokens(toks, nil, nil)
	if base == nil {
		base = d.concepts.base.analyzeTokens(toks, nil, nil)
	}
	x := make([]float64, len(d.learned.weights))
	nstatic := len(x) - len(knnNames) - 1
	info := d.concepts.static(a, base, x[:nstatic])
	if !info.nonEmpty {
		return learnedScore{}
	}
	nb := d.learned.bank.features(d.learned.proj.apply(sentenceVectorOf(text, toks, info.lang), nil), -1, x[nstatic:])
	words := d.concepts.bowWords(a)
	x[len(x)-1] = nbScore(words, d.learned.words)
	return learnedScore{ok: true, prob: d.learned.prob(x), reply: d.learned.replyProb(d.concepts, info, nb, words),
		info: info, nb: nb}
}

// Explain lists the concept slots a message fills and the learned
// detector's probability (for tests and `tend triage test`); it never
// includes the message's words.
func (d *Detector) Explain(text string) string {
	s, _ := d.concepts.fill(text)
	out := d.concepts.explain(s)
	if sc := d.score(text, nil, nil); sc.ok {
		out += fmt.Sprintf(" p=%.3f", sc.prob)
	}
	return out
}
