package knowledge_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/knowledge"
	"github.com/tend-health/tend/knowledge/embedtest"
	"github.com/tend-health/tend/knowledge/wordvec"
)

func TestSIFEmbedderConformance(t *testing.T) {
	t.Parallel()
	embedtest.Run(t, func(t *testing.T) knowledge.Embedder { return knowledge.NewSIF(nil, nil) })
}

func TestConcatEmbedderConformance(t *testing.T) {
	t.Parallel()
	embedtest.Run(t, func(t *testing.T) knowledge.Embedder {
		c, err := knowledge.NewConcat([]float64{1, 1}, knowledge.NewOffline(nil), knowledge.NewSIF(nil, nil))
		require.NoError(t, err)
		return c
	})
}

func embedTexts(t testing.TB, e knowledge.Embedder, lang string, texts ...string) [][]float32 {
	t.Helper()
	v, err := e.Embed(context.Background(), knowledge.EmbedRequest{Texts: texts, Lang: lang, Purpose: knowledge.ForQuery})
	require.NoError(t, err)
	require.Len(t, v, len(texts))
	return v
}

func TestSIFSimilarity(t *testing.T) {
	t.Parallel()
	e := knowledge.NewSIF(nil, nil)
	v := embedTexts(t, e, "en",
		"How much is a flu shot?",
		"Influenza vaccine price",
		"Where do I park?",
		"Is there somewhere to leave my car during the visit?",
		"Parking is free in the garage on Elm Street.",
		"Flu shots cost $35 for self-pay patients.",
	)
	require.Greater(t, knowledge.Cosine(v[0], v[1]), knowledge.Cosine(v[0], v[2])+0.2)
	// No word in common, and none the lexicon relates: only meaning.
	require.Greater(t, knowledge.Cosine(v[3], v[4]), knowledge.Cosine(v[3], v[5]))
	require.Greater(t, knowledge.Cosine(v[1], v[5]), knowledge.Cosine(v[1], v[4]))
}

func TestSIFWords(t *testing.T) {
	t.Parallel()
	e := knowledge.NewSIF(nil, nil)
	// Stop words go, apostrophes fold, figures add their concept, a
	// hyphenated word the vectors know stands for its parts.
	require.Equal(t, []string{"cost", "walk-in", "clinic", "appointment", "none", "required"},
		e.Words("The walk-in clinic doesn't need an appointment: $35 (none required)"))
	require.Equal(t, []string{"x-ray", "results"}, e.Words("my X-ray results"))
	// An unknown compound keeps its parts (the vectors resolve them).
	require.Equal(t, []string{"self", "pay", "patients"}, e.Words("self-pay patients"))
}

func TestSIFHandlesUnknownWords(t *testing.T) {
	t.Parallel()
	e := knowledge.NewSIF(nil, nil)
	v := embedTexts(t, e, "en",
		"perscription refill", "prescription refill", // a misspelling is corrected
		"qzxqzxq zzzqqq", "", // nothing known: the zero vector
		"prescription refill qzxqzxq", // unknown words are skipped
	)
	require.InDelta(t, 1, knowledge.Cosine(v[0], v[1]), 1e-6)
	for _, zero := range v[2:4] {
		require.Len(t, zero, 100)
		for _, x := range zero {
			require.Zero(t, x)
		}
	}
	require.InDelta(t, 1, knowledge.Cosine(v[1], v[4]), 1e-6)

	// Spanish is read in English through the glossary, so a Spanish
	// question and its English wording land together.
	es := embedTexts(t, e, "es", "precio de la vacuna contra la gripe")
	en := embedTexts(t, e, "en", "price of the flu vaccine", "where do I park")
	require.Greater(t, knowledge.Cosine(es[0], en[0]), 0.7)
	require.Greater(t, knowledge.Cosine(es[0], en[0]), knowledge.Cosine(es[0], en[1])+0.3)
}

