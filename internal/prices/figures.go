package prices

import (
	"fmt"
	"io"
	"strings"
)

// Dollars writes an amount as US dollars with thousands separators,
// every digit the file gave ("$1,080", "$0.75", "$20,500.90"; cents are
// shown as two digits, never fewer, and more only when the file has
// more).
func (a Amount) Dollars() string {
	if a == "" {
		return ""
	}
	intPart, frac, _ := strings.Cut(string(a), ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		if len(frac) == 1 {
			frac += "0"
		}
		b.WriteString("." + frac)
	}
	return "$" + b.String()
}

// Percent writes a percentage as the file gives it ("80 %").
func (a Amount) Percent() string {
	if a == "" {
		return ""
	}
	return string(a) + " %"
}

// WriteItem prints every figure of an item, payer by payer (`tend prices
// show`).
func WriteItem(w io.Writer, m Match) {
	it := m.Item
	var codes []string
	for _, c := range it.Codes {
		codes = append(codes, c.String())
	}
	head := it.Description
	if len(codes) > 0 {
		head += " — " + strings.Join(codes, ", ")
	}
	if len(it.Modifiers) > 0 {
		head += " — modifier " + strings.Join(it.Modifiers, "|")
	}
	fmt.Fprintf(w, "%s — %s\n", head, it.Setting)
	f := m.List.File
	fmt.Fprintf(w, "  list: %s (%s; %s; updated %s)\n", m.List.Name, f.HospitalName, strings.Join(f.Locations, ", "), f.LastUpdatedOn)
	line := func(label string, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %s: %s\n", label, v)
		}
	}
	if it.DrugUnit.Set() {
		line("drug unit", string(it.DrugUnit)+" "+it.DrugType)
	}
	line("gross charge", it.Gross.Dollars())
	line("discounted cash price", it.Cash.Dollars())
	line("lowest negotiated charge", it.Min.Dollars())
	line("highest negotiated charge", it.Max.Dollars())
	line("billing class", it.BillingClass)
	line("notes", it.Notes)
	for _, r := range it.Rates {
		var parts []string
		add := func(label, v string) {
			if v != "" {
				parts = append(parts, label+v)
			}
		}
		add("", r.Dollar.Dollars())
		add("", r.Percentage.Percent())
		add("algorithm: ", r.Algorithm)
		add("methodology: ", r.Methodology)
		add("median ", r.Median.Dollars())
		add("10th percentile ", r.P10.Dollars())
		add("90th percentile ", r.P90.Dollars())
		add("count ", r.Count)
		add("estimated ", r.Estimated.Dollars())
		add("notes: ", r.Notes)
		fmt.Fprintf(w, "  %s / %s: %s\n", r.Payer, r.Plan, strings.Join(parts, "; "))
	}
}
