package knowledge

import (
	"context"
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestMemoryFullTextMatchesTSRank: on PostgreSQL the in-memory full-text
// candidates are the ones the GIN query returns, in the same order, for
// queries of every size made of the index's own terms (rare and common,
// repeated), and every match's rank is ts_rank()'s float4, bit for bit.
func TestMemoryFullTextMatchesTSRank(t *testing.T) {
	t.Parallel()
	db := storetest.OpenPostgres(t)
	kb := New(db, Options{})
	syncDirs(t, kb)
	ctx := context.Background()
	st, err := kb.State(ctx, db.Q())
	require.NoError(t, err)
	mem, err := kb.memoryIndex(ctx, db.Q(), st)
	require.NoError(t, err)
	require.NotNil(t, mem.fts, "the sample's terms are plain words")
	require.NotNil(t, mem.fts.log2Len, "ranked as ts_rank")
	terms := indexTerms(t, db)
	require.Greater(t, len(terms), 500)
	rng := rand.New(rand.NewSource(17))
	for i := range 1000 {
		q := make(queryTerms, 1+i%12)
		for j := range q {
			q[j] = queryTerm{term: terms[rng.Intn(len(terms))], df: 1}
		}
		if i%10 == 0 {
			q = append(q, q[0]) // a repeated term counts once in ts_rank
		}
		requireSameCandidates(t, kb, db, mem, q)
		if i%50 == 0 {
			requireSameRanks(t, db, mem.fts, selectiveTerms(q))
		}
	}
	_, ok := mem.fts.candidates([]string{"x-ray"}, candidatesPerSignal)
	require.False(t, ok, "a term the parser would split is left to the database")
}

// requireSameRanks compares every match's rank with the database's, not
// only the first candidates' order.
func requireSameRanks(t *testing.T, db *store.DB, f *memFTS, terms []string) {
	t.Helper()
	rows, err := db.Q().Query(context.Background(), `SELECT id, ts_rank('{0.05, 0.2, 0.5, 1.0}', tsv, to_tsquery('simple', $1), 1)
		FROM kb_chunks WHERE tsv @@ to_tsquery('simple', $1)`, strings.Join(terms, " | "))
	require.NoError(t, err)
	defer rows.Close()
	want := map[int64]float32{}
	for rows.Next() {
		var id int64
		var r float32
		require.NoError(t, rows.Scan(&id, &r))
		want[id] = r
	}
	require.NoError(t, rows.Err())
	got := map[int64]float32{}
	for _, h := range f.tsRanks(terms) {
		got[f.ids[h.doc]] = h.rank
	}
	require.Equal(t, want, got, "query %v", terms)
}

// requireSameCandidates: the in-memory full-text candidates of q are the
// database query's, in the same order.
func requireSameCandidates(t *testing.T, kb *Base, db *store.DB, mem *memIndex, q queryTerms) {
	t.Helper()
	want, err := kb.textCandidates(context.Background(), db.Q(), nil, q, false)
	require.NoError(t, err)
	got, ok := mem.fts.candidates(selectiveTerms(q), candidatesPerSignal)
	require.True(t, ok)
	if len(want) == 0 {
		want = nil
	}
	if len(got) == 0 {
		got = nil
	}
	require.Equal(t, want, got, "query %v", selectiveTerms(q))
}

// indexTerms are the index's terms, in order.
func indexTerms(t *testing.T, db *store.DB) []string {
	t.Helper()
	var terms []string
	rows, err := db.Q().Query(context.Background(), `SELECT term FROM kb_terms ORDER BY term`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var term string
		require.NoError(t, rows.Scan(&term))
		terms = append(terms, term)
	}
	require.NoError(t, rows.Err())
	return terms
}
