package learn

import "errors"

// Query is one training question for the ranker: its candidates' feature
// vectors and which of them answer it.
type Query struct {
	X        [][]float64
	Relevant []bool
}

// FitRanker fits linear weights w so that w·x orders each query's relevant
// candidates above its others (a pairwise logistic loss, as in RankNet with
// a linear scorer). Every query weighs the same, however many candidates
// it has; queries with no relevant or no other candidate teach nothing and
// are skipped. The scale of the weights is arbitrary for ranking; the
// penalty keeps it moderate.
func FitRanker(qs []Query, o Options) ([]float64, error) {
	var x [][]float64
	var y, sw []float64
	for _, q := range qs {
		var pos, neg [][]float64
		for i, r := range q.Relevant {
			if r {
				pos = append(pos, q.X[i])
			} else {
				neg = append(neg, q.X[i])
			}
		}
		if len(pos) == 0 || len(neg) == 0 {
			continue
		}
		weight := 1 / float64(len(pos)*len(neg))
		for _, p := range pos {
			for _, n := range neg {
				d := make([]float64, len(p))
				for j := range p {
					d[j] = p[j] - n[j]
				}
				// Both orientations, so the fit needs no bias.
				x = append(x, d, negate(d))
				y = append(y, 1, 0)
				sw = append(sw, weight, weight)
			}
		}
	}
	if len(x) == 0 {
		return nil, errors.New("learn: no query with both relevant and other candidates")
	}
	o.SampleWeights = sw
	m, err := FitLogistic(x, y, o)
	if err != nil {
		return nil, err
	}
	return m.W, nil
}

func negate(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = -x
	}
	return out
}
