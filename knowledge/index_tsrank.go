package knowledge

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/tend-health/tend/internal/store"
)

// PostgreSQL's ts_rank() in memory: the full-text query on PostgreSQL is
//
//	ORDER BY ts_rank('{0.05, 0.2, 0.5, 1.0}', tsv, to_tsquery('simple', 'a | b'), 1) DESC, id
//
// over tsv = setweight(head, 'A') || setweight(body, 'B') || setweight(ctx, 'C').
// calc_rank_or (src/backend/utils/adt/tsrank.c) sums, for each distinct
// query term in byte order, a term's occurrences weighted by their
// column and damped by 1/j² in position order (the heading's first, then
// the body's, then the context's), divides by the number of distinct
// terms, then by log2(tokens+1) (normalization 1). The arithmetic is
// float4 with two steps in double, reproduced step for step so that the
// float4 ranks, and with them ties broken by id, are the database's.

// tsWeights are the query's weight array as float4, indexed as tsrank.c
// indexes it: D, C, B, A. Our columns are A (head), B (body), C (ctx).
var tsWeights = [3]float32{1.0, 0.5, 0.2}

// Limits under which to_tsvector and || keep every position: a lexeme
// keeps at most 256 positions (MAXNUMPOS), positions stop at 16383
// (MAXENTRYPOS), lexemes are at most 2047 bytes (MAXSTRLEN). A passage
// beyond them is ranked by the database.
const (
	tsMaxPositions = 255
	tsMaxTokens    = 16383
	tsMaxTermBytes = 2047
)

// asTSRank makes f rank as ts_rank() does; nil when a passage is beyond
// the limits above. The length normalization uses the C library's log(),
// which Go's math.Log differs from in the last bit for about 1% of
// integers, so the values come from the database's ln() (the same libm
// function), one statement per index generation.
func (f *memFTS) asTSRank(ctx context.Context, q store.Q) (*memFTS, error) {
	for t, ps := range f.postings {
		if len(t) > tsMaxTermBytes {
			return nil, nil
		}
		for _, p := range ps {
			if p.tf[0]+p.tf[1]+p.tf[2] > tsMaxPositions {
				return nil, nil
			}
		}
	}
	var sizes []int64
	seen := map[int]bool{}
	for _, n := range f.size {
		if n >= tsMaxTokens {
			return nil, nil
		}
		if !seen[n] {
			seen[n] = true
			sizes = append(sizes, int64(n))
		}
	}
	rows, err := q.Query(ctx, `SELECT n, ln((n + 1)::float8) FROM unnest($1::bigint[]) AS n`, sizes)
	if err != nil {
		return nil, fmt.Errorf("knowledge: load the index: %w", err)
	}
	defer rows.Close()
	ln := make(map[int]float64, len(sizes))
	for rows.Next() {
		var n int64
		var v float64
		if err := rows.Scan(&n, &v); err != nil {
			return nil, fmt.Errorf("knowledge: load the index: %w", err)
		}
		ln[int(n)] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("knowledge: load the index: %w", err)
	}
	f.log2Len = make([]float64, len(f.size))
	for i, n := range f.size {
		// log(2.0) is folded by the compiler, correctly rounded: math.Ln2.
		f.log2Len[i] = ln[n] / math.Ln2
	}
	return f, nil
}

// tsRankCandidates are the passages holding any of terms, best first by
// ts_rank() as the PostgreSQL query computes it, then by id, up to limit.
func (f *memFTS) tsRankCandidates(terms []string, limit int) []int64 {
	hits := f.tsRanks(terms)
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].rank != hits[j].rank {
			return hits[i].rank > hits[j].rank
		}
		return hits[i].doc < hits[j].doc // ids are in order
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]int64, len(hits))
	for i, h := range hits {
		out[i] = f.ids[h.doc]
	}
	return out
}

// tsHit is a matching passage (its index in ids) and its ts_rank().
type tsHit struct {
	doc  int
	rank float32
}

// tsRanks are the passages holding any of terms with their ts_rank(), in
// no order.
func (f *memFTS) tsRanks(terms []string) []tsHit {
	// to_tsquery's operands, sorted and made unique (SortAndUniqItems):
	// a repeated term counts once, and the sum runs in byte order.
	items := slices.Compact(slices.Sorted(slices.Values(terms)))
	rank := map[int]float32{} // passage -> calc_rank_or's running sum
	for _, t := range items {
		for _, p := range f.postings[t] {
			rank[p.doc] = float32(float64(rank[p.doc]) + float64(tsTermRank(p.tf))/1.64493406685)
		}
	}
	hits := make([]tsHit, 0, len(rank))
	size := float32(len(items))
	for doc, r := range rank {
		r /= size
		r = float32(float64(r) / f.log2Len[doc])
		hits = append(hits, tsHit{doc, r})
	}
	return hits
}

// tsTermRank is one term's share in one passage before calc_rank_or's
// division by π²/6: wjm + resj - wjm/(jm+1)², all in float4, where resj
// sums each position's weight over (j+1)² and wjm is the first largest.
func tsTermRank(tf [3]int32) float32 {
	var resj float32
	wjm, jm := float32(-1), 0
	j := 0
	for col := range 3 {
		w := tsWeights[col]
		for range tf[col] {
			resj += w / float32((j+1)*(j+1))
			if w > wjm {
				wjm, jm = w, j
			}
			j++
		}
	}
	return wjm + resj - wjm/float32((jm+1)*(jm+1))
}
