package knowledge

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pgvector/pgvector-go"

	"github.com/tend-health/tend/internal/store"
)

// Mode chooses the retrieval signals.
type Mode string

const (
	// ModeHybrid fuses full-text and vector candidates (the default).
	ModeHybrid Mode = "hybrid"
	// ModeFullText uses full-text search alone (the evals' baseline).
	ModeFullText Mode = "fulltext"
	// ModeVector uses vector similarity alone.
	ModeVector Mode = "vector"
)

// ParseMode reads a mode name ("" is hybrid).
func ParseMode(s string) (Mode, error) {
	switch Mode(strings.ToLower(s)) {
	case "", ModeHybrid:
		return ModeHybrid, nil
	case ModeFullText, "bm25", "fts":
		return ModeFullText, nil
	case ModeVector:
		return ModeVector, nil
	}
	return "", fmt.Errorf("knowledge: unknown search mode %q (hybrid, fulltext or vector)", s)
}

// candidatesPerSignal is how many passages each signal proposes before
// the fused ranking; the union is scored in Go.
const candidatesPerSignal = 40

// SearchOptions adjust a search.
type SearchOptions struct {
	Limit int    // results to return (default 5)
	Lang  string // the question's language (default "en")
	Mode  Mode
	// Context is earlier conversation (the previous question) that a
	// follow-up leans on; its terms count at half weight.
	Context string
	// State, when set, is the knowledge base's state as read by State in
	// the same transaction: a turn that searches more than once reads it
	// once (on PostgreSQL, a round trip per search saved). Nil reads it.
	State *State

	// cachedOnly searches without the database (SearchEarly): the
	// vocabulary and the in-memory index must be loaded for State.
	cachedOnly bool
}

// Signals are the evidence behind a result's score (`tend kb search`).
type Signals struct {
	TextRank     int      `json:"text_rank"`   // 1-based rank among full-text candidates, 0 if absent
	VectorRank   int      `json:"vector_rank"` // 1-based rank among vector candidates, 0 if absent
	BM25         float64  `json:"bm25"`        // BM25 over heading, body and context, scaled to 0..1
	Cosine       float64  `json:"cosine"`      // vector similarity
	Coverage     float64  `json:"coverage"`    // share of the question's weighted terms found in the passage
	HeadCoverage float64  `json:"head_coverage"`
	Missing      []string `json:"missing,omitempty"` // question terms the passage lacks
	// MissingTop is the weight share of the most important term the
	// passage lacks: a passage that misses the question's main word
	// ("allergy" in "how much is allergy testing") does not answer it.
	MissingTop float64 `json:"missing_top"`
	// MissingUnknown is the weight share of the question's terms that
	// neither the passage nor any other passage has (a thing the
	// documents never mention), as opposed to terms found elsewhere.
	MissingUnknown float64 `json:"missing_unknown"`
	HeadBM25       float64 `json:"head_bm25"` // BM25 over the heading alone
	BodyBM25       float64 `json:"body_bm25"` // ... the passage's text alone
	CtxBM25        float64 `json:"ctx_bm25"`  // ... its context alone (title, parent headings, tags)
	// SIFHead and SIFBody are the sentence-vector cosines of the question
	// with the heading and with the passage (0 without a meaning encoder).
	SIFHead float64 `json:"sif_head"`
	SIFBody float64 `json:"sif_body"`
	// EntityMatch is the share of the things the question names (a
	// vaccine, a test, a plan) that the passage names too; Ungrounded
	// lists the ones it lacks.
	EntityMatch float64  `json:"entity_match"`
	Ungrounded  []string `json:"ungrounded,omitempty"`
	// Conflict: the passage cannot answer for what it lacks (it names
	// another thing of the same kind, or nothing in the index names it).
	Conflict bool `json:"conflict,omitempty"`
	// Unpriced are the things whose price the question asks for that the
	// passage names without a price (or not at all).
	Unpriced []string `json:"unpriced,omitempty"`
	// TypeMatch is the share of the figures the question asks for (a
	// price, a time, a phone number, a duration) that the passage states.
	TypeMatch float64 `json:"type_match"`
}

// Result is one retrieved passage.
type Result struct {
	ChunkID  int64  `json:"chunk_id"`
	Document string `json:"document"`
	Title    string `json:"title"`
	Updated  string `json:"updated,omitempty"`
	Language string `json:"language"`
	// TranslationOf is the original document when this passage's document
	// is a translation.
	TranslationOf string  `json:"translation_of,omitempty"`
	Kind          string  `json:"kind"`
	Section       string  `json:"section"`
	Heading       string  `json:"heading"`
	Text          string  `json:"text"`
	Score         float64 `json:"score"`
	Signals       Signals `json:"signals"`

	terms    [3]string // head, body, ctx terms
	nTerms   int
	fields   *[3]map[string]int // terms counted, from the in-memory index (nil: count terms)
	headLen  int                // the heading's terms, with fields
	ord      int                // the passage's place in its document
	vecFound bool
	features []float64 // CandidateFeatures, for the ranker
}

