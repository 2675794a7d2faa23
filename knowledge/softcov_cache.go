package knowledge

import "sync"

// SoftCoverage compares a question's words with the top passage's, and the
// passage's side (its words found by regular expressions and the analyzer,
// looked up, decoded and normalized) was most of its cost, the same for
// every question the passage answers. passageVectors keeps it per passage
// text: a text's vectors depend on nothing else the SIF does not fix, so an
// edited passage is a new key and no generation is needed.

// maxPassageFloats bounds the cache (about 16 MB of float32); beyond it the
// cache starts over.
const maxPassageFloats = 4 << 20

type passageVecCache struct {
	mu     sync.Mutex
	vecs   map[string][]float32 // unit vectors, one after another
	floats int
}

// passageVectors returns the unit vectors of up to limit distinct words of
// text, as wordVectors, laid end to end (Dims floats each). The slice is
// shared: read it only.
func (s *SIF) passageVectors(text string, limit int) []float32 {
	c := &s.passages
	c.mu.Lock()
	flat, ok := c.vecs[text]
	c.mu.Unlock()
	if ok {
		return flat
	}
	vs := s.wordVectors(text, limit)
	flat = make([]float32, 0, len(vs)*s.vectors.Dims())
	for _, v := range vs {
		flat = append(flat, v...)
	}
	c.mu.Lock()
	if c.vecs == nil || c.floats+len(flat) > maxPassageFloats {
		c.vecs, c.floats = map[string][]float32{}, 0
	}
	if _, ok := c.vecs[text]; !ok {
		c.vecs[text] = flat
		c.floats += len(flat)
	}
	c.mu.Unlock()
	return flat
}
