// Package embedtest is the conformance suite every knowledge.Embedder must
// pass, whatever model is behind it.
package embedtest

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/knowledge"
)

// Run checks an embedder built fresh by open for each case.
func Run(t *testing.T, open func(t *testing.T) knowledge.Embedder) {
	tests := map[string]func(t *testing.T, e knowledge.Embedder){
		"NamesItsModel":           testModel,
		"UnitVectorsOfOneSize":    testShape,
		"Deterministic":           testDeterministic,
		"BatchIndependent":        testBatchIndependent,
		"SimilarTextsAreCloser":   testSimilarity,
		"EmptyBatch":              testEmpty,
		"CancelledContextFails":   testCancelled,
		"ManyTextsKeepTheirOrder": testOrder,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

func embed(t *testing.T, e knowledge.Embedder, p knowledge.Purpose, texts ...string) [][]float32 {
	t.Helper()
	v, err := e.Embed(context.Background(), knowledge.EmbedRequest{Texts: texts, Lang: "en", Purpose: p})
	require.NoError(t, err)
	require.Len(t, v, len(texts))
	return v
}

func testModel(t *testing.T, e knowledge.Embedder) {
	require.NotEmpty(t, e.Model())
	require.Equal(t, e.Model(), e.Model())
}

func testShape(t *testing.T, e knowledge.Embedder) {
	vs := embed(t, e, knowledge.ForDocument, "Flu shots cost $35.", "Parking is free for two hours in the garage on Elm Street.")
	require.NotZero(t, len(vs[0]))
	for _, v := range vs {
		require.Len(t, v, len(vs[0]))
		n := 0.0
		for _, x := range v {
			require.False(t, math.IsNaN(float64(x)) || math.IsInf(float64(x), 0))
			n += float64(x) * float64(x)
		}
		require.InDelta(t, 1, math.Sqrt(n), 1e-3, "vectors are unit length")
	}
}

func testDeterministic(t *testing.T, e knowledge.Embedder) {
	a := embed(t, e, knowledge.ForQuery, "how much is a flu shot")
	b := embed(t, e, knowledge.ForQuery, "how much is a flu shot")
	require.InDelta(t, 1, knowledge.Cosine(a[0], b[0]), 1e-5)
}

func testBatchIndependent(t *testing.T, e knowledge.Embedder) {
	alone := embed(t, e, knowledge.ForDocument, "Bring a photo ID and your insurance card.")
	batch := embed(t, e, knowledge.ForDocument, "Parking is free.", "Bring a photo ID and your insurance card.")
	require.InDelta(t, 1, knowledge.Cosine(alone[0], batch[1]), 1e-5)
}

func testSimilarity(t *testing.T, e knowledge.Embedder) {
	q := embed(t, e, knowledge.ForQuery, "what does a flu shot cost without insurance")[0]
	docs := embed(t, e, knowledge.ForDocument,
		"How much does a flu shot cost? A standard flu shot costs $35 for self-pay patients.",
		"Where do I park? Parking in the garage is free for up to two hours.",
		"How do I transfer my prescriptions to another pharmacy?")
	related := knowledge.Cosine(q, docs[0])
	require.Greater(t, related, knowledge.Cosine(q, docs[1]))
	require.Greater(t, related, knowledge.Cosine(q, docs[2]))
}

func testEmpty(t *testing.T, e knowledge.Embedder) {
	v, err := e.Embed(context.Background(), knowledge.EmbedRequest{})
	require.NoError(t, err)
	require.Empty(t, v)
}

func testCancelled(t *testing.T, e knowledge.Embedder) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Embed(ctx, knowledge.EmbedRequest{Texts: []string{"hello there"}, Lang: "en"})
	require.ErrorIs(t, err, context.Canceled)
}

func testOrder(t *testing.T, e knowledge.Embedder) {
	texts := make([]string, 150)
	for i := range texts {
		texts[i] = "Question number " + string(rune('a'+i%26)) + " about topic " + string(rune('A'+i/26))
	}
	all := embed(t, e, knowledge.ForDocument, texts...)
	for _, i := range []int{0, 63, 64, 100, 149} {
		one := embed(t, e, knowledge.ForDocument, texts[i])
		require.InDelta(t, 1, knowledge.Cosine(all[i], one[0]), 1e-5, "text %d", i)
	}
}
