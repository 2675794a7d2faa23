package prices

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/tend-health/tend/internal/store"
)

// Match is an item of a price list with every figure.
type Match struct {
	List List
	Ord  int
	Item Item
	// Coverage is the share of the question's words the description has
	// (1 for a match by code).
	Coverage float64
}

// Found is what a question finds.
type Found struct {
	// Matches are the best items: one is the answer, several are a
	// choice to ask back, none means the lists do not have it.
	Matches []Match
	// ByCode tells that the question named a billing code.
	ByCode bool
	// Codes are the codes the question named ("CPT 70551").
	Codes []string
	// UnknownCode tells that the question named a code with its type
	// ("HCPCS J3420") that no list has, and its words found nothing
	// either: the lists are the place for codes, so nothing else answers.
	UnknownCode bool
	// ByMeaning tells that a word of the question was read as the
	// description word closest to it in meaning (meaning.go).
	ByMeaning bool
}

// minCoverage is the share of a question's words (weighted by how
// specific they are) an item's description must have to answer it: "knee
// MRI" is neither the brain MRI nor the hip and knee replacement.
const minCoverage = 0.6

// MaxChoices is how many items a choice offers.
const MaxChoices = 5

// codeMention is a code named with its type ("CPT 70551", "DRG 470",
// "revenue code 0611") or a code shaped like one (five digits: CPT; a
// letter and four digits: HCPCS; NDC's 4-4-2, 5-3-2 or 5-4-1).
var (
	typedCode = regexp.MustCompile(`(?i)\b(cpt|hcpcs|ms-drg|ms drg|msdrg|apr-drg|drg|rc|rev(?:enue)? code|ndc|icd|apc|hipps|cdt|cdm|local)` +
		`(?:\s+code)?\s*(?:#|no\.?|number)?\s*:?\s*([a-z]?\d[0-9a-z.-]*)`)
	bareCode = regexp.MustCompile(`(?i)\b(\d{4,5}-\d{3,4}-\d{1,2}|\d{5}|[a-v]\d{4})\b`)
)

// codeFamilies are the stored code types a named type stands for.
func codeFamily(named string) []string {
	n := strings.ToUpper(strings.Join(strings.Fields(strings.ReplaceAll(named, "-", " ")), " "))
	switch {
	case n == "DRG":
		return []string{"DRG", "MS-DRG", "R-DRG", "S-DRG", "APS-DRG", "AP-DRG", "APR-DRG", "TRIS-DRG", "MS-LTC-DRG"}
	case n == "MS DRG" || n == "MSDRG":
		return []string{"MS-DRG"}
	case n == "APR DRG":
		return []string{"APR-DRG"}
	case strings.HasPrefix(n, "REV") || n == "RC":
		return []string{"RC"}
	}
	return []string{n}
}

type codeQuery struct {
	key   string
	types []string // nil: any
	label string
}

func parseCodes(question string) []codeQuery {
	var out []codeQuery
	seen := map[string]bool{}
	for _, m := range typedCode.FindAllStringSubmatch(question, -1) {
		types := codeFamily(m[1])
		code := strings.TrimRight(m[2], ".-")
		if seen[codeKey(code)] {
			continue
		}
		seen[codeKey(code)] = true
		out = append(out, codeQuery{key: codeKey(code), types: types, label: strings.ToUpper(m[1]) + " " + code})
	}
	for _, m := range bareCode.FindAllString(question, -1) {
		if seen[codeKey(m)] {
			continue
		}
		seen[codeKey(m)] = true
		out = append(out, codeQuery{key: codeKey(m), label: strings.ToUpper(m)})
	}
	return out
}

