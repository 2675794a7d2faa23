package knowledge

import (
	"context"
	"fmt"

	"github.com/tend-health/tend/knowledge/wordvec"
)

// Meaning features: the question's sentence vector against each candidate's
// heading (for a FAQ entry, the question it answers) and against the whole
// passage, scored separately because a paraphrase of the question and a
// passage about the topic are different evidence. The candidates' vectors
// are made from their text on first use and kept per index generation, so
// a search embeds only the question; an editor's sync starts a new cache.

// maxMeaningCache bounds the cached passages (two small vectors each; about
// 80 bytes per dimension pair): beyond it the cache starts over.
const maxMeaningCache = 50_000

type meaningCache struct {
	generation int64
	model      string
	vecs       map[int64][2][]float32 // chunk id -> heading, passage
}

// meaningSignals fills in SIFHead and SIFBody of every candidate.
func (b *Base) meaningSignals(ctx context.Context, query, lang, context string, qi *queryInfo, cands map[int64]*Result, st State) error {
	if b.meaning == nil {
		return nil
	}
	text := query
	if context != "" {
		text = context + "\n" + query
	}
	qv, err := b.meaning.Embed(ctx, EmbedRequest{Texts: []string{text}, Lang: lang, Purpose: ForQuery})
	if err != nil {
		return fmt.Errorf("knowledge: meaning of the question: %w", err)
	}
	qi.sif = qv[0]
	vecs, err := b.passageMeanings(ctx, cands, st)
	if err != nil {
		return err
	}
	for id, r := range cands {
		v := vecs[id]
		r.Signals.SIFHead = max(0, float64(dot(qi.sif, v[0])))
		r.Signals.SIFBody = max(0, float64(dot(qi.sif, v[1])))
	}
	return nil
}

// passageMeanings returns the heading and passage vectors of the
// candidates, embedding (per language) the ones not cached yet.
func (b *Base) passageMeanings(ctx context.Context, cands map[int64]*Result, st State) (map[int64][2][]float32, error) {
	model := b.meaning.Model()
	out := make(map[int64][2][]float32, len(cands))
	missing := map[string][]*Result{}
	b.meanMu.Lock()
	c := b.meanCache
	if c == nil || c.generation != st.Generation || c.model != model || len(c.vecs) > maxMeaningCache {
		c = &meaningCache{generation: st.Generation, model: model, vecs: map[int64][2][]float32{}}
		b.meanCache = c
	}
	for id, r := range cands {
		if v, ok := c.vecs[id]; ok {
			out[id] = v
		} else {
			missing[r.Language] = append(missing[r.Language], r)
		}
	}
	b.meanMu.Unlock()
	for lang, rs := range missing {
		texts := make([]string, 0, 2*len(rs))
		for _, r := range rs {
			texts = append(texts, r.Heading, r.Text)
		}
		vs, err := b.meaning.Embed(ctx, EmbedRequest{Texts: texts, Lang: lang, Purpose: ForDocument})
		if err != nil {
			return nil, fmt.Errorf("knowledge: meaning of passages: %w", err)
		}
		for i, r := range rs {
			out[r.ChunkID] = [2][]float32{vs[2*i], vs[2*i+1]}
		}
	}
	if len(missing) > 0 {
		b.meanMu.Lock()
		if b.meanCache == c {
			for id, v := range out {
				c.vecs[id] = v
			}
		}
		b.meanMu.Unlock()
	}
	return out, nil
}

// DefaultMeaning is the offline sentence encoder for the meaning features:
// SIF sentence vectors over the bundled word vectors.
func DefaultMeaning() Embedder { return NewSIF(nil, nil) }

// DefaultEmbedder is the offline embedder for the stored vectors: the
// hashed features (words, word pairs, character trigrams: exact terms and
// misspellings) and the SIF meaning, weighted 2:1. On the own training
// questions the pair ranks the right passage first more often than either
// alone, and the hashed part keeps Spanish questions, whose words the
// English vectors lack, as well served as before.
func DefaultEmbedder() Embedder {
	c, err := NewConcat([]float64{2, 1}, NewOffline(nil), NewSIF(nil, nil))
	if err != nil {
		panic(err) // constant, valid weights
	}
	return c
}

// EnglishDictionary reports whether an English word is one the word
// vectors know (a real word, not a typo to correct); words of other
// languages are never corrected against English vocabulary this way.
func EnglishDictionary(word, lang string) bool {
	if lang != "" && lang != "en" {
		return false
	}
	_, ok := wordvec.Default().Lookup(word)
	return ok
}
