package knowledge

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/pgvector/pgvector-go"

	"github.com/tend-health/tend/internal/store"
)

// The index in memory: every passage of one index generation (its text,
// its analyzed fields counted once, its document's details and its vector
// of the embedder's model), loaded on the first search that sees the
// generation and searched without reading passages from the database. The
// database stays the source of truth: each search reads kb_state's
// generation (one small statement), and a sync on any replica bumps it, so
// every replica reloads at its next search.
//
// The full-text candidates come from memory too, ranked the way the
// database ranks them: on SQLite as FTS5's bm25() (same formula, same
// column weights, same tie-break), on PostgreSQL as ts_rank() with the
// query's weights and normalization (index_tsrank.go), so the candidates
// are those the database's query returns; TestMemoryFullTextMatchesFTS5
// and TestMemoryFullTextMatchesTSRank hold them together. On PostgreSQL the
// vector candidates are an exact scan in memory instead of the HNSW walk,
// for indexes up to maxMemoryPassages; larger ones are searched in the
// database as before.

// maxMemoryPassages is the largest PostgreSQL index kept in memory: about
// 2.5 KB a passage with 612-dimension vectors (50 MB at this size), and an
// exact vector scan of this many passages stays near a millisecond. SQLite
// has no vector index, so its passages are always in memory.
const maxMemoryPassages = 20_000

// memIndex is one generation of the index, read-only once built.
type memIndex struct {
	generation int64
	model      string
	passages   map[int64]*memPassage
	vectors    *vectorCache // the current model's vectors, by id
	fts        *memFTS      // nil when the terms are not plain words
}

// memPassage is a passage as a search result starts from, with its fields'
// term counts made once.
type memPassage struct {
	r      Result
	fields [3]map[string]int // head, body, ctx
	// headLen is the heading's number of terms.
	headLen int
}

// memoryIndex returns the in-memory index at st's generation, loading it
// when the generation (or the model) changed; nil when the index stays in
// the database (a large PostgreSQL index).
func (b *Base) memoryIndex(ctx context.Context, q store.Q, st State) (*memIndex, error) {
	if q.Dialect() == store.Postgres && (b.noMemory || st.Chunks > maxMemoryPassages) {
		return nil, nil
	}
	model := b.embedder.Model()
	// Held while loading: concurrent searches of a new generation wait for
	// one load instead of each reading every passage.
	b.memMu.Lock()
	defer b.memMu.Unlock()
	if m := b.mem; m != nil && m.generation == st.Generation && m.model == model {
		return m, nil
	}
	m, err := loadMemIndex(ctx, q, st.Generation, model)
	if err != nil {
		return nil, err
	}
	b.mem = m
	return m, nil
}

