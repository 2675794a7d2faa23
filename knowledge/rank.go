package knowledge

import (
	"context"
	"math"
	"strings"

	"github.com/tend-health/tend/internal/store"
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
}

// contextWeight is the weight of terms from the conversation's context.
const contextWeight = 0.5

func (t queryTerm) weight() float64 {
	w := t.idf * t.spec
	if t.context {
		w *= contextWeight
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

// queryTerms analyzes the question and looks up each term's rarity.
func (b *Base) queryTerms(ctx context.Context, q store.Q, query, context, lang string, st State) (queryTerms, error) {
	var qt queryTerms
	seen := map[string]bool{}
	var lookup []string
	add := func(text string, fromContext bool) {
		for _, t := range b.analyzer.Analyze(text, lang) {
			if seen[t.Term] {
				continue
			}
			seen[t.Term] = true
			qt = append(qt, queryTerm{term: t.Term, alts: b.analyzer.broader[t.Term], spec: b.analyzer.Specificity(t.Term),
				context: fromContext})
			lookup = append(lookup, t.Term)
			lookup = append(lookup, b.analyzer.broader[t.Term]...)
		}
	}
	add(query, false)
	add(context, true)
	df, err := termDF(ctx, q, lookup)
	if err != nil {
		return nil, err
	}
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
	return qt, nil
}

// idf is BM25's inverse document frequency (always positive).
func idf(n float64, df int) float64 {
	d := math.Min(float64(df), n)
	return math.Log(1 + (n-d+0.5)/(d+0.5))
}

// scoreResult computes a candidate's signals and its score.
func scoreResult(r *Result, qt queryTerms, st State, mode Mode) {
	fields := [3]map[string]int{termCounts(r.terms[0]), termCounts(r.terms[1]), termCounts(r.terms[2])}
	fieldWeight := [3]float64{headFieldWeight, bodyFieldWeight, ctxFieldWeight}
	lenNorm := 1 - bm25B + bm25B*float64(max(r.nTerms, 1))/math.Max(st.AvgTerms(), 1)
	var bm, bmMax, cov, head, total, missTop float64
	var missing []string
	for _, t := range qt {
		w := t.weight()
		total += w
		bmMax += w * (bm25K1 + 1)
		var tf [3]float64
		for f := range fields {
			tf[f] = float64(fields[f][t.term])
			if tf[f] == 0 && t.df == 0 {
				tf[f] = fuzzyCount(t.term, fields[f])
			}
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
		switch {
		case tf[0] > 0 || tf[1] > 0:
			cov += w
		case tf[2] > 0:
			cov += w / 2 // only the title or tags mention it
		default:
			missing = append(missing, t.term)
			missTop = math.Max(missTop, w)
		}
		if tf[0] > 0 {
			head += w
		}
	}
	s := &r.Signals
	s.Missing = missing
	if total > 0 {
		s.BM25, s.Coverage, s.HeadCoverage, s.MissingTop = bm/bmMax, cov/total, head/total, missTop/total
	}
	s.Cosine = math.Max(s.Cosine, 0)
	switch mode {
	case ModeFullText:
		r.Score = s.BM25
	case ModeVector:
		r.Score = s.Cosine
	default:
		r.Score = 0.36*s.Cosine + 0.28*s.BM25 + 0.28*s.HeadCoverage + 0.08*s.Coverage
	}
}

// confidence is how sure the search is that its first result answers the
// question, from 0 to 1.
func confidence(results []Result, qt queryTerms, mode Mode) float64 {
	if len(results) == 0 || len(qt) == 0 {
		return 0
	}
	s := results[0].Signals
	// A question that says little ("how much is it?") matches many
	// passages fully; what it says must add up to at least one rare term.
	info := 0.0
	for _, t := range qt {
		info += t.weight()
	}
	scale := math.Min(1, info/minInformation)
	var c float64
	switch mode {
	case ModeFullText:
		c = 0.6*s.Coverage + 0.4*s.BM25
	case ModeVector:
		c = math.Min(1, s.Cosine/0.6)
	default:
		c = 0.55*s.Coverage + 0.25*math.Min(1, s.Cosine/0.6) + 0.20*s.BM25 - 0.3*s.MissingTop
	}
	return math.Round(math.Max(0, math.Min(1, c*scale))*1000) / 1000
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
		if editDistance(term, t, limit) <= limit && c > best {
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

// editDistance is the optimal-string-alignment distance (insertions,
// deletions, substitutions and swaps of neighbours), or limit+1 when it is
// larger than limit.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if abs(len(ra)-len(rb)) > limit {
		return limit + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
