package knowledge_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/knowledge"
)

// A word the passage has (or one close in meaning) is labelled 1, a word
// it lacks 0; one row per word with the word's vector, its difference from
// the question's mean and its SIF weight.
func TestTermRecallSamples(t *testing.T) {
	t.Parallel()
	s := knowledge.NewSIF(nil, nil)
	x, y := s.TermRecallSamples("is the lab open on saturday? weekdays are hard with my job", "en",
		"Lab hours\nThe lab is open Saturday mornings from 8 to noon.", "en")
	require.NotEmpty(t, x)
	require.Len(t, y, len(x))
	ones := 0
	for i, row := range x {
		require.Len(t, row, len(x[0]))
		ones += int(y[i])
	}
	require.GreaterOrEqual(t, ones, 2) // lab, open, saturday
	require.Less(t, ones, len(y))      // not job, not hard
}

// Coverages' term-recall half weighs the words by the model: with all the weight on
// the SIF weight input (the last), it is a coverage that leans on rare
// words, between the worst and the best word's closeness; a model that
// gives every word the same low recall makes it the plain mean and names
// no word an answer needs (least 1); a model for vectors of another size
// is ignored.
func TestTermRecallCoverage(t *testing.T) {
	t.Parallel()
	s := knowledge.NewSIF(nil, nil)
	x, _ := s.TermRecallSamples("how much is parking", "en", "Where do I park?\nParking is free.", "en")
	n := len(x[0])
	w := make([]float64, n)
	w[n-1] = 8
	tr := &knowledge.TermRecall{Bias: -4, Weights: w}
	_, _, cov, least := s.Coverages(tr, "how much is parking", "en", "Where do I park?\nParking is free.", "en")
	require.Greater(t, cov, 0.5)
	require.LessOrEqual(t, cov, 1.0)
	require.LessOrEqual(t, least, cov+1e-9)

	_, _, far, _ := s.Coverages(tr, "how much is a rabies vaccine", "en", "Where do I park?\nParking is free.", "en")
	require.Less(t, far, cov)

	flat := &knowledge.TermRecall{Bias: -5, Weights: make([]float64, n)}
	_, _, c, l := s.Coverages(flat, "parking for a rabies vaccine", "en", "Parking is free.", "en")
	require.Greater(t, c, 0.0)
	require.Less(t, c, 1.0)
	require.Equal(t, 1.0, l)

	_, _, c, l = s.Coverages(&knowledge.TermRecall{Weights: []float64{1}}, "how much is parking", "en", "Parking is free.", "en")
	require.Zero(t, c)
	require.Zero(t, l)
}
