package knowledge

import (
	"math"
	"strings"

	"github.com/tend-health/tend/internal/textutil"
)

// Ranking. Each candidate passage gets four signals, computed the same way
// on both databases:
//
//   - Cosine: the question's and the passage's vectors;
//   - BM25: Okapi BM25 over the passage's heading (weight 2.5), body (1)
//     and context (title, parent headings, tags: 0.5), with document
//     frequencies from kb_terms, scaled to 0..1 by the best score the
//     question could reach;
//   - Coverage: the share of the question's terms, weighted by rarity
//     (IDF), that the passage contains; terms the index has never seen
//     count at full rarity, so a question about something the documents
//     do not mention ("vasectomy") cannot reach a high coverage;
//   - HeadCoverage: the same share within the heading alone, which for a
//     FAQ entry is the question it answers.
//
// The score is a fixed weighted sum (calibrated fusion) of the signals;
// the confidence is a separate blend of the top passage's coverage and
// similarity, since "which passage is best" and "does the best passage
// answer at all" are different questions.
const (
	bm25K1 = 1.2
	bm25B  = 0.75

	headFieldWeight = 2.5
	bodyFieldWeight = 1.0
	ctxFieldWeight  = 0.5
	altTermWeight   = 0.5 // broader terms from the lexicon
)

// queryTerm is one distinct term of the question.
type queryTerm struct {
	term string
	alts []string // broader terms the lexicon adds ("stimulant" for "adderall")
	df   int
	idf  float64
	spec float64 // Analyzer.Specificity
	// context: the term comes only from the conversation's context, not
	// the question itself, and counts at half weight.
	context bool
	// corrected: the question's word was a misspelling of this term.
	corrected bool
}

// contextWeight is the weight of terms from the conversation's context.
const contextWeight = 0.5

func (t queryTerm) weight() float64 {
	w := t.idf * t.spec
	if t.context {
		w *= contextWeight
	}
	if t.corrected {
		w *= correctedWeight
	}
	return w
}

type queryTerms []queryTerm

func (qt queryTerms) names() []string {
	out := make([]string, 0, len(qt))
	for _, t := range qt {
		out = append(out, t.term)
	}
	return out
}

// correctable reports whether a question's term may be read as a typo of
// an indexed term: it is unknown to the index, not a lexicon concept or
// entity (those are real words the documents simply lack: "rabies"), and
// not a real word of the question's language.
func (b *Base) correctable(vocab *vocabCache, term, raw, lang string) bool {
	if b.noCorrect || vocab.df[term] > 0 || len(b.analyzer.broader[term]) > 0 || b.analyzer.concepts[term] {
		return false
	}
	if quals, _ := b.analyzer.qualifiers(lang); quals[term] {
		return false // "hombro" is a real word the documents lack, not a typo of "hombre"
	}
	return b.dict == nil || !b.dict(raw, lang)
}

// minContextSpecificity: a follow-up inherits the previous question's
// topic (its specific words and concepts), not its everyday words.
const minContextSpecificity = 0.6

// correctedWeight discounts a term read as a correction of a misspelling.
const correctedWeight = 0.85

// queryTerms analyzes the question and looks up each term's rarity; a word
// the index has never seen is read as the closest indexed term when one is
// a typo away.
func (b *Base) queryTerms(vocab *vocabCache, query, context, lang string, st State) queryTerms {
	var qt queryTerms
	seen := map[string]bool{}
	add := func(text string, fromContext bool) {
		for _, t := range b.analyzer.Analyze(text, lang) {
			term, corrected := t.Term, false
			if b.correctable(vocab, term, t.Raw, lang) {
				if c, ok := vocab.correct(term); ok {
					term, corrected = c, true
				}
			}
			if seen[term] {
				continue
			}
			if fromContext && b.analyzer.Specificity(term) < minContextSpecificity {
				continue // "do you offer ...": the previous question's topic is what carries over
			}
			seen[term] = true
			qt = append(qt, queryTerm{term: term, alts: b.analyzer.broader[term], spec: b.analyzer.Specificity(term),
				context: fromContext, corrected: corrected})
		}
	}
	add(query, false)
	add(context, true)
	df := vocab.df
	n := float64(st.Chunks)
	for i := range qt {
		d := df[qt[i].term]
		qt[i].df = d
		qt[i].idf = idf(n, d)
		if d == 0 {
			// An unknown word said with a known broader term ("adderall":
			// "controlled substance") is as rare as its rarest broader term.
			best := 0
			for _, a := range qt[i].alts {
				if ad := df[a]; ad > 0 && (best == 0 || ad < best) {
					best = ad
				}
			}
			if best > 0 {
				qt[i].idf = idf(n, best)
			}
		}
	}
	return qt
}

