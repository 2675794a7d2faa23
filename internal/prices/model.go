// Package prices reads a clinic's or hospital's price-transparency file
// (45 CFR 180: the CMS machine-readable file, v3.0.0 and the older v2.x,
// in JSON, tall CSV or wide CSV), keeps it in the store as one price list
// per file, and finds its items by code or by plain words, so that cost
// questions are answered from the clinic's own figures instead of prose.
//
// Files run to several gigabytes: the parsers stream (one item in memory
// at a time) and hand each item to a callback; the store writes items in
// batches inside one transaction, so a failed import changes nothing.
package prices

import (
	"strings"
)

// Format is a file's layout.
type Format string

// The layouts CMS allows.
const (
	JSON     Format = "json"
	TallCSV  Format = "csv-tall"
	WideCSV  Format = "csv-wide"
	anyCSV   Format = "csv" // tall or wide: decided by the header row
	noFormat Format = ""
)

// File is what a file says about itself (CSV rows 1-2, JSON top level).
type File struct {
	Format        Format
	Version       string // CMS template version, "3.0.0"
	HospitalName  string
	LastUpdatedOn string   // YYYY-MM-DD
	Locations     []string // location_name, in file order
	Addresses     []string // hospital_address, in the order of Locations
	LicenseNumber string
	LicenseState  string
	NPIs          []string // type_2_npi
	Attester      string
	// Provisions are the general contract provisions (v3), one per payer
	// in JSON, one text in CSV.
	Provisions string
}

// V2 reports a v2.x file (estimated_amount instead of median and
// percentiles, no attester).
func (f File) V2() bool { return strings.HasPrefix(f.Version, "2") }

// Code is one billing or accounting code of an item with its type
// ("70551", "CPT").
type Code struct {
	Code string `json:"code"`
	Type string `json:"type"`
}

// String is "CPT 70551".
func (c Code) String() string { return c.Type + " " + c.Code }

// Amount is a figure exactly as the file states it, in canonical decimal
// form ("1200", "0.75", "23123.46"; "" when the file states none). It is
// never converted to a float, so it is never rounded.
type Amount string

// Set reports a stated figure.
func (a Amount) Set() bool { return a != "" }

// Item is one item or service with its standard charges in one setting:
// a JSON standard_charges[] entry, a group of consecutive tall-CSV rows,
// or a wide-CSV row. A modifier (JSON modifier_information, a CSV row with
// modifiers and no code) is an Item with Modifiers and no Codes.
type Item struct {
	// Where is the CSV line or JSON path the item starts at.
	Where       string
	Description string
	Codes       []Code
	Setting     string // inpatient, outpatient, both
	Modifiers   []string
	DrugUnit    Amount
	DrugType    string // GR, ME, ML, UN, F2, EA, GM
	Gross       Amount
	Cash        Amount // discounted cash price
	Min, Max    Amount // de-identified minimum and maximum negotiated charge
	Notes       string // additional_generic_notes
	// BillingClass is the optional professional / facility / both.
	BillingClass string
	Rates        []Rate

	bad bool // a row of the item had a problem: the item is not emitted
}

// Modifier reports a modifier's entry (a payment adjustment, not a
// service).
func (it Item) Modifier() bool { return len(it.Codes) == 0 && len(it.Modifiers) > 0 }

// Rate is one payer's and plan's negotiated charge for an item.
type Rate struct {
	Payer       string
	Plan        string
	Dollar      Amount
	Percentage  Amount // 80 means 80 %
	Algorithm   string
	Methodology string // case rate, fee schedule, percent of total billed charges, per diem, other
	Median      Amount // v3: median allowed amount
	P10, P90    Amount // v3: 10th and 90th percentile allowed amounts
	Count       string // v3: how many claims ("1 through 10" or a number)
	Estimated   Amount // v2: estimated allowed amount
	Notes       string // additional payer-specific notes

	where string // the JSON path of the rate
	line  int    // or the tall-CSV line of the rate's own row
}

// Problem is one way a file breaks the format, where it does.
type Problem struct {
	Where   string // "line 12", "standard_charge_information[3].code_information[0].type"
	Message string
}

func (p Problem) String() string {
	if p.Where == "" {
		return p.Message
	}
	return p.Where + ": " + p.Message
}
