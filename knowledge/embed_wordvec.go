package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tend-health/tend/knowledge/wordvec"
)

// SIF embeds a text as the SIF sentence vector (Arora, Liang & Ma 2017) of
// its words' GloVe vectors (package wordvec): a weighted average in which
// frequent words count little, minus the component all sentences share.
// Unlike the hashed Offline embedder it knows that "physician" is near
// "doctor" and "influenza" near "flu", with no lexicon entry; it knows
// nothing of word order, and little of rare words (drug brands, "covid").
//
// The words are the analyzer's: accents folded, lower case, apostrophes
// dropped, stop words left out, plus the figures' concepts ("$35" adds
// "cost", a clock time "hour", a phone number "phone"). Phrases are not
// folded into one term (a phrase's words are better evidence than its
// canonical stem), and a hyphenated word the vectors know as a whole
// ("walk-in", "x-ray", "follow-up") stands for its parts. Unknown English
// words get wordvec's forms and spelling correction ("perscription");
// other languages' unknown words are skipped (the vectors are English).
// Both purposes embed alike. A text with no known word gets the zero
// vector; other vectors are unit length. Safe for concurrent use.
type SIF struct {
	analyzer *Analyzer
	vectors  *wordvec.Vectors
	a        float64
	model    string
	passages passageVecCache // SoftCoverage's passage side (softcov_cache.go)
}

// sifVersion changes when SIF's reading of a text changes, so that stored
// vectors are made again.
const sifVersion = "2"

// NewSIF returns the SIF embedder over an analyzer (nil: the default) and
// a vectors file (nil: wordvec.Default()).
func NewSIF(a *Analyzer, v *wordvec.Vectors) *SIF {
	if a == nil {
		a = DefaultAnalyzer()
	}
	if v == nil {
		v = wordvec.Default()
	}
	s := &SIF{analyzer: a, vectors: v, a: wordvec.DefaultA}
	sum := sha256.Sum256([]byte(strings.Join([]string{sifVersion, v.Version(), a.Version(),
		strconv.FormatFloat(s.a, 'g', -1, 64), strconv.Itoa(v.Dims())}, "/")))
	s.model = "tend-sif-v" + sifVersion + "-" + hex.EncodeToString(sum[:4]) + "-" + strconv.Itoa(v.Dims())
	return s
}

// Model implements Embedder: it changes with the vectors file, the
// analyzer's lexicon and the weighting.
func (s *SIF) Model() string { return s.model }

// Embed implements Embedder.
func (s *SIF) Embed(ctx context.Context, req EmbedRequest) ([][]float32, error) {
	out := make([][]float32, len(req.Texts))
	for i, t := range req.Texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = s.embed(t, req.Lang)
	}
	return out, nil
}

func (s *SIF) embed(text, lang string) []float32 {
	if lang == "es" {
		// The vectors are English: a Spanish text is read through the
		// glossary, so Spanish and English texts share one space.
		text, lang = SpanishGlossary().Translate(text), "en"
	}
	mode := wordvec.Fuzzy
	if lang != "" && lang != "en" {
		mode = wordvec.Exact
	}
	return wordvec.Normalize(s.vectors.SentenceWith(s.Words(text), nil, wordvec.SentenceOptions{A: s.a, Mode: mode, Skip: s.analyzer.IsStopword}))
}

// Words are the words of text that SIF averages (before the vectors
// resolve them): the figures' concepts, then the analyzer's words without
// stop words and numbers, a hyphenated word the vectors know standing for
// its parts.
func (s *SIF) Words(text string) []string {
	words, compounds := splitWords(text)
	out := make([]string, 0, len(words)+len(entityPatterns))
	lower, digits := strings.ToLower(text), hasDigit(text)
	for _, e := range entityPatterns {
		// The same cheap necessary condition as Analyze's before each regexp.
		if e.may(lower, digits) && e.re.MatchString(text) {
			out = append(out, e.term)
		}
	}
	whole := make([]string, len(words)) // at a compound's first word: the compound
	skip := make([]bool, len(words))
	from := 0
	for _, c := range compounds {
		parts := strings.Fields(c.spaced)
		for j := from; j+len(parts) <= len(words); j++ {
			if !equalWords(words[j:j+len(parts)], parts) {
				continue
			}
			from = j + len(parts)
			w := strings.Join(parts, "-")
			if _, ok := s.vectors.Lookup(w); ok {
				whole[j] = w
				for k := j; k < from; k++ {
					skip[k] = true
				}
			}
			break
		}
	}
	for i, w := range words {
		if whole[i] != "" {
			out = append(out, whole[i])
		}
		// Numbers have no vectors (the source has none).
		if skip[i] || s.analyzer.IsStopword(w) || len([]rune(w)) < 2 || isNumber(w) {
			continue
		}
		out = append(out, w)
	}
	return out
}

func equalWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Concat joins the vectors of several embedders into one, so that one
// stored vector carries, say, the hashed offline features and the SIF
// meaning. Each part is normalized and scaled by the square root of its
// share of the weights, so when every part is non-zero the whole is unit
// length and the cosine of two texts is the weighted mean of their parts'
// cosines: Σ wᵢ·cosᵢ / Σ wᵢ. A part that is zero for a text (SIF, for a
// text with no known word) leaves the others to make up the unit vector.
type Concat struct {
	parts  []Embedder
	scales []float64
	model  string
}

// NewConcat combines embedders with positive weights, one per embedder.
func NewConcat(weights []float64, embedders ...Embedder) (*Concat, error) {
	if len(embedders) == 0 {
		return nil, errors.New("knowledge: concat: no embedders")
	}
	if len(weights) != len(embedders) {
		return nil, fmt.Errorf("knowledge: concat: %d weights for %d embedders", len(weights), len(embedders))
	}
	total := 0.0
	for _, w := range weights {
		if !(w > 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("knowledge: concat: weight %v is not positive", w)
		}
		total += w
	}
	c := &Concat{parts: embedders}
	names := make([]string, len(embedders))
	for i, e := range embedders {
		if e == nil {
			return nil, errors.New("knowledge: concat: nil embedder")
		}
		c.scales = append(c.scales, math.Sqrt(weights[i]/total))
		names[i] = strconv.FormatFloat(weights[i], 'g', 4, 64) + "*" + e.Model()
	}
	c.model = "concat(" + strings.Join(names, "+") + ")"
	return c, nil
}

// Model implements Embedder: the parts' models and weights.
func (c *Concat) Model() string { return c.model }

// Embed implements Embedder.
func (c *Concat) Embed(ctx context.Context, req EmbedRequest) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	parts := make([][][]float32, len(c.parts))
	for i, e := range c.parts {
		v, err := e.Embed(ctx, req)
		if err != nil {
			return nil, err
		}
		if len(v) != len(req.Texts) {
			return nil, fmt.Errorf("knowledge: concat: %s returned %d vectors for %d texts", e.Model(), len(v), len(req.Texts))
		}
		parts[i] = v
	}
	out := make([][]float32, len(req.Texts))
	for t := range req.Texts {
		size := 0
		for i := range parts {
			size += len(parts[i][t])
		}
		v := make([]float64, 0, size)
		for i := range parts {
			p := parts[i][t]
			n := 0.0
			for _, x := range p {
				n += float64(x) * float64(x)
			}
			scale := 0.0
			if n > 0 {
				scale = c.scales[i] / math.Sqrt(n)
			}
			for _, x := range p {
				v = append(v, float64(x)*scale)
			}
		}
		out[t] = normalize32(v)
	}
	return out, nil
}

// SoftCoverage is how well a passage's words cover a question's words in
// meaning: for each word of the question (SIF-weighted, so "the" counts
// for nothing and "vasectomy" for much), the best cosine with any word of
// the passage, averaged; and the lowest of those among the question's
// important words (the word the passage has nothing close to). "physician"
// is covered by "doctor"; "rabies" is not covered by "flu".
func (s *SIF) SoftCoverage(question, qlang, passage, plang string) (mean, least float64) {
	mean, least, _, _ = s.Coverages(nil, question, qlang, passage, plang)
	return mean, least
}

// Coverages are SoftCoverage and, with a term recall model,
// the term-recall coverage (TermRecall), from one reading of the question against the passage.
func (s *SIF) Coverages(tr *TermRecall, question, qlang, passage, plang string) (softCov, softLeast, trCov, trLeast float64) {
	words, mean := s.questionWords(question, qlang, passage, plang)
	if len(words) == 0 {
		return 0, 0, 0, 0
	}
	var sum, wsum float64
	softLeast = 1
	for _, w := range words {
		sum += w.sif * w.best
		wsum += w.sif
		if w.sif > 0.5 {
			softLeast = math.Min(softLeast, w.best)
		}
	}
	if wsum == 0 {
		return 0, 0, 0, 0
	}
	softCov = sum / wsum
	if tr != nil {
		trCov, trLeast = tr.coverage(words, mean)
	}
	return softCov, softLeast, trCov, trLeast
}

// wordVectors are the unit vectors of up to max distinct words of text.
func (s *SIF) wordVectors(text string, limit int) [][]float32 {
	v := s.vectors
	seen := map[int]bool{}
	var out [][]float32
	idx := make([]int, 0, 2)
	for _, w := range s.Words(text) {
		idx = v.Resolve(w, wordvec.Forms, idx[:0])
		if len(idx) == 0 || seen[idx[0]] {
			continue
		}
		seen[idx[0]] = true
		out = append(out, wordvec.Normalize(v.Vector(idx[0], nil)))
		if len(out) == limit {
			break
		}
	}
	return out
}
