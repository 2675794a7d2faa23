package prices

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The CSV layouts: row 1 names the file's general data elements, row 2
// gives their values, row 3 names the data columns and every later row is
// data. Tall: one row per item and payer/plan (payer_name, plan_name).
// Wide: one row per item, a group of columns per payer and plan, named
// standard_charge|[payer]|[plan]|negotiated_dollar and so on.

// csvReader reads records with their line numbers, refusing what no
// spreadsheet should hold (NUL bytes, invalid UTF-8).
type csvReader struct {
	cr   *csv.Reader
	line int
}

// errStop ends a parse whose file cannot be read further (a CSV syntax
// error, a broken header row); the problem is in the report.
var errStop = errors.New("stop")

func (c *csvReader) read(rep *Report) ([]string, error) {
	rec, err := c.cr.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rep.problem("line "+strconv.Itoa(pe.Line), "not valid CSV: "+pe.Err.Error())
			return nil, errStop
		}
		return nil, err // io.EOF or a read error
	}
	c.line, _ = c.cr.FieldPos(0)
	for _, f := range rec {
		if strings.IndexByte(f, 0) >= 0 {
			rep.problem(c.where(), "contains a NUL byte (is this a binary or UTF-16 file? save it as UTF-8 CSV)")
			return nil, errStop
		}
		if !utf8.ValidString(f) {
			rep.problem(c.where(), "is not valid UTF-8 (save the file as UTF-8 CSV)")
			return nil, errStop
		}
	}
	return rec, nil
}

func (c *csvReader) where() string { return "line " + strconv.Itoa(c.line) }

func parseCSV(r io.Reader, emit func(*Item) error) (Report, error) {
	var rep Report
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // rows 1-2 and 3+ have their own widths
	cr.ReuseRecord = true
	c := &csvReader{cr: cr}
	err := parseCSVRows(c, &rep, emit)
	if errors.Is(err, errStop) {
		return rep, nil
	}
	if errors.Is(err, io.EOF) {
		rep.problem(c.where(), "the file ends before its header rows (rows 1-3)")
		return rep, nil
	}
	return rep, err
}

func parseCSVRows(c *csvReader, rep *Report, emit func(*Item) error) error {
	names, err := c.read(rep)
	if err != nil {
		return err
	}
	names = append([]string(nil), names...) // ReuseRecord
	values, err := c.read(rep)
	if err != nil {
		return err
	}
	if !readCSVGeneral(names, values, &rep.File, rep) {
		return errStop
	}
	header, err := c.read(rep)
	if err != nil {
		return err
	}
	cols, ok := readCSVHeader(header, rep.File.V2(), rep)
	if !ok {
		return errStop
	}
	rep.File.Format = cols.format
	width := len(header)
	var cur *Item
	var key, curKey []byte // of the tall layout's rows, reused
	flush := func() error {
		if cur == nil {
			return nil
		}
		it := cur
		cur = nil
		return finish(it, rep, emit)
	}
	for {
		rec, err := c.read(rep)
		if errors.Is(err, io.EOF) {
			return flush()
		}
		if err != nil {
			return err
		}
		if blank(rec) {
			continue
		}
		if len(rec) < width {
			rep.problem(c.where(), fmt.Sprintf("has %d columns, the header row (line 3) has %d", len(rec), width))
			continue
		}
		if cols.format == TallCSV && cur != nil && !cur.bad {
			// A row that continues a good item (the same item columns,
			// hence the same problems: none) only adds its rate.
			r, has, ok := cols.quickRate(rec, c.line)
			key = cols.appendItemKey(key[:0], rec, has)
			if ok && bytes.Equal(key, curKey) {
				if has {
					cur.Rates = append(cur.Rates, r)
				}
				continue
			}
		}
		before := rep.count()
		it, rates := cols.row(rec, c.line, rep)
		bad := rep.count() > before
		if cols.format == TallCSV {
			key = cols.appendItemKey(key[:0], rec, len(rates) > 0)
			if cur != nil && bytes.Equal(key, curKey) {
				cur.Rates = append(cur.Rates, rates...)
				cur.bad = cur.bad || bad
				continue
			}
		}
		if err := flush(); err != nil {
			return err
		}
		it.Rates, it.bad = rates, bad
		cur = it
		key, curKey = curKey, key
	}
}

