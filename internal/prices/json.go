package prices

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The JSON layout: one object with the general data elements and the
// array standard_charge_information, each entry an item with its codes and
// one standard_charges entry per setting; modifier_information lists the
// modifiers. The array is read one entry at a time (json.Decoder tokens),
// so a file of any size is never held in memory.

type jsonEntry struct {
	Description string     `json:"description"`
	Drug        *jsonDrug  `json:"drug_information"`
	Codes       []Code     `json:"code_information"`
	Charges     []jsonRate `json:"standard_charges"`
}

type jsonDrug struct {
	Unit jsonAmount `json:"unit"`
	Type string     `json:"type"`
}

type jsonRate struct {
	Setting      string      `json:"setting"`
	Minimum      jsonAmount  `json:"minimum"`
	Maximum      jsonAmount  `json:"maximum"`
	Gross        jsonAmount  `json:"gross_charge"`
	Cash         jsonAmount  `json:"discounted_cash"`
	Modifiers    []string    `json:"modifier_code"`
	BillingClass string      `json:"billing_class"`
	Notes        string      `json:"additional_generic_notes"`
	Payers       []jsonPayer `json:"payers_information"`
}

type jsonPayer struct {
	Payer       string     `json:"payer_name"`
	Plan        string     `json:"plan_name"`
	Methodology string     `json:"methodology"`
	Notes       string     `json:"additional_payer_notes"`
	Dollar      jsonAmount `json:"standard_charge_dollar"`
	Percentage  jsonAmount `json:"standard_charge_percentage"`
	Algorithm   string     `json:"standard_charge_algorithm"`
	Median      jsonAmount `json:"median_amount"`
	P10         jsonAmount `json:"10th_percentile"`
	P90         jsonAmount `json:"90th_percentile"`
	Count       jsonText   `json:"count"`
	Estimated   jsonAmount `json:"estimated_amount"`
}

type jsonModifier struct {
	Description string `json:"description"`
	Code        string `json:"code"`
	Setting     string `json:"setting"`
	Payers      []struct {
		Payer       string `json:"payer_name"`
		Plan        string `json:"plan_name"`
		Description string `json:"description"`
	} `json:"modifier_payer_information"`
}

// jsonAmount is a numeric data element as written: checked when the item
// is assembled, so that a string where a number belongs is a problem at
// its path rather than the end of the parse.
type jsonAmount struct {
	raw    string
	quoted bool
}

func (a *jsonAmount) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		a.raw, a.quoted = s, true
		return nil
	}
	a.raw = string(b)
	return nil
}

// jsonText is a string element some files write as a number (count).
type jsonText string

func (t *jsonText) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		*t = jsonText(s)
		return err
	}
	if !bytes.Equal(b, []byte("null")) {
		*t = jsonText(b)
	}
	return nil
}

type jsonGeneral struct {
	seen map[string]bool
}

func parseJSON(r io.Reader, emit func(*Item) error) (Report, error) {
	var rep Report
	dec := json.NewDecoder(r)
	g := jsonGeneral{seen: map[string]bool{}}
	err := parseJSONObject(dec, &rep, &g, emit)
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		rep.problem("byte "+strconv.FormatInt(se.Offset, 10), "not valid JSON: "+se.Error())
		return rep, nil
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		rep.problem("byte "+strconv.FormatInt(dec.InputOffset(), 10), "the JSON ends early")
		return rep, nil
	case errors.Is(err, errStop):
		return rep, nil
	case err != nil:
		return rep, err
	}
	required := []string{"hospital_name", "last_updated_on", "version", "hospital_address", "license_information",
		"standard_charge_information"}
	if !rep.File.V2() {
		required = append(required, "attestation", "type_2_npi")
	}
	if !g.seen["location_name"] && !g.seen["hospital_location"] {
		rep.problem("$", "location_name is required")
	}
	for _, k := range required {
		if !g.seen[k] {
			rep.problem("$", k+" is required")
		}
	}
	return rep, nil
}