// original is the passage's document, or the one it translates.
func (r Result) original() string {
	if r.TranslationOf != "" {
		return r.TranslationOf
	}
	return r.Document
}

// Features are the candidate's ranking features (CandidateFeatures order),
// for the fit program.
func (r Result) Features() []float64 { return r.features }

// Response is a search's ranked results and the confidence that the first
// one answers the question.
type Response struct {
	Terms      []string `json:"terms"`
	Results    []Result `json:"results"`
	Confidence float64  `json:"confidence"`
	// Threshold is the confidence at or above which the model answers.
	Threshold float64 `json:"threshold"`
	// Decision are the decision features of the first result (for the
	// fit program), in DecisionFeatures order.
	Decision []float64 `json:"-"`
}

// Ungrounded lists the things the question names that the first passage
// does not name, or whose price it does not state, when that rules the
// passage out (see Signals.Conflict).
func (r Response) Ungrounded() []string {
	if len(r.Results) == 0 || !r.Results[0].Signals.Conflict {
		return nil
	}
	s := r.Results[0].Signals
	return append(append([]string{}, s.Ungrounded...), s.Unpriced...)
}

// BaselineThreshold is the answering threshold of the single-signal
// modes (full text alone, vectors alone), whose confidence is a fixed
// blend rather than the model's probability; they are the evals' baselines.
const BaselineThreshold = 0.30

// Search finds the passages that best answer query. q is the store or the
// caller's transaction (a dialog passes its turn's).
//
// A question in another language than English (Spanish) is also read in
// English through the glossary: English passages are matched and ranked
// against that reading, passages in the question's own language against
// the question as written.
func (b *Base) Search(ctx context.Context, q store.Q, query string, o SearchOptions) (Response, error) {
	if o.Limit <= 0 {
		o.Limit = 5
	}
	if o.Lang == "" {
		o.Lang = "en"
	}
	if o.Mode == "" {
		o.Mode = ModeHybrid
	}
	state, err := b.stateFor(ctx, q, o)
	if err != nil {
		return Response{}, err
	}
	vocab, err := b.vocabularyFor(ctx, q, state.Generation, o.cachedOnly)
	if err != nil {
		return Response{}, err
	}
	qt := b.queryTerms(vocab, query, o.Context, o.Lang, state)
	resp := Response{Terms: qt.names(), Threshold: b.model.Threshold}
	if o.Mode != ModeHybrid {
		resp.Threshold = BaselineThreshold
	}
	qi := newQueryInfo(b.analyzer, query, qt, o.Lang)
	vecQuery, vecLang := query, o.Lang
	if g := b.glossaryFor(o.Lang); g != nil {
		en, enCtx := g.Translate(query), g.Translate(o.Context)
		et := b.queryTerms(vocab, en, enCtx, "en", state)
		alt := newQueryInfo(b.analyzer, en, et, "en")
		qi.alt = &alt
		vecQuery, vecLang = en, "en"
		o.Context = enCtx
	}
	if state.Chunks == 0 {
		return resp, nil
	}
	mem, err := b.memoryIndexFor(ctx, q, state, o.cachedOnly)
	if err != nil {
		return resp, err
	}
	cands := map[int64]*Result{}
	if o.Mode != ModeVector {
		ids, err := b.textCandidates(ctx, q, mem, qi.allTerms(), o.cachedOnly)
		if err != nil {
			return resp, err
		}
		for i, id := range ids {
			cands[id] = &Result{ChunkID: id, Signals: Signals{TextRank: i + 1}}
		}
	}
	var qvec []float32
	if o.Mode != ModeFullText {
		text := vecQuery
		if o.Context != "" {
			text = o.Context + "\n" + vecQuery
		}
		vecs, err := b.embedder.Embed(ctx, EmbedRequest{Texts: []string{text}, Lang: vecLang, Purpose: ForQuery})
		if err != nil {
			return resp, fmt.Errorf("knowledge: embed question: %w", err)
		}
		qvec = vecs[0]
		near, err := b.vectorCandidates(ctx, q, mem, qvec)
		if err != nil {
			return resp, err
		}
		for i, s := range near {
			r := cands[s.id]
			if r == nil {
				r = &Result{ChunkID: s.id}
				cands[s.id] = r
			}
			r.Signals.VectorRank = i + 1
			r.Signals.Cosine = s.sim
			r.vecFound = true
		}
	}
	if len(cands) == 0 {
		return resp, nil
	}
	if mem != nil {
		mem.fill(cands, qvec)
	} else if err := b.loadCandidates(ctx, q, cands, qvec); err != nil {
		return resp, err
	}
	if o.Mode == ModeHybrid {
		if err := b.meaningSignals(ctx, vecQuery, vecLang, o.Context, &qi, cands, state); err != nil {
			return resp, err
		}
	}
	results := make([]Result, 0, len(cands))
	for _, r := range cands {
		scoreResult(r, qi.forPassage(r.Language), state, o.Mode, b.model)
		results = append(results, *r)
	}
	sort.Slice(results, func(i, j int) bool {
		if results[i].Score != results[j].Score {
			return results[i].Score > results[j].Score
		}
		return results[i].ChunkID < results[j].ChunkID
	})
	sif, meaning := b.meaning.(*SIF)
	meaning = meaning && o.Mode == ModeHybrid
	var read []coverage
	if meaning {
		read = b.rerank(sif, query, o.Lang, results)
	}
	b.attributePrices(results, &qi)
	top := qi.forPassage(results[0].Language)
	if meaning {
		c := b.coverageOf(sif, query, o.Lang, results[0], read)
		top.softCov, top.softLeast, top.trCov, top.trLeast = c.soft, c.softLeast, c.tr, c.trLeast
	}
	resp.Confidence = confidence(results, top, o.Mode, b.model)
	if len(top.terms) > 0 {
		resp.Decision = decisionFeatures(results, top)
	}
	if len(results) > o.Limit {
		results = results[:o.Limit]
	}
	resp.Results = results
	return resp, nil
}