// idf is BM25's inverse document frequency (always positive).
func idf(n float64, df int) float64 {
	d := math.Min(float64(df), n)
	return math.Log(1 + (n-d+0.5)/(d+0.5))
}

// queryInfo is what ranking needs to know about the question.
type queryInfo struct {
	analyzer *Analyzer
	terms    queryTerms
	lang     string
	entities []queryEntity // the things the question names
	sif      []float32     // its sentence vector (nil without a meaning encoder)
	figures  []string      // the figure markers that would answer it (figprice, ...)
	info     float64       // its terms' summed weight
	// softCov and softLeast are the first passage's soft coverage of the
	// question in word-vector meaning (SIF.SoftCoverage).
	softCov, softLeast float64
	// trCov and trLeast are the same with each word weighted by its
	// predicted term recall (SIF.Coverages; 0 without a TermRecall).
	trCov, trLeast float64
	// alt is the question read in English through the glossary, for
	// English passages (nil for an English question).
	alt     *queryInfo
	unknown float64 // weight share of terms the index has never seen
}

// queryEntity is a named thing in the question and the broader terms that
// also count as naming it ("controlled substance" for "adderall").
type queryEntity struct {
	term string
	alts []string
}

// forPassage is the reading of the question to match a passage of lang.
func (qi *queryInfo) forPassage(lang string) *queryInfo {
	if qi.alt != nil && lang == qi.alt.lang {
		return qi.alt
	}
	return qi
}

// allTerms are both readings' terms (for the full-text candidates).
func (qi *queryInfo) allTerms() queryTerms {
	if qi.alt == nil {
		return qi.terms
	}
	out := append(queryTerms{}, qi.terms...)
	seen := map[string]bool{}
	for _, t := range out {
		seen[t.term] = true
	}
	for _, t := range qi.alt.terms {
		if !seen[t.term] {
			out = append(out, t)
		}
	}
	return out
}

func newQueryInfo(a *Analyzer, question string, qt queryTerms, lang string) queryInfo {
	qi := queryInfo{analyzer: a, terms: qt, lang: lang}
	var unknown float64
	for _, t := range qt {
		w := t.weight()
		qi.info += w
		if t.df == 0 {
			unknown += w
		}
		if class, ok := a.Entity(t.term); ok && !t.context {
			e := queryEntity{term: t.term}
			if broaderGrounds[class] {
				e.alts = t.alts
			}
			qi.entities = append(qi.entities, e)
		}

	}
	if qi.info > 0 {
		qi.unknown = unknown / qi.info
	}
	var own []string
	for _, t := range qt {
		if !t.context {
			own = append(own, t.term)
		}
	}
	qi.figures = a.FiguresAsked(question, own)
	return qi
}

