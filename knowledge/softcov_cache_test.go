package knowledge

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The cached passage side gives SoftCoverage exactly what computing it
// afresh gives, whichever passage or question came before.
func TestSoftCoverageCachedPassages(t *testing.T) {
	passages := []string{
		"Flu shots\nA flu shot costs $30 without insurance and takes about 10 minutes.",
		"Parking\nFree parking is behind the building; the garage opens at 7:00 am.",
		"Refills\nPrescription refills take two business days. Call (555) 123-4567.",
	}
	questions := []string{"how much is a flu shot?", "where do I park?", "how long does a refill take?"}

	shared := NewSIF(nil, nil)
	for round := 0; round < 2; round++ {
		for _, p := range passages {
			for _, q := range questions {
				fresh := NewSIF(nil, nil)
				wantMean, wantLeast := fresh.SoftCoverage(q, "en", p, "en")
				mean, least := shared.SoftCoverage(q, "en", p, "en")
				require.Equal(t, wantMean, mean, "round %d %q / %q", round, q, p)
				require.Equal(t, wantLeast, least, "round %d %q / %q", round, q, p)
			}
		}
	}
	require.Len(t, shared.passages.vecs, len(passages))

	for _, p := range passages {
		var want []float32
		for _, v := range shared.wordVectors(p, 200) {
			want = append(want, v...)
		}
		require.Equal(t, want, shared.passageVectors(p, 200))
	}
}
