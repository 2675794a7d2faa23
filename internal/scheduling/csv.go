package scheduling

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tend-health/tend/internal/csvfile"
)

// csvColumns lists, per record kind, the columns it reads. A cell filled in
// a column its record does not read is reported, since it is most likely a
// value in the wrong column.
var csvColumns = map[string][]string{
	"setting":    {"key", "value"},
	"location":   {"id", "name", "address", "phone", "time_zone", "hours", "directions", "directions_es"},
	"visit_type": {"id", "name", "name_es", "minutes", "telehealth", "bring", "bring_es", "aliases"},
	"provider": {"id", "name", "specialty", "specialty_es", "languages", "locations", "visit_types", "bio", "bio_es",
		"aliases", "fhir_schedule"},
	"template":  {"provider", "location", "day", "start", "end", "from", "until"},
	"exception": {"provider", "location", "date", "until", "start", "end", "reason"},
}

// ParseCSV reads the CSV form: a header row, then one record per row, its
// kind in the "record" column (setting, location, visit_type, provider,
// template, exception). Lists inside a cell are separated by "|".
func ParseCSV(r io.Reader) (Schedule, error) {
	var s Schedule
	cr := csvfile.NewReader(r)
	header, line, problem := csvfile.ReadHeader(cr)
	if problem != "" {
		return s, &ImportError{Errors: []LineError{{Line: line, Msg: problem}}}
	}
	idx, errs := csvHeader(header)
	if len(errs) > 0 {
		return s, &ImportError{Errors: errs}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, csvLineError(err, 0))
			if len(errs) > 200 {
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		errs = append(errs, csvRecord(&s, rec, idx, line)...)
		if len(errs) > 200 {
			break
		}
	}
	if len(errs) > 0 {
		return Schedule{}, &ImportError{Errors: errs}
	}
	return s, nil
}

func csvLineError(err error, line int) LineError {
	line, msg := csvfile.ErrorAt(err, line)
	return LineError{Line: line, Msg: msg}
}

func csvHeader(header []string) (map[string]int, []LineError) {
	known := map[string]bool{"record": true}
	for _, cols := range csvColumns {
		for _, c := range cols {
			known[c] = true
		}
	}
	idx := map[string]int{}
	var errs []LineError
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !known[h] {
			errs = append(errs, LineError{Line: 1, Path: h, Msg: "unknown column"})
			continue
		}
		if _, dup := idx[h]; dup {
			errs = append(errs, LineError{Line: 1, Path: h, Msg: "column appears twice"})
		}
		idx[h] = i
	}
	if _, ok := idx["record"]; !ok {
		errs = append(errs, LineError{Line: 1, Path: "record", Msg: "required column is missing"})
	}
	return idx, errs
}

type csvRow struct {
	rec  []string
	idx  map[string]int
	line int
	errs []LineError
}

func (r *csvRow) get(col string) string {
	if i, ok := r.idx[col]; ok && i < len(r.rec) {
		return strings.TrimSpace(r.rec[i])
	}
	return ""
}

func (r *csvRow) bad(col, format string, args ...any) {
	r.errs = append(r.errs, LineError{Line: r.line, Path: col, Msg: fmt.Sprintf(format, args...)})
}

func (r *csvRow) text(col string) Text {
	t := Text{}
	if v := r.get(col); v != "" {
		t["en"] = v
	}
	if v := r.get(col + "_es"); v != "" {
		t["es"] = v
	}
	if len(t) == 0 {
		return nil
	}
	return t
}

func (r *csvRow) list(col string) []string {
	v := r.get(col)
	if v == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v, "|") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (r *csvRow) int(col string) int {
	v := r.get(col)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		r.bad(col, "%q is not a whole number", v)
	}
	return n
}

func csvRecord(s *Schedule, rec []string, idx map[string]int, line int) []LineError {
	r := &csvRow{rec: rec, idx: idx, line: line}
	kind := strings.ToLower(r.get("record"))
	if kind == "" && blankRow(rec) {
		return nil
	}
	cols, ok := csvColumns[kind]
	if !ok {
		r.bad("record", "%q is not one of setting, location, visit_type, provider, template, exception", kind)
		return r.errs
	}
	allowed := map[string]bool{"record": true}
	for _, c := range cols {
		allowed[c] = true
	}
	for col := range idx {
		if !allowed[col] && r.get(col) != "" {
			r.bad(col, "a %s record has no %s", kind, col)
		}
	}
	switch kind {
	case "setting":
		csvSetting(s, r)
	case "location":
		s.Locations = append(s.Locations, Location{ID: r.get("id"), Name: r.get("name"), Address: r.get("address"),
			Phone: r.get("phone"), TimeZone: r.get("time_zone"), Hours: csvHours(r), Directions: r.text("directions"), Line: line})
	case "visit_type":
		tele := strings.ToLower(r.get("telehealth"))
		s.VisitTypes = append(s.VisitTypes, VisitType{ID: r.get("id"), Name: r.text("name"), Minutes: r.int("minutes"),
			Telehealth: tele == "yes" || tele == "true" || tele == "1", Bring: r.text("bring"), Aliases: r.list("aliases"), Line: line})
	case "provider":
		s.Providers = append(s.Providers, Provider{ID: r.get("id"), Name: r.get("name"), Specialty: r.text("specialty"),
			Languages: r.list("languages"), Locations: r.list("locations"), VisitTypes: r.list("visit_types"),
			Bio: r.text("bio"), Aliases: r.list("aliases"), FHIRSchedule: r.get("fhir_schedule"), Line: line})
	case "template":
		span := r.get("start") + "-" + r.get("end")
		s.Templates = append(s.Templates, TemplateSpec{Provider: r.get("provider"), Location: r.get("location"),
			From: r.get("from"), Until: r.get("until"), Hours: map[string]string{r.get("day"): span}, Line: line})
	case "exception":
		s.Exceptions = append(s.Exceptions, Exception{Provider: r.get("provider"), Location: r.get("location"),
			Date: r.get("date"), Until: r.get("until"), Start: r.get("start"), End: r.get("end"), Reason: r.get("reason"), Line: line})
	}
	return r.errs
}

func blankRow(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func csvSetting(s *Schedule, r *csvRow) {
	n := r.int("value")
	switch key := r.get("key"); key {
	case "slot_minutes":
		s.SlotMinutes = n
	case "min_notice_minutes":
		s.MinNoticeMinutes = n
	case "horizon_days":
		s.HorizonDays = n
	case "late_cancel_hours":
		s.LateCancelHours = n
	default:
		r.bad("key", "%q is not slot_minutes, min_notice_minutes, horizon_days or late_cancel_hours", key)
	}
}

// csvHours reads "mon=08:00-17:00|tue=08:00-17:00".
func csvHours(r *csvRow) map[string]string {
	items := r.list("hours")
	if len(items) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, it := range items {
		day, span, ok := strings.Cut(it, "=")
		if !ok {
			r.bad("hours", "%q is not day=HH:MM-HH:MM", it)
			continue
		}
		out[strings.TrimSpace(day)] = strings.TrimSpace(span)
	}
	return out
}