// glossaryFor is the glossary that reads a question of lang in English
// (nil for English, or when none is configured).
func (b *Base) glossaryFor(lang string) *Glossary {
	if lang == "es" && !b.noGlossary {
		return b.glossary
	}
	return nil
}

// textCandidates asks the full-text index for passages holding any of the
// question's known terms: from memory, ranked as the database ranks them,
// or from the database's index (a term the parser might split, a large
// PostgreSQL index).
func (b *Base) textCandidates(ctx context.Context, q store.Q, mem *memIndex, qt queryTerms, cachedOnly bool) ([]int64, error) {
	if len(qt) == 0 {
		return nil, nil
	}
	terms := selectiveTerms(qt)
	if len(terms) == 0 {
		return nil, nil // no term is selective: the vector candidates stand alone
	}
	if mem != nil && mem.fts != nil {
		if ids, ok := mem.fts.candidates(terms, candidatesPerSignal); ok {
			return ids, nil
		}
	}
	if cachedOnly {
		return nil, errNotCached
	}
	var sql string
	var arg string
	if q.Dialect() == store.Postgres {
		// ts_rank has no notion of rare terms; the Go ranking adds it. The
		// weights favour the heading (A) over the body (B) and context (C).
		arg = strings.Join(terms, " | ")
		sql = `SELECT id FROM kb_chunks WHERE tsv @@ to_tsquery('simple', $1)
			ORDER BY ts_rank('{0.05, 0.2, 0.5, 1.0}', tsv, to_tsquery('simple', $1), 1) DESC, id LIMIT $2`
	} else {
		quoted := make([]string, len(terms))
		for i, t := range terms {
			quoted[i] = `"` + t + `"`
		}
		arg = strings.Join(quoted, " OR ")
		sql = `SELECT rowid FROM kb_fts WHERE kb_fts MATCH $1 ORDER BY bm25(kb_fts, 2.5, 1.0, 0.5), rowid LIMIT $2`
	}
	ids, err := store.IDs(q.Query(ctx, sql, arg, candidatesPerSignal))
	if err != nil {
		return nil, fmt.Errorf("knowledge: full-text search: %w", err)
	}
	return ids, nil
}

// maxTextMatches bounds how many passages the full-text query may match:
// both databases rank every match before the limit, so a question made of
// words found everywhere would read the whole index. The rarest terms are
// kept (at least one); the Go ranking still scores every question term.
const maxTextMatches = 2000