func loadMemIndex(ctx context.Context, q store.Q, generation int64, model string) (*memIndex, error) {
	rows, err := q.Query(ctx, `SELECT c.id, c.kind, c.section, c.heading, c.body, c.head_terms, c.body_terms, c.ctx_terms,
		c.n_terms, c.ord, d.path, d.title, d.updated, d.language, d.translation_of,
		CASE WHEN c.model = $1 THEN c.embedding END
		FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id ORDER BY c.id`, model)
	if err != nil {
		return nil, fmt.Errorf("knowledge: load the index: %w", err)
	}
	defer rows.Close()
	m := &memIndex{generation: generation, model: model, passages: map[int64]*memPassage{},
		vectors: &vectorCache{generation: generation, model: model}}
	pg := q.Dialect() == store.Postgres
	for rows.Next() {
		p := &memPassage{}
		r := &p.r
		var blob []byte
		var vec *pgvector.Vector
		dest := []any{&r.ChunkID, &r.Kind, &r.Section, &r.Heading, &r.Text, &r.terms[0], &r.terms[1], &r.terms[2],
			&r.nTerms, &r.ord, &r.Document, &r.Title, &r.Updated, &r.Language, &r.TranslationOf, &blob}
		if pg {
			dest[len(dest)-1] = &vec
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("knowledge: load the index: %w", err)
		}
		for f := range p.fields {
			p.fields[f] = termCounts(r.terms[f])
		}
		p.headLen = len(strings.Fields(r.terms[0]))
		m.passages[r.ChunkID] = p
		var v []float32
		switch {
		case vec != nil:
			v = vec.Slice()
		case blob != nil:
			if v, err = decodeVector(blob); err != nil {
				return nil, err
			}
		}
		if v != nil {
			m.vectors.ids = append(m.vectors.ids, r.ChunkID)
			m.vectors.vecs = append(m.vectors.vecs, v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("knowledge: load the index: %w", err)
	}
	m.fts = newMemFTS(m.passages)
	if pg && m.fts != nil {
		if m.fts, err = m.fts.asTSRank(ctx, q); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// fill makes the candidates full results: the passage's text, fields and
// document, and for a full-text candidate its cosine to the question.
func (m *memIndex) fill(cands map[int64]*Result, qvec []float32) {
	for id, c := range cands {
		p := m.passages[id]
		if p == nil {
			// Gone between the candidates and now: cannot happen within one
			// generation; left out rather than scored empty.
			delete(cands, id)
			continue
		}
		r := p.r
		r.Signals, r.vecFound = c.Signals, c.vecFound
		r.fields, r.headLen = &p.fields, p.headLen
		if qvec != nil && !c.vecFound {
			if v := m.vectors.get(id); v != nil && len(v) == len(qvec) {
				r.Signals.Cosine = float64(dot(qvec, v))
			}
		}
		*c = r
	}
}

// memFTS reproduces kb_fts (SQLite FTS5, tokenize unicode61) over the
// analyzed fields: postings per term with each field's count, and the
// token counts bm25() normalizes by.
type memFTS struct {
	ids      []int64           // passages by id (FTS5's rowid)
	size     []int             // each passage's tokens, all columns
	postings map[string][]post // term -> passages holding it, in id order
	avgdl    float64           // tokens per passage
	// log2Len is, on PostgreSQL, each passage's ts_rank length
	// normalization, log2(size+1); nil on SQLite (bm25).
	log2Len []float64
}

type post struct {
	doc int      // index in ids
	tf  [3]int32 // head, body, ctx
}

// ftsWeights are the column weights of the kb_fts query's bm25() call.
var ftsWeights = [3]float64{2.5, 1.0, 0.5}

// newMemFTS builds the postings; nil when a term is not a plain lowercase
// word or number, which unicode61 might split or fold differently (then
// the database answers).
func newMemFTS(passages map[int64]*memPassage) *memFTS {
	ids := make([]int64, 0, len(passages))
	for id := range passages {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	f := &memFTS{ids: ids, size: make([]int, len(ids)), postings: map[string][]post{}}
	total := 0
	for i, id := range ids {
		p := passages[id]
		seen := map[string]int{} // term -> index of its post for this passage
		for col := range 3 {
			for _, t := range strings.Fields(p.r.terms[col]) {
				if !plainTerm(t) {
					return nil
				}
				f.size[i]++
				k, ok := seen[t]
				if !ok {
					k = len(f.postings[t])
					seen[t] = k
					f.postings[t] = append(f.postings[t], post{doc: i})
				}
				f.postings[t][k].tf[col]++
			}
		}
		total += f.size[i]
	}
	if len(ids) > 0 {
		f.avgdl = float64(total) / float64(len(ids))
	}
	return f
}

// plainTerm reports a term unicode61 (remove_diacritics 0) keeps as one
// token unchanged: lowercase letters of the Latin scripts and digits.
func plainTerm(t string) bool {
	if t == "" {
		return false
	}
	for _, r := range t {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r >= 0xDF && r <= 0x24F && unicode.IsLetter(r) && !unicode.IsUpper(r) && !unicode.IsTitle(r):
		default:
			return false
		}
	}
	return true
}

// candidates are the passages holding any of terms, best first by FTS5's
// bm25() with the kb_fts query's weights (on PostgreSQL by ts_rank()),
// then by id, up to limit; false when a term is not plain (the database
// must answer).
func (f *memFTS) candidates(terms []string, limit int) ([]int64, bool) {
	const k1, b = 1.2, 0.75
	for _, t := range terms {
		if !plainTerm(t) {
			return nil, false
		}
	}
	if f.log2Len != nil {
		return f.tsRankCandidates(terms, limit), true
	}
	nRow := int64(len(f.ids))
	// Each quoted term is a phrase of the query, duplicates included.
	idf := make([]float64, len(terms))
	freq := map[int][]float64{} // passage -> weighted count per phrase
	for i, t := range terms {
		ps := f.postings[t]
		nHit := int64(len(ps))
		v := math.Log(float64(float64(nRow-nHit)+0.5) / float64(float64(nHit)+0.5))
		if v <= 0 {
			v = 1e-6
		}
		idf[i] = v
		for _, p := range ps {
			fr := freq[p.doc]
			if fr == nil {
				fr = make([]float64, len(terms))
				freq[p.doc] = fr
			}
			for col := range 3 {
				for range p.tf[col] {
					fr[i] += ftsWeights[col]
				}
			}
		}
	}
	type hit struct {
		doc   int
		score float64
	}
	hits := make([]hit, 0, len(freq))
	for doc, fr := range freq {
		d := float64(f.size[doc])
		norm := float64(k1 * float64(1-b+float64(b*d)/f.avgdl))
		score := 0.0
		for i := range fr {
			score += float64(idf[i] * (float64(fr[i]*(k1+1.0)) / (fr[i] + norm)))
		}
		hits = append(hits, hit{doc, -score})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].score != hits[j].score {
			return hits[i].score < hits[j].score
		}
		return hits[i].doc < hits[j].doc // ids are in order: rowid
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]int64, len(hits))
	for i, h := range hits {
		out[i] = f.ids[h.doc]
	}
	return out, true
}
