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
}

// minCoverage is the share of a question's words (weighted by how
// specific they are) an item's description must have to answer it: "knee
// MRI" is neither the brain MRI nor the hip and knee replacement.
const minCoverage = 0.6

// maxCandidates is how many full-text hits are ranked.
const maxCandidates = 200

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
	lists, err := c.Lists(ctx, q)
	if err != nil || len(lists) == 0 {
		return Found{}, err
	}
	byID := map[int64]List{}
	var payers []Payer
	for _, l := range lists {
		byID[l.ID] = l
		payers = append(payers, l.Payers...)
	}
	if codes := parseCodes(question); len(codes) > 0 {
		f, err := c.findCodes(ctx, q, codes, byID)
		if err != nil || len(f.Matches) > 0 {
			return f, err
		}
	}
	terms := c.queryTerms(question, lang, payers)
	if len(terms) == 0 {
		return Found{}, nil
	}
	return c.findWords(ctx, q, terms, byID)
}

type hit struct {
	listID int64
	ord    int
	terms  string
}

func (c *Catalog) findCodes(ctx context.Context, q store.Q, codes []codeQuery, byID map[int64]List) (Found, error) {
	f := Found{ByCode: true}
	var hits []hit
	for _, cq := range codes {
		f.Codes = append(f.Codes, cq.label)
		rows, err := store.Collect[hit](q.Query(ctx, `SELECT c.list_id, c.ord, c.code_type FROM price_codes c
			WHERE c.code_key = $1 ORDER BY c.list_id, c.ord`, cq.key))(func(r store.Row) (hit, error) {
			var h hit
			return h, r.Scan(&h.listID, &h.ord, &h.terms)
		})
		if err != nil {
			return f, err
		}
		for _, h := range rows {
			if cq.types == nil || slices.Contains(cq.types, h.terms) {
				hits = append(hits, hit{listID: h.listID, ord: h.ord})
			}
		}
	}
	matches, err := c.load(ctx, q, hits, byID)
	for i := range matches {
		matches[i].Coverage = 1
	}
	f.Matches = matches
	return f, err
}

func (c *Catalog) findWords(ctx context.Context, q store.Q, terms []string, byID map[int64]List) (Found, error) {
	var sql string
	var arg string
	if q.Dialect() == store.Postgres {
		sql = `SELECT list_id, ord, terms FROM price_items WHERE to_tsvector('simple', terms) @@ to_tsquery('simple', $1) LIMIT ` +
			fmt.Sprint(maxCandidates)
		arg = tsQuery(terms, " & ")
	} else {
		sql = `SELECT list_id, ord, terms FROM price_fts WHERE price_fts MATCH $1 LIMIT ` + fmt.Sprint(maxCandidates)
		arg = ftsQuery(terms, " AND ")
	}
	scan := func(r store.Row) (hit, error) {
		var h hit
		return h, r.Scan(&h.listID, &h.ord, &h.terms)
	}
	// Every word first (the usual case, and a small result); any word
	// when no description has them all.
	hits, err := store.Collect[hit](q.Query(ctx, sql, arg))(scan)
	if err == nil && len(hits) == 0 && len(terms) > 1 {
		if q.Dialect() == store.Postgres {
			arg = tsQuery(terms, " | ")
		} else {
			arg = ftsQuery(terms, " OR ")
		}
		hits, err = store.Collect[hit](q.Query(ctx, sql, arg))(scan)
	}
	if err != nil {
		return Found{}, err
	}
	type scored struct {
		hit
		cov, prec float64
	}
	var ss []scored
	for _, h := range hits {
		cov, prec := c.coverage(terms, strings.Fields(h.terms))
		if cov >= minCoverage {
			ss = append(ss, scored{h, cov, prec})
		}
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
	// The best-covered items: those as good as the first.
	var top []hit
	for _, s := range ss {
		if s.cov < ss[0].cov-1e-9 {
			break
		}
		top = append(top, s.hit)
	}
	matches, err := c.load(ctx, q, top, byID)
	for i := range matches {
		matches[i].Coverage = ss[0].cov
	}
	return Found{Matches: matches}, err
}

// coverage is the share of the question's terms the description has (the
// smaller of the share weighted by specificity and the plain share), and the share of the description's terms the question has (to
// prefer "MRI of brain" to a long description that mentions it too).
func (c *Catalog) coverage(question, desc []string) (cov, prec float64) {
	var total, got float64
	n := 0
	for _, t := range question {
		w := c.an.Specificity(t)
		total += w
		if slices.Contains(desc, t) {
			got += w
			n++
		}
	}
	if total == 0 || len(desc) == 0 {
		return 0, 0
	}
	// Both weighted and by count: a specific word ("MRI") must not carry
	// a question whose other word ("knee") the description lacks.
	return min(got/total, float64(n)/float64(len(question))), float64(n) / float64(len(desc))
}

// tsQuery joins terms for to_tsquery; terms are the analyzer's (letters
// and digits), quoted so that nothing in them is an operator.
func tsQuery(terms []string, op string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = "'" + strings.ReplaceAll(t, "'", "") + "'"
	}
	return strings.Join(parts, op)
}