func parseJSONObject(dec *json.Decoder, rep *Report, g *jsonGeneral, emit func(*Item) error) error {
	if err := expectDelim(dec, '{', "$", rep); err != nil {
		return err
	}
	f := &rep.File
	f.Format = JSON
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		g.seen[key] = true
		switch key {
		case "standard_charge_information":
			err = eachElement(dec, "$."+key, rep, func(path string) error { return readEntry(dec, path, rep, emit) })
		case "modifier_information":
			err = eachElement(dec, "$."+key, rep, func(path string) error { return readModifier(dec, path, rep, emit) })
		default:
			err = readGeneral(dec, key, f, rep)
		}
		if err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

func expectDelim(dec *json.Decoder, want json.Delim, path string, rep *Report) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		rep.problem(path, fmt.Sprintf("expected %q", string(want)))
		return errStop
	}
	return nil
}

// eachElement calls fn for each element of the array the decoder is at.
func eachElement(dec *json.Decoder, path string, rep *Report, fn func(path string) error) error {
	if err := expectDelim(dec, '[', path, rep); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		if err := fn(path + "[" + strconv.Itoa(i) + "]"); err != nil {
			return err
		}
	}
	_, err := dec.Token() // ']'
	return err
}

// decodeAt decodes one value; a value of the wrong type is a problem at
// its path (the decoder has read past it), anything else stops the parse.
func decodeAt(dec *json.Decoder, v any, path string, rep *Report) (bool, error) {
	err := dec.Decode(v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		where := path
		if te.Field != "" {
			where += "." + te.Field
		}
		rep.problem(where, fmt.Sprintf("is a JSON %s where %s belongs", te.Value, jsonType(te.Type.String())))
		return false, nil
	}
	return err == nil, err
}

