package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pgvector/pgvector-go"

	"github.com/tend-health/tend/internal/store"
)

// Vectors live in the store in one column for every model:
//
//   - PostgreSQL: an untyped pgvector column. HNSW needs a fixed dimension,
//     so each model gets its own expression index on embedding::vector(N),
//     partial on model = '<model>'; queries repeat the same expression and
//     predicate so the planner uses it. Switching models creates the new
//     index at the next sync and the old rows are re-embedded.
//   - SQLite: little-endian float32 blobs, scanned in Go from an in-memory
//     copy that is reloaded when the index's generation changes.

// vectorArg is a vector as the store's driver takes it.
func vectorArg(d store.Dialect, v []float32) any {
	if d == store.Postgres {
		return pgvector.NewVector(v)
	}
	return encodeVector(v)
}

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, errors.New("knowledge: corrupt vector")
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// modelLiteral quotes a model name as an SQL string literal. Model names
// come from configuration, not from patients; quoting still doubles quotes.
func modelLiteral(model string) string {
	return "'" + strings.ReplaceAll(model, "'", "''") + "'"
}

// hnswIndexName is the per-model index name (a hash: model names may hold
// any character). The build parameters are part of it, so that a change of
// parameters replaces an old index at the next sync that embeds anything.
func hnswIndexName(model string, dims int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/halfvec/%s", model, dims, hnswParams)))
	return "kb_chunks_hnsw_" + hex.EncodeToString(sum[:6])
}

// maxHNSWDims is the largest dimension pgvector's HNSW indexes for halfvec.
const maxHNSWDims = 4000

// vectorExpr is the indexed expression for a model's vectors: half
// precision halves the index (a 100,000-passage index stays in memory) and
// allows up to 4,000 dimensions; cosine ranking barely changes.
func vectorExpr(column string, dims int) string {
	return fmt.Sprintf("(%s::halfvec(%d))", column, dims)
}

// hnswParams are the HNSW build parameters, well above pgvector's defaults
// (m = 16, ef_construction = 64, which gave recall@10 0.76): the offline
// embedder's sparse hashed vectors give the graph less structure to follow
// than a neural model's. Measured on 100,000 passages with ef_search 150:
// ef_construction 128 gave recall@10 0.95, 200 gives 0.97 at the same
// search latency (m = 16 with ef_construction 256 needed ef_search 300).
// docs/knowledge.md, "Performance", has the numbers.
const hnswParams = "m = 32, ef_construction = 200"

// ensureHNSW creates the model's HNSW index if it is missing and drops the
// indexes of models (or parameters) no longer in use.
// (A sync re-embeds every passage when the model changes, in the same
// transaction, so an old model's index is of no further use.)
func ensureHNSW(ctx context.Context, q store.Q, model string, dims int) error {
	if q.Dialect() != store.Postgres || dims <= 0 {
		return nil
	}
	name := hnswIndexName(model, dims)
	rows, err := q.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()
		AND tablename = 'kb_chunks' AND indexname LIKE 'kb_chunks_hnsw_%' AND indexname <> $1`, name)
	if err != nil {
		return fmt.Errorf("knowledge: list vector indexes: %w", err)
	}
	var stale []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		stale = append(stale, n)
	}
	rows.Close()
	for _, n := range stale {
		if _, err := q.Exec(ctx, "DROP INDEX IF EXISTS "+n); err != nil {
			return fmt.Errorf("knowledge: drop old vector index: %w", err)
		}
	}
	if dims > maxHNSWDims {
		// Larger models are searched exactly: still correct, slower at scale.
		return nil
	}
	// An HNSW build is much slower than it needs to be once the graph outgrows
	// maintenance_work_mem (64 MB by default); this transaction may use more.
	if _, err := q.Exec(ctx, `SELECT set_config('maintenance_work_mem', '1GB', true)`); err != nil {
		return fmt.Errorf("knowledge: create vector index: %w", err)
	}
	sql := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON kb_chunks USING hnsw (%s halfvec_cosine_ops)
		WITH (%s) WHERE model = %s`, name, vectorExpr("embedding", dims), hnswParams, modelLiteral(model))
	if _, err := q.Exec(ctx, sql); err != nil {
		return fmt.Errorf("knowledge: create vector index: %w", err)
	}
	return nil
}

// vectorCache is every chunk vector of one model at one generation, by id.
type vectorCache struct {
	generation int64
	model      string
	ids        []int64
	vecs       [][]float32
}

// scored is a chunk id with a similarity.
type scored struct {
	id  int64
	sim float64
}

// nearest is an exact top-k by cosine (vectors are unit length, so the dot
// product is the cosine).
func (c *vectorCache) nearest(q []float32, k int) []scored {
	if len(c.ids) == 0 {
		return nil
	}
	top := make([]scored, 0, k+1)
	for i, v := range c.vecs {
		s := float64(dot(q, v))
		if len(top) == k && s <= top[k-1].sim {
			continue
		}
		j := sort.Search(len(top), func(j int) bool { return top[j].sim < s })
		top = append(top, scored{})
		copy(top[j+1:], top[j:])
		top[j] = scored{id: c.ids[i], sim: s}
		if len(top) > k {
			top = top[:k]
		}
	}
	return top
}

func (c *vectorCache) get(id int64) []float32 {
	i := sort.Search(len(c.ids), func(i int) bool { return c.ids[i] >= id })
	if i < len(c.ids) && c.ids[i] == id {
		return c.vecs[i]
	}
	return nil
}

// VectorArg is a vector as the store's driver takes it (benchmarks and
// tools that query kb_chunks directly).
func VectorArg(d store.Dialect, v []float32) any { return vectorArg(d, v) }
