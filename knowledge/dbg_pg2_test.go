package knowledge_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
)

func TestDbgRecall(t *testing.T) {
	if os.Getenv("DBGPG") == "" {
		t.Skip()
	}
	ctx := context.Background()
	db := storetest.OpenPostgresSchema(t, "kbbench100k")
	kb := knowledge.New(db, knowledge.Options{})
	st, _ := kb.State(ctx, db.Q())
	model := st.Model
	qs := append([]string{}, benchQueries...)
	qs = append(qs, "when is the lab open", "parking garage", "interpreter spanish", "copay for specialist", "bakoman tusan rilon")
	for _, ef := range []int{100, 200, 300, 400, 600} {
		found, total := 0, 0
		var worst time.Duration
		for _, q := range qs {
			v, _ := kb.Embedder().Embed(ctx, knowledge.EmbedRequest{Texts: []string{q}, Purpose: knowledge.ForQuery, Lang: "en"})
			top := func(exact bool) (map[int64]bool, time.Duration) {
				ids := map[int64]bool{}
				var el time.Duration
				db.InTx(ctx, func(tx *store.Tx) error {
					if exact {
						tx.Exec(ctx, "SET LOCAL enable_indexscan = off")
					}
					tx.Exec(ctx, fmt.Sprintf("SET LOCAL hnsw.ef_search = %d", ef))
					st := time.Now()
					rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT id FROM kb_chunks WHERE model = '%s' ORDER BY %s LIMIT 10`, model, map[bool]string{false: "embedding::halfvec(512) <=> ($1::vector(512))::halfvec(512)", true: "embedding::vector(512) <=> $1"}[exact]), knowledge.VectorArg(db.Dialect(), v[0]))
					if err != nil {
						t.Fatal(err)
					}
					for rows.Next() {
						var id int64
						rows.Scan(&id)
						ids[id] = true
					}
					rows.Close()
					el = time.Since(st)
					return nil
				})
				return ids, el
			}
			a, el := top(false)
			e, _ := top(true)
			if el > worst {
				worst = el
			}
			for id := range e {
				total++
				if a[id] {
					found++
				}
			}
		}
		fmt.Printf("ef=%d recall=%.3f worst=%s\n", ef, float64(found)/float64(total), worst)
	}
}