// scoreResult computes a candidate's signals, its features and its score.
func scoreResult(r *Result, qi *queryInfo, st State, mode Mode, m *Model) {
	var fields [3]map[string]int
	var headLen float64
	if r.fields != nil { // counted once per index generation
		fields, headLen = *r.fields, float64(max(r.headLen, 1))
	} else {
		fields = [3]map[string]int{termCounts(r.terms[0]), termCounts(r.terms[1]), termCounts(r.terms[2])}
		headLen = float64(max(len(strings.Fields(r.terms[0])), 1))
	}
	fieldWeight := [3]float64{headFieldWeight, bodyFieldWeight, ctxFieldWeight}
	lenNorm := 1 - bm25B + bm25B*float64(max(r.nTerms, 1))/math.Max(st.AvgTerms(), 1)
	var bm, bmMax, bmHead, bmBody, bmCtx, cov, head, total, missTop, missUnknown float64
	var missing []string
	for _, t := range qi.terms {
		w := t.weight()
		total += w
		bmMax += w * (bm25K1 + 1)
		var tf [3]float64
		own := false // the term itself (or a misspelling of it), not a broader one
		for f := range fields {
			tf[f] = float64(fields[f][t.term])
			if tf[f] == 0 && t.df == 0 {
				tf[f] = fuzzyCount(t.term, fields[f])
			}
			own = own || tf[f] > 0
			if t.df == 0 {
				// Broader terms stand in only for a word the documents never
				// use ("adderall": "stimulant"); a word they do use must match.
				for _, a := range t.alts {
					tf[f] += altTermWeight * float64(fields[f][a])
				}
			}
		}
		tfw := 0.0
		for f := range tf {
			tfw += fieldWeight[f] * tf[f]
		}
		if tfw > 0 {
			bm += w * tfw * (bm25K1 + 1) / (tfw + bm25K1*lenNorm)
		}
		if tf[0] > 0 {
			// A heading is a short field of its own: normalized by its
			// length against a typical question's (8 terms).
			hn := 1 - bm25B + bm25B*headLen/8
			bmHead += w * tf[0] * (bm25K1 + 1) / (tf[0] + bm25K1*hn)
		}
		// Each field alone, so the ranker learns the fields' weights
		// (BM25F's field weights, fitted instead of fixed).
		if tf[1] > 0 {
			bmBody += w * tf[1] * (bm25K1 + 1) / (tf[1] + bm25K1*lenNorm)
		}
		if tf[2] > 0 {
			bmCtx += w * tf[2] * (bm25K1 + 1) / (tf[2] + bm25K1)
		}
		switch {
		case !own && (tf[0] > 0 || tf[1] > 0 || tf[2] > 0):
			cov += w / 2 // only a broader term: "insurance" for "Blue Cross"
		case tf[0] > 0 || tf[1] > 0:
			cov += w
		case tf[2] > 0:
			cov += w / 2 // only the title or tags mention it
		default:
			missing = append(missing, t.term)
			missTop = math.Max(missTop, w)
			if t.df == 0 {
				missUnknown += w
			}
		}
		if tf[0] > 0 {
			head += w
		}
	}
	s := &r.Signals
	s.Missing = missing
	if total > 0 {
		s.BM25, s.Coverage, s.HeadCoverage, s.MissingTop = bm/bmMax, cov/total, head/total, missTop/total
		s.HeadBM25, s.BodyBM25, s.CtxBM25 = bmHead/bmMax, bmBody/bmMax, bmCtx/bmMax
		s.MissingUnknown = missUnknown / total
	}
	s.Cosine = math.Max(s.Cosine, 0)
	s.EntityMatch, s.Ungrounded = entityMatch(qi.entities, fields)
	s.Conflict = len(s.Ungrounded) > 0 && entityConflict(qi, s.Ungrounded, fields)
	s.TypeMatch = 1
	if len(qi.figures) > 0 {
		n := 0
		for _, f := range qi.figures {
			if fields[0][f] > 0 || fields[1][f] > 0 {
				n++
			}
		}
		s.TypeMatch = float64(n) / float64(len(qi.figures))
	}
	r.features = candidateFeatures(r, qi)
	switch mode {
	case ModeFullText:
		r.Score = s.BM25
	case ModeVector:
		r.Score = s.Cosine
	default:
		r.Score = m.RankScore(r.features)
	}
}

// entityMatch is the share of the question's entities the passage names
// (1 when it names none) and the ones it lacks.
func entityMatch(ents []queryEntity, fields [3]map[string]int) (float64, []string) {
	if len(ents) == 0 {
		return 1, nil
	}
	var lacking []string
	for _, e := range ents {
		if !namesAny(fields, e.term, e.alts) {
			lacking = append(lacking, e.term)
		}
	}
	return 1 - float64(len(lacking))/float64(len(ents)), lacking
}

// broaderGrounds are the entity classes whose lexicon "broader" terms
// ground them: a passage about controlled substances answers for Adderall,
// but one about insurance does not answer for Blue Cross.
var broaderGrounds = map[string]bool{"drug": true}

// hardClasses are the entity classes a question is about when it names
// them: a passage that does not name the vaccine, test or plan asked about
// does not answer. Specialties and drugs are often only context ("my
// cardiologist sent me for labs", "I take metformin"): for them only a
// passage naming another one of the same class is a conflict.
var hardClasses = map[string]bool{"vaccine": true, "test": true, "procedure": true, "service": true,
	"insurance": true, "animal": true}

// entityConflict reports whether a passage that lacks some of the
// question's entities cannot answer it: it names another entity of the
// same class instead (the flu shot's price for a question about the rabies
// shot), or the knowledge base never names the missing thing at all.
func entityConflict(qi *queryInfo, lacking []string, fields [3]map[string]int) bool {
	for _, term := range lacking {
		class, _ := qi.analyzer.Entity(term)
		if hardClasses[class] && qi.dfOf(term) == 0 {
			return true
		}
		for f := range fields {
			for t := range fields[f] {
				if t != term {
					if c, ok := qi.analyzer.Entity(t); ok && c == class {
						return true
					}
				}
			}
		}
	}
	return false
}

func (qi *queryInfo) dfOf(term string) int {
	for _, t := range qi.terms {
		if t.term == term {
			return t.df
		}
	}
	return 0
}

