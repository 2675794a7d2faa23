package patients

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/csvfile"
	"github.com/tend-health/tend/internal/store"
)

// LineError is one problem in an import file, by line.
type LineError struct {
	Line  int    `json:"line"`
	Field string `json:"field,omitempty"`
	Msg   string `json:"error"`
}

func (e LineError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// ImportError lists every problem found; nothing was imported.
type ImportError struct{ Errors []LineError }

func (e *ImportError) Error() string { return csvfile.Summary(e.Errors, 20) }

// maxErrors stops a hopeless file early.
const maxErrors = 200

// columns maps accepted header names to fields.
var columns = map[string]string{
	"external_id": "external_id", "mrn": "external_id", "id": "external_id",
	"first_name": "first_name", "last_name": "last_name",
	"date_of_birth": "birth_date", "birth_date": "birth_date", "dob": "birth_date",
	"phone": "phone", "email": "email", "language": "lang", "lang": "lang", "channel": "channel",
	"time_zone": "time_zone", "timezone": "time_zone",
	"consent_reminders": "consent_reminders", "consent_messages": "consent_messages",
	"last_provider": "last_provider", "last_provider_id": "last_provider", "sex": "sex",
}

var required = []string{"external_id", "first_name", "last_name", "birth_date"}

// sexes are the values of the optional sex column.
var sexes = map[string]bool{"": true, "F": true, "M": true, "X": true}

// Channels a patient may prefer.
var Channels = map[string]bool{"": true, "web": true, "telegram": true, "whatsapp": true, "sms": true, "email": true, "phone": true}

// ParseCSV reads a patient file (a header row, then one patient per row) and
// validates every row; on any problem it returns an *ImportError listing
// them all by line, and no patients.
func ParseCSV(r io.Reader, today time.Time) ([]Patient, error) {
	cr := csvfile.NewReader(r)
	header, line, problem := csvfile.ReadHeader(cr)
	if problem != "" {
		return nil, &ImportError{Errors: []LineError{{Line: line, Msg: problem}}}
	}
	idx, errs := headerIndex(header)
	if len(errs) > 0 {
		return nil, &ImportError{Errors: errs}
	}
	var out []Patient
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, csvError(err, 0))
			if len(errs) >= maxErrors {
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		p, perrs := rowPatient(rec, idx, line, today)
		if prev, dup := seen[p.ExternalID]; dup && p.ExternalID != "" {
			perrs = append(perrs, LineError{line, "external_id", fmt.Sprintf("%q appears again (first on line %d)", p.ExternalID, prev)})
		}
		seen[p.ExternalID] = line
		errs = append(errs, perrs...)
		if len(errs) >= maxErrors {
			break
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, &ImportError{Errors: errs}
	}
	return out, nil
}

func csvError(err error, line int) LineError {
	line, msg := csvfile.ErrorAt(err, line)
	return LineError{Line: line, Msg: msg}
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func headerIndex(header []string) (map[string]int, []LineError) {
	idx := map[string]int{}
	var errs []LineError
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		f, ok := columns[h]
		if !ok {
			errs = append(errs, LineError{1, h, "unknown column"})
			continue
		}
		if _, dup := idx[f]; dup {
			errs = append(errs, LineError{1, h, "column appears twice"})
		}
		idx[f] = i
	}
	for _, r := range required {
		if _, ok := idx[r]; !ok {
			errs = append(errs, LineError{1, r, "required column is missing"})
		}
	}
	_, hasPhone := idx["phone"]
	_, hasEmail := idx["email"]
	if !hasPhone && !hasEmail {
		errs = append(errs, LineError{1, "phone", "a phone or email column is required"})
	}
	return idx, errs
}

func rowPatient(rec []string, idx map[string]int, line int, today time.Time) (Patient, []LineError) {
	get := func(f string) string {
		if i, ok := idx[f]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var errs []LineError
	bad := func(field, format string, args ...any) {
		errs = append(errs, LineError{line, field, fmt.Sprintf(format, args...)})
	}
	p := Patient{ExternalID: get("external_id"), FirstName: get("first_name"), LastName: get("last_name"),
		Lang: strings.ToLower(get("lang")), Channel: strings.ToLower(get("channel")), TimeZone: get("time_zone"),
		LastProviderID: get("last_provider"), ConsentReminders: true, Sex: strings.ToUpper(get("sex"))}
	if !sexes[p.Sex] {
		bad("sex", "%q is not F, M or X", get("sex"))
	}
	for _, f := range []struct{ name, v string }{{"external_id", p.ExternalID}, {"first_name", p.FirstName}, {"last_name", p.LastName}} {
		if f.v == "" {
			bad(f.name, "is required")
		}
	}
	if dob := get("birth_date"); dob == "" {
		bad("date_of_birth", "is required")
	} else if d, err := ParseBirthDate(dob, "en", today); err != nil {
		bad("date_of_birth", "%q is not a past date like 1952-03-14 or 03/14/1952", dob)
	} else {
		p.BirthDate = d.String()
	}
	if raw := get("phone"); raw != "" {
		if p.Phone = NormalizePhone(raw); p.Phone == "" {
			bad("phone", "%q is not a phone number", raw)
		}
	}
	if raw := get("email"); raw != "" {
		if p.Email = NormalizeEmail(raw); p.Email == "" {
			bad("email", "%q is not an email address", raw)
		}
	}
	if get("phone") == "" && get("email") == "" {
		bad("phone", "a phone number or email is required to verify the patient")
	}
	if p.Lang != "" && p.Lang != "en" && p.Lang != "es" {
		bad("language", "%q is not en or es", p.Lang)
	}
	if !Channels[p.Channel] {
		bad("channel", "%q is not one of web, telegram, whatsapp, sms, email, phone", p.Channel)
	}
	if p.TimeZone != "" {
		if _, err := time.LoadLocation(p.TimeZone); err != nil {
			bad("time_zone", "%q is not a time zone like America/Chicago", p.TimeZone)
		}
	}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"consent_reminders", &p.ConsentReminders}, {"consent_messages", &p.ConsentMessages}} {
		v := strings.ToLower(get(f.name))
		switch v {
		case "":
		case "yes", "y", "true", "1", "si", "sí":
			*f.dst = true
		case "no", "n", "false", "0":
			*f.dst = false
		default:
			bad(f.name, "%q is not yes or no", v)
		}
	}
	return p, errs
}