// Find looks a question up in every price list: by the codes it names,
// else by its words.
func (c *Catalog) Find(ctx context.Context, q store.Q, question, lang string) (Found, error) {
	s, err := c.snapshot(ctx, q)
	if err != nil || len(s.lists) == 0 {
		return Found{}, err
	}
	typed := false
	if codes := parseCodes(question); len(codes) > 0 {
		f, err := c.findCodes(ctx, q, s, codes)
		if err != nil || len(f.Matches) > 0 {
			return f, err
		}
		for _, cq := range codes {
			typed = typed || cq.types != nil
		}
	}
	var f Found
	if terms, meaning := c.queryTerms(question, lang, s); len(terms) > 0 {
		var err error
		if f, err = c.findWords(ctx, q, s, terms); err != nil {
			return f, err
		}
		f.ByMeaning = meaning && len(f.Matches) > 0
	}
	f.UnknownCode = typed && len(f.Matches) == 0
	return f, nil
}

type hit struct {
	listID int64
	ord    int
}

func (c *Catalog) findCodes(ctx context.Context, q store.Q, s *snapshot, codes []codeQuery) (Found, error) {
	f := Found{ByCode: true}
	var hits []hit
	for _, cq := range codes {
		f.Codes = append(f.Codes, cq.label)
		for _, id := range s.ids {
			ix := s.idx[id]
			for _, ref := range ix.codes[cq.key] {
				if cq.types == nil || slices.Contains(cq.types, ix.types[ref.typ]) {
					hits = append(hits, hit{listID: id, ord: int(ref.ord)})
				}
			}
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].listID != hits[j].listID {
			return hits[i].listID < hits[j].listID
		}
		return hits[i].ord < hits[j].ord
	})
	hits = slices.Compact(hits)
	matches, err := c.load(ctx, q, hits, s.byID, MaxChoices)
	for i := range matches {
		matches[i].Coverage = 1
	}
	f.Matches = matches
	return f, err
}

// scored is a candidate item with how well it covers the question.
type scored struct {
	hit
	cov, prec float64
}

func (c *Catalog) findWords(ctx context.Context, q store.Q, s *snapshot, terms []string) (Found, error) {
	// A term weighs as specific as it is, and a part of the body fully:
	// "knee MRI" is neither the brain MRI nor the hip and knee replacement.
	weights := make([]float64, len(terms))
	for i, t := range terms {
		weights[i] = c.an.Specificity(t)
		if c.lexicon().anatomy[t] {
			weights[i] = 1
		}
	}
	var ss []scored
	for _, id := range s.ids {
		ss = append(ss, s.idx[id].candidates(id, terms, weights)...)
	}
	if len(ss) == 0 {
		return Found{}, nil
	}
	sort.SliceStable(ss, func(i, j int) bool {
		if ss[i].cov != ss[j].cov {
			return ss[i].cov > ss[j].cov
		}
		if ss[i].prec != ss[j].prec {
			return ss[i].prec > ss[j].prec
		}
		if ss[i].listID != ss[j].listID {
			return ss[i].listID < ss[j].listID
		}
		return ss[i].ord < ss[j].ord
	})
	// The best-covered items: those as good as the first; of those, the
	// ones whose every word the question has, when there are such ("knee
	// MRI without contrast" is not the MRI "with and without contrast").
	var top, exact []hit
	for _, x := range ss {
		if x.cov < ss[0].cov-1e-9 || len(top) == maxLoaded {
			break
		}
		top = append(top, x.hit)
		if x.prec >= 1-1e-9 {
			exact = append(exact, x.hit)
		}
	}
	if len(exact) > 0 {
		top = exact
	}
	matches, err := c.load(ctx, q, top, s.byID, MaxChoices)
	for i := range matches {
		matches[i].Coverage = ss[0].cov
	}
	return Found{Matches: matches}, err
}