func TestSIFModelName(t *testing.T) {
	t.Parallel()
	e := knowledge.NewSIF(nil, nil)
	require.Regexp(t, `^tend-sif-v\d+-[0-9a-f]{8}-100$`, e.Model())
	require.Equal(t, e.Model(), knowledge.NewSIF(knowledge.DefaultAnalyzer(), wordvec.Default()).Model())

	a, err := knowledge.NewAnalyzer([]byte("stopwords:\n  en: [the]\n"))
	require.NoError(t, err)
	require.NotEqual(t, e.Model(), knowledge.NewSIF(a, nil).Model(), "another stop list reads texts differently")

	other := tinyVectors(t)
	require.NotEqual(t, e.Model(), knowledge.NewSIF(nil, other).Model(), "other vectors")
	require.Len(t, embedTexts(t, knowledge.NewSIF(nil, other), "en", "doctor")[0], 4)
}

// tinyVectors is a four-dimensional vectors file of three words.
func tinyVectors(t *testing.T) *wordvec.Vectors {
	t.Helper()
	f := &wordvec.File{Dims: 4, SourceVocab: 10, FuzzyTop: 3, Common: []float32{1, 0, 0, 0},
		Words: []string{"doctor", "nurse", "parking"}, Ranks: []uint32{1, 2, 3}}
	for i, x := range [][]float32{{0.1, 1, 0, 0}, {0.1, 0.9, 0.1, 0}, {0.1, 0, 0, 1}} {
		codes := make([]int8, 4)
		f.Scales = append(f.Scales, wordvec.Quantize(x, codes))
		f.Codes = append(f.Codes, codes...)
		_ = i
	}
	data, err := f.Encode()
	require.NoError(t, err)
	v, err := wordvec.Parse(string(data))
	require.NoError(t, err)
	return v
}

func TestSIFConcurrentEmbedding(t *testing.T) {
	t.Parallel()
	e := knowledge.NewSIF(nil, nil)
	texts := []string{"How much is a flu shot?", "Where do I park?", "perscription refill", "Do you take walk-ins?"}
	want := embedTexts(t, e, "en", texts...)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range 40 {
				i := (g + k) % len(texts)
				require.Equal(t, want[i], embedTexts(t, e, "en", texts[i])[0])
			}
		})
	}
	wg.Wait()
}

func TestConcatModelAndWeights(t *testing.T) {
	t.Parallel()
	off, sif := knowledge.NewOffline(nil), knowledge.NewSIF(nil, nil)
	c, err := knowledge.NewConcat([]float64{1, 0.5}, off, sif)
	require.NoError(t, err)
	require.Equal(t, "concat(1*"+off.Model()+"+0.5*"+sif.Model()+")", c.Model())
	c2, err := knowledge.NewConcat([]float64{1, 0.25}, off, sif)
	require.NoError(t, err)
	require.NotEqual(t, c.Model(), c2.Model(), "the weights are part of the model")

	for _, bad := range []struct {
		w []float64
		e []knowledge.Embedder
	}{
		{nil, nil},
		{[]float64{1}, []knowledge.Embedder{off, sif}},
		{[]float64{1, 0}, []knowledge.Embedder{off, sif}},
		{[]float64{1, -1}, []knowledge.Embedder{off, sif}},
		{[]float64{1, 1}, []knowledge.Embedder{off, nil}},
	} {
		_, err := knowledge.NewConcat(bad.w, bad.e...)
		require.Error(t, err)
	}

	// The cosine of two texts is the weighted mean of the parts' cosines.
	texts := []string{"How much does a flu shot cost?", "Influenza vaccines are $35 for self-pay patients."}
	vo, vs, vc := embedTexts(t, off, "en", texts...), embedTexts(t, sif, "en", texts...), embedTexts(t, c, "en", texts...)
	require.Len(t, vc[0], len(vo[0])+len(vs[0]))
	want := (1*knowledge.Cosine(vo[0], vo[1]) + 0.5*knowledge.Cosine(vs[0], vs[1])) / 1.5
	require.InDelta(t, want, knowledge.Cosine(vc[0], vc[1]), 1e-5)

	// A part that is zero for a text leaves the rest a unit vector.
	z := embedTexts(t, c, "en", "qzxqzxq")[0]
	n := 0.0
	for _, x := range z {
		n += float64(x) * float64(x)
	}
	require.InDelta(t, 1, n, 1e-5)
	require.True(t, allZero(z[len(vo[0]):]), "no known word: the SIF part is zero")
}

func allZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

var benchQuestion = "Hi, how much does a flu shot cost if I don't have insurance?"

