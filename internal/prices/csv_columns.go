package prices

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// csvColumns says which column holds which data element (-1: none).
type csvColumns struct {
	format                                      Format
	desc, setting, drugUnit, drugType           int
	gross, cash, min, max, notes, mods, billing int
	codes                                       []codeColumns
	payer, plan                                 int // tall
	tall                                        rateColumns
	groups                                      []rateColumns // wide: one per payer and plan
	names                                       []string      // the header row, for messages
}

type codeColumns struct{ code, typ int }

// rateColumns are one payer's and plan's columns (wide), or the rate
// columns of the tall layout (payer and plan empty).
type rateColumns struct {
	payer, plan                                              string
	dollar, pct, alg, meth, median, p10, p90, count, est, nt int
}

func newRateColumns(payer, plan string) rateColumns {
	return rateColumns{payer: payer, plan: plan, dollar: -1, pct: -1, alg: -1, meth: -1, median: -1, p10: -1, p90: -1,
		count: -1, est: -1, nt: -1}
}

// chargeFields end a wide layout's standard_charge|[payer]|[plan]|...
// columns; statFields begin its [field]|[payer]|[plan] columns.
var (
	chargeFields = map[string]bool{"negotiated_dollar": true, "negotiated_percentage": true,
		"negotiated_algorithm": true, "methodology": true}
	statFields = map[string]bool{"median_amount": true, "10th_percentile": true, "90th_percentile": true,
		"count": true, "estimated_amount": true, "additional_payer_notes": true}
)

// rateField maps a rate element's name to its column in rc.
func (rc *rateColumns) field(name string) *int {
	switch name {
	case "negotiated_dollar":
		return &rc.dollar
	case "negotiated_percentage":
		return &rc.pct
	case "negotiated_algorithm":
		return &rc.alg
	case "methodology":
		return &rc.meth
	case "median_amount":
		return &rc.median
	case "10th_percentile":
		return &rc.p10
	case "90th_percentile":
		return &rc.p90
	case "count":
		return &rc.count
	case "estimated_amount":
		return &rc.est
	case "additional_payer_notes":
		return &rc.nt
	}
	return nil
}