func ftsQuery(terms []string, op string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = `"` + strings.ReplaceAll(t, `"`, "") + `"`
	}
	return strings.Join(parts, op)
}

// maxLoaded is how many items one question loads: a choice shows five.
const maxLoaded = 50

// load reads the items of hits with their rates, in the order of hits,
// and merges the rows of one item a file splits (the wide layout gives a
// payer's second rate for an item a row of its own).
func (c *Catalog) load(ctx context.Context, q store.Q, hits []hit, byID map[int64]List) ([]Match, error) {
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
	items := map[[2]int64]*Match{}
	for _, id := range order {
		ords := byList[id]
		in, args := inList(ords, 2)
		args = append([]any{id}, args...)
		ms, err := store.Collect[Match](q.Query(ctx, `SELECT ord, description, codes, setting, modifiers, drug_unit,
			drug_type, gross, cash, min_charge, max_charge, notes, billing_class FROM price_items
			WHERE list_id = $1 AND ord IN (`+in+`)`, args...))(scanItem)
		if err != nil {
			return nil, err
		}
		for i := range ms {
			m := ms[i]
			m.List = byID[id]
			items[[2]int64{id, int64(m.Ord)}] = &m
		}
		rates, err := store.Collect[rateRow](q.Query(ctx, `SELECT ord, payer, plan, dollar, percentage, algorithm,
			methodology, median, p10, p90, count, estimated, notes FROM price_rates
			WHERE list_id = $1 AND ord IN (`+in+`) ORDER BY ord, seq`, args...))(scanRate)
		if err != nil {
			return nil, err
		}
		for _, r := range rates {
			if m := items[[2]int64{id, int64(r.ord)}]; m != nil {
				m.Item.Rates = append(m.Item.Rates, r.Rate)
			}
		}
	}
	var out []Match
	merged := map[string]int{}
	for _, h := range hits {
		m := items[[2]int64{h.listID, int64(h.ord)}]
		if m == nil {
			continue
		}
		key := fmt.Sprint(h.listID, "\x00", sameItem(m.Item))
		if i, ok := merged[key]; ok {
			if out[i].Ord != m.Ord {
				out[i].Item.Rates = append(out[i].Item.Rates, m.Item.Rates...)
			}
			continue
		}
		merged[key] = len(out)
		out = append(out, *m)
	}
	return out, nil
}

// sameItem is what makes two rows the same item: everything but rates.
func sameItem(it Item) string {
	return fmt.Sprint(it.Description, "\x00", it.Codes, "\x00", it.Setting, "\x00", it.Modifiers, "\x00", it.DrugUnit,
		it.DrugType, "\x00", it.Gross, "\x00", it.Cash, "\x00", it.Min, "\x00", it.Max)
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
