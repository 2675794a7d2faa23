package wordvec

// DefaultA is SIF's smoothing parameter a: a word of probability p weighs
// a/(a+p), so "the" weighs 0.013, a word ranked 1,000 weighs 0.93. Arora et
// al. found 1e-3 to 1e-4 best on their tasks.
const DefaultA = 1e-3

// SentenceOptions tune SentenceWith; the zero value is SIF with DefaultA,
// words taken as written (Exact) and the common component removed.
type SentenceOptions struct {
	// A is SIF's smoothing parameter; 0 means DefaultA.
	A float64
	// Mode says how unknown words are resolved (Resolve); the zero value is
	// Exact, Sentence uses Fuzzy. Use Exact for text that is not English.
	Mode Mode
	// Skip, when set, leaves out words (stop words): the words as given and
	// the parts a run-together word splits into.
	Skip func(word string) bool
	// KeepCommon keeps the common component (plain SIF weighted average).
	KeepCommon bool
}

// Sentence is the SIF embedding of a sentence (Arora, Liang & Ma 2017, "A
// Simple but Tough-to-Beat Baseline for Sentence Embeddings", ICLR): the
// average of its words' vectors, word w weighted by a/(a+p(w)) (times its
// entry in weights, when weights is not nil), minus the average's
// projection on the common component. The common component is the first
// principal component of the SIF averages of WordNet 3.0's 117,659
// glosses, computed by the generator, as the paper computes it on its
// sentences (no centering). Unknown words are resolved with Fuzzy and
// skipped when that fails; a sentence with no known word gets the zero
// vector. The vector is not normalized.
func (v *Vectors) Sentence(words []string, weights []float64) []float32 {
	return v.SentenceWith(words, weights, SentenceOptions{Mode: Fuzzy})
}

// SentenceWith is Sentence with options.
func (v *Vectors) SentenceWith(words []string, weights []float64, o SentenceOptions) []float32 {
	a := o.A
	if a <= 0 {
		a = DefaultA
	}
	acc := make([]float64, v.l.dims)
	var idx [4]int
	n := 0
	for k, w := range words {
		weight := 1.0
		if weights != nil {
			weight = weights[k]
		}
		if weight <= 0 || (o.Skip != nil && o.Skip(w)) {
			continue
		}
		found := v.Resolve(w, o.Mode, idx[:0])
		for _, i := range found {
			if len(found) > 1 && o.Skip != nil && o.Skip(v.Word(i)) {
				continue
			}
			v.addTo(acc, i, weight*a/(a+v.ProbIndex(i)))
			n++
		}
	}
	out := make([]float32, v.l.dims)
	if n == 0 {
		return out
	}
	if !o.KeepCommon {
		proj := 0.0
		for j, u := range v.common {
			proj += acc[j] * float64(u)
		}
		for j, u := range v.common {
			acc[j] -= proj * float64(u)
		}
	}
	for j, x := range acc {
		out[j] = float32(x / float64(n))
	}
	return out
}
