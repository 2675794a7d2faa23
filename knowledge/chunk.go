package knowledge

import (
	"strings"
)

// Chunking limits, in words. A FAQ answer (40-150 words in practice) is one
// chunk; an ordinary section longer than maxChunkWords is split on
// paragraphs, and each piece repeats up to overlapWords of the previous one
// so that a sentence that needs its neighbour is still found.
const (
	maxChunkWords = 220
	maxFAQWords   = 2 * maxChunkWords
	overlapWords  = 40
)

// Chunk kinds.
const (
	KindFAQ     = "faq"     // a question heading and its answer
	KindSection = "section" // text under an ordinary heading
	KindIntro   = "intro"   // text before the first heading
)

// Chunk is one retrievable passage of a document.
type Chunk struct {
	Ord     int
	Kind    string
	Section []string // heading path, without the document title
	Heading string   // the question or heading the passage answers to
	Text    string   // the passage as shown to patients
}

// SectionLabel is the heading path joined for display ("Hours › Holidays").
func (c Chunk) SectionLabel() string { return strings.Join(c.Section, " › ") }

// ChunkDocument splits a parsed document into passages along its structure.
func ChunkDocument(doc *Document) []Chunk {
	var out []Chunk
	for _, s := range doc.Sections {
		kind := KindSection
		switch {
		case s.Question:
			kind = KindFAQ
		case len(s.Path) == 0:
			kind = KindIntro
		}
		limit := maxChunkWords
		if kind == KindFAQ {
			limit = maxFAQWords
		}
		for _, text := range splitParagraphs(s.Paragraphs, limit) {
			out = append(out, Chunk{Ord: len(out), Kind: kind, Section: s.Path, Heading: s.Heading, Text: text})
		}
	}
	return out
}

// splitParagraphs groups paragraphs into pieces of at most limit words.
func splitParagraphs(paras []string, limit int) []string {
	var units []string
	for _, p := range paras {
		if wordCount(p) <= limit {
			units = append(units, p)
			continue
		}
		units = append(units, splitLong(p, limit)...)
	}
	var pieces []string
	var cur []string
	words := 0
	for _, u := range units {
		n := wordCount(u)
		if words > 0 && words+n > limit {
			pieces = append(pieces, joinParagraphs(cur))
			cur, words = overlap(cur), 0
			for _, c := range cur {
				words += wordCount(c)
			}
		}
		cur = append(cur, u)
		words += n
	}
	if len(cur) > 0 {
		pieces = append(pieces, joinParagraphs(cur))
	}
	return pieces
}

// overlap is the tail of a finished piece carried into the next one.
func overlap(prev []string) []string {
	if len(prev) == 0 {
		return nil
	}
	last := prev[len(prev)-1]
	if wordCount(last) <= overlapWords {
		return []string{last}
	}
	sentences := splitSentences(last)
	var tail []string
	words := 0
	for i := len(sentences) - 1; i >= 0; i-- {
		n := wordCount(sentences[i])
		if words+n > overlapWords {
			break
		}
		tail = append([]string{sentences[i]}, tail...)
		words += n
	}
	if len(tail) == 0 {
		return nil
	}
	return []string{strings.Join(tail, " ")}
}

// splitLong cuts one over-long paragraph at sentence ends (or, failing
// that, at word boundaries).
func splitLong(p string, limit int) []string {
	var out []string
	var cur []string
	words := 0
	for _, s := range splitSentences(p) {
		for _, part := range splitWordsN(s, limit) {
			n := wordCount(part)
			if words > 0 && words+n > limit {
				out = append(out, strings.Join(cur, " "))
				cur, words = nil, 0
			}
			cur = append(cur, part)
			words += n
		}
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, " "))
	}
	return out
}

func splitWordsN(s string, limit int) []string {
	f := strings.Fields(s)
	if len(f) <= limit {
		return []string{s}
	}
	var out []string
	for len(f) > 0 {
		n := min(limit, len(f))
		out = append(out, strings.Join(f[:n], " "))
		f = f[n:]
	}
	return out
}

// splitSentences splits at ". ", "! " and "? " followed by a capital or a
// digit, keeping abbreviations like "a.m. to" together.
func splitSentences(p string) []string {
	var out []string
	start := 0
	rs := []rune(p)
	for i := 0; i < len(rs)-2; i++ {
		if (rs[i] == '.' || rs[i] == '!' || rs[i] == '?') && rs[i+1] == ' ' && isSentenceStart(rs[i+2]) {
			out = append(out, strings.TrimSpace(string(rs[start:i+1])))
			start = i + 2
		}
	}
	if rest := strings.TrimSpace(string(rs[start:])); rest != "" {
		out = append(out, rest)
	}
	return out
}

func isSentenceStart(r rune) bool {
	return (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '"' || r == '(' || r > 127
}

// joinParagraphs keeps list items on consecutive lines and puts a blank
// line between other paragraphs.
func joinParagraphs(ps []string) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			if isListLine(p) && (isListLine(ps[i-1]) || strings.Contains(ps[i-1], "\n- ")) {
				b.WriteString("\n")
			} else {
				b.WriteString("\n\n")
			}
		}
		b.WriteString(p)
	}
	return b.String()
}

func wordCount(s string) int { return len(strings.Fields(s)) }
