package knowledge

import (
	"context"
	"io/fs"
	"math/rand"
	"os"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/sample"
)

// syncDirs syncs the sample clinic and the Riverside evaluation documents
// into one index.
func syncDirs(t *testing.T, kb *Base) {
	t.Helper()
	demo, err := fs.Sub(sample.Files(), "kb")
	require.NoError(t, err)
	merged := map[string]fs.FS{"sample": demo, "riverside": os.DirFS("../evals/kb/riverside")}
	for name, fsys := range merged {
		_, err := kb.Sync(context.Background(), Source{Name: name, FS: fsys}, SyncOptions{})
		require.NoError(t, err)
	}
}

// TestMemoryFullTextMatchesFTS5: the in-memory full-text candidates are
// the ones SQLite's kb_fts query returns, in the same order, for queries of
// every size made of the index's own terms (rare and common, repeated).
func TestMemoryFullTextMatchesFTS5(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	kb := New(db, Options{})
	demo, err := fs.Sub(sample.Files(), "kb")
	require.NoError(t, err)
	_, err = kb.Sync(context.Background(), Source{Name: "sample", FS: demo}, SyncOptions{})
	require.NoError(t, err)
	ctx := context.Background()
	st, err := kb.State(ctx, db.Q())
	require.NoError(t, err)
	mem, err := kb.memoryIndex(ctx, db.Q(), st)
	require.NoError(t, err)
	require.NotNil(t, mem.fts, "the sample's terms are plain words")
	terms := indexTerms(t, db)
	require.Greater(t, len(terms), 500)
	rng := rand.New(rand.NewSource(17))
	for i := range 400 {
		q := make(queryTerms, 1+i%8)
		for j := range q {
			q[j] = queryTerm{term: terms[rng.Intn(len(terms))], df: 1}
		}
		if i%10 == 0 {
			q = append(q, q[0]) // a repeated term is a phrase of its own
		}
		requireSameCandidates(t, kb, db, mem, q)
	}
	// A term unicode61 would split is left to the database.
	_, ok := mem.fts.candidates([]string{"x-ray"}, candidatesPerSignal)
	require.False(t, ok)
}

// TestMemoryIndexFollowsOtherReplicas: a base that has its index in memory
// sees a sync made through another base on the same database (another
// replica) at its next search, on both stores.
func TestMemoryIndexFollowsOtherReplicas(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := New(db, Options{}), New(db, Options{})
		docs := fstest.MapFS{"a.md": {Data: []byte("# Parking\n\n## Where do I park?\n\nPark in the Orchard Lane garage, free for two hours.\n")}}
		_, err := b.Sync(ctx, Source{Name: "t", FS: docs}, SyncOptions{})
		require.NoError(t, err)
		r, err := a.SearchDB(ctx, "where do I park", SearchOptions{})
		require.NoError(t, err)
		require.Contains(t, r.Results[0].Text, "Orchard Lane")
		docs["a.md"] = &fstest.MapFile{Data: []byte("# Parking\n\n## Where do I park?\n\nPark in the Elm Street lot behind the clinic.\n")}
		_, err = b.Sync(ctx, Source{Name: "t", FS: docs}, SyncOptions{})
		require.NoError(t, err)
		r, err = a.SearchDB(ctx, "where do I park", SearchOptions{})
		require.NoError(t, err)
		require.Contains(t, r.Results[0].Text, "Elm Street", "a's memory reloaded at the new generation")
	})
}

// TestMemoryAndDatabaseSearchAgree: on PostgreSQL the index in memory and
// the index in the database (GIN, HNSW, passages read per search: the path
// of an index too large for memory) rank the same passage first, with the
// same confidence, for the evaluation questions' kind of questions.
func TestMemoryAndDatabaseSearchAgree(t *testing.T) {
	t.Parallel()
	db := storetest.OpenPostgres(t)
	mem, inDB := New(db, Options{}), New(db, Options{InDatabase: true})
	syncDirs(t, mem)
	ctx := context.Background()
	questions := [][2]string{{"how much is a flu shot?", "en"}, {"do you take medicare", "en"}, {"where do i park", "en"},
		{"how long does a refill take", "en"}, {"what should i wear to my mamogram", "en"}, {"self pay colonscopy cost??", "en"},
		{"do you guys take cigna", "en"}, {"can i get a note for work", "en"}, {"how much is a vasectomy", "en"},
		{"¿cuánto cuesta la vacuna contra la gripe?", "es"}}
	for _, qq := range questions {
		q, lang := qq[0], qq[1]
		a, err := mem.SearchDB(ctx, q, SearchOptions{Lang: lang})
		require.NoError(t, err)
		b, err := inDB.SearchDB(ctx, q, SearchOptions{Lang: lang})
		require.NoError(t, err)
		require.NotEmpty(t, a.Results, q)
		require.Equal(t, b.Results[0].ChunkID, a.Results[0].ChunkID, q)
		require.InDelta(t, b.Confidence, a.Confidence, 0.02, q)
	}
	m, err := mem.memoryIndex(ctx, db.Q(), mustState(t, mem))
	require.NoError(t, err)
	require.NotNil(t, m)
	require.NotNil(t, m.fts, "PostgreSQL's full text is ranked in memory too")
	none, err := inDB.memoryIndex(ctx, db.Q(), mustState(t, inDB))
	require.NoError(t, err)
	require.Nil(t, none)
}

func mustState(t *testing.T, kb *Base) State {
	st, err := kb.State(context.Background(), kb.db.Q())
	require.NoError(t, err)
	return st
}
