// Package learn fits the small models behind Tend's answers: an
// L2-regularized logistic regression (the answer/abstain decision, whose
// output is a calibrated probability) and a pairwise linear ranker (the
// order of candidate passages). Both are fitted offline by evals/fit on the
// project's own training data; the weights ship as data and are applied by
// package knowledge without this package.
package learn

import (
	"errors"
	"math"
)

// Logistic is a fitted logistic model: P(y=1|x) = sigmoid(Bias + W·x).
type Logistic struct {
	Bias float64
	W    []float64
}

// Prob is the model's probability for x.
func (m Logistic) Prob(x []float64) float64 {
	z := m.Bias
	for i, w := range m.W {
		z += w * x[i]
	}
	return Sigmoid(z)
}

// Sigmoid is 1/(1+e^-z), computed without overflow.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Options adjust a fit.
type Options struct {
	// L2 is the ridge penalty on the standardized weights (not the bias);
	// 0 means 1.0.
	L2 float64
	// Weights of the samples (nil: all 1), e.g. to balance classes.
	SampleWeights []float64
	// MaxIter bounds Newton's iterations (0: 50).
	MaxIter int
}

// FitLogistic fits a logistic regression by Newton's method (iteratively
// reweighted least squares) on standardized features, then maps the
// weights back to the raw features. With a few dozen features and some
// thousands of samples it converges in a handful of iterations.
func FitLogistic(x [][]float64, y []float64, o Options) (Logistic, error) {
	n := len(x)
	if n == 0 || len(y) != n {
		return Logistic{}, errors.New("learn: no samples or labels of another length")
	}
	d := len(x[0])
	if o.L2 <= 0 {
		o.L2 = 1
	}
	if o.MaxIter <= 0 {
		o.MaxIter = 50
	}
	mean, scale := standardization(x)
	// z[i] = [1, (x[i]-mean)/scale]
	z := make([][]float64, n)
	for i, row := range x {
		if len(row) != d {
			return Logistic{}, errors.New("learn: rows of different lengths")
		}
		zr := make([]float64, d+1)
		zr[0] = 1
		for j, v := range row {
			zr[j+1] = (v - mean[j]) / scale[j]
		}
		z[i] = zr
	}
	sw := o.SampleWeights
	w := make([]float64, d+1)
	for it := 0; it < o.MaxIter; it++ {
		grad := make([]float64, d+1)
		hess := make([][]float64, d+1)
		for j := range hess {
			hess[j] = make([]float64, d+1)
		}
		for i, zr := range z {
			p := Sigmoid(dotv(w, zr))
			c := 1.0
			if sw != nil {
				c = sw[i]
			}
			g := c * (p - y[i])
			h := c * math.Max(p*(1-p), 1e-9)
			for a := range zr {
				grad[a] += g * zr[a]
				for b := a; b < len(zr); b++ {
					hess[a][b] += h * zr[a] * zr[b]
				}
			}
		}
		for a := 1; a <= d; a++ {
			grad[a] += o.L2 * w[a]
			hess[a][a] += o.L2
		}
		for a := range hess {
			for b := 0; b < a; b++ {
				hess[a][b] = hess[b][a]
			}
		}
		step, err := solve(hess, grad)
		if err != nil {
			return Logistic{}, err
		}
		change := 0.0
		for j := range w {
			w[j] -= step[j]
			change = math.Max(change, math.Abs(step[j]))
		}
		if change < 1e-8 {
			break
		}
	}
	out := Logistic{Bias: w[0], W: make([]float64, d)}
	for j := 0; j < d; j++ {
		out.W[j] = w[j+1] / scale[j]
		out.Bias -= w[j+1] * mean[j] / scale[j]
	}
	return out, nil
}

// standardization returns each feature's mean and spread (1 for a constant
// feature, so it simply gets no weight beyond the penalty's pull to zero).
func standardization(x [][]float64) (mean, scale []float64) {
	d := len(x[0])
	mean, scale = make([]float64, d), make([]float64, d)
	for _, row := range x {
		for j, v := range row {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(x))
	}
	for _, row := range x {
		for j, v := range row {
			scale[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range scale {
		scale[j] = math.Sqrt(scale[j] / float64(len(x)))
		if scale[j] < 1e-9 {
			scale[j] = 1
		}
	}
	return mean, scale
}

func dotv(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// solve solves A x = b for a symmetric positive definite A (Cholesky).
func solve(a [][]float64, b []float64) ([]float64, error) {
	n := len(b)
	l := make([][]float64, n)
	for i := range l {
		l[i] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			s := a[i][j]
			for k := 0; k < j; k++ {
				s -= l[i][k] * l[j][k]
			}
			if i == j {
				if s <= 0 {
					return nil, errors.New("learn: the system is not positive definite")
				}
				l[i][i] = math.Sqrt(s)
			} else {
				l[i][j] = s / l[j][j]
			}
		}
	}
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		s := b[i]
		for k := 0; k < i; k++ {
			s -= l[i][k] * y[k]
		}
		y[i] = s / l[i][i]
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := y[i]
		for k := i + 1; k < n; k++ {
			s -= l[k][i] * x[k]
		}
		x[i] = s / l[i][i]
	}
	return x, nil
}
