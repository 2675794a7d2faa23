package learn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fit recovers the weights of data drawn from a known logistic model.
func TestFitLogisticRecoversWeights(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	trueW, trueB := []float64{2, -1, 0}, 0.5
	var x [][]float64
	var y []float64
	for range 20000 {
		row := []float64{r.NormFloat64(), 3 * r.NormFloat64(), r.NormFloat64() + 10}
		p := Sigmoid(trueB + trueW[0]*row[0] + trueW[1]*row[1] + trueW[2]*row[2])
		label := 0.0
		if r.Float64() < p {
			label = 1
		}
		x, y = append(x, row), append(y, label)
	}
	m, err := FitLogistic(x, y, Options{L2: 0.01})
	require.NoError(t, err)
	require.InDelta(t, 2, m.W[0], 0.15)
	require.InDelta(t, -1, m.W[1], 0.08)
	require.InDelta(t, 0, m.W[2], 0.08)
	require.InDelta(t, 0.5, m.Bias, 1.0) // the constant third feature trades off with the bias
	// Calibrated on its own data: predicted and observed rates agree.
	var probs []float64
	var labels []bool
	for i := range x {
		probs, labels = append(probs, m.Prob(x[i])), append(labels, y[i] == 1)
	}
	_, ece := Reliability(probs, labels, 10)
	require.Less(t, ece, 0.02)
}

func TestFitRankerOrdersRelevantFirst(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	var qs []Query
	for range 300 {
		var q Query
		for i := range 10 {
			f := []float64{r.Float64(), r.Float64()}
			rel := i == 0
			if rel {
				f[0] += 0.5 // the useful feature
			}
			q.X, q.Relevant = append(q.X, f), append(q.Relevant, rel)
		}
		qs = append(qs, q)
	}
	w, err := FitRanker(qs, Options{})
	require.NoError(t, err)
	require.Greater(t, w[0], 1.0)
	require.Less(t, math.Abs(w[1]), 0.5*w[0])
	_, err = FitRanker([]Query{{X: [][]float64{{1}}, Relevant: []bool{true}}}, Options{})
	require.Error(t, err)
}

func TestAUROC(t *testing.T) {
	t.Parallel()
	require.Equal(t, 1.0, AUROC([]float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}))
	require.Equal(t, 0.0, AUROC([]float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}))
	require.Equal(t, 0.5, AUROC([]float64{0.5, 0.5}, []bool{true, false}))
	require.Equal(t, -1.0, AUROC([]float64{0.5}, []bool{true}))
}

func TestReliability(t *testing.T) {
	t.Parallel()
	table, ece := Reliability([]float64{0.05, 0.15, 0.95, 0.95}, []bool{false, false, true, false}, 10)
	require.Len(t, table, 10)
	require.Equal(t, 2, table[9].N)
	require.InDelta(t, 0.5, table[9].Observed, 1e-9)
	require.InDelta(t, (0.05+0.15+2*0.45)/4, ece, 1e-9)
}
