package knowledge

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/knowledge/learn"
)

// The contributions add up to the confidence: bias plus every feature's
// share is the decision's log-odds.
func TestContributionsAddUpToTheConfidence(t *testing.T) {
	t.Parallel()
	m := DefaultModel()
	f := make([]float64, len(DecisionFeatures))
	for i := range f {
		f[i] = 0.1 * float64(i+1)
	}
	bias, cs := m.Contributions(f)
	require.Len(t, cs, len(DecisionFeatures))
	z := bias
	for i, c := range cs {
		require.Equal(t, DecisionFeatures[i], c.Feature)
		require.Equal(t, f[i], c.Value)
		z += c.LogOdds
	}
	require.InDelta(t, m.Confidence(f), learn.Sigmoid(z), 1e-12)
}