// readCSVHeader reads row 3; false when the file cannot be read further.
func readCSVHeader(header []string, v2 bool, rep *Report) (*csvColumns, bool) {
	c := &csvColumns{desc: -1, setting: -1, drugUnit: -1, drugType: -1, gross: -1, cash: -1, min: -1, max: -1,
		notes: -1, mods: -1, billing: -1, payer: -1, plan: -1, tall: newRateColumns("", ""),
		names: append([]string(nil), header...)}
	single := map[string]*int{"description": &c.desc, "setting": &c.setting, "drug_unit_of_measurement": &c.drugUnit,
		"drug_type_of_measurement": &c.drugType, "standard_charge|gross": &c.gross,
		"standard_charge|discounted_cash": &c.cash, "standard_charge|min": &c.min, "standard_charge|max": &c.max,
		"additional_generic_notes": &c.notes, "modifiers": &c.mods, "billing_class": &c.billing,
		"payer_name": &c.payer, "plan_name": &c.plan}
	for _, f := range []string{"negotiated_dollar", "negotiated_percentage", "negotiated_algorithm", "methodology"} {
		single["standard_charge|"+f] = c.tall.field(f)
	}
	for _, f := range []string{"median_amount", "10th_percentile", "90th_percentile", "count", "estimated_amount"} {
		single[f] = c.tall.field(f)
	}
	codes := map[int]*codeColumns{}
	groups := map[string]*rateColumns{}
	var order []string
	seen := map[string]bool{}
	for i, h := range header {
		key, parts := headerKey(h)
		if key == "" {
			continue
		}
		if seen[key] {
			rep.problem("line 3", fmt.Sprintf("column %q appears twice", clip(h)))
			continue
		}
		seen[key] = true
		if p, ok := single[key]; ok {
			*p = i
			continue
		}
		lower := strings.Split(key, "|")
		switch {
		case lower[0] == "code" && (len(parts) == 2 || (len(parts) == 3 && lower[2] == "type")):
			n, err := strconv.Atoi(parts[1])
			if err != nil || n < 1 {
				rep.problem("line 3", fmt.Sprintf("column %q: the code number must be 1, 2, ...", clip(h)))
				continue
			}
			cc := codes[n]
			if cc == nil {
				cc = &codeColumns{code: -1, typ: -1}
				codes[n] = cc
			}
			if len(parts) == 2 {
				cc.code = i
			} else {
				cc.typ = i
			}
		case len(parts) == 4 && lower[0] == "standard_charge" && chargeFields[lower[3]],
			len(parts) == 3 && statFields[lower[0]]:
			// standard_charge|[payer]|[plan]|field, or field|[payer]|[plan]
			field := lower[0]
			if len(parts) == 4 {
				field = lower[3]
			}
			gk := strings.ToLower(parts[1] + "|" + parts[2])
			g := groups[gk]
			if g == nil {
				rc := newRateColumns(parts[1], parts[2])
				g = &rc
				groups[gk] = g
				order = append(order, gk)
			}
			*g.field(field) = i
		case len(parts) == 4 && lower[0] == "standard_charge":
			rep.problem("line 3", fmt.Sprintf("column %q: %q is not a payer-specific charge (negotiated_dollar, "+
				"negotiated_percentage, negotiated_algorithm, methodology)", clip(h), clip(parts[3])))
		}
		// Other columns are the hospital's own optional data elements.
	}
	nums := make([]int, 0, len(codes))
	for n := range codes {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for _, n := range nums {
		cc := codes[n]
		if cc.code < 0 || cc.typ < 0 {
			rep.problem("line 3", fmt.Sprintf("code|%d and code|%d|type go together", n, n))
			continue
		}
		c.codes = append(c.codes, *cc)
	}
	for _, k := range order {
		c.groups = append(c.groups, *groups[k])
	}
	required := map[string]int{"description": c.desc, "setting": c.setting, "standard_charge|gross": c.gross,
		"standard_charge|discounted_cash": c.cash, "standard_charge|min": c.min, "standard_charge|max": c.max,
		"additional_generic_notes": c.notes, "drug_unit_of_measurement": c.drugUnit,
		"drug_type_of_measurement": c.drugType, "modifiers": c.mods}
	switch {
	case c.payer >= 0 || c.plan >= 0:
		c.format = TallCSV
		required["payer_name"], required["plan_name"] = c.payer, c.plan
		for k, v := range rateRequired(c.tall, v2, true) {
			required[k] = v
		}
	case len(c.groups) > 0:
		c.format = WideCSV
		for _, g := range c.groups {
			for k, v := range rateRequired(g, v2, false) {
				required[k] = v
			}
		}
	default:
		rep.problem("line 3", "row 3 must be the header row: it has neither payer_name and plan_name (tall layout) "+
			"nor standard_charge|[payer]|[plan]|... columns (wide layout)")
	}
	if len(c.codes) == 0 {
		required["code|1"], required["code|1|type"] = -1, -1
	}
	var missing []string
	for k, v := range required {
		if v < 0 {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		rep.problem("line 3", "column "+k+" is missing")
	}
	return c, len(rep.Problems) == 0
}

// rateRequired are the columns a layout must have for one payer and plan
// (wide) or for all (tall).
func rateRequired(rc rateColumns, v2, tall bool) map[string]int {
	name := func(f string) string {
		if tall {
			return "standard_charge|" + f
		}
		return "standard_charge|" + rc.payer + "|" + rc.plan + "|" + f
	}
	stat := func(f string) string {
		if tall {
			return f
		}
		return f + "|" + rc.payer + "|" + rc.plan
	}
	out := map[string]int{name("negotiated_dollar"): rc.dollar, name("negotiated_percentage"): rc.pct,
		name("negotiated_algorithm"): rc.alg, name("methodology"): rc.meth}
	if v2 {
		out[stat("estimated_amount")] = rc.est
	} else {
		out[stat("median_amount")], out[stat("10th_percentile")] = rc.median, rc.p10
		out[stat("90th_percentile")], out[stat("count")] = rc.p90, rc.count
	}
	return out
}

func cell(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// item reads the item columns of a data row (not its rates).
func (c *csvColumns) item(rec []string, where string, rep *Report) *Item {
	amount := c.amounts(rec, where, rep)
	it := &Item{Where: where, Description: cell(rec, c.desc), Setting: cell(rec, c.setting),
		DrugUnit: amount(c.drugUnit), DrugType: cell(rec, c.drugType), Gross: amount(c.gross), Cash: amount(c.cash),
		Min: amount(c.min), Max: amount(c.max), BillingClass: cell(rec, c.billing), Modifiers: splitPipes(cell(rec, c.mods))}
	for _, cc := range c.codes {
		code, typ := cell(rec, cc.code), cell(rec, cc.typ)
		switch {
		case code == "" && typ == "":
		case code == "" || typ == "":
			rep.problem(where, c.names[cc.code]+" and its type go together")
		default:
			it.Codes = append(it.Codes, Code{Code: code, Type: typ})
		}
	}
	return it
}

// amounts reads a row's amount cells, reporting the ones that are not
// numbers.
func (c *csvColumns) amounts(rec []string, where string, rep *Report) func(int) Amount {
	return func(i int) Amount {
		a, err := parseAmount(cell(rec, i))
		if err != nil {
			rep.problem(where, c.names[i]+": "+err.Error())
		}
		return a
	}
}

// row reads one data row as it stands, reporting its problems: its item,
// its rates.
func (c *csvColumns) row(rec []string, line int, rep *Report) (*Item, []Rate) {
	where := "line " + strconv.Itoa(line)
	it := c.item(rec, where, rep)
	notes := cell(rec, c.notes)
	amount := c.amounts(rec, where, rep)
	var rates []Rate
	if c.format == TallCSV {
		if r, ok := c.rate(c.tall, rec, amount); ok {
			r.Payer, r.Plan, r.line = cell(rec, c.payer), cell(rec, c.plan), line
			// In the tall layout the generic notes of a payer's row are
			// that payer's notes (the wide layout has a column for them).
			r.Notes = notes
			rates = append(rates, r)
		} else {
			it.Notes = notes
		}
		return it, rates
	}
	it.Notes = notes
	for _, g := range c.groups {
		if r, ok := c.rate(g, rec, amount); ok {
			r.Payer, r.Plan = g.payer, g.plan
			rates = append(rates, r)
		}
	}
	return it, rates
}

// quickRate reads the rate of a tall row without reporting: ok is false
// when an amount is not a number (the row is then read by row, which
// reports it), has when the row has a rate.
func (c *csvColumns) quickRate(rec []string, line int) (r Rate, has, ok bool) {
	ok = true
	r, has = c.rate(c.tall, rec, func(i int) Amount {
		a, err := parseAmount(cell(rec, i))
		if err != nil {
			ok = false
		}
		return a
	})
	if has {
		r.Payer, r.Plan, r.line, r.Notes = cell(rec, c.payer), cell(rec, c.plan), line, cell(rec, c.notes)
	}
	return r, has, ok
}

// rate reads one rate's columns; false when they are all empty.
func (c *csvColumns) rate(rc rateColumns, rec []string, amount func(int) Amount) (Rate, bool) {
	r := Rate{Dollar: amount(rc.dollar), Percentage: amount(rc.pct), Algorithm: cell(rec, rc.alg),
		Methodology: cell(rec, rc.meth), Median: amount(rc.median), P10: amount(rc.p10), P90: amount(rc.p90),
		Count: cell(rec, rc.count), Estimated: amount(rc.est), Notes: cell(rec, rc.nt)}
	payer := c.format == TallCSV && (cell(rec, c.payer) != "" || cell(rec, c.plan) != "")
	ok := payer || r.Dollar.Set() || r.Percentage.Set() || r.Algorithm != "" || r.Methodology != "" ||
		r.Median.Set() || r.P10.Set() || r.P90.Set() || r.Count != "" || r.Estimated.Set() || r.Notes != ""
	return r, ok
}

// appendItemKey appends what consecutive tall rows of one item share:
// every column that is not payer-specific, and the generic notes of a row
// without a rate (such a row is an item of its own). Rows with the same
// key have the same item columns, so their problems are the same too.
func (c *csvColumns) appendItemKey(b []byte, rec []string, hasRate bool) []byte {
	for _, i := range [...]int{c.desc, c.setting, c.drugUnit, c.drugType, c.gross, c.cash, c.min, c.max, c.mods, c.billing} {
		b = append(b, cell(rec, i)...)
		b = append(b, 0)
	}
	for _, cc := range c.codes {
		b = append(b, cell(rec, cc.code)...)
		b = append(b, 0)
		b = append(b, cell(rec, cc.typ)...)
		b = append(b, 0)
	}
	if !hasRate {
		b = append(b, cell(rec, c.notes)...)
	}
	return b
}