// selectiveTerms are the question's known terms, rarest first, up to
// maxTextMatches matching passages between them. A term in more passages
// than that selects nothing worth ranking; the vectors propose candidates
// and the Go ranking still weighs every term.
func selectiveTerms(qt queryTerms) []string {
	known := make([]queryTerm, 0, len(qt))
	for _, t := range qt {
		if t.df > 0 && t.df <= maxTextMatches {
			known = append(known, t)
		}
	}
	sort.Slice(known, func(i, j int) bool { return known[i].df < known[j].df })
	var out []string
	sum := 0
	for _, t := range known {
		if sum+t.df > maxTextMatches {
			break
		}
		out = append(out, t.term)
		sum += t.df
	}
	return out
}

// vectorCandidates are the nearest passages by cosine: an exact scan of the
// in-memory index's vectors, or HNSW on a PostgreSQL index too large for it.
func (b *Base) vectorCandidates(ctx context.Context, q store.Q, mem *memIndex, vec []float32) ([]scored, error) {
	model := b.embedder.Model()
	if mem != nil {
		return mem.vectors.nearest(vec, candidatesPerSignal), nil
	}
	// Transaction-local: inside a turn's transaction it lasts for the
	// turn; on an autocommit connection it lasts for this statement only,
	// so SearchDB wraps searches in a transaction.
	if _, err := q.Exec(ctx, `SELECT set_config('hnsw.ef_search', $1, true)`, fmt.Sprint(b.efSearch)); err != nil {
		return nil, fmt.Errorf("knowledge: vector search: %w", err)
	}
	expr := vectorExpr("embedding", len(vec))
	param := vectorExpr(fmt.Sprintf("$1::vector(%d)", len(vec)), len(vec))
	sql := fmt.Sprintf(`SELECT id, 1 - (%[1]s <=> %[2]s) FROM kb_chunks WHERE model = %[3]s
		ORDER BY %[1]s <=> %[2]s LIMIT %[4]d`, expr, param, modelLiteral(model), candidatesPerSignal)
	rows, err := q.Query(ctx, sql, pgvector.NewVector(vec))
	if err != nil {
		return nil, fmt.Errorf("knowledge: vector search: %w", err)
	}
	defer rows.Close()
	var out []scored
	for rows.Next() {
		var s scored
		if err := rows.Scan(&s.id, &s.sim); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// loadCandidates fills in the passages' text, terms and (for full-text
// candidates) their cosine to the question from the database, for a
// PostgreSQL index too large to keep in memory.
func (b *Base) loadCandidates(ctx context.Context, q store.Q, cands map[int64]*Result, qvec []float32) error {
	ids := make([]any, 0, len(cands))
	for id := range cands {
		ids = append(ids, id)
	}
	args := append([]any{}, ids...)
	cosExpr := "0"
	if qvec != nil && q.Dialect() == store.Postgres {
		n := len(ids)
		cosExpr = fmt.Sprintf(`CASE WHEN c.model = $%d AND vector_dims(c.embedding) = %d THEN 1 - (c.embedding <=> $%d) ELSE 0 END`,
			n+1, len(qvec), n+2)
		args = append(args, b.embedder.Model(), pgvector.NewVector(qvec))
	}
	rows, err := q.Query(ctx, `SELECT c.id, c.kind, c.section, c.heading, c.body, c.head_terms, c.body_terms, c.ctx_terms,
		c.n_terms, c.ord, d.path, d.title, d.updated, d.language, d.translation_of, `+cosExpr+`
		FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id WHERE c.id IN (`+placeholders(1, len(ids))+`)`, args...)
	if err != nil {
		return fmt.Errorf("knowledge: load passages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var cos float64
		var r Result
		if err := rows.Scan(&id, &r.Kind, &r.Section, &r.Heading, &r.Text, &r.terms[0], &r.terms[1], &r.terms[2],
			&r.nTerms, &r.ord, &r.Document, &r.Title, &r.Updated, &r.Language, &r.TranslationOf, &cos); err != nil {
			return err
		}
		c := cands[id]
		r.ChunkID, r.Signals, r.vecFound = id, c.Signals, c.vecFound
		if qvec != nil && !c.vecFound {
			r.Signals.Cosine = cos
		}
		*c = r
	}
	return rows.Err()
}

func (b *Base) stateFor(ctx context.Context, q store.Q, o SearchOptions) (State, error) {
	if o.State != nil {
		return *o.State, nil
	}
	return b.State(ctx, q)
}

// SearchDB searches outside any transaction (CLI, benchmarks). On
// PostgreSQL it opens a read transaction so the HNSW setting applies.
func (b *Base) SearchDB(ctx context.Context, query string, o SearchOptions) (Response, error) {
	if b.db.Dialect() != store.Postgres {
		return b.Search(ctx, b.db.Q(), query, o)
	}
	var resp Response
	err := b.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		resp, err = b.Search(ctx, tx.Q, query, o)
		return err
	})
	return resp, err
}