// candidates are the items of one list that cover at least minCoverage of
// the question's terms. An item with that many of the n terms misses at
// most n-r of them (r the terms it must have), so it has at least one of
// any n-r+1 terms: only the postings of the rarest n-r+1 are read ("MRI"
// alone matches thousands of items of a hospital's file; "knee" fewer).
func (ix *listIndex) candidates(listID int64, terms []string, weights []float64) []scored {
	n := len(terms)
	// The fewest terms an item can have and reach minCoverage: those of
	// the largest weights.
	sorted := slices.Clone(weights)
	slices.Sort(sorted)
	slices.Reverse(sorted)
	var total, acc float64
	for _, w := range weights {
		total += w
	}
	need := n
	for i, w := range sorted {
		acc += w
		if acc >= minCoverage*total-1e-9 {
			need = i + 1
			break
		}
	}
	ids := make([]int32, n)
	type rare struct {
		term int
		df   int
	}
	var byDF []rare
	for i, t := range terms {
		id, ok := ix.termID[t]
		if !ok {
			id = -1
		}
		ids[i] = id
		df := 0
		if ok {
			df = len(ix.postings[id])
		}
		byDF = append(byDF, rare{i, df})
	}
	sort.SliceStable(byDF, func(i, j int) bool { return byDF[i].df < byDF[j].df })
	seen := make([]uint64, (len(ix.ords)+63)/64)
	best := minCoverage
	var out []scored
	for _, r := range byDF[:n-need+1] {
		if ids[r.term] < 0 {
			continue
		}
		for _, pos := range ix.postings[ids[r.term]] {
			if seen[pos/64]&(1<<(pos%64)) != 0 {
				continue
			}
			seen[pos/64] |= 1 << (pos % 64)
			desc := ix.terms[ix.at[pos]:ix.at[pos+1]]
			var got float64
			have := 0
			for i, id := range ids {
				if id >= 0 && slices.Contains(desc, id) {
					got += weights[i]
					have++
				}
			}
			if have < need || total == 0 || len(desc) == 0 {
				continue
			}
			// Only the best-covered items are ever answered or offered:
			// a common word's thousands of weaker items are not kept.
			cov := got / total
			if cov < best-1e-9 {
				continue
			}
			if cov > best+1e-9 {
				best, out = cov, out[:0]
			}
			out = append(out, scored{hit{listID, int(ix.ords[pos])}, cov, float64(have) / float64(len(desc))})
		}
	}
	return out
}

// maxLoaded is how many rows one question reads: a choice shows five
// items, and an item may take several rows (the wide layout splits them).
const maxLoaded = 50

// load reads the items of hits, in the order of hits, merging the rows of
// one item a file splits (the wide layout gives a payer's second rate for
// an item a row of its own), and the rates of the first limit items (0:
// of every item).
func (c *Catalog) load(ctx context.Context, q store.Q, hits []hit, byID map[int64]List, limit int) ([]Match, error) {
	if len(hits) > maxLoaded {
		hits = hits[:maxLoaded]
	}
	byList := map[int64][]int{}
	var order []int64
	for _, h := range hits {
		if _, ok := byList[h.listID]; !ok {
			order = append(order, h.listID)
		}
		byList[h.listID] = append(byList[h.listID], h.ord)
	}
	items := map[hit]*Match{}
	for _, id := range order {
		in, args := inList(byList[id], 2)
		ms, err := store.Collect[Match](q.Query(ctx, `SELECT ord, description, codes, setting, modifiers, drug_unit,
			drug_type, gross, cash, min_charge, max_charge, notes, billing_class FROM price_items
			WHERE list_id = $1 AND ord IN (`+in+`)`, append([]any{id}, args...)...))(scanItem)
		if err != nil {
			return nil, err
		}
		for i := range ms {
			m := ms[i]
			m.List = byID[id]
			items[hit{id, m.Ord}] = &m
		}
	}
	// One Match per item; rows holds each one's rows, first row first.
	var out []Match
	var rows [][]hit
	merged := map[string]int{}
	for _, h := range hits {
		m := items[h]
		if m == nil {
			continue
		}
		key := fmt.Sprint(h.listID, "\x00", sameItem(m.Item))
		if i, ok := merged[key]; ok {
			if !slices.Contains(rows[i], h) {
				rows[i] = append(rows[i], h)
				// Rows of one item that disagree on the de-identified
				// minimum or maximum (CMS's own tall example does, for the
				// basic metabolic panel): no range is quoted rather than
				// one row's.
				if out[i].Item.Min != m.Item.Min || out[i].Item.Max != m.Item.Max {
					out[i].Item.Min, out[i].Item.Max = "", ""
				}
			}
			continue
		}
		merged[key] = len(out)
		out = append(out, *m)
		rows = append(rows, []hit{h})
	}
	if limit > 0 && len(out) > limit {
		out, rows = out[:limit], rows[:limit]
	}
	rates, err := c.rates(ctx, q, rows)
	if err != nil {
		return nil, err
	}
	for i, hs := range rows {
		for _, h := range hs {
			out[i].Item.Rates = append(out[i].Item.Rates, rates[h]...)
		}
	}
	return out, nil
}