// Import stores patients in one transaction (all or nothing), inserting new
// ones and updating those whose external id exists.
func Import(ctx context.Context, db *store.DB, ps []Patient, now time.Time) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		for i := range ps {
			if err := Upsert(ctx, tx.Q, &ps[i], now); err != nil {
				return err
			}
		}
		return nil
	})
}

// Validate checks patients given as JSON (the API) with the CSV rules;
// Line in the errors is the 1-based index in the list.
func Validate(ps []Patient, today time.Time) error {
	var errs []LineError
	seen := map[string]bool{}
	for i, p := range ps {
		rec := []string{p.ExternalID, p.FirstName, p.LastName, p.BirthDate, p.Phone, p.Email, p.Lang, p.Channel,
			p.TimeZone, yesNo(p.ConsentReminders), yesNo(p.ConsentMessages), p.LastProviderID, p.Sex}
		idx := map[string]int{"external_id": 0, "first_name": 1, "last_name": 2, "birth_date": 3, "phone": 4,
			"email": 5, "lang": 6, "channel": 7, "time_zone": 8, "consent_reminders": 9, "consent_messages": 10,
			"last_provider": 11, "sex": 12}
		np, perrs := rowPatient(rec, idx, i+1, today)
		if seen[np.ExternalID] {
			perrs = append(perrs, LineError{i + 1, "external_id", "appears twice"})
		}
		seen[np.ExternalID] = true
		errs = append(errs, perrs...)
		np.CreatedAt, np.UpdatedAt = p.CreatedAt, p.UpdatedAt
		ps[i] = np
	}
	if len(errs) > 0 {
		return &ImportError{Errors: errs}
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
