package knowledge_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
)

// The knowledge base's contract, run on SQLite and on PostgreSQL.

var clinicFS = fstest.MapFS{
	"billing.md": {Data: []byte(`---
title: Billing and Costs
updated: 2026-01-12
tags: [billing, prices]
---
# Billing and Costs

## How much is a flu shot?

A standard flu shot costs $35 for self-pay patients. With most insurance it costs nothing.

## What does a chest X-ray cost?

A two-view chest X-ray costs $95, including the radiologist's reading.

## How do I pay my bill?

Pay online in the patient portal, by phone at (555) 014-2040, or at the front desk.
`)},
	"parking.html": {Data: []byte(`<html><body><main><h1>Visiting</h1>
<h2>Where do I park?</h2><p>Parking in the Orchard Lane garage is free for 2 hours with validation.</p>
<h2>Is the clinic wheelchair accessible?</h2><p>Yes. Both entrances are step-free and have automatic doors.</p>
</main></body></html>`)},
	"refills.txt": {Data: []byte(`Q: How long does a prescription refill take?
A: Allow 72 hours (3 business days) for refill requests.

Q: What is the refill line?
A: Call the refill line at (555) 014-2200.
`)},
}

func newBase(t *testing.T, db *store.DB, e knowledge.Embedder) *knowledge.Base {
	t.Helper()
	return knowledge.New(db, knowledge.Options{Embedder: e})
}

func syncFS(t *testing.T, kb *knowledge.Base, fsys fstest.MapFS) knowledge.SyncReport {
	t.Helper()
	rep, err := kb.Sync(context.Background(), knowledge.Source{Name: "test", FS: fsys}, knowledge.SyncOptions{})
	require.NoError(t, err)
	return rep
}

func search(t *testing.T, kb *knowledge.Base, q string) knowledge.Response {
	t.Helper()
	r, err := kb.SearchDB(context.Background(), q, knowledge.SearchOptions{})
	require.NoError(t, err)
	return r
}

func clone(m fstest.MapFS) fstest.MapFS {
	out := fstest.MapFS{}
	for k, v := range m {
		c := *v
		out[k] = &c
	}
	return out
}

// countingEmbedder counts the texts it embeds.
type countingEmbedder struct {
	knowledge.Embedder
	texts atomic.Int64
	model string
	fail  atomic.Bool
}

func (c *countingEmbedder) Model() string {
	if c.model != "" {
		return c.model
	}
	return c.Embedder.Model()
}

func (c *countingEmbedder) Embed(ctx context.Context, req knowledge.EmbedRequest) ([][]float32, error) {
	if c.fail.Load() && req.Purpose == knowledge.ForDocument {
		return nil, errors.New("embedding service down")
	}
	c.texts.Add(int64(len(req.Texts)))
	return c.Embedder.Embed(ctx, req)
}

func TestSyncAndSearchConformance(t *testing.T) {
	t.Parallel()
	tests := map[string]func(t *testing.T, db *store.DB){
		"AddChangeRemove":            testAddChangeRemove,
		"UnchangedResyncEmbedsNone":  testUnchangedResync,
		"BrokenFilesAreSkipped":      testBrokenFiles,
		"ModelSwitchReembeds":        testModelSwitch,
		"FailedSyncChangesNothing":   testFailedSyncAtomic,
		"ConcurrentSyncsSerialize":   testConcurrentSyncs,
		"SearchRanksAndExplains":     testSearchRanks,
		"ConfidenceSeparates":        testConfidence,
		"EmptyIndexFindsNothing":     testEmptyIndex,
		"FullTextAndVectorModes":     testModes,
		"TermStatisticsStayInSync":   testTermStats,
		"SearchInsideATransaction":   testSearchInTx,
		"ClinicFixtureRetrievesWell": testClinicFixture,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, fn)
		})
	}
}

