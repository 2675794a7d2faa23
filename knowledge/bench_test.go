package knowledge_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
)

// Benchmarks (numbers in docs/knowledge.md):
//
//	go test ./knowledge -run XXX -bench . -benchtime 1x
//	TEND_BENCH_100K=1 go test ./knowledge -run XXX -bench Postgres100k -benchtime 1x -timeout 60m

var benchWords = strings.Fields(`appointment billing copay deductible insurance referral pharmacy refill
prescription lab result portal parking interpreter vaccine flu shingles pneumonia tetanus mammogram colonoscopy
xray ultrasound mri scan contrast fasting blood pressure cholesterol diabetes thyroid telehealth video visit
weekend holiday cancel reschedule estimate payment plan assistance discount records form note school work
medicare medicaid coverage network specialist physical checkup clinic office hours morning evening phone`)

// syllables make a vocabulary of made-up words (stable under stemming).
var syllables = strings.Fields("ba ko mi tu ne sa lo ri da ve po ga zu fe hi")

// writeCorpus writes n Markdown FAQ documents of about 8 entries each. As
// in real text, a few words are everywhere and most are rare (a Zipf
// distribution over the clinic words and about 3,000 made-up ones), and
// each document keeps to a topic: about half its words come from its
// topic's own 25 words. (Uniformly random text has no neighbourhoods for a
// vector index to find; real documents do.)
func writeCorpus(tb testing.TB, dir string, n int, seed int64) {
	tb.Helper()
	r := rand.New(rand.NewSource(seed))
	vocab := append([]string(nil), benchWords...)
	for i := 0; len(vocab) < 3000; i++ {
		w := syllables[i%15] + syllables[(i/15)%15] + syllables[(i/225)%15] + "n"
		vocab = append(vocab, w)
	}
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	const topics, perTopic = 400, 25
	topicWords := make([][]string, topics)
	for i := range topicWords {
		for j := 0; j < perTopic; j++ {
			topicWords[i] = append(topicWords[i], vocab[len(benchWords)+r.Intn(len(vocab)-len(benchWords))])
		}
	}
	topic := 0
	word := func() string {
		if r.Intn(2) == 0 {
			return topicWords[topic][r.Intn(perTopic)]
		}
		return vocab[zipf.Uint64()]
	}
	for d := 0; d < n; d++ {
		topic = r.Intn(topics)
		var b strings.Builder
		fmt.Fprintf(&b, "---\ntitle: Topic %d %s\nupdated: 2026-01-%02d\n---\n# Topic %d\n\n", d, word(), 1+d%28, d)
		for e := 0; e < 8; e++ {
			fmt.Fprintf(&b, "## How does %s work for %s %d-%d?\n\n", word(), word(), d, e)
			for s := 0; s < 5; s++ {
				fmt.Fprintf(&b, "The %s %s is $%d for %s patients at the %s desk. ", word(), word(), 10+r.Intn(900), word(), word())
			}
			b.WriteString("\n\n")
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("doc-%05d.md", d)), []byte(b.String()), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkIngestMarkdown syncs 300 new documents into an empty store,
// on SQLite and on PostgreSQL (where the HNSW index is built at the end).
func BenchmarkIngestMarkdown(b *testing.B) {
	dir := b.TempDir()
	const docs = 300
	writeCorpus(b, dir, docs, 1)
	stores := map[string]func(b *testing.B, i int) *store.DB{
		"sqlite": func(b *testing.B, i int) *store.DB {
			return storetest.OpenSQLiteAt(b, filepath.Join(b.TempDir(), fmt.Sprintf("t%d.db", i)))
		},
		"postgres": func(b *testing.B, _ int) *store.DB { return storetest.OpenPostgres(b) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var total time.Duration
			for i := 0; b.Loop(); i++ {
				kb := knowledge.New(stores[name](b, i), knowledge.Options{})
				start := time.Now()
				rep, err := kb.Sync(context.Background(), knowledge.Source{Name: "bench", FS: os.DirFS(dir)}, knowledge.SyncOptions{})
				total += time.Since(start)
				if err != nil || len(rep.Added) != docs {
					b.Fatalf("sync: %v (%d added)", err, len(rep.Added))
				}
			}
			b.ReportMetric(float64(docs*b.N)/total.Seconds(), "docs/s")
		})
	}
}

func BenchmarkResyncUnchanged1000(b *testing.B) {
	dir := b.TempDir()
	writeCorpus(b, dir, 1000, 2)
	db := storetest.OpenSQLite(b)
	kb := knowledge.New(db, knowledge.Options{})
	src := knowledge.Source{Name: "bench", FS: os.DirFS(dir)}
	if _, err := kb.Sync(context.Background(), src, knowledge.SyncOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rep, err := kb.Sync(context.Background(), src, knowledge.SyncOptions{})
		if err != nil || len(rep.Unchanged) != 1000 || rep.Embedded != 0 {
			b.Fatalf("resync: %v %+v", err, rep)
		}
	}
}

// BenchmarkSearchSQLite measures one hybrid search as the SQLite corpus
// grows; the Go-side vector scan is the part that grows with it.
func BenchmarkSearchSQLite(b *testing.B) {
	for _, docs := range []int{125, 1250, 6250} { // about 1k, 10k and 50k passages
		b.Run(fmt.Sprintf("chunks=%d", docs*8), func(b *testing.B) {
			dir := b.TempDir()
			writeCorpus(b, dir, docs, 3)
			db := storetest.OpenSQLite(b)
			kb := knowledge.New(db, knowledge.Options{})
			if _, err := kb.Sync(context.Background(), knowledge.Source{Name: "bench", FS: os.DirFS(dir)}, knowledge.SyncOptions{}); err != nil {
				b.Fatal(err)
			}
			benchSearch(b, kb)
		})
	}
}

var benchQueries = []string{"how much is a flu shot", "do you take medicare", "where do i park", "fasting before blood test",
	"refill my blood pressure prescription", "cost of an xray without insurance", "cancel my appointment fee",
	"interpreter for my visit", "payment plan for my bill", "ultrasound preparation", "when is the lab open",
	"copay for a specialist referral", "can i get a note for school", "shingles vaccine price", "portal password reset",
	"weekend pharmacy hours", "records transfer form", "telehealth video visit", "colonoscopy sedation ride home",
	"mammogram results"}

func benchSearch(b *testing.B, kb *knowledge.Base) {
	var lat []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		if _, err := kb.SearchDB(context.Background(), benchQueries[i%len(benchQueries)], knowledge.SearchOptions{}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkHybridSearchPostgres100k builds a 100,000-passage index on
// PostgreSQL (opt-in: it takes minutes) and reports search latency and the
// HNSW index's recall@10 against an exact scan.
func BenchmarkHybridSearchPostgres100k(b *testing.B) {
	if os.Getenv("TEND_BENCH_100K") == "" {
		b.Skip("set TEND_BENCH_100K=1 to build the 100,000-passage index")
	}
	var db *store.DB
	if schema := os.Getenv("TEND_BENCH_SCHEMA"); schema != "" {
		db = storetest.OpenPostgresSchema(b, schema) // kept between runs: building takes minutes
	} else {
		db = storetest.OpenPostgres(b)
	}
	ef := knowledge.DefaultEfSearch
	if v, err := strconv.Atoi(os.Getenv("TEND_BENCH_EF")); err == nil {
		ef = v
	}
	kb := knowledge.New(db, knowledge.Options{EfSearch: ef})
	dir := b.TempDir()
	writeCorpus(b, dir, 12500, 4) // 8 passages each
	{                             // unchanged when the schema was kept from an earlier run: quick
		start := time.Now()
		rep, err := kb.Sync(context.Background(), knowledge.Source{Name: "bench", FS: os.DirFS(dir)}, knowledge.SyncOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("synced %d passages in %s (%.0f documents/s)", rep.Chunks, time.Since(start).Round(time.Second),
			12500/time.Since(start).Seconds())
	}
	recall, strict, full := hnswRecall(b, db, kb, ef)
	b.ResetTimer()
	benchSearch(b, kb)
	b.ReportMetric(recall, "recall@10")
	b.ReportMetric(strict, "recall@10-ids")
	b.ReportMetric(full, "recall@10-fullprec")
}

// hnswRecall compares the HNSW index's top 10 with exact scans. index is
// recall@10 as ann-benchmarks counts it: a returned passage is correct when
// it is no farther than the exact 10th nearest of the same half-precision
// vectors the index holds (short questions leave many passages at exactly
// the same distance; which of them an exact scan lists is arbitrary). strict
// counts only the exact scan's own ten ids, and full compares with the
// full-precision vectors (adding the rounding's loss).
func hnswRecall(b *testing.B, db *store.DB, kb *knowledge.Base, ef int) (index, strict, full float64) {
	ctx := context.Background()
	var found, foundStrict, foundFull, total int
	model := kb.Embedder().Model()
	probe, err := kb.Embedder().Embed(ctx, knowledge.EmbedRequest{Texts: []string{"dimensions"}, Purpose: knowledge.ForQuery, Lang: "en"})
	if err != nil {
		b.Fatal(err)
	}
	dims := len(probe[0])
	half := fmt.Sprintf("embedding::halfvec(%[1]d) <=> ($1::vector(%[1]d))::halfvec(%[1]d)", dims)
	exact := fmt.Sprintf("embedding::vector(%d) <=> $1", dims)
	type hit struct {
		id   int64
		dist float64
	}
	for _, q := range benchQueries {
		vecs, err := kb.Embedder().Embed(ctx, knowledge.EmbedRequest{Texts: []string{q}, Purpose: knowledge.ForQuery, Lang: "en"})
		if err != nil {
			b.Fatal(err)
		}
		top := func(order string, scan bool) []hit {
			var hits []hit
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if scan {
					if _, err := tx.Exec(ctx, "SET LOCAL enable_indexscan = off"); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL hnsw.ef_search = %d", ef)); err != nil {
					return err
				}
				rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT id, %[2]s FROM kb_chunks WHERE model = '%[1]s' ORDER BY %[2]s LIMIT 10`,
					model, order), knowledge.VectorArg(db.Dialect(), vecs[0]))
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var h hit
					if err := rows.Scan(&h.id, &h.dist); err != nil {
						return err
					}
					hits = append(hits, h)
				}
				return rows.Err()
			})
			if err != nil {
				b.Fatal(err)
			}
			return hits
		}
		approx, exactHalf, exactFull := top(half, false), top(half, true), top(exact, true)
		if len(exactHalf) == 0 {
			continue
		}
		total += len(exactHalf)
		ids := map[int64]bool{}
		for _, h := range approx {
			ids[h.id] = true
			if h.dist <= exactHalf[len(exactHalf)-1].dist+1e-9 {
				found++
			}
		}
		for _, h := range exactHalf {
			if ids[h.id] {
				foundStrict++
			}
		}
		for _, h := range exactFull {
			if ids[h.id] {
				foundFull++
			}
		}
	}
	n := float64(total)
	return float64(found) / n, float64(foundStrict) / n, float64(foundFull) / n
}