// finish checks a complete item and hands it on, unless it has problems.
func finish(it *Item, rep *Report, emit func(*Item) error) error {
	before := rep.count()
	checkItem(it, rep.File.V2(), rep.problem)
	if it.bad || rep.count() > before {
		return nil
	}
	rep.Items++
	rep.Rates += len(it.Rates)
	return emit(it)
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// headerKey normalizes a column name: spaces around pipes and case do not
// count (the data dictionary says so). Payer and plan names keep their case
// in the parts.
func headerKey(h string) (key string, parts []string) {
	parts = strings.Split(h, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	lower := make([]string, len(parts))
	for i, p := range parts {
		lower[i] = strings.ToLower(p)
	}
	return strings.Join(lower, "|"), parts
}

// attestationStart is how the affirmation's column header begins.
const attestationStart = "to the best of its knowledge and belief"

// readCSVGeneral reads rows 1-2 into f; false when the file cannot be
// read further.
func readCSVGeneral(names, values []string, f *File, rep *Report) bool {
	got := map[string]string{}
	attested := false
	for i, n := range names {
		key, parts := headerKey(n)
		v := ""
		if i < len(values) {
			v = strings.TrimSpace(values[i])
		}
		switch {
		case key == "":
			continue
		case strings.HasPrefix(key, attestationStart):
			attested = true
			if b := strings.ToLower(v); b != "true" && b != "false" {
				rep.problem("line 2", fmt.Sprintf("the attestation is %q: it must be true or false", clip(v)))
			}
		case parts[0] == "license_number" || strings.EqualFold(parts[0], "license_number"):
			f.LicenseNumber = v
			if len(parts) == 2 {
				f.LicenseState = strings.ToUpper(parts[1])
			}
			got["license_number"] = v
		default:
			got[key] = v
		}
	}
	if _, ok := got["hospital_name"]; !ok {
		rep.problem("line 1", "row 1 must name the general data elements (hospital_name, last_updated_on, version, "+
			"location_name, hospital_address, license_number|[state], ...): hospital_name is missing")
		return false
	}
	f.Version = got["version"]
	required := []string{"hospital_name", "last_updated_on", "version", "hospital_address", "license_number"}
	if !f.V2() {
		required = append(required, "type_2_npi", "attester_name")
		if !attested {
			rep.problem("line 1", "the attestation column is missing")
		}
	}
	for _, k := range required {
		if _, ok := got[k]; !ok {
			rep.problem("line 1", "column "+k+" is missing")
		}
	}
	loc, hasLoc := got["location_name"]
	if !hasLoc {
		loc, hasLoc = got["hospital_location"] // v2.0's name
	}
	if !hasLoc {
		rep.problem("line 1", "column location_name is missing")
	}
	f.HospitalName = got["hospital_name"]
	if f.HospitalName == "" {
		rep.problem("line 2", "hospital_name is empty")
	}
	if f.Version == "" {
		rep.problem("line 2", "version is empty")
	} else if !strings.HasPrefix(f.Version, "2.") && !strings.HasPrefix(f.Version, "3.") {
		rep.problem("line 2", fmt.Sprintf("version %q is not a CMS template version this reads (2.x, 3.x)", clip(f.Version)))
	}
	if d, err := parseDate(got["last_updated_on"]); err != nil {
		rep.problem("line 2", err.Error())
	} else {
		f.LastUpdatedOn = d
	}
	f.Locations = splitPipes(loc)
	f.Addresses = splitPipes(got["hospital_address"])
	f.NPIs = splitPipes(got["type_2_npi"])
	f.Attester = got["attester_name"]
	f.Provisions = got["general_contract_provisions"]
	return true // later rows are read for their own problems
}

func splitPipes(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "|") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
