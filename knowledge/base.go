// Package knowledge is Tend's knowledge base: it reads a clinic's documents
// (Markdown, HTML, text, PDF, DOCX), splits them into passages along their
// structure, embeds them, keeps them in the store with full-text and vector
// indexes, and finds the passages that answer a patient's question, with a
// confidence the answerer uses to decide whether to answer at all.
package knowledge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Options configure a Base.
type Options struct {
	// Embedder makes the vectors (nil means DefaultEmbedder: the hashed
	// offline features and SIF word-vector meaning).
	Embedder Embedder
	// Analyzer makes the index terms (nil means the default lexicon's).
	Analyzer *Analyzer
	Logger   *slog.Logger
	// Now is the clock for sync times (nil means time.Now).
	Now func() time.Time
	// EfSearch is pgvector's hnsw.ef_search for queries (default
	// DefaultEfSearch): the size of the candidate list the HNSW walk keeps;
	// higher finds more of the true nearest neighbours at some cost.
	EfSearch int
	// Model is the learned ranker and answer decision (nil: the bundled
	// DefaultModel).
	Model *Model
	// Dictionary reports whether a word (folded, as the analyzer splits
	// it) is a real word of the question's language; such words are never
	// "corrected" into an indexed term one typo away. nil: every unknown
	// word may be corrected.
	Dictionary func(word, lang string) bool
	// NoCorrection turns spelling corrections off (ablations).
	NoCorrection bool
	// Meaning encodes questions and passages as sentence vectors for the
	// meaning features (nil: none; the offline default is SIF over word
	// vectors). It is independent of Embedder, which makes the stored
	// vectors the vector index searches.
	Meaning Embedder
	// NoMeaning leaves the meaning features out (ablations).
	NoMeaning bool
	// NoGlossary stops reading Spanish questions in English (ablations).
	NoGlossary bool
	// InDatabase searches a PostgreSQL index in the database (GIN, HNSW,
	// passages read per search), as an index too large for memory is
	// searched, instead of in memory (tests of that path). SQLite's index
	// is always searched in memory.
	InDatabase bool
}

// DefaultEfSearch keeps HNSW recall@10 at or above 0.95 on 100,000
// passages of the offline embedder (0.96 measured; 100 gave 0.925), whose
// sparse hashed vectors are harder for the graph than a neural model's.
// See docs/knowledge.md, "Performance".
const DefaultEfSearch = 150

// Base is a knowledge base in a store. It is safe for concurrent use.
type Base struct {
	db         *store.DB
	embedder   Embedder
	analyzer   *Analyzer
	log        *slog.Logger
	now        func() time.Time
	efSearch   int
	model      *Model
	meaning    Embedder
	dict       func(word, lang string) bool
	noCorrect  bool
	glossary   *Glossary
	noGlossary bool

	vocabMu sync.Mutex
	vocab   *vocabCache

	meanMu    sync.Mutex
	meanCache *meaningCache

	memMu    sync.Mutex
	mem      *memIndex // the index in memory, per generation (index.go)
	noMemory bool

	// known is the state last read, for SearchEarly (early.go).
	known atomic.Pointer[State]
}

// New returns a knowledge base over db (which must be migrated).
func New(db *store.DB, o Options) *Base {
	if o.Analyzer == nil {
		o.Analyzer = DefaultAnalyzer()
	}
	if o.Embedder == nil {
		o.Embedder = DefaultEmbedder()
	}
	if o.Meaning == nil && !o.NoMeaning {
		o.Meaning = DefaultMeaning()
	}
	if o.NoMeaning {
		o.Meaning = nil
	}
	if o.Dictionary == nil {
		o.Dictionary = EnglishDictionary
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.EfSearch <= 0 {
		o.EfSearch = DefaultEfSearch
	}
	if o.Model == nil {
		o.Model = DefaultModel()
	}
	return &Base{db: db, embedder: o.Embedder, analyzer: o.Analyzer, log: o.Logger, now: o.Now, efSearch: o.EfSearch,
		model: o.Model, meaning: o.Meaning, dict: o.Dictionary, noCorrect: o.NoCorrection, glossary: SpanishGlossary(),
		noGlossary: o.NoGlossary, noMemory: o.InDatabase}
}

// Embedder is the base's embedder.
func (b *Base) Embedder() Embedder { return b.embedder }

// Model is the base's ranker and answer decision.
func (b *Base) Model() *Model { return b.model }

// Analyzer is the base's analyzer.
func (b *Base) Analyzer() *Analyzer { return b.analyzer }

// DB is the base's store.
func (b *Base) DB() *store.DB { return b.db }

// State is the index's summary row.
type State struct {
	Generation int64
	Chunks     int64
	TotalTerms int64
	Source     string
	Model      string
	SyncedAt   *time.Time
}

// AvgTerms is the mean passage length in terms.
func (s State) AvgTerms() float64 {
	if s.Chunks == 0 {
		return 1
	}
	return float64(s.TotalTerms) / float64(s.Chunks)
}

// StateQuery is State's read, for a turn to send ahead (store.Tx.ReadAhead).
const StateQuery = `SELECT generation, chunks, total_terms, source, model, synced_at FROM kb_state WHERE id = 1`

// State reads the index's summary row.
func (b *Base) State(ctx context.Context, q store.Q) (State, error) {
	var s State
	err := q.QueryRow(ctx, StateQuery).
		Scan(&s.Generation, &s.Chunks, &s.TotalTerms, &s.Source, &s.Model, &s.SyncedAt)
	if errors.Is(err, store.ErrNotFound) {
		return s, errors.New("knowledge: the database is not migrated (run tend migrate)")
	}
	if err != nil {
		return s, fmt.Errorf("knowledge: read state: %w", err)
	}
	known := s
	b.known.Store(&known)
	return s, nil
}

// DocumentInfo describes an indexed document (`tend kb list`).
type DocumentInfo struct {
	Path     string
	Format   string
	Title    string
	Language string
	Updated  string
	Version  int
	Chunks   int
	Model    string
	SyncedAt time.Time
}

// Documents lists the indexed documents by path.
func (b *Base) Documents(ctx context.Context, q store.Q) ([]DocumentInfo, error) {
	rows, err := q.Query(ctx, `SELECT path, format, title, language, updated, version, chunk_count, model, synced_at
		FROM kb_documents ORDER BY path`)
	if err != nil {
		return nil, fmt.Errorf("knowledge: list documents: %w", err)
	}
	defer rows.Close()
	var out []DocumentInfo
	for rows.Next() {
		var d DocumentInfo
		if err := rows.Scan(&d.Path, &d.Format, &d.Title, &d.Language, &d.Updated, &d.Version, &d.Chunks, &d.Model, &d.SyncedAt); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// termDF reads the document frequency of terms (missing terms are absent).
func termDF(ctx context.Context, q store.Q, terms []string) (map[string]int, error) {
	if len(terms) == 0 {
		return map[string]int{}, nil
	}
	args := make([]any, len(terms))
	ph := make([]string, len(terms))
	for i, t := range terms {
		args[i] = t
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	out, err := store.CountBy(q.Query(ctx, `SELECT term, df FROM kb_terms WHERE term IN (`+strings.Join(ph, ", ")+`)`, args...))
	if err != nil {
		return nil, fmt.Errorf("knowledge: term statistics: %w", err)
	}
	return out, nil
}

// placeholders returns "$from, $from+1, ..." for n arguments.
func placeholders(from, n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = fmt.Sprintf("$%d", from+i)
	}
	return strings.Join(ph, ", ")
}
