package knowledge

import (
	"context"
	"hash/fnv"
	"math"
	"strconv"
)

// Purpose says whether texts are passages to index or questions to match;
// some models embed the two differently.
type Purpose int

const (
	ForDocument Purpose = iota
	ForQuery
)

// EmbedRequest is a batch of texts in one language.
type EmbedRequest struct {
	Texts   []string
	Lang    string // "en", "es"; models that do not need it ignore it
	Purpose Purpose
}

// Embedder turns texts into unit-length vectors. Every stored vector records
// the Model that made it; vectors of different models are never compared.
type Embedder interface {
	// Model names the model and its settings; when it changes, every
	// document is embedded again.
	Model() string
	Embed(ctx context.Context, req EmbedRequest) ([][]float32, error)
}

// OfflineDims is the offline embedder's vector size.
const OfflineDims = 512

// Offline is the built-in embedder: no network, no model download, the same
// vector for the same text on every machine. A text becomes a sparse bag of
// features hashed into OfflineDims signed buckets:
//
//   - analyzed terms (stems after synonym folding; questions also get the
//     lexicon's broader terms at half weight), with sub-linear term frequency;
//   - pairs of neighbouring terms, for phrases ("walk in", "new patient");
//   - character trigrams of each word, so misspellings ("mamogram",
//     "perscription") still land near the right word.
//
// Each group is normalized on its own and mixed with fixed weights, so long
// words do not drown out the terms.
type Offline struct {
	analyzer *Analyzer
	model    string
}

// Weights of the feature groups in the offline vector.
const (
	offlineTermWeight    = 1.0
	offlineBigramWeight  = 0.35
	offlineTrigramWeight = 0.5
)

// NewOffline returns the offline embedder over an analyzer (nil means the
// default health-admin lexicon).
func NewOffline(a *Analyzer) *Offline {
	if a == nil {
		a = DefaultAnalyzer()
	}
	return &Offline{analyzer: a, model: "tend-offline-v2-" + a.Version() + "-" + strconv.Itoa(OfflineDims)}
}

// Model implements Embedder.
func (o *Offline) Model() string { return o.model }

// Analyzer is the analyzer the embedder uses.
func (o *Offline) Analyzer() *Analyzer { return o.analyzer }

// Embed implements Embedder.
func (o *Offline) Embed(ctx context.Context, req EmbedRequest) ([][]float32, error) {
	out := make([][]float32, len(req.Texts))
	for i, t := range req.Texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = o.embed(t, req.Lang, req.Purpose)
	}
	return out, nil
}

func (o *Offline) embed(text, lang string, p Purpose) []float32 {
	toks := o.analyzer.Analyze(text, lang)
	if p == ForQuery {
		toks = o.analyzer.Expand(toks)
	}
	terms := make([]float64, OfflineDims)
	bigrams := make([]float64, OfflineDims)
	chars := make([]float64, OfflineDims)
	tf := map[string]float64{}
	var prev string
	for _, t := range toks {
		tf[t.Term] += t.Weight
		if t.Weight == 1 {
			if prev != "" {
				addFeature(bigrams, "b:"+prev+" "+t.Term, 1)
			}
			prev = t.Term
			grams := trigrams(t.Raw)
			for _, g := range grams {
				addFeature(chars, "c:"+g, 1/float64(len(grams)))
			}
		}
	}
	for term, w := range tf {
		if w >= 1 {
			w = 1 + math.Log(w)
		}
		// Specific words weigh more than generic ones, as IDF would in a
		// corpus: the embedder has no corpus, so it uses general English.
		addFeature(terms, "t:"+term, w*o.analyzer.Specificity(term))
	}
	v := make([]float64, OfflineDims)
	for _, g := range []struct {
		vec []float64
		w   float64
	}{{terms, offlineTermWeight}, {bigrams, offlineBigramWeight}, {chars, offlineTrigramWeight}} {
		n := norm(g.vec)
		if n == 0 {
			continue
		}
		for i, x := range g.vec {
			v[i] += g.w * x / n
		}
	}
	return normalize32(v)
}

func addFeature(v []float64, feature string, w float64) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(feature))
	s := h.Sum64()
	i := int(s % uint64(len(v)))
	if s>>63 == 1 {
		w = -w
	}
	v[i] += w
}

// trigrams are the character 3-grams of a word with boundary marks
// ("^ma", "mam", ..., "m$"); words shorter than 3 letters have none.
func trigrams(w string) []string {
	rs := []rune("^" + w + "$")
	if len(rs) < 5 || isNumber(w) {
		return nil
	}
	out := make([]string, 0, len(rs)-2)
	for i := 0; i+3 <= len(rs); i++ {
		out = append(out, string(rs[i:i+3]))
	}
	return out
}

func norm(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

func normalize32(v []float64) []float32 {
	n := norm(v)
	out := make([]float32, len(v))
	if n == 0 {
		return out
	}
	for i, x := range v {
		out[i] = float32(x / n)
	}
	return out
}

// Cosine is the cosine similarity of two vectors (0 when either is zero or
// their sizes differ).
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// dot is the inner product of two unit vectors (their cosine), unrolled for
// the Go-side scan on SQLite.
func dot(a, b []float32) float32 {
	if len(a) != len(b) {
		return 0
	}
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}