func testAddChangeRemove(t *testing.T, db *store.DB) {
	kb := newBase(t, db, nil)
	rep := syncFS(t, kb, clinicFS)
	require.ElementsMatch(t, []string{"billing.md", "parking.html", "refills.txt"}, rep.Added)
	require.Equal(t, 7, rep.Chunks)
	require.True(t, rep.Wrote())

	fsys := clone(clinicFS)
	fsys["billing.md"].Data = []byte(strings.Replace(string(fsys["billing.md"].Data), "$35", "$40", 1))
	delete(fsys, "parking.html")
	fsys["sub/hours.md"] = &fstest.MapFile{Data: []byte("## When are you open?\n\nMonday to Friday, 8:00 a.m. to 5:00 p.m.")}
	rep = syncFS(t, kb, fsys)
	require.Equal(t, []string{"sub/hours.md"}, rep.Added)
	require.Equal(t, []string{"billing.md"}, rep.Changed)
	require.Equal(t, []string{"parking.html"}, rep.Removed)
	require.Equal(t, []string{"refills.txt"}, rep.Unchanged)

	docs, err := kb.Documents(context.Background(), db.Q())
	require.NoError(t, err)
	require.Len(t, docs, 3)
	byPath := map[string]knowledge.DocumentInfo{}
	for _, d := range docs {
		byPath[d.Path] = d
	}
	require.Equal(t, 2, byPath["billing.md"].Version)
	require.Equal(t, "2026-01-12", byPath["billing.md"].Updated)
	require.Equal(t, 1, byPath["refills.txt"].Version)
	require.Equal(t, 3, byPath["billing.md"].Chunks)

	r := search(t, kb, "how much is a flu shot")
	require.Contains(t, r.Results[0].Text, "$40")
	for _, res := range search(t, kb, "where do I park my car").Results {
		require.NotEqual(t, "parking.html", res.Document, "removed documents are gone")
	}
	require.Equal(t, "sub/hours.md", search(t, kb, "when are you open").Results[0].Document)
}

func testUnchangedResync(t *testing.T, db *store.DB) {
	e := &countingEmbedder{Embedder: knowledge.NewOffline(nil)}
	kb := newBase(t, db, e)
	syncFS(t, kb, clinicFS)
	require.Equal(t, int64(7), e.texts.Load())
	st1, err := kb.State(context.Background(), db.Q())
	require.NoError(t, err)
	rep := syncFS(t, kb, clinicFS)
	require.Equal(t, int64(7), e.texts.Load(), "an unchanged folder embeds nothing")
	require.False(t, rep.Wrote())
	require.Len(t, rep.Unchanged, 3)
	st2, err := kb.State(context.Background(), db.Q())
	require.NoError(t, err)
	require.Equal(t, st1.Generation, st2.Generation, "nothing was written")
}

func testBrokenFiles(t *testing.T, db *store.DB) {
	kb := newBase(t, db, nil)
	fsys := clone(clinicFS)
	syncFS(t, kb, fsys)
	pdf, err := os.ReadFile("testdata/broken.pdf")
	require.NoError(t, err)
	fsys["broken.pdf"] = &fstest.MapFile{Data: pdf}
	fsys["empty.md"] = &fstest.MapFile{Data: nil}
	fsys["refills.txt"] = &fstest.MapFile{Data: []byte{0xff, 0xfe, 0xfd, 'Q', ':'}} // was fine, now garbled
	fsys["notes.png"] = &fstest.MapFile{Data: []byte("\x89PNG")}                    // not a document: ignored
	fsys[".hidden.md"] = &fstest.MapFile{Data: []byte("## Secret?\n\nHidden.")}
	rep := syncFS(t, kb, fsys)
	var failed []string
	for _, f := range rep.Failed {
		failed = append(failed, f.Path)
		require.Contains(t, f.Err.Error(), f.Path)
	}
	require.ElementsMatch(t, []string{"broken.pdf", "empty.md", "refills.txt"}, failed)
	require.Empty(t, rep.Removed, "a file that broke keeps its last good version")
	r := search(t, kb, "how long does a refill take")
	require.Equal(t, "refills.txt", r.Results[0].Document)
	require.Contains(t, r.Results[0].Text, "72 hours")
	for _, res := range search(t, kb, "secret hidden").Results {
		require.NotEqual(t, ".hidden.md", res.Document)
	}
}

func testModelSwitch(t *testing.T, db *store.DB) {
	a := &countingEmbedder{Embedder: knowledge.NewOffline(nil), model: "model-a"}
	syncFS(t, newBase(t, db, a), clinicFS)
	b := &countingEmbedder{Embedder: knowledge.NewOffline(nil), model: "model-b"}
	kbB := newBase(t, db, b)
	rep := syncFS(t, kbB, clinicFS)
	require.Equal(t, int64(7), b.texts.Load(), "a new model embeds every passage again")
	require.Len(t, rep.Changed, 3)
	docs, err := kbB.Documents(context.Background(), db.Q())
	require.NoError(t, err)
	for _, d := range docs {
		require.Equal(t, "model-b", d.Model)
		require.Equal(t, 1, d.Version, "the content did not change")
	}
	r := search(t, kbB, "flu shot price")
	require.Equal(t, "How much is a flu shot?", r.Results[0].Heading)
	require.Equal(t, 1, r.Results[0].Signals.VectorRank)
	if db.Dialect() == store.Postgres {
		var n int
		require.NoError(t, db.Q().QueryRow(context.Background(),
			`SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'kb_chunks' AND indexname LIKE 'kb_chunks_hnsw_%'`).Scan(&n))
		require.Equal(t, 1, n, "the new model's index replaces the old one")
	}
}

