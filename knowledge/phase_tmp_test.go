package knowledge

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func TestPhasesTmp(t *testing.T) {
	if os.Getenv("TEND_BENCH_SCHEMA") == "" {
		t.Skip()
	}
	db := storetest.OpenPostgresSchema(t, os.Getenv("TEND_BENCH_SCHEMA"))
	b := New(db, Options{})
	ctx := context.Background()
	qs := []string{"how much is a flu shot", "do you take medicare", "where do i park", "fasting before blood test",
		"refill my blood pressure prescription", "cost of an xray without insurance", "cancel my appointment fee",
		"interpreter for my visit", "payment plan for my bill", "ultrasound preparation"}
	var d [6]time.Duration
	n := 0
	for round := 0; round < 20; round++ {
		for _, query := range qs {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				q := tx.Q
				t0 := time.Now()
				st, err := b.State(ctx, q)
				if err != nil {
					return err
				}
				t1 := time.Now()
				qt, err := b.queryTerms(ctx, q, query, "", "en", st)
				if err != nil {
					return err
				}
				t2 := time.Now()
				ids, err := b.textCandidates(ctx, q, qt)
				if err != nil {
					return err
				}
				t3 := time.Now()
				vecs, _ := b.embedder.Embed(ctx, EmbedRequest{Texts: []string{query}, Lang: "en", Purpose: ForQuery})
				t4 := time.Now()
				near, err := b.vectorCandidates(ctx, q, vecs[0], st)
				if err != nil {
					return err
				}
				t5 := time.Now()
				cands := map[int64]*Result{}
				for _, id := range ids {
					cands[id] = &Result{ChunkID: id}
				}
				for _, s := range near {
					cands[s.id] = &Result{ChunkID: s.id, vecFound: true}
				}
				if err := b.loadCandidates(ctx, q, cands, vecs[0], st); err != nil {
					return err
				}
				t6 := time.Now()
				d[0] += t1.Sub(t0)
				d[1] += t2.Sub(t1)
				d[2] += t3.Sub(t2)
				d[3] += t4.Sub(t3)
				d[4] += t5.Sub(t4)
				d[5] += t6.Sub(t5)
				n++
				if round == 0 {
					t.Logf("%q text=%d vec=%d", query, len(ids), len(near))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, name := range []string{"state", "terms", "text", "embed", "vector", "load"} {
		t.Logf("%s: %.2f ms", name, float64(d[i].Microseconds())/1000/float64(n))
	}
}
