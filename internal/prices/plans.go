package prices

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/textutil"
)

// NamesCode reports a question that names a billing code ("CPT 70551",
// "80048"): a price question even without a word of asking.
func NamesCode(question string) bool { return len(parseCodes(question)) > 0 }

// rateWords ask what a plan pays or is charged, which the knowledge
// analyzer's price figure ("how much", "cost") does not cover. "Rate"
// alone is not one ("a normal heart rate"): with a plan's name it is.
var rateWords = regexp.MustCompile(`(?i)\b(pays?|paid|charged?|negotiated|allowed amount|pagan?|cobran?)\b`)

// NamesPlan reports a question that asks a rate or names a payer of the
// price lists ("breast biopsy acme hmo"): a price question when the lists
// also have what it names.
func (c *Catalog) NamesPlan(ctx context.Context, q store.Q, question string) (bool, error) {
	if rateWords.MatchString(question) {
		return true, nil
	}
	s, err := c.snapshot(ctx, q)
	if err != nil {
		return false, err
	}
	for _, l := range s.lists {
		if len(PickPlans(question, l.Payers)) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// payerNoise are words of payers' names that do not tell one from another.
var payerNoise = map[string]bool{"health": true, "insurance": true, "plan": true, "plans": true, "inc": true, "of": true,
	"the": true, "company": true, "co": true, "and": true, "de": true, "la": true, "el": true, "seguro": true}

// Plans are the payer-specific plans of an item's rates, in file order,
// once each.
func (it Item) Plans() []Payer {
	var out []Payer
	seen := map[Payer]bool{}
	for _, r := range it.Rates {
		p := Payer{r.Payer, r.Plan}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// PickPlans are the plans of payers a question names ("with my Region
// Health HMO", "and the PPO?"): those whose distinctive words it has the
// most of; nil when it names none.
func PickPlans(question string, plans []Payer) []Payer {
	words := map[string]bool{}
	for _, w := range textutil.Words(question) {
		words[w] = true
	}
	best := 0
	var out []Payer
	for _, p := range plans {
		n := 0
		for _, w := range textutil.Words(p.Payer + " " + p.Plan) {
			if !payerNoise[w] && words[w] {
				n++
			}
		}
		switch {
		case n == 0 || n < best:
		case n > best:
			best, out = n, []Payer{p}
		default:
			out = append(out, p)
		}
	}
	return out
}

// RatesOf are an item's rates for one plan.
func (it Item) RatesOf(p Payer) []Rate {
	var out []Rate
	for _, r := range it.Rates {
		if r.Payer == p.Payer && r.Plan == p.Plan {
			out = append(out, r)
		}
	}
	return out
}

// Ref names an item for a button or a follow-up: "<list id>.<ord>".
func (m Match) Ref() string { return fmt.Sprintf("%d.%d", m.List.ID, m.Ord) }

// splitRows is how far apart the rows of one split item may be.
const splitRows = 20

// Item reads the item a Ref names, with every rate (false when the list
// was replaced since).
func (c *Catalog) Item(ctx context.Context, q store.Q, ref string) (Match, bool, error) {
	var listID int64
	var ord int
	if _, err := fmt.Sscanf(strings.Replace(ref, ".", " ", 1), "%d %d", &listID, &ord); err != nil {
		return Match{}, false, nil
	}
	s, err := c.snapshot(ctx, q)
	if err != nil {
		return Match{}, false, err
	}
	for _, l := range s.lists {
		if l.ID != listID {
			continue
		}
		ms, err := c.load(ctx, q, []hit{{listID: listID, ord: ord}}, map[int64]List{l.ID: l}, 0)
		if err != nil || len(ms) == 0 {
			return Match{}, false, err
		}
		// The rows of the item the wide layout splits (next to each other)
		// are read with it.
		ords, err := store.IDs(q.Query(ctx, `SELECT ord FROM price_items WHERE list_id = $1 AND description = $2 AND
			setting = $3 AND ord BETWEEN $4 AND $5 ORDER BY ord`, listID, ms[0].Item.Description, ms[0].Item.Setting,
			ord-splitRows, ord+splitRows))
		if err != nil {
			return Match{}, false, err
		}
		hits := make([]hit, 0, len(ords))
		for _, o := range ords {
			hits = append(hits, hit{listID: listID, ord: int(o)})
		}
		all, err := c.load(ctx, q, hits, map[int64]List{l.ID: l}, 0)
		if err != nil {
			return Match{}, false, err
		}
		for _, m := range all {
			if m.Ord == ord || sameItem(m.Item) == sameItem(ms[0].Item) {
				m.Ord = ord
				return m, true, nil
			}
		}
		return ms[0], true, nil
	}
	return Match{}, false, nil
}
