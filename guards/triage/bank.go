package triage

import (
	"encoding/base64"
	"errors"
	"math"
)

// bank is the nearest-neighbour part of the learned detector: the sentence
// vectors of the training messages (emergencies and hard non-emergencies),
// with their labels. A message's neighbour features are its cosines to the
// nearest of each kind.
type bank struct {
	dims      int
	vecs      []float32 // row i is vecs[i*dims : (i+1)*dims], unit length or zero
	emergency []bool
	crisis    []bool
	category  []string
}

func (b *bank) len() int { return len(b.emergency) }

func (b *bank) add(v []float32, emergency, crisis bool, category string) {
	b.vecs = append(b.vecs, v...)
	b.emergency = append(b.emergency, emergency)
	b.crisis = append(b.crisis, crisis)
	b.category = append(b.category, category)
}

// neighbours is what the nearest training messages say.
type neighbours struct {
	crisis   bool   // most of the 3 nearest emergencies need the crisis reply
	category string // the nearest emergency's category
	// The cosines to the nearest crisis emergency and to the nearest other
	// emergency (the reply model's features).
	crisisMax, emergencyMax float64
}

// top keeps the k best cosines, best first.
type top struct {
	cos []float64
	idx []int
}

func (t *top) push(c float64, i, k int) {
	if len(t.cos) == k && c <= t.cos[k-1] {
		return
	}
	j := len(t.cos)
	if j < k {
		t.cos = append(t.cos, 0)
		t.idx = append(t.idx, 0)
	} else {
		j = k - 1
	}
	for j > 0 && t.cos[j-1] < c {
		t.cos[j], t.idx[j] = t.cos[j-1], t.idx[j-1]
		j--
	}
	t.cos[j], t.idx[j] = c, i
}

func (t *top) mean(k int) float64 {
	if len(t.cos) == 0 {
		return 0
	}
	s := 0.0
	n := min(k, len(t.cos))
	for _, c := range t.cos[:n] {
		s += c
	}
	return s / float64(n)
}

func (t *top) first() float64 {
	if len(t.cos) == 0 {
		return 0
	}
	return t.cos[0]
}

// features writes the neighbour features (knnNames) of the unit vector q
// into x, leaving out row skip (the message itself, in the fit).
func (b *bank) features(q []float32, skip int, x []float64) neighbours {
	var em, other, cr, ncr top
	n := b.len()
	if len(q) == b.dims && !zero(q) {
		for i := 0; i < n; i++ {
			if i == skip {
				continue
			}
			c := float64(dot32(q, b.vecs[i*b.dims:(i+1)*b.dims]))
			if b.emergency[i] {
				em.push(c, i, 10)
				if b.crisis[i] {
					cr.push(c, i, 1)
				} else {
					ncr.push(c, i, 1)
				}
			} else {
				other.push(c, i, 10)
			}
		}
	}
	// Margins only: how much closer the nearest emergencies are than the
	// nearest non-emergencies. The cosines themselves grow with how
	// medical a message is, which is not how urgent it is.
	x[0] = em.first() - other.first()
	x[1] = em.mean(3) - other.mean(3)
	x[2] = em.mean(10) - other.mean(10)
	nb := neighbours{crisisMax: cr.first(), emergencyMax: ncr.first()}
	crisis := 0
	for _, i := range em.idx[:min(3, len(em.idx))] {
		if b.crisis[i] {
			crisis++
		}
	}
	nb.crisis = crisis >= 2
	if len(em.idx) > 0 {
		nb.category = b.category[em.idx[0]]
	}
	return nb
}

func zero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// dot32 is the dot product of two vectors of the same length (the
// neighbour search's inner loop: eight sums, no bounds checks inside).
func dot32(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa := a[i : i+8 : i+8]
		bb := b[i : i+8 : i+8]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
		s4 += aa[4] * bb[4]
		s5 += aa[5] * bb[5]
		s6 += aa[6] * bb[6]
		s7 += aa[7] * bb[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}

// encodeVectors quantizes rows to int8 (one scale per row) for the model
// file.
func encodeVectors(vecs []float32, dims int) (string, []float32) {
	n := len(vecs) / dims
	codes := make([]byte, len(vecs))
	scales := make([]float32, n)
	for i := 0; i < n; i++ {
		row := vecs[i*dims : (i+1)*dims]
		m := float32(0)
		for _, v := range row {
			m = max(m, float32(math.Abs(float64(v))))
		}
		if m == 0 {
			continue
		}
		scales[i] = m / 127
		for j, v := range row {
			codes[i*dims+j] = byte(int8(math.Round(float64(v / scales[i]))))
		}
	}
	return base64.StdEncoding.EncodeToString(codes), scales
}

// decodeVectors is encodeVectors' inverse; rows are made unit length again.
func decodeVectors(s string, scales []float32, dims int) ([]float32, error) {
	codes, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if dims <= 0 || len(codes) != len(scales)*dims {
		return nil, errors.New("triage: model: vectors and scales disagree")
	}
	out := make([]float32, len(codes))
	for i := range scales {
		row := out[i*dims : (i+1)*dims]
		n := 0.0
		for j := range row {
			row[j] = float32(int8(codes[i*dims+j])) * scales[i]
			n += float64(row[j]) * float64(row[j])
		}
		if n > 0 {
			inv := float32(1 / math.Sqrt(n))
			for j := range row {
				row[j] *= inv
			}
		}
	}
	return out, nil
}
