package knowledge

import (
	"context"
	"errors"
	"fmt"

	"github.com/tend-health/tend/internal/store"
)

// A search before the turn's transaction. The FAQ dialog searches for the
// patient's question inside its turn; on SQLite that CPU is spent holding
// the single writer. SearchEarly runs the same search from memory alone,
// against the state the base last read (State), and says which state it
// used; the turn reads kb_state as before and uses the early result only
// when it is the same index (SameIndex), else it searches again. The
// database stays the source of truth: a sync on any replica bumps the
// generation, and an early result of the older one is not used.

// errNotCached stops a cached-only search that would need the database.
var errNotCached = errors.New("knowledge: not in memory")

// SameIndex reports whether two states describe the same index: a search
// with either gives the same results.
func (s State) SameIndex(o State) bool {
	return s.Generation == o.Generation && s.Chunks == o.Chunks && s.TotalTerms == o.TotalTerms && s.Model == o.Model
}

// SearchEarly is Search without the database: with the state last read by
// State and the vocabulary and in-memory index loaded for it. It returns
// false when that is not possible (nothing read yet, a generation not
// loaded, a PostgreSQL index kept in the database, a query the in-memory
// full-text index cannot rank) or the search failed: the caller then
// searches in its transaction. o.State is ignored.
func (b *Base) SearchEarly(ctx context.Context, query string, o SearchOptions) (resp Response, st State, ok bool) {
	known := b.known.Load()
	if known == nil {
		return Response{}, State{}, false
	}
	st = *known
	o.State, o.cachedOnly = &st, true
	defer func() {
		// The turn searches again and meets the same failure there, where
		// it is contained; here it must not take the request down.
		if p := recover(); p != nil {
			b.log.ErrorContext(ctx, "knowledge: early search panicked", "panic", fmt.Sprint(p))
			ok = false
		}
	}()
	// No querier: every read below is from memory (cachedOnly).
	resp, err := b.Search(ctx, store.Q{}, query, o)
	return resp, st, err == nil
}

// vocabularyFor is the vocabulary at gen, from the database when not
// loaded yet, unless cachedOnly.
func (b *Base) vocabularyFor(ctx context.Context, q store.Q, gen int64, cachedOnly bool) (*vocabCache, error) {
	if !cachedOnly {
		return b.vocabulary(ctx, q, gen)
	}
	b.vocabMu.Lock()
	defer b.vocabMu.Unlock()
	if c := b.vocab; c != nil && c.generation == gen {
		return c, nil
	}
	return nil, errNotCached
}

// memoryIndexFor is memoryIndex, or with cachedOnly the index already in
// memory at st's generation (and never the database's).
func (b *Base) memoryIndexFor(ctx context.Context, q store.Q, st State, cachedOnly bool) (*memIndex, error) {
	if !cachedOnly {
		return b.memoryIndex(ctx, q, st)
	}
	b.memMu.Lock()
	defer b.memMu.Unlock()
	if m := b.mem; m != nil && m.generation == st.Generation && m.model == b.embedder.Model() {
		return m, nil
	}
	return nil, errNotCached
}