func BenchmarkSIFEmbedQuestion(b *testing.B) {
	e := knowledge.NewSIF(nil, nil)
	req := knowledge.EmbedRequest{Texts: []string{benchQuestion}, Lang: "en", Purpose: knowledge.ForQuery}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSIFEmbedPassage(b *testing.B) {
	e := knowledge.NewSIF(nil, nil)
	passage := strings.Repeat("Flu shots are available at every visit and at our Saturday walk-in clinic. "+
		"A standard flu shot costs $35 for self-pay patients; most insurance plans cover it in full. ", 8)
	req := knowledge.EmbedRequest{Texts: []string{passage}, Lang: "en", Purpose: knowledge.ForDocument}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConcatEmbedQuestion(b *testing.B) {
	c, err := knowledge.NewConcat([]float64{1, 1}, knowledge.NewOffline(nil), knowledge.NewSIF(nil, nil))
	require.NoError(b, err)
	req := knowledge.EmbedRequest{Texts: []string{benchQuestion}, Lang: "en", Purpose: knowledge.ForQuery}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Embed(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSIFRetrievalRiverside measures vector search alone on the Riverside
// fixture's answerable questions: is the right document's best passage the
// closest? It logs top-1 and MRR per embedder and language
// (go test -v -run SIFRetrieval ./knowledge) and checks only that the
// combination does not lose to the hashed vectors on English.
func TestSIFRetrievalRiverside(t *testing.T) {
	if testing.Short() {
		t.Skip("embeds the whole fixture")
	}
	t.Parallel()
	dir, qfile := "../evals/kb/riverside", "../evals/data/questions-riverside.jsonl"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skip("no Riverside fixture:", err)
	}
	qdata, err := os.ReadFile(qfile)
	if err != nil {
		t.Skip("no Riverside questions:", err)
	}
	type passage struct{ doc, text string }
	var passages []passage
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		doc, err := knowledge.Parse(e.Name(), data)
		require.NoError(t, err)
		for _, c := range knowledge.ChunkDocument(doc) {
			passages = append(passages, passage{e.Name(), doc.Title + " › " + c.SectionLabel() + "\n" + c.Text})
		}
	}
	type question struct{ Question, Expect, Doc, Lang string }
	byLang := map[string][]question{}
	for _, line := range strings.Split(strings.TrimSpace(string(qdata)), "\n") {
		var q question
		require.NoError(t, json.Unmarshal([]byte(line), &q))
		if q.Expect == "answer" && q.Doc != "" {
			byLang[q.Lang] = append(byLang[q.Lang], q)
		}
	}
	off, sif := knowledge.NewOffline(nil), knowledge.NewSIF(nil, nil)
	c11, err := knowledge.NewConcat([]float64{1, 1}, off, sif)
	require.NoError(t, err)
	c21, err := knowledge.NewConcat([]float64{2, 1}, off, sif)
	require.NoError(t, err)
	texts := make([]string, len(passages))
	for i, p := range passages {
		texts[i] = p.text
	}
	top1 := map[string]float64{}
	for _, lang := range []string{"en", "es"} {
		qs := byLang[lang]
		if len(qs) == 0 {
			continue
		}
		for _, e := range []struct {
			name string
			e    knowledge.Embedder
		}{{"offline", off}, {"sif", sif}, {"concat 1:1", c11}, {"concat 2:1", c21}} {
			pv := embedTexts(t, e.e, "en", texts...)
			hits, mrr := 0, 0.0
			for _, q := range qs {
				qv := embedTexts(t, e.e, q.Lang, q.Question)[0]
				best := map[string]float64{}
				for i, p := range passages {
					if c, ok := best[p.doc]; !ok || knowledge.Cosine(qv, pv[i]) > c {
						best[p.doc] = knowledge.Cosine(qv, pv[i])
					}
				}
				rank := 1 // ties count against the right document
				for d, c := range best {
					if d != q.Doc && c >= best[q.Doc] {
						rank++
					}
				}
				if rank == 1 {
					hits++
				}
				mrr += 1 / float64(rank)
			}
			n := float64(len(qs))
			top1[lang+" "+e.name] = float64(hits) / n
			t.Logf("%s %-10s n=%d  top-1 %.3f  MRR %.3f", lang, e.name, len(qs), float64(hits)/n, mrr/n)
		}
	}
	require.Greater(t, top1["en sif"], 0.5)
	require.GreaterOrEqual(t, top1["en concat 1:1"], top1["en offline"]-0.01)
}