func jsonType(goType string) string {
	switch {
	case strings.Contains(goType, "string"):
		return "text"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

func readGeneral(dec *json.Decoder, key string, f *File, rep *Report) error {
	path := "$." + key
	var err error
	ok := true
	switch key {
	case "hospital_name":
		ok, err = decodeAt(dec, &f.HospitalName, path, rep)
	case "version":
		if ok, err = decodeAt(dec, &f.Version, path, rep); ok && !strings.HasPrefix(f.Version, "2.") &&
			!strings.HasPrefix(f.Version, "3.") {
			rep.problem(path, fmt.Sprintf("version %q is not a CMS template version this reads (2.x, 3.x)", clip(f.Version)))
		}
	case "last_updated_on":
		var s string
		if ok, err = decodeAt(dec, &s, path, rep); ok {
			if f.LastUpdatedOn, err = parseDate(s); err != nil {
				rep.problem(path, err.Error())
				err = nil
			}
		}
	case "location_name", "hospital_location":
		ok, err = decodeAt(dec, &f.Locations, path, rep)
	case "hospital_address":
		ok, err = decodeAt(dec, &f.Addresses, path, rep)
	case "type_2_npi":
		ok, err = decodeAt(dec, &f.NPIs, path, rep)
	case "license_information":
		var li struct {
			Number string `json:"license_number"`
			State  string `json:"state"`
		}
		if ok, err = decodeAt(dec, &li, path, rep); ok {
			f.LicenseNumber, f.LicenseState = li.Number, li.State
		}
	case "attestation":
		var a struct {
			Confirm *bool  `json:"confirm_attestation"`
			Name    string `json:"attester_name"`
		}
		if ok, err = decodeAt(dec, &a, path, rep); ok {
			f.Attester = a.Name
			if a.Confirm == nil {
				rep.problem(path+".confirm_attestation", "is required (true or false)")
			}
		}
	case "general_contract_provisions":
		var ps []struct {
			Payer      string `json:"payer_name"`
			Provisions string `json:"provisions"`
		}
		if ok, err = decodeAt(dec, &ps, path, rep); ok {
			var parts []string
			for _, p := range ps {
				parts = append(parts, p.Provisions)
			}
			f.Provisions = strings.Join(parts, " ")
		}
	default:
		var skip json.RawMessage // the hospital's own elements
		err = dec.Decode(&skip)
	}
	_ = ok
	return err
}

func readEntry(dec *json.Decoder, path string, rep *Report, emit func(*Item) error) error {
	var e jsonEntry
	ok, err := decodeAt(dec, &e, path, rep)
	if !ok || err != nil {
		return err
	}
	if len(e.Charges) == 0 {
		rep.problem(path+".standard_charges", "is required (at least one setting with its charges)")
		return nil
	}
	for k, sc := range e.Charges {
		where := path + ".standard_charges[" + strconv.Itoa(k) + "]"
		before := rep.count()
		amount := func(field string, a jsonAmount) Amount { return checkJSONAmount(a, where+"."+field, rep) }
		it := &Item{Where: where, Description: strings.TrimSpace(e.Description), Setting: sc.Setting,
			Codes: append([]Code(nil), e.Codes...), Modifiers: sc.Modifiers, BillingClass: sc.BillingClass,
			Gross: amount("gross_charge", sc.Gross), Cash: amount("discounted_cash", sc.Cash),
			Min: amount("minimum", sc.Minimum), Max: amount("maximum", sc.Maximum), Notes: strings.TrimSpace(sc.Notes)}
		for i, c := range it.Codes {
			it.Codes[i] = Code{Code: strings.TrimSpace(c.Code), Type: strings.TrimSpace(c.Type)}
			if it.Codes[i].Code == "" {
				rep.problem(path+".code_information["+strconv.Itoa(i)+"].code", "is required")
			}
		}
		if e.Drug != nil {
			it.DrugUnit = checkJSONAmount(e.Drug.Unit, path+".drug_information.unit", rep)
			it.DrugType = e.Drug.Type
		}
		for m, p := range sc.Payers {
			pw := where + ".payers_information[" + strconv.Itoa(m) + "]"
			pa := func(field string, a jsonAmount) Amount { return checkJSONAmount(a, pw+"."+field, rep) }
			it.Rates = append(it.Rates, Rate{Payer: strings.TrimSpace(p.Payer), Plan: strings.TrimSpace(p.Plan),
				Dollar: pa("standard_charge_dollar", p.Dollar), Percentage: pa("standard_charge_percentage", p.Percentage),
				Algorithm: strings.TrimSpace(p.Algorithm), Methodology: p.Methodology, Median: pa("median_amount", p.Median),
				P10: pa("10th_percentile", p.P10), P90: pa("90th_percentile", p.P90), Count: strings.TrimSpace(string(p.Count)),
				Estimated: pa("estimated_amount", p.Estimated), Notes: strings.TrimSpace(p.Notes), where: pw})
		}
		it.bad = rep.count() > before
		if err := finish(it, rep, emit); err != nil {
			return err
		}
	}
	return nil
}

func checkJSONAmount(a jsonAmount, path string, rep *Report) Amount {
	if a.raw == "" && !a.quoted {
		return ""
	}
	if a.quoted {
		rep.problem(path, fmt.Sprintf("%q is text: write the amount as a JSON number", clip(a.raw)))
		return ""
	}
	v, err := parseAmount(a.raw)
	if err != nil {
		rep.problem(path, err.Error())
	}
	return v
}

func readModifier(dec *json.Decoder, path string, rep *Report, emit func(*Item) error) error {
	var m jsonModifier
	ok, err := decodeAt(dec, &m, path, rep)
	if !ok || err != nil {
		return err
	}
	it := &Item{Where: path, Description: strings.TrimSpace(m.Description), Setting: m.Setting,
		Modifiers: splitPipes(m.Code)}
	if len(it.Modifiers) == 0 {
		rep.problem(path+".code", "is required")
		return nil
	}
	for i, p := range m.Payers {
		it.Rates = append(it.Rates, Rate{Payer: strings.TrimSpace(p.Payer), Plan: strings.TrimSpace(p.Plan),
			Notes: strings.TrimSpace(p.Description), where: path + ".modifier_payer_information[" + strconv.Itoa(i) + "]"})
	}
	return finish(it, rep, emit)
}
