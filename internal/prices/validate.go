package prices

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The valid values of the CMS data dictionary (v2.2 and v3.0.0). Valid
// values are case-insensitive; they are kept in these spellings.
var (
	codeTypes = set("CPT", "HCPCS", "ICD", "DRG", "MS-DRG", "R-DRG", "S-DRG", "APS-DRG", "AP-DRG", "APR-DRG",
		"APC", "NDC", "HIPPS", "LOCAL", "EAPG", "CDT", "RC", "CDM", "TRIS-DRG", "CMG", "MS-LTC-DRG")
	settings      = set("inpatient", "outpatient", "both")
	methodologies = set("case rate", "fee schedule", "percent of total billed charges", "per diem", "other")
	drugTypes     = set("GR", "ME", "ML", "UN", "F2", "EA", "GM")
	billingClass  = set("professional", "facility", "both")
)

func set(vs ...string) map[string]string {
	m := make(map[string]string, len(vs))
	for _, v := range vs {
		m[strings.ToLower(v)] = v
	}
	return m
}

// enum returns the valid value s stands for ("cpt" -> "CPT").
func enum(valid map[string]string, s string) (string, bool) {
	v, ok := valid[strings.ToLower(strings.TrimSpace(s))]
	return v, ok
}

// parseAmount reads a numeric data element: digits with an optional
// decimal part, positive (the data dictionary counts 0 and negative
// numbers as deficiencies), no "$", thousands separators or exponent. It
// returns the canonical text: leading zeros and trailing decimal zeros
// dropped, nothing else changed.
func parseAmount(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if (intPart == "" && frac == "") || !digits(intPart) || (hasDot && (frac == "" || !digits(frac))) {
		return "", fmt.Errorf("%q is not a number (write digits only, without $, commas or spaces)", clip(s))
	}
	intPart = strings.TrimLeft(intPart, "0")
	frac = strings.TrimRight(frac, "0")
	if intPart == "" && frac == "" {
		return "", fmt.Errorf("%q: amounts must be greater than 0 (leave the cell empty when there is none)", clip(s))
	}
	switch {
	case intPart == "":
		return Amount("0." + frac), nil
	case frac == "":
		return Amount(intPart), nil
	}
	// intPart ends at the dot and frac starts after it: the canonical
	// text is a part of s (no copy, as most amounts are written so).
	dot := strings.IndexByte(s, '.')
	return Amount(s[dot-len(intPart) : dot+1+len(frac)]), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip keeps a quoted value in an error message short.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// parseDate reads last_updated_on: ISO 8601 (YYYY-MM-DD) as the data
// dictionary asks, and M/D/YYYY, which CMS's own tall example uses.
func parseDate(s string) (string, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", "1/2/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02"), nil
		}
	}
	return "", fmt.Errorf("last_updated_on %q is not a date (YYYY-MM-DD)", clip(s))
}

// validCount reads a v3 count of allowed amounts: "0", "1 through 10", or
// a whole number (11 or more, since smaller counts are reported as "1
// through 10").
func validCount(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || strings.EqualFold(s, "1 through 10") {
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n > 0
}

// checkItem applies the data dictionary's rules that span several
// elements of one item, and normalizes its valid values. report gets what
// is wrong and where (the item's place, or a rate's own CSV line).
func checkItem(it *Item, v2 bool, report func(where, msg string)) {
	problem := func(msg string) { report(it.Where, msg) }
	if it.Description == "" {
		problem("description is required")
	}
	if s, ok := enum(settings, it.Setting); ok {
		it.Setting = s
	} else if it.Setting == "" {
		problem("setting is required (inpatient, outpatient or both)")
	} else {
		problem(fmt.Sprintf("setting %q is not inpatient, outpatient or both", clip(it.Setting)))
	}
	for i := range it.Codes {
		c := &it.Codes[i]
		if t, ok := enum(codeTypes, c.Type); ok {
			c.Type = t
		} else {
			problem(fmt.Sprintf("code type %q is not a CMS code type (CPT, HCPCS, MS-DRG, RC, NDC, ...)", clip(c.Type)))
		}
	}
	if len(it.Codes) == 0 && len(it.Modifiers) == 0 {
		problem("an item needs at least one code with its type")
	}
	if it.DrugType != "" {
		if t, ok := enum(drugTypes, it.DrugType); ok {
			it.DrugType = t
		} else {
			problem(fmt.Sprintf("drug_type_of_measurement %q is not one of GR, ME, ML, UN, F2, EA, GM", clip(it.DrugType)))
		}
	}
	if it.DrugUnit.Set() != (it.DrugType != "") {
		problem("drug_unit_of_measurement and drug_type_of_measurement go together")
	}
	if it.BillingClass != "" {
		if b, ok := enum(billingClass, it.BillingClass); ok {
			it.BillingClass = b
		} else {
			problem(fmt.Sprintf("billing_class %q is not professional, facility or both", clip(it.BillingClass)))
		}
	}
	if !it.Modifier() && !it.Gross.Set() && !it.Cash.Set() && len(it.Rates) == 0 {
		problem("an item needs a gross charge, a discounted cash price or a payer-specific negotiated charge")
	}
	for i := range it.Rates {
		r := &it.Rates[i]
		where := r.where
		switch {
		case r.line > 0:
			where = "line " + strconv.Itoa(r.line)
		case where == "":
			where = it.Where
		}
		checkRate(r, it, v2, func(msg string) { report(where, msg) })
	}
}

func checkRate(r *Rate, it *Item, v2 bool, problem func(string)) {
	who := func() string { return r.Payer + " " + r.Plan }
	if r.Payer == "" || r.Plan == "" {
		problem("a payer-specific charge needs payer_name and plan_name")
	}
	if r.Methodology != "" {
		if m, ok := enum(methodologies, r.Methodology); ok {
			r.Methodology = m
		} else {
			problem(fmt.Sprintf("%s: methodology %q is not case rate, fee schedule, percent of total billed charges, per diem or other",
				who(), clip(r.Methodology)))
		}
	}
	charged := r.Dollar.Set() || r.Percentage.Set() || r.Algorithm != ""
	if it.Modifier() {
		if !charged && r.Notes == "" {
			problem(who() + ": a modifier needs its payment adjustment (a percentage or a note)")
		}
		return
	}
	if !charged {
		problem(who() + ": a negotiated dollar amount, percentage or algorithm is required")
		return
	}
	if r.Methodology == "" {
		problem(who() + ": methodology is required with a payer-specific negotiated charge")
	}
	if r.Methodology == "other" && r.Notes == "" && it.Notes == "" {
		problem(who() + ": methodology \"other\" needs an explanation in the notes")
	}
	if r.Count != "" && !validCount(r.Count) {
		problem(fmt.Sprintf("%s: count %q is not 0, \"1 through 10\" or a number", who(), clip(r.Count)))
	}
	if r.Dollar.Set() {
		return
	}
	// A charge known only as a percentage or an algorithm must say what
	// it came to in practice.
	if v2 {
		if !r.Estimated.Set() {
			problem(who() + ": estimated_amount is required when the charge is a percentage or an algorithm")
		}
		return
	}
	if r.Count == "" {
		problem(who() + ": count is required when the charge is a percentage or an algorithm")
	} else if strings.TrimSpace(r.Count) != "0" && (!r.Median.Set() || !r.P10.Set() || !r.P90.Set()) {
		problem(who() + ": median_amount, 10th_percentile and 90th_percentile are required when the charge is a percentage or an algorithm")
	}
}
