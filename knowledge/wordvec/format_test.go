package wordvec

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWordVecEmbeddedChecksum(t *testing.T) {
	t.Parallel()
	require.NoError(t, Verify([]byte(embedded)), "the embedded file is what the generator wrote")
	v := Default()
	require.Equal(t, fileID(embedded)[:12], v.Version())
}

func TestWordVecQuantize(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 100)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	codes := make([]int8, len(x))
	scale := Quantize(x, codes)
	for i := range x {
		require.LessOrEqual(t, math.Abs(float64(x[i])-float64(scale)*float64(codes[i])), float64(scale)/2+1e-7)
	}
	zero := make([]float32, 4)
	require.Zero(t, Quantize(zero, make([]int8, 4)))
}

// tiny is a small file built the way the generator builds one.
func tiny(t *testing.T) (*File, [][]float32) {
	words := []string{"the", "clinic", "doctor", "physician", "banana", "x-ray", "prescription", "insurance"}
	rng := rand.New(rand.NewPCG(1, 2))
	f := &File{Dims: 8, SourceVocab: 100, FuzzyTop: 8, Common: make([]float32, 8)}
	f.Common[0] = 1
	var vecs [][]float32
	for i, w := range words {
		x := make([]float32, f.Dims)
		for j := range x {
			x[j] = float32(rng.NormFloat64())
		}
		codes := make([]int8, f.Dims)
		f.Words = append(f.Words, w)
		f.Ranks = append(f.Ranks, uint32(2*i+1))
		f.Scales = append(f.Scales, Quantize(x, codes))
		f.Codes = append(f.Codes, codes...)
		vecs = append(vecs, x)
	}
	return f, vecs
}

func TestWordVecFileRoundTrip(t *testing.T) {
	t.Parallel()
	f, vecs := tiny(t)
	data, err := f.Encode()
	require.NoError(t, err)
	require.NoError(t, Verify(data))
	v, err := Parse(string(data))
	require.NoError(t, err)
	require.Equal(t, len(f.Words), v.Len())
	require.Equal(t, 8, v.Dims())
	for i, w := range f.Words {
		j, ok := v.Lookup(w)
		require.True(t, ok, w)
		require.Equal(t, i, j)
		require.Equal(t, w, v.Word(i))
		require.Equal(t, int(f.Ranks[i]), v.Rank(i))
		got := v.Vector(i, nil)
		for k := range got {
			require.InDelta(t, vecs[i][k], got[k], float64(f.Scales[i])/2+1e-6)
		}
	}
	i, ok := v.Correct("perscription")
	require.True(t, ok)
	require.Equal(t, "prescription", v.Word(i))
	_, ok = v.Correct("bannana") // "banana" has 6 letters, but only words of 5+ letters among FuzzyTop count: it does
	require.True(t, ok)
	require.InDelta(t, 1/(3*(math.Log(100)+0.5772156649015329+1.0/200-1.0/120000)), v.ProbIndex(1), 1e-9, "Zipf: rank 3 of 100")

	again, err := f.Encode()
	require.NoError(t, err)
	require.Equal(t, data, again, "encoding is deterministic")
}

func TestWordVecFileRejectsBadInput(t *testing.T) {
	t.Parallel()
	f, _ := tiny(t)
	data, err := f.Encode()
	require.NoError(t, err)
	for name, bad := range map[string]string{
		"empty":     "",
		"magic":     "XENDWV1\n" + string(data[8:]),
		"truncated": string(data[:len(data)-1]),
		"longer":    string(data) + "x",
	} {
		_, err := Parse(bad)
		require.Error(t, err, name)
	}
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)-3] ^= 1
	require.Error(t, Verify(flipped))

	for name, mutate := range map[string]func(f *File){
		"not plain":   func(f *File) { f.Words[1] = "Clinic" },
		"duplicate":   func(f *File) { f.Words[2] = "clinic" },
		"rank order":  func(f *File) { f.Ranks[2] = 1 },
		"sizes":       func(f *File) { f.Scales = f.Scales[1:] },
		"no words":    func(f *File) { f.Words, f.Ranks, f.Scales, f.Codes = nil, nil, nil, nil },
		"small vocab": func(f *File) { f.SourceVocab = 3 },
	} {
		g, _ := tiny(t)
		mutate(g)
		_, err := g.Encode()
		require.Error(t, err, name)
	}
}

func TestWordVecOneEdit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"doctor", "docter", true}, {"doctor", "doctors", true}, {"doctor", "octor", true}, {"doctor", "odctor", true},
		{"doctor", "doctor", false}, {"doctor", "dotcro", false}, {"doctor", "doc", false}, {"abcde", "badce", false},
	} {
		require.Equal(t, c.want, oneEdit(c.a, c.b), "%s %s", c.a, c.b)
		require.Equal(t, c.want, oneEdit(c.b, c.a), "%s %s", c.b, c.a)
	}
}