func testFailedSyncAtomic(t *testing.T, db *store.DB) {
	e := &countingEmbedder{Embedder: knowledge.NewOffline(nil)}
	kb := newBase(t, db, e)
	syncFS(t, kb, clinicFS)
	fsys := clone(clinicFS)
	fsys["billing.md"].Data = []byte("## How much is a flu shot?\n\n$99 now.")
	e.fail.Store(true)
	_, err := kb.Sync(context.Background(), knowledge.Source{Name: "test", FS: fsys}, knowledge.SyncOptions{})
	require.ErrorContains(t, err, "embedding service down")
	require.Contains(t, search(t, kb, "how much is a flu shot").Results[0].Text, "$35", "the old version is intact")
}

func testConcurrentSyncs(t *testing.T, db *store.DB) {
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := newBase(t, db, nil).Sync(context.Background(), knowledge.Source{Name: "test", FS: clinicFS}, knowledge.SyncOptions{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	docs, err := newBase(t, db, nil).Documents(context.Background(), db.Q())
	require.NoError(t, err)
	require.Len(t, docs, 3)
	assertStatsConsistent(t, db)
}

func testSearchRanks(t *testing.T, db *store.DB) {
	kb := newBase(t, db, nil)
	syncFS(t, kb, clinicFS)
	cases := map[string]string{
		"what does an xray of my chest cost":   "What does a chest X-ray cost?",
		"price of a flu vaccine":               "How much is a flu shot?",
		"is parking free":                      "Where do I park?",
		"whats the phone number for refills":   "What is the refill line?",
		"can i come in a wheelchair":           "Is the clinic wheelchair accessible?",
		"how long until my refill is ready":    "How long does a prescription refill take?",
		"how can I pay the bill I got by mail": "How do I pay my bill?",
	}
	for q, want := range cases {
		r := search(t, kb, q)
		require.NotEmpty(t, r.Results, q)
		top := r.Results[0]
		require.Equal(t, want, top.Heading, q)
		require.NotEmpty(t, top.Document)
		require.NotEmpty(t, top.Title)
		require.Equal(t, top.Heading, top.Section)
		require.Greater(t, top.Score, 0.0)
		require.Greater(t, top.Signals.Coverage, 0.0, q)
		for i := 1; i < len(r.Results); i++ {
			require.GreaterOrEqual(t, r.Results[i-1].Score, r.Results[i].Score)
		}
	}
	r := search(t, kb, "how much is a flu shot")
	require.Equal(t, "Billing and Costs", r.Results[0].Title)
	require.Equal(t, "2026-01-12", r.Results[0].Updated)
	require.Equal(t, "billing.md", r.Results[0].Document)
	require.Equal(t, 1, r.Results[0].Signals.TextRank)
	require.Equal(t, 1, r.Results[0].Signals.VectorRank)
}

func testConfidence(t *testing.T, db *store.DB) {
	kb := newBase(t, db, nil)
	syncFS(t, kb, clinicFS)
	good := search(t, kb, "how much is a flu shot")
	for _, q := range []string{"how much is a vasectomy", "what is the weather tomorrow", "do you do acupuncture"} {
		bad := search(t, kb, q)
		require.Less(t, bad.Confidence, good.Confidence/2, q)
		require.NotEmpty(t, bad.Results[0].Signals.Missing, q)
	}
	require.Greater(t, good.Confidence, 0.5)
}

func testEmptyIndex(t *testing.T, db *store.DB) {
	kb := newBase(t, db, nil)
	r := search(t, kb, "how much is a flu shot")
	require.Empty(t, r.Results)
	require.Zero(t, r.Confidence)
	syncFS(t, kb, clinicFS)
	r = search(t, kb, "the of and")
	require.Zero(t, r.Confidence, "a question of stop words matches nothing for certain")
}

func testModes(t *testing.T, db *store.DB) {
	kb := newBase(t, db, nil)
	syncFS(t, kb, clinicFS)
	for _, mode := range []knowledge.Mode{knowledge.ModeFullText, knowledge.ModeVector, knowledge.ModeHybrid} {
		r, err := kb.SearchDB(context.Background(), "flu shot price", knowledge.SearchOptions{Mode: mode})
		require.NoError(t, err)
		require.Equal(t, "How much is a flu shot?", r.Results[0].Heading, mode)
		switch mode {
		case knowledge.ModeFullText:
			require.Zero(t, r.Results[0].Signals.VectorRank)
		case knowledge.ModeVector:
			require.Zero(t, r.Results[0].Signals.TextRank)
		}
	}
	// Full-text search cannot see a misspelling; the vectors can.
	r, err := kb.SearchDB(context.Background(), "perscriptoin refil", knowledge.SearchOptions{Mode: knowledge.ModeVector})
	require.NoError(t, err)
	require.Equal(t, "refills.txt", r.Results[0].Document)
}

func testTermStats(t *testing.T, db *store.DB) {
	kb := newBase(t, db, nil)
	syncFS(t, kb, clinicFS)
	fsys := clone(clinicFS)
	delete(fsys, "refills.txt")
	fsys["billing.md"].Data = []byte("## New question?\n\nNew answer about copays.")
	syncFS(t, kb, fsys)
	assertStatsConsistent(t, db)
	syncFS(t, kb, fstest.MapFS{})
	assertStatsConsistent(t, db)
	st, err := kb.State(context.Background(), db.Q())
	require.NoError(t, err)
	require.Zero(t, st.Chunks)
}

// assertStatsConsistent recomputes the statistics from the passages.
func assertStatsConsistent(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Q().Query(ctx, `SELECT head_terms, ctx_terms, body_terms, n_terms FROM kb_chunks`)
	require.NoError(t, err)
	want := map[string]int{}
	chunks, terms := 0, 0
	for rows.Next() {
		var h, c, b string
		var n int
		require.NoError(t, rows.Scan(&h, &c, &b, &n))
		seen := map[string]bool{}
		for _, f := range strings.Fields(h + " " + c + " " + b) {
			if !seen[f] {
				seen[f] = true
				want[f]++
			}
		}
		chunks++
		terms += n
	}
	rows.Close()
	got := map[string]int{}
	rows, err = db.Q().Query(ctx, `SELECT term, df FROM kb_terms`)
	require.NoError(t, err)
	for rows.Next() {
		var term string
		var df int
		require.NoError(t, rows.Scan(&term, &df))
		got[term] = df
	}
	rows.Close()
	require.Equal(t, want, got)
	var stChunks, stTerms int
	require.NoError(t, db.Q().QueryRow(ctx, `SELECT chunks, total_terms FROM kb_state`).Scan(&stChunks, &stTerms))
	require.Equal(t, chunks, stChunks)
	require.Equal(t, terms, stTerms)
}

func testSearchInTx(t *testing.T, db *store.DB) {
	kb := newBase(t, db, nil)
	syncFS(t, kb, clinicFS)
	require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
		r, err := kb.Search(context.Background(), tx.Q, "refill phone number", knowledge.SearchOptions{})
		require.NoError(t, err)
		require.Equal(t, "What is the refill line?", r.Results[0].Heading)
		return err
	}))
}

// testClinicFixture checks retrieval on the shared evaluation knowledge
// base when it is present (the evals package measures it fully).
func testClinicFixture(t *testing.T, db *store.DB) {
	dir := sharedKB(t)
	kb := newBase(t, db, nil)
	rep, err := kb.Sync(context.Background(), knowledge.Source{Name: dir, FS: os.DirFS(dir)}, knowledge.SyncOptions{})
	require.NoError(t, err)
	require.Len(t, rep.Added, 12)
	require.Empty(t, rep.Failed)
	for q, doc := range map[string]string{
		"what should i wear to my mamogram":      "mammogram-prep.html",
		"self pay colonscopy cost??":             "billing-and-costs.md",
		"do you guys take cigna":                 "insurance-coverage.md",
		"how long does it take to get a refill?": "prescriptions-and-refills.txt",
	} {
		require.Equal(t, doc, search(t, kb, q).Results[0].Document, q)
	}
}

func sharedKB(t *testing.T) string {
	t.Helper()
	// The Riverside fixture's documents, copied into the repository so a
	// fresh clone has them (evals/kb/README.md).
	return "../evals/kb/riverside"
}
