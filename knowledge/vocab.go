package knowledge

import (
	"context"
	"fmt"
	"sort"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/textutil"
)

// The index's vocabulary (every term with its document frequency), kept in
// memory per index generation. Questions look their terms up here instead
// of asking the database, and a misspelled word the index has never seen
// ("apointment", "mamogram") is read as the closest indexed term, so that
// it counts as known, with its real rarity, for ranking and for the
// answer decision alike.

type vocabCache struct {
	generation int64
	df         map[string]int
	byLen      map[int][]string // terms by length in runes, for corrections
}

// vocabulary returns the index's terms at generation gen.
func (b *Base) vocabulary(ctx context.Context, q store.Q, gen int64) (*vocabCache, error) {
	b.vocabMu.Lock()
	if c := b.vocab; c != nil && c.generation == gen {
		b.vocabMu.Unlock()
		return c, nil
	}
	b.vocabMu.Unlock()
	rows, err := q.Query(ctx, `SELECT term, df FROM kb_terms`)
	if err != nil {
		return nil, fmt.Errorf("knowledge: vocabulary: %w", err)
	}
	defer rows.Close()
	c := &vocabCache{generation: gen, df: map[string]int{}, byLen: map[int][]string{}}
	for rows.Next() {
		var t string
		var df int
		if err := rows.Scan(&t, &df); err != nil {
			return nil, err
		}
		c.df[t] = df
		n := len([]rune(t))
		c.byLen[n] = append(c.byLen[n], t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, ts := range c.byLen {
		sort.Strings(ts)
	}
	b.vocabMu.Lock()
	b.vocab = c
	b.vocabMu.Unlock()
	return c, nil
}

// correct finds the indexed term closest to an unknown one: one edit away
// for terms of 4-7 letters, two for longer ones, sharing the first or
// second letter (typos rarely hit both); the most frequent wins a tie. It
// returns false for short words and numbers, and when nothing is close.
func (c *vocabCache) correct(term string) (string, bool) {
	rs := []rune(term)
	n := len(rs)
	if n < 4 || isNumber(term) {
		return "", false
	}
	limit := 1
	if n >= 8 {
		limit = 2
	}
	best, bestD, bestDF := "", limit+1, 0
	for l := n - limit; l <= n+limit; l++ {
		for _, t := range c.byLen[l] {
			tr := []rune(t)
			if tr[0] != rs[0] && (len(tr) < 2 || tr[1] != rs[1]) {
				continue
			}
			if isNumber(t) {
				continue
			}
			d := textutil.EditDistance(term, t, limit)
			if d < bestD || (d == bestD && c.df[t] > bestDF) {
				best, bestD, bestDF = t, d, c.df[t]
			}
		}
	}
	return best, best != ""
}