// rates reads the rates of the rows of items, by row.
func (c *Catalog) rates(ctx context.Context, q store.Q, rows [][]hit) (map[hit][]Rate, error) {
	byList := map[int64][]int{}
	var order []int64
	for _, hs := range rows {
		for _, h := range hs {
			if _, ok := byList[h.listID]; !ok {
				order = append(order, h.listID)
			}
			byList[h.listID] = append(byList[h.listID], h.ord)
		}
	}
	out := map[hit][]Rate{}
	for _, id := range order {
		in, args := inList(byList[id], 2)
		rs, err := store.Collect[rateRow](q.Query(ctx, `SELECT ord, payer, plan, dollar, percentage, algorithm,
			methodology, median, p10, p90, count, estimated, notes FROM price_rates
			WHERE list_id = $1 AND ord IN (`+in+`) ORDER BY ord, seq`, append([]any{id}, args...)...))(scanRate)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out[hit{id, r.ord}] = append(out[hit{id, r.ord}], r.Rate)
		}
	}
	return out, nil
}

// sameItem is what makes two rows the same item: everything but rates
// and the minimum and maximum, which summarize the rates.
func sameItem(it Item) string {
	return fmt.Sprint(it.Description, "\x00", it.Codes, "\x00", it.Setting, "\x00", it.Modifiers, "\x00", it.DrugUnit,
		it.DrugType, "\x00", it.Gross, "\x00", it.Cash)
}

// inList is "$n, $n+1, ..." for ords, numbered from first.
func inList(ords []int, first int) (string, []any) {
	ph := make([]string, len(ords))
	args := make([]any, len(ords))
	for i, o := range ords {
		ph[i] = fmt.Sprintf("$%d", first+i)
		args[i] = o
	}
	return strings.Join(ph, ", "), args
}

func scanItem(r store.Row) (Match, error) {
	var m Match
	var codes, mods, unit, gross, cash, mn, mx string
	it := &m.Item
	err := r.Scan(&m.Ord, &it.Description, &codes, &it.Setting, &mods, &unit, &it.DrugType, &gross, &cash, &mn, &mx,
		&it.Notes, &it.BillingClass)
	it.DrugUnit, it.Gross, it.Cash, it.Min, it.Max = Amount(unit), Amount(gross), Amount(cash), Amount(mn), Amount(mx)
	it.Modifiers = splitPipes(mods)
	for _, c := range splitPipes(codes) {
		typ, code, _ := strings.Cut(c, " ")
		it.Codes = append(it.Codes, Code{Code: code, Type: typ})
	}
	return m, err
}

type rateRow struct {
	ord int
	Rate
}

func scanRate(r store.Row) (rateRow, error) {
	var rr rateRow
	var dollar, pct, median, p10, p90, est string
	err := r.Scan(&rr.ord, &rr.Payer, &rr.Plan, &dollar, &pct, &rr.Algorithm, &rr.Methodology, &median, &p10, &p90,
		&rr.Count, &est, &rr.Notes)
	rr.Dollar, rr.Percentage, rr.Median, rr.P10, rr.P90, rr.Estimated = Amount(dollar), Amount(pct), Amount(median),
		Amount(p10), Amount(p90), Amount(est)
	return rr, err
}
