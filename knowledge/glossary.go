package knowledge

import (
	"fmt"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/tend-health/tend/internal/textutil"
)

// Glossary translates a Spanish text into English words, phrase by phrase
// and word by word (lexicon/es_en.yaml, written by hand for Tend), so that
// a Spanish question can be matched against English documents and English
// word vectors. It is not a translator: word order and grammar stay
// Spanish, which matters to neither bag-of-words ranking nor SIF vectors.
// A word it does not know is kept as written (names, numbers, words
// already English).
type Glossary struct {
	phrases   map[string]string
	maxPhrase int
	words     map[string]string
}

type glossaryFile struct {
	Phrases map[string]string `yaml:"phrases"`
	Words   map[string]string `yaml:"words"`
}

// NewGlossary parses a glossary in the format of lexicon/es_en.yaml.
func NewGlossary(data []byte) (*Glossary, error) {
	var f glossaryFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("knowledge: glossary: %w", err)
	}
	g := &Glossary{phrases: map[string]string{}, words: map[string]string{}}
	for k, v := range f.Phrases {
		k = textutil.Normalize(k)
		g.phrases[k] = v
		g.maxPhrase = max(g.maxPhrase, len(strings.Fields(k)))
	}
	for k, v := range f.Words {
		g.words[textutil.Normalize(k)] = v
	}
	return g, nil
}

// SpanishGlossary is the bundled Spanish-English glossary.
func SpanishGlossary() *Glossary { return spanishGlossary() }

var spanishGlossary = sync.OnceValue(func() *Glossary { return mustBundled(NewGlossary(bundled("es_en.yaml"))) })

// Translate returns the English words of a Spanish text, folded, in the
// text's order. Figures ("$35", "7:30", phone numbers) are kept as
// written so the analyzer still sees them.
func (g *Glossary) Translate(text string) string {
	var out []string
	for _, tok := range strings.Fields(textutil.Fold(text)) {
		if figureToken(tok) {
			out = append(out, tok)
		}
	}
	words := textutil.Words(text)
	for i := 0; i < len(words); {
		matched := false
		for n := min(g.maxPhrase, len(words)-i); n >= 2; n-- {
			if en, ok := g.phrases[strings.Join(words[i:i+n], " ")]; ok {
				out = append(out, en)
				i += n
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		w := words[i]
		if en, ok := g.words[w]; ok {
			out = append(out, en)
		} else {
			out = append(out, w)
		}
		i++
	}
	return strings.Join(out, " ")
}

// figureToken reports a token that carries a figure the analyzer reads
// from its punctuation: a price, a clock time, a phone number.
func figureToken(tok string) bool {
	return strings.ContainsAny(tok, "$:") || strings.Count(tok, "-") >= 1 && strings.IndexFunc(tok, isDigitRune) >= 0
}

func isDigitRune(r rune) bool { return r >= '0' && r <= '9' }
