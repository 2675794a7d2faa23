package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tend-health/tend/knowledge/wordvec"
)

// proposeSynonyms prints, for each named slot of concepts.yaml (or every
// slot), the English words nearest to the centroid of the slot's one-word
// English phrases in the bundled word vectors (knowledge/wordvec): the
// candidates a person reviews before adding any of them to the slot.
// Nothing is written.
func proposeSynonyms(w io.Writer, path string, slots []string, n int) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var f struct {
		Slots []struct {
			ID      string              `yaml:"id"`
			Phrases map[string][]string `yaml:"phrases"`
		} `yaml:"slots"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range slots {
		want[s] = true
	}
	v := wordvec.Default()
	dims := v.Dims()
	buf := make([]float32, dims)
	for _, s := range f.Slots {
		if len(want) > 0 && !want[s.ID] {
			continue
		}
		have := map[string]bool{}
		centroid := make([]float64, dims)
		k := 0
		for _, ph := range s.Phrases["en"] {
			word := strings.TrimSuffix(ph, "*")
			if strings.Contains(word, " ") {
				continue
			}
			have[word] = true
			i, ok := v.Lookup(word)
			if !ok {
				continue
			}
			vec := unit(v.Vector(i, buf))
			for j := range centroid {
				centroid[j] += vec[j]
			}
			k++
		}
		if k == 0 {
			continue
		}
		type cand struct {
			word string
			cos  float64
		}
		var cands []cand
		c := unit64(centroid)
		// The 60,000 most frequent words: rarer ones are mostly names and
		// misspellings.
		for i := 0; i < min(v.Len(), 60000); i++ {
			word := v.Word(i)
			if have[word] || !wordvec.Plain(word) {
				continue
			}
			vec := unit(v.Vector(i, buf))
			cos := 0.0
			for j := range vec {
				cos += vec[j] * c[j]
			}
			cands = append(cands, cand{word, cos})
		}
		sort.Slice(cands, func(a, b int) bool { return cands[a].cos > cands[b].cos })
		var out []string
		for _, cd := range cands[:min(n, len(cands))] {
			out = append(out, fmt.Sprintf("%s %.2f", cd.word, cd.cos))
		}
		fmt.Fprintf(w, "%s (%d words): %s\n", s.ID, k, strings.Join(out, ", "))
	}
	return nil
}

func unit(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return unit64(out)
}

func unit64(v []float64) []float64 {
	n := 0.0
	for _, x := range v {
		n += x * x
	}
	n = math.Sqrt(n)
	if n == 0 {
		return v
	}
	for i := range v {
		v[i] /= n
	}
	return v
}
