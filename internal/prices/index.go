package prices

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/textutil"
)

// Lookups run on an in-memory index of every list's description terms and
// codes, built from the database (the source of truth) once per version of
// the lists and shared by every turn: a list is replaced by a new row of
// price_lists, so the set of list ids is the version, and one small query
// per lookup tells whether it changed, in this process or another. With a
// million charge rows a word lookup then reads the database only for the
// few items it returns (measured in BenchmarkFind1M).

// snapshot is the price lists at one version, with their indexes.
type snapshot struct {
	version string
	ids     []int64
	lists   []List
	byID    map[int64]List
	idx     map[int64]*listIndex
	// words are the normalized words of every description (for typo
	// correction); terms counts the items having each analyzer term, over
	// every list (a question's term no list has is not a description's).
	words map[string]bool
	terms map[string]int
	// payerTerms are the terms of the payers' and plans' names.
	payerTerms map[string]bool
	// meaning is the description words' vectors, built when first needed.
	meaning meaningVocab
}

// listIndex is one list's items by term and by code.
type listIndex struct {
	termID   map[string]int32
	postings [][]int32 // term id -> item positions
	ords     []int32   // item position -> ord
	// The term ids of item position i are terms[at[i]:at[i+1]]: one flat
	// slice, so that the garbage collector has no pointer per item to
	// follow (a hospital's list has hundreds of thousands).
	terms []int32
	at    []int32
	codes map[string][]codeRef
	types []string
	words map[string]bool
}

// codeRef is an item with a code: its ord and the code's type, an index
// into listIndex.types (no pointer per code for the garbage collector).
type codeRef struct {
	ord int32
	typ int32
}

// indexCache holds the current snapshot; build serializes rebuilding.
type indexCache struct {
	mu    sync.Mutex
	snap  *snapshot
	build sync.Mutex
}

// snapshot returns the lists as they are now, rebuilding the indexes of
// lists imported since the last call.
func (c *Catalog) snapshot(ctx context.Context, q store.Q) (*snapshot, error) {
	version, err := listsVersion(ctx, q)
	if err != nil {
		return nil, err
	}
	if s := c.cached(); s != nil && s.version == version {
		return s, nil
	}
	c.cache.build.Lock()
	defer c.cache.build.Unlock()
	old := c.cached()
	if old != nil && old.version == version {
		return old, nil
	}
	lists, err := c.Lists(ctx, q)
	if err != nil {
		return nil, err
	}
	s := &snapshot{version: version, byID: map[int64]List{}, idx: map[int64]*listIndex{}, words: map[string]bool{}, terms: map[string]int{},
		payerTerms: map[string]bool{}}
	for _, l := range lists {
		s.ids = append(s.ids, l.ID)
		s.lists = append(s.lists, l)
		s.byID[l.ID] = l
		var ix *listIndex
		if old != nil {
			ix = old.idx[l.ID]
		}
		if ix == nil {
			if ix, err = buildIndex(ctx, q, l.ID); err != nil {
				return nil, err
			}
		}
		s.idx[l.ID] = ix
		for w := range ix.words {
			s.words[w] = true
		}
		for _, p := range l.Payers {
			for _, w := range textutil.Words(p.Payer + " " + p.Plan) {
				s.words[w] = true // "platfrom" is Platform, a plan's word
			}
			for _, t := range c.termsOf(p.Payer+" "+p.Plan, "en") {
				s.payerTerms[t] = true
			}
		}
		for t, id := range ix.termID {
			s.terms[t] += len(ix.postings[id])
		}
	}
	slices.Sort(s.ids)
	c.cache.mu.Lock()
	c.cache.snap = s
	c.cache.mu.Unlock()
	return s, nil
}

// ListsVersionQuery is the read that names the lists' versions at the
// start of every lookup; exported so a turn can send it ahead with its
// first statement (store.Tx.ReadAhead) and the lookup finds it answered.
const ListsVersionQuery = `SELECT id, imported_at FROM price_lists ORDER BY id`

// listsVersion names the lists as they are: their ids and import times
// (a list being imported, under its temporary name, is not yet one).
func listsVersion(ctx context.Context, q store.Q) (string, error) {
	var b strings.Builder
	rows, err := q.Query(ctx, ListsVersionQuery)
	err = each(rows, err, func(r store.Row) error {
		var id int64
		var at time.Time
		if err := r.Scan(&id, &at); err != nil {
			return err
		}
		fmt.Fprintf(&b, "%d@%d ", id, at.UnixNano())
		return nil
	})
	return b.String(), err
}

func (c *Catalog) cached() *snapshot {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	return c.cache.snap
}

// Warm builds the indexes of the lists as they are now, so that the first
// question after a start or an import does not wait for it.
func (c *Catalog) Warm(ctx context.Context) error {
	_, err := c.snapshot(ctx, c.db.Q())
	return err
}

func buildIndex(ctx context.Context, q store.Q, listID int64) (*listIndex, error) {
	ix := &listIndex{termID: map[string]int32{}, codes: map[string][]codeRef{}, words: map[string]bool{}, at: []int32{0}}
	descs := map[string]bool{}
	rows, err := q.Query(ctx, `SELECT ord, terms, description FROM price_items WHERE list_id = $1 ORDER BY ord`, listID)
	err = each(rows, err, func(r store.Row) error {
		var ord int32
		var terms, desc string
		if err := r.Scan(&ord, &terms, &desc); err != nil {
			return err
		}
		pos := int32(len(ix.ords))
		ix.ords = append(ix.ords, ord)
		for _, t := range strings.Fields(terms) {
			id, ok := ix.termID[t]
			if !ok {
				id = int32(len(ix.postings))
				ix.termID[t] = id
				ix.postings = append(ix.postings, nil)
			}
			ix.postings[id] = append(ix.postings[id], pos)
			ix.terms = append(ix.terms, id)
		}
		ix.at = append(ix.at, int32(len(ix.terms)))
		if !descs[desc] {
			descs[desc] = true
			for _, w := range textutil.Words(desc) {
				ix.words[w] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT ord, code_type, code_key FROM price_codes WHERE list_id = $1`, listID)
	err = each(rows, err, func(r store.Row) error {
		var ord int32
		var typ, key string
		if err := r.Scan(&ord, &typ, &key); err != nil {
			return err
		}
		t := slices.Index(ix.types, typ)
		if t < 0 {
			t = len(ix.types)
			ix.types = append(ix.types, typ)
		}
		ix.codes[key] = append(ix.codes[key], codeRef{ord, int32(t)})
		return nil
	})
	return ix, err
}

// each reads every row with fn without collecting them (a list's index is
// built from hundreds of thousands of rows), closing the rows.
func each(rs store.Rows, err error, fn func(store.Row) error) error {
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := fn(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}
