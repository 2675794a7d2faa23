package triage

import (
	"math"
	"sort"
)

// The neighbour bank holds sentence vectors projected onto their main
// directions (the top eigenvectors of the training vectors' second-moment
// matrix, found by the fit): a few dozen numbers instead of 100 make the
// search over every training message cheap, and keep the cosines close.

// projection maps a sentence vector onto a basis (rows of length in) and
// back to unit length; a nil projection keeps the vector as it is.
type projection struct {
	in    int
	basis []float32 // out rows of in values
}

func (p *projection) out() int { return len(p.basis) / p.in }

// apply projects v (length in) into dst (grown as needed), unit length.
func (p *projection) apply(v []float32, dst []float32) []float32 {
	if p == nil || len(p.basis) == 0 {
		return v
	}
	n := p.out()
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	if len(v) != p.in {
		clear(dst)
		return dst
	}
	norm := 0.0
	for k := 0; k < n; k++ {
		x := dot32(v, p.basis[k*p.in:(k+1)*p.in])
		dst[k] = x
		norm += float64(x) * float64(x)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for k := range dst {
			dst[k] *= inv
		}
	}
	return dst
}

// principalBasis returns the top k eigenvectors (as rows) of the second
// moment matrix of vecs (each of length dims), by Jacobi rotations.
func principalBasis(vecs [][]float32, dims, k int) []float32 {
	m := make([][]float64, dims)
	for i := range m {
		m[i] = make([]float64, dims)
	}
	for _, v := range vecs {
		if len(v) != dims {
			continue
		}
		for i := 0; i < dims; i++ {
			vi := float64(v[i])
			if vi == 0 {
				continue
			}
			for j := i; j < dims; j++ {
				m[i][j] += vi * float64(v[j])
			}
		}
	}
	for i := 0; i < dims; i++ {
		for j := 0; j < i; j++ {
			m[i][j] = m[j][i]
		}
	}
	vals, vecsOut := jacobiEigen(m)
	order := make([]int, dims)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	basis := make([]float32, 0, k*dims)
	for _, c := range order[:min(k, dims)] {
		for r := 0; r < dims; r++ {
			basis = append(basis, float32(vecsOut[r][c]))
		}
	}
	return basis
}

// jacobiEigen diagonalizes a symmetric matrix (modified in place): the
// eigenvalues, and the eigenvectors as the columns of the second result.
func jacobiEigen(a [][]float64) ([]float64, [][]float64) {
	n := len(a)
	v := make([][]float64, n)
	for i := range v {
		v[i] = make([]float64, n)
		v[i][i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		off := 0.0
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				off += a[p][q] * a[p][q]
			}
		}
		if off < 1e-18 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				if math.Abs(a[p][q]) < 1e-15 {
					continue
				}
				theta := (a[q][q] - a[p][p]) / (2 * a[p][q])
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ {
					akp, akq := a[k][p], a[k][q]
					a[k][p] = c*akp - s*akq
					a[k][q] = s*akp + c*akq
				}
				for k := 0; k < n; k++ {
					apk, aqk := a[p][k], a[q][k]
					a[p][k] = c*apk - s*aqk
					a[q][k] = s*apk + c*aqk
				}
				for k := 0; k < n; k++ {
					vkp, vkq := v[k][p], v[k][q]
					v[k][p] = c*vkp - s*vkq
					v[k][q] = s*vkp + c*vkq
				}
			}
		}
	}
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = a[i][i]
	}
	return vals, v
}
