package wordvec

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// The vectors file, little-endian, every section 4-byte aligned:
//
//	header (64 bytes):
//	  magic "TENDWV1\n", format version, dims, words, hash table bits,
//	  misspelling index entries, misspelling top words, source vocabulary
//	  size, word bytes, id (the first 16 bytes of the SHA-256 of the file
//	  with the id zeroed), 4 reserved bytes
//	common component    dims × float32
//	ranks               words × uint32 (1-based rank in the source's frequency order)
//	scales              words × float32 (a word's vector is scale × its int8 codes)
//	word offsets        (words+1) × uint32 into the word bytes
//	hash table          2^bits × uint32 (word index + 1, 0 = empty; FNV-1a, linear probing)
//	misspelling index   entries × uint32 hashes (sorted), then entries × uint32 word indexes
//	codes               words × dims int8
//	word bytes          the words, concatenated
//
// Nothing is decoded at load: lookups read the sections in place, so the
// embedded file costs no heap.
const (
	magic         = "TENDWV1\n"
	formatVersion = 1
	headerSize    = 64
	idOffset      = 40
	idSize        = 16
)

// File is the content of a vectors file, as the generator (and tests) build it.
type File struct {
	Dims int
	// Words are lower-case plain words in frequency order, most frequent first.
	Words []string
	// Ranks are the words' 1-based ranks in the source's frequency order
	// (increasing; gaps where words were left out).
	Ranks []uint32
	// Scales and Codes are the quantized vectors: word i's vector is
	// Scales[i] × Codes[i*Dims:(i+1)*Dims].
	Scales []float32
	Codes  []int8
	// Common is the unit common component that sentence vectors lose.
	Common []float32
	// SourceVocab is the size of the source vocabulary (the Zipf fit's N).
	SourceVocab int
	// FuzzyTop: words of 5+ letters among the first FuzzyTop are the
	// targets of the misspelling fallback.
	FuzzyTop int
}

// Quantize writes x as int8 codes with one scale (max |x| / 127) and
// returns the scale.
func Quantize(x []float32, codes []int8) float32 {
	m := 0.0
	for _, f := range x {
		m = math.Max(m, math.Abs(float64(f)))
	}
	if m == 0 {
		clear(codes)
		return 0
	}
	scale := m / 127
	for i, f := range x {
		codes[i] = int8(math.Max(-127, math.Min(127, math.Round(float64(f)/scale))))
	}
	return float32(scale)
}

// MinFuzzyLen is the shortest word the misspelling fallback corrects or
// proposes: shorter words have too many neighbours one edit away.
const MinFuzzyLen = 5

// Encode lays the file out, building the hash table and the misspelling
// index.
func (f *File) Encode() ([]byte, error) {
	n := len(f.Words)
	switch {
	case f.Dims <= 0 || f.Dims > 4096:
		return nil, fmt.Errorf("wordvec: bad dimension %d", f.Dims)
	case n == 0:
		return nil, errors.New("wordvec: no words")
	case len(f.Ranks) != n || len(f.Scales) != n || len(f.Codes) != n*f.Dims || len(f.Common) != f.Dims:
		return nil, errors.New("wordvec: section sizes disagree")
	case f.SourceVocab < n:
		return nil, errors.New("wordvec: source vocabulary smaller than the words kept")
	}
	seen := make(map[string]bool, n)
	for i, w := range f.Words {
		if !Plain(w) {
			return nil, fmt.Errorf("wordvec: %q is not a plain lower-case word", w)
		}
		if seen[w] {
			return nil, fmt.Errorf("wordvec: %q twice", w)
		}
		seen[w] = true
		if f.Ranks[i] == 0 || (i > 0 && f.Ranks[i] <= f.Ranks[i-1]) || int(f.Ranks[i]) > f.SourceVocab {
			return nil, fmt.Errorf("wordvec: rank of %q out of order", w)
		}
	}

	bits := 4
	for float64(n) > 0.65*float64(uint(1)<<bits) {
		bits++
	}
	table := make([]uint32, 1<<bits)
	mask := uint32(len(table) - 1)
	for i, w := range f.Words {
		s := hashString(w) & mask
		for table[s] != 0 {
			s = (s + 1) & mask
		}
		table[s] = uint32(i + 1)
	}

	type entry struct{ h, i uint32 }
	var fuzzy []entry
	for i, w := range f.Words[:min(n, f.FuzzyTop)] {
		if len(w) < MinFuzzyLen || !letters(w) {
			continue
		}
		for _, k := range deletions(w, true) {
			fuzzy = append(fuzzy, entry{hashString(k), uint32(i)})
		}
	}
	sort.Slice(fuzzy, func(a, b int) bool {
		if fuzzy[a].h != fuzzy[b].h {
			return fuzzy[a].h < fuzzy[b].h
		}
		return fuzzy[a].i < fuzzy[b].i
	})

	wordBytes := 0
	for _, w := range f.Words {
		wordBytes += len(w)
	}
	var b []byte
	le := binary.LittleEndian
	b = append(b, magic...)
	for _, x := range []int{formatVersion, f.Dims, n, bits, len(fuzzy), f.FuzzyTop, f.SourceVocab, wordBytes} {
		b = le.AppendUint32(b, uint32(x))
	}
	b = append(b, make([]byte, headerSize-len(b))...)
	for _, x := range f.Common {
		b = le.AppendUint32(b, math.Float32bits(x))
	}
	for _, r := range f.Ranks {
		b = le.AppendUint32(b, r)
	}
	for _, s := range f.Scales {
		b = le.AppendUint32(b, math.Float32bits(s))
	}
	off := uint32(0)
	for _, w := range f.Words {
		b = le.AppendUint32(b, off)
		off += uint32(len(w))
	}
	b = le.AppendUint32(b, off)
	for _, s := range table {
		b = le.AppendUint32(b, s)
	}
	for _, e := range fuzzy {
		b = le.AppendUint32(b, e.h)
	}
	for _, e := range fuzzy {
		b = le.AppendUint32(b, e.i)
	}
	for _, c := range f.Codes {
		b = append(b, byte(c))
	}
	for _, w := range f.Words {
		b = append(b, w...)
	}
	sum := sha256.Sum256(b)
	copy(b[idOffset:], sum[:idSize])
	return b, nil
}

