package wordvec_test

import (
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/knowledge/wordvec"
)

func TestWordVecDefault(t *testing.T) {
	t.Parallel()
	v := wordvec.Default()
	require.Same(t, v, wordvec.Default(), "loaded once")
	require.Equal(t, 100, v.Dims())
	require.Greater(t, v.Len(), 160000)
	require.Len(t, v.Version(), 12)
	require.Equal(t, "the", v.Word(0))
	require.Equal(t, 1, v.Rank(0))
	for i := 1; i < v.Len(); i += 997 {
		require.Greater(t, v.Rank(i), v.Rank(i-1), "words are in frequency order")
		require.True(t, wordvec.Plain(v.Word(i)), v.Word(i))
		j, ok := v.Lookup(v.Word(i))
		require.True(t, ok)
		require.Equal(t, i, j)
	}
	n := 0.0
	for _, x := range v.Common() {
		n += float64(x) * float64(x)
	}
	require.InDelta(t, 1, n, 1e-5, "the common component is a unit vector")
}

func TestWordVecSimilarities(t *testing.T) {
	t.Parallel()
	v := wordvec.Default()
	sim := v.Similarity
	require.Greater(t, sim("doctor", "physician"), sim("doctor", "banana")+0.5)
	require.Greater(t, sim("mammogram", "mammography"), 0.6)
	require.Greater(t, sim("refill", "prescription"), sim("refill", "parking"))
	require.Greater(t, sim("flu", "influenza"), 0.8)
	require.Greater(t, sim("price", "cost"), sim("price", "vaccine"))
	require.Greater(t, sim("pediatrician", "dermatologist"), sim("pediatrician", "garage"))
	require.InDelta(t, 1, sim("nurse", "nurse"), 1e-9)
	require.Equal(t, sim("doctor", "physician"), sim("physician", "doctor"))
	require.Zero(t, sim("doctor", "qzxqzxq"), "unknown words are not similar to anything")

	near := v.Nearest("doctor", 10)
	require.Len(t, near, 10)
	var words []string
	for i, n := range near {
		words = append(words, n.Word)
		require.NotEqual(t, "doctor", n.Word)
		if i > 0 {
			require.LessOrEqual(t, n.Similarity, near[i-1].Similarity)
		}
	}
	require.Contains(t, words, "physician")
	require.InDelta(t, sim("doctor", "physician"), near[0].Similarity, 0.01)
	require.Empty(t, v.Nearest("qzxqzxq", 5))
}

func TestWordVecLookupForms(t *testing.T) {
	t.Parallel()
	v := wordvec.Default()
	word := func(w string) string {
		i, ok := v.Lookup(w)
		if !ok {
			return ""
		}
		return v.Word(i)
	}
	require.Equal(t, "patient", word("patient"))
	require.Equal(t, "patient", word("Patient's"), "case and possessive")
	require.Equal(t, "patients", word("patients’"), "curly apostrophe")
	require.Equal(t, "x-ray", word("xray"), "hyphen put in")
	require.Equal(t, "walk-in", word("walk-in"))
	require.Equal(t, "", word("qzxqzxq"))
	require.Equal(t, "", word(""))
	require.Equal(t, "", word("'"))

	resolve := func(w string, m wordvec.Mode) string {
		var out []string
		for _, i := range v.Resolve(w, m, nil) {
			out = append(out, v.Word(i))
		}
		return strings.Join(out, " ")
	}
	require.Equal(t, "x-rays", resolve("xrays", wordvec.Forms))
	require.Equal(t, "walk-in", resolve("walk-ins", wordvec.Forms), "singular of a hyphenated word")
	require.Equal(t, "self pay", resolve("selfpay", wordvec.Forms), "run-together words")
	require.Equal(t, "flu shot", resolve("flu-shot", wordvec.Forms), "parts of an unknown hyphenated word")
	require.Equal(t, "", resolve("selfpay", wordvec.Exact), "Exact does not split")
	require.Equal(t, "", resolve("perscription", wordvec.Forms), "Forms does not correct")
	require.Equal(t, "prescription", resolve("perscription", wordvec.Fuzzy))
	require.Equal(t, "", resolve("qzxqzxq", wordvec.Fuzzy))
}

func TestWordVecCorrect(t *testing.T) {
	t.Parallel()
	v := wordvec.Default()
	for typo, want := range map[string]string{
		"perscription": "prescription", // swapped neighbours
		"insurence":    "insurance",    // substitution
		"appointmnet":  "appointment",  // swap
		"mamogram":     "mammogram",    // missing letter
		"vaccinne":     "vaccine",      // extra letter
		"Pharmacy":     "pharmacy",     // known words come back as themselves
	} {
		i, ok := v.Correct(typo)
		require.True(t, ok, typo)
		require.Equal(t, want, v.Word(i), typo)
	}
	for _, w := range []string{"qzxqzxq", "ab", "cita", "x-rya", "12345"} {
		_, ok := v.Correct(w)
		require.False(t, ok, w)
	}
	// A word the file holds is never corrected, even when it is a rare
	// misspelling or a name ("docter", "copay" one edit from "copy").
	for _, w := range []string{"docter", "copay"} {
		i, ok := v.Correct(w)
		require.True(t, ok)
		require.Equal(t, w, v.Word(i))
	}
}