func namesAny(fields [3]map[string]int, term string, alts []string) bool {
	for _, f := range fields {
		if f[term] > 0 {
			return true
		}
		for _, a := range alts {
			if f[a] > 0 {
				return true
			}
		}
	}
	return false
}

func candidateFeatures(r *Result, qi *queryInfo) []float64 {
	s := r.Signals
	f := make([]float64, len(CandidateFeatures))
	f[0], f[1], f[2], f[3], f[4], f[5] = s.Cosine, s.BM25, s.HeadBM25, s.HeadCoverage, s.Coverage, s.MissingTop
	if s.TextRank > 0 {
		f[6] = 1 / float64(s.TextRank)
	}
	if s.VectorRank > 0 {
		f[7] = 1 / float64(s.VectorRank)
	}
	f[8], f[9], f[10] = s.SIFHead, s.SIFBody, s.EntityMatch
	if r.Language == qi.lang || r.Language == "" {
		f[11] = 1
	}
	f[12] = s.TypeMatch
	f[13], f[14] = s.BodyBM25, s.CtxBM25
	return f
}

// decisionFeatures describe the first passage and the question for the
// answer/abstain decision.
func decisionFeatures(results []Result, qi *queryInfo) []float64 {
	top := results[0]
	s := top.Signals
	f := make([]float64, len(DecisionFeatures))
	margin := top.Score
	for _, r := range results[1:] {
		if r.original() != top.original() { // a translation is the same document
			margin = top.Score - r.Score
			break
		}
	}
	f[0], f[1], f[2], f[3], f[4] = top.Score, margin, s.Coverage, s.HeadCoverage, s.MissingTop
	f[5], f[6], f[7], f[8] = s.Cosine, s.BM25, s.SIFHead, s.SIFBody
	f[9] = 1 - s.EntityMatch
	f[10], f[11] = math.Min(1, qi.info/minInformation), qi.unknown
	if s.TextRank == 1 && s.VectorRank == 1 {
		f[12] = 1
	}
	f[13] = math.Log1p(float64(len(qi.terms)))
	f[14] = top.features[11]
	f[15] = s.TypeMatch
	if len(qi.figures) > 0 {
		f[16] = 1
	}
	f[17] = s.MissingUnknown
	f[18] = s.Coverage - secondCoverage(results)
	f[19], f[20] = qi.softCov, qi.softLeast
	f[21], f[22] = qi.trCov, qi.trLeast
	return f
}

// secondCoverage is the coverage of the best passage from another
// document: when it covers the question as well as the first, the choice
// between them is a guess.
func secondCoverage(results []Result) float64 {
	for _, r := range results[1:] {
		if r.original() != results[0].original() {
			return r.Signals.Coverage
		}
	}
	return 0
}

// confidence is how sure the search is that its first result answers the
// question, from 0 to 1: the model's probability in hybrid mode (capped
// below the answering threshold when the passage does not name a thing the
// question names), fixed blends for the single-signal baselines.
func confidence(results []Result, qi *queryInfo, mode Mode, m *Model) float64 {
	if len(results) == 0 || len(qi.terms) == 0 {
		return 0
	}
	s := results[0].Signals
	scale := math.Min(1, qi.info/minInformation)
	var c float64
	switch mode {
	case ModeFullText:
		c = (0.6*s.Coverage + 0.4*s.BM25) * scale
	case ModeVector:
		c = math.Min(1, s.Cosine/0.6) * scale
	default:
		c = m.Confidence(decisionFeatures(results, qi))
		if s.Conflict {
			c = math.Min(c, m.Threshold/2)
		}
	}
	return math.Round(math.Max(0, math.Min(1, c))*1000) / 1000
}

// minInformation is the weighted rarity (IDF × specificity) a question
// needs for full confidence: about one term found in a few passages.
const minInformation = 3.0

func termCounts(terms string) map[string]int {
	m := map[string]int{}
	for _, t := range strings.Fields(terms) {
		m[t]++
	}
	return m
}

// fuzzyCount finds a misspelling of term among a field's terms: one edit
// for words of 4-7 letters, two for longer ones ("perscript" and
// "prescript"). It returns the count of the closest match, discounted.
func fuzzyCount(term string, field map[string]int) float64 {
	n := len([]rune(term))
	if n < 4 || isNumber(term) {
		return 0
	}
	limit := 1
	if n >= 8 {
		limit = 2
	}
	best := 0
	for t, c := range field {
		if abs(len([]rune(t))-n) > limit || isNumber(t) {
			continue
		}
		if textutil.EditDistance(term, t, limit) <= limit && c > best {
			best = c
		}
	}
	return 0.8 * float64(best)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