// layout holds the byte offsets of a parsed file's sections.
type layout struct {
	dims, n, bits, fuzzyN, fuzzyTop, sourceVocab                             int
	common, ranks, scales, offsets, table, fuzzyHash, fuzzyIdx, codes, words int
	end                                                                      int
}

func parseLayout(data string) (layout, error) {
	var l layout
	if len(data) < headerSize || data[:len(magic)] != magic {
		return l, errors.New("wordvec: not a vectors file")
	}
	h := func(i int) int { return int(u32(data, len(magic)+4*i)) }
	if h(0) != formatVersion {
		return l, fmt.Errorf("wordvec: format version %d, want %d", h(0), formatVersion)
	}
	l.dims, l.n, l.bits, l.fuzzyN, l.fuzzyTop, l.sourceVocab = h(1), h(2), h(3), h(4), h(5), h(6)
	wordBytes := h(7)
	if l.dims <= 0 || l.dims > 4096 || l.n <= 0 || l.n > 1<<26 || l.bits < 4 || l.bits > 30 || l.fuzzyN < 0 || l.fuzzyN > 1<<28 ||
		l.sourceVocab < l.n || wordBytes < l.n || wordBytes > 1<<30 {
		return l, errors.New("wordvec: corrupt header")
	}
	p := headerSize
	next := func(size int) int { at := p; p += size; return at }
	l.common = next(4 * l.dims)
	l.ranks = next(4 * l.n)
	l.scales = next(4 * l.n)
	l.offsets = next(4 * (l.n + 1))
	l.table = next(4 << l.bits)
	l.fuzzyHash = next(4 * l.fuzzyN)
	l.fuzzyIdx = next(4 * l.fuzzyN)
	l.codes = next(l.n * l.dims)
	l.words = next(wordBytes)
	l.end = p
	if l.end != len(data) {
		return l, fmt.Errorf("wordvec: file is %d bytes, header says %d", len(data), l.end)
	}
	if int(u32(data, l.offsets+4*l.n)) != wordBytes {
		return l, errors.New("wordvec: corrupt word offsets")
	}
	return l, nil
}

// ID is the hex SHA-256 prefix a file stores of itself.
func fileID(data string) string { return hex.EncodeToString([]byte(data[idOffset : idOffset+idSize])) }

// Verify recomputes a file's checksum (tests; too slow for every load).
func Verify(data []byte) error {
	if len(data) < headerSize {
		return errors.New("wordvec: short file")
	}
	c := append([]byte(nil), data...)
	clear(c[idOffset : idOffset+idSize])
	sum := sha256.Sum256(c)
	if string(sum[:idSize]) != string(data[idOffset:idOffset+idSize]) {
		return errors.New("wordvec: checksum mismatch")
	}
	return nil
}

func u32(s string, at int) uint32 {
	_ = s[at+3]
	return uint32(s[at]) | uint32(s[at+1])<<8 | uint32(s[at+2])<<16 | uint32(s[at+3])<<24
}

// hashString is 32-bit FNV-1a.
func hashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Plain reports whether w is a word the file may hold: lower-case ASCII
// letters and digits, with single hyphens inside ("x-ray", "covid-19").
func Plain(w string) bool {
	if w == "" || w[0] == '-' || w[len(w)-1] == '-' || strings.Contains(w, "--") {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func letters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// deletions are the distinct strings one deletion away from w, and w itself
// when self is set.
func deletions(w string, self bool) []string {
	out := make([]string, 0, len(w)+1)
	if self {
		out = append(out, w)
	}
	for i := 0; i < len(w); i++ {
		if i > 0 && w[i] == w[i-1] {
			continue // deleting either of two equal letters gives the same string
		}
		out = append(out, w[:i]+w[i+1:])
	}
	return out
}