func TestWordVecProb(t *testing.T) {
	t.Parallel()
	v := wordvec.Default()
	require.InDelta(t, 0.075, v.Prob("the"), 0.001)
	require.Greater(t, v.Prob("doctor"), v.Prob("mammogram"))
	require.Greater(t, v.Prob("mammogram"), 0.0)
	require.Zero(t, v.Prob("qzxqzxq"))
	// The Zipf fit is a distribution over the source's 341,479 ranks: the
	// kept words hold most of it, never more than all.
	total := 0.0
	for i := range v.Len() {
		total += v.ProbIndex(i)
	}
	require.Greater(t, total, 0.8)
	require.Less(t, total, 1.0)
}

func cos(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return d / math.Sqrt(na*nb)
}

func TestWordVecSentence(t *testing.T) {
	t.Parallel()
	v := wordvec.Default()
	s := func(text string) []float32 { return v.Sentence(strings.Fields(text), nil) }
	q := s("how much is a flu shot")
	require.Greater(t, cos(q, s("influenza vaccine price")), cos(q, s("where do I park"))+0.2)
	require.Greater(t, cos(s("my doctor wants a mammogram"), s("the physician ordered mammography")),
		cos(s("my doctor wants a mammogram"), s("the garage closes at night")))

	// Deterministic, and weights are multipliers of SIF's.
	require.Equal(t, q, s("how much is a flu shot"))
	require.Equal(t, q, v.Sentence(strings.Fields("how much is a flu shot"), []float64{1, 1, 1, 1, 1, 1}))
	require.Equal(t, s("flu shot"), v.Sentence([]string{"flu", "banana", "shot"}, []float64{1, 0, 1}), "weight 0 leaves a word out")
	require.NotEqual(t, s("flu shot"), v.Sentence([]string{"flu", "shot"}, []float64{1, 2}))

	// The common component is removed.
	proj := 0.0
	for j, u := range v.Common() {
		proj += float64(q[j]) * float64(u)
	}
	require.InDelta(t, 0, proj, 1e-4)
	plain := v.SentenceWith(strings.Fields("how much is a flu shot"), nil, wordvec.SentenceOptions{Mode: wordvec.Fuzzy, KeepCommon: true})
	require.NotEqual(t, q, plain)

	// Unknown words are skipped; nothing known gives the zero vector.
	require.Equal(t, q, s("how much is a flu shot qzxqzxq"))
	zero := s("qzxqzxq zzzqqq")
	require.Len(t, zero, v.Dims())
	for _, x := range zero {
		require.Zero(t, x)
	}
	require.Len(t, v.Sentence(nil, nil), v.Dims())

	// Misspellings are corrected in Fuzzy mode (Sentence) only.
	require.Equal(t, s("prescription refill"), s("perscription refill"))
	exact := v.SentenceWith([]string{"perscription", "refill"}, nil, wordvec.SentenceOptions{})
	require.Equal(t, v.SentenceWith([]string{"refill"}, nil, wordvec.SentenceOptions{}), exact)

	// Skip applies to the words and to the parts of a split word.
	stop := func(w string) bool { return w == "self" }
	require.Equal(t, v.SentenceWith([]string{"pay"}, nil, wordvec.SentenceOptions{Mode: wordvec.Forms}),
		v.SentenceWith([]string{"selfpay"}, nil, wordvec.SentenceOptions{Mode: wordvec.Forms, Skip: stop}))
}

func TestWordVecConcurrent(t *testing.T) {
	t.Parallel()
	texts := []string{"how much is a flu shot", "where do I park", "perscription refill", "selfpay xrays walk-ins"}
	want := make([][]float32, len(texts))
	for i, tx := range texts {
		want[i] = wordvec.Default().Sentence(strings.Fields(tx), nil)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			v := wordvec.Default()
			for k := range 50 {
				i := (g + k) % len(texts)
				require.Equal(t, want[i], v.Sentence(strings.Fields(texts[i]), nil))
				require.Greater(t, v.Similarity("doctor", "physician"), 0.7)
				_, ok := v.Correct("insurence")
				require.True(t, ok)
			}
		})
	}
	wg.Wait()
}

func TestWordVecLoadMemory(t *testing.T) {
	// Not parallel: it measures the heap.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v, err := wordvec.Parse(wordvec.Embedded())
	require.NoError(t, err)
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap after loading %d words: %+d bytes", v.Len(), grown)
	require.Less(t, grown, int64(64<<10), "the file is read in place")
	runtime.KeepAlive(v)
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	data := wordvec.Embedded()
	for b.Loop() {
		if _, err := wordvec.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	v := wordvec.Default()
	words := []string{"appointment", "insurance", "mammogram", "the", "telehealth", "qzxqzxq"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v.Lookup(words[i%len(words)])
	}
}

func BenchmarkCorrect(b *testing.B) {
	v := wordvec.Default()
	words := []string{"perscription", "insurence", "appointmnet", "qzxqzxqab"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v.Correct(words[i%len(words)])
	}
}

func BenchmarkSentence(b *testing.B) {
	v := wordvec.Default()
	words := strings.Fields("how much does a flu shot cost without insurance")
	b.ReportAllocs()
	for b.Loop() {
		v.Sentence(words, nil)
	}
}

func BenchmarkNearest(b *testing.B) {
	v := wordvec.Default()
	for b.Loop() {
		v.Nearest("mammogram", 10)
	}
}
