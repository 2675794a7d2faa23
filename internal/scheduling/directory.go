// Package scheduling is the clinic's directory and schedule (providers,
// locations, visit types, weekly templates, exceptions), free-slot search,
// and appointments, with booking behind a Backend: the built-in database or
// a FHIR R4 server.
//
// The directory is one small document (see Schedule), imported from YAML,
// CSV or JSON, validated as a whole, stored as a new version and compiled
// into a Directory that every replica caches by version.
package scheduling

import (
	"sort"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/textutil"
)

// Text is a sentence in several languages ({"en": ..., "es": ...}). A plain
// string in a file is English.
type Text map[string]string

// In returns the text in lang, else English, else any language.
func (t Text) In(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	if s := t["en"]; s != "" {
		return s
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if t[k] != "" {
			return t[k]
		}
	}
	return ""
}

// Schedule is the directory document as files and the JSON API give it.
type Schedule struct {
	// SlotMinutes is the booking grid: templates are cut into units of this
	// length and visit types last a whole number of them. Default 20.
	SlotMinutes int `json:"slot_minutes,omitempty" yaml:"slot_minutes"`
	// MinNoticeMinutes hides slots that start sooner than this. Default 60.
	MinNoticeMinutes int `json:"min_notice_minutes,omitempty" yaml:"min_notice_minutes"`
	// HorizonDays is how far ahead patients may book. Default 90.
	HorizonDays int `json:"horizon_days,omitempty" yaml:"horizon_days"`
	// LateCancelHours: cancelling or moving later than this before the
	// visit gets the late-cancellation warning. Default 24.
	LateCancelHours int            `json:"late_cancel_hours,omitempty" yaml:"late_cancel_hours"`
	Locations       []Location     `json:"locations" yaml:"locations"`
	VisitTypes      []VisitType    `json:"visit_types" yaml:"visit_types"`
	Providers       []Provider     `json:"providers" yaml:"providers"`
	Templates       []TemplateSpec `json:"templates" yaml:"templates"`
	Exceptions      []Exception    `json:"exceptions,omitempty" yaml:"exceptions"`
}

// Location is a place where providers see patients.
type Location struct {
	ID       string `json:"id" yaml:"id"`
	Name     string `json:"name" yaml:"name"`
	Address  string `json:"address" yaml:"address"`
	Phone    string `json:"phone,omitempty" yaml:"phone"`
	TimeZone string `json:"time_zone" yaml:"time_zone"`
	// Hours are opening hours per weekday, for telling patients ("mon": "08:00-17:00").
	Hours      map[string]string `json:"hours,omitempty" yaml:"hours"`
	Directions Text              `json:"directions,omitempty" yaml:"directions"`
	Line       int               `json:"-" yaml:"-"`
}

// VisitType is a kind of appointment.
type VisitType struct {
	ID         string `json:"id" yaml:"id"`
	Name       Text   `json:"name" yaml:"name"`
	Minutes    int    `json:"minutes" yaml:"minutes"`
	Telehealth bool   `json:"telehealth,omitempty" yaml:"telehealth"`
	// Bring is what to bring, shown in the confirmation and before the visit.
	Bring Text `json:"bring,omitempty" yaml:"bring"`
	// Words a patient may use for it ("follow-up", "seguimiento").
	Aliases []string `json:"aliases,omitempty" yaml:"aliases"`
	Line    int      `json:"-" yaml:"-"`
}

// Provider is a clinician patients can book with.
type Provider struct {
	ID         string   `json:"id" yaml:"id"`
	Name       string   `json:"name" yaml:"name"`
	Specialty  Text     `json:"specialty,omitempty" yaml:"specialty"`
	Languages  []string `json:"languages,omitempty" yaml:"languages"`
	Locations  []string `json:"locations" yaml:"locations"`
	VisitTypes []string `json:"visit_types,omitempty" yaml:"visit_types"`
	Bio        Text     `json:"bio,omitempty" yaml:"bio"`
	// Aliases are other names patients use ("Dr. Chen", "Emily").
	Aliases []string `json:"aliases,omitempty" yaml:"aliases"`
	// FHIRSchedule is the provider's Schedule on a FHIR server ("Schedule/123").
	FHIRSchedule string `json:"fhir_schedule,omitempty" yaml:"fhir_schedule"`
	Line         int    `json:"-" yaml:"-"`
}

// TemplateSpec is a provider's weekly hours at one location, valid between
// two optional dates (inclusive).
type TemplateSpec struct {
	Provider string `json:"provider" yaml:"provider"`
	Location string `json:"location" yaml:"location"`
	From     string `json:"from,omitempty" yaml:"from"`
	Until    string `json:"until,omitempty" yaml:"until"`
	// Hours per weekday: "mon": "08:00-12:00, 13:00-17:00".
	Hours map[string]string `json:"hours" yaml:"hours"`
	Line  int               `json:"-" yaml:"-"`
}

// Exception closes the schedule for a time: a holiday (no provider, no
// location: the whole clinic), a location closure, or a provider's leave.
// Dates are inclusive; Start and End narrow it to part of each day.
type Exception struct {
	Provider string `json:"provider,omitempty" yaml:"provider"`
	Location string `json:"location,omitempty" yaml:"location"`
	Date     string `json:"date" yaml:"date"`
	Until    string `json:"until,omitempty" yaml:"until"`
	Start    string `json:"start,omitempty" yaml:"start"`
	End      string `json:"end,omitempty" yaml:"end"`
	Reason   string `json:"reason,omitempty" yaml:"reason"`
	Line     int    `json:"-" yaml:"-"`
}

// Directory is a compiled, validated Schedule.
type Directory struct {
	Version   int64
	Schedule  Schedule
	unit      time.Duration
	locations map[string]*Location
	visits    map[string]*VisitType
	providers map[string]*Provider
	tz        map[string]*time.Location
	weekly    map[string][]window    // by provider
	byDay     map[string][7][]window // by provider, weekday, sorted by start
	closed    []closure
}

// window is a span of a weekday when a provider sees patients at a location.
type window struct {
	location   string
	weekday    time.Weekday
	start, end int // minutes since midnight
	from, to   string
}

// closure is a compiled exception (times resolved per day when checked).
type closure struct {
	provider, location string
	from, until        string // YYYY-MM-DD inclusive
	start, end         int    // minutes; 0, 1440 for whole days
}

// Unit is the booking grid's step.
func (d *Directory) Unit() time.Duration { return d.unit }

// Location returns a location by id.
func (d *Directory) Location(id string) (*Location, bool) { l, ok := d.locations[id]; return l, ok }

// VisitType returns a visit type by id.
func (d *Directory) VisitType(id string) (*VisitType, bool) { v, ok := d.visits[id]; return v, ok }

// Provider returns a provider by id.
func (d *Directory) Provider(id string) (*Provider, bool) { p, ok := d.providers[id]; return p, ok }

// TimeZone is a location's time zone.
func (d *Directory) TimeZone(location string) *time.Location {
	if tz := d.tz[location]; tz != nil {
		return tz
	}
	return time.UTC
}

// VisitTypes are the visit types in file order.
func (d *Directory) VisitTypes() []*VisitType {
	out := make([]*VisitType, 0, len(d.Schedule.VisitTypes))
	for i := range d.Schedule.VisitTypes {
		out = append(out, d.visits[d.Schedule.VisitTypes[i].ID])
	}
	return out
}

// Providers lists providers offering a visit type ("" for all), in file order.
func (d *Directory) Providers(visitType string) []*Provider {
	var out []*Provider
	for i := range d.Schedule.Providers {
		p := d.providers[d.Schedule.Providers[i].ID]
		if visitType == "" || p.Offers(visitType) {
			out = append(out, p)
		}
	}
	return out
}

// Offers reports whether the provider sees this visit type.
func (p *Provider) Offers(visitType string) bool {
	if len(p.VisitTypes) == 0 {
		return true
	}
	for _, v := range p.VisitTypes {
		if v == visitType {
			return true
		}
	}
	return false
}

// LateCancel is the cancellation policy's notice period.
func (d *Directory) LateCancel() time.Duration {
	return time.Duration(d.Schedule.LateCancelHours) * time.Hour
}

// MinNotice is the shortest notice a booking may have.
func (d *Directory) MinNotice() time.Duration {
	return time.Duration(d.Schedule.MinNoticeMinutes) * time.Minute
}

// Horizon is how far ahead booking is open.
func (d *Directory) Horizon() time.Duration {
	return time.Duration(d.Schedule.HorizonDays) * 24 * time.Hour
}

// FindProvider finds the provider a patient named in text ("Dr. Chen",
// "chen", "doctora Patel"); ok is false when none or several match.
func (d *Directory) FindProvider(text string) (*Provider, bool) {
	norm := textutil.Normalize(text)
	var found *Provider
	for i := range d.Schedule.Providers {
		p := d.providers[d.Schedule.Providers[i].ID]
		if providerMentioned(norm, p) {
			if found != nil && found != p {
				return nil, false
			}
			found = p
		}
	}
	return found, found != nil
}

func providerMentioned(norm string, p *Provider) bool {
	names := append([]string{p.Name, p.ID}, p.Aliases...)
	for _, n := range names {
		if textutil.HasPhrase(norm, textutil.Normalize(n)) {
			return true
		}
	}
	// The surname alone ("Chen" in "Dr. Emily Chen").
	words := textutil.Words(p.Name)
	if len(words) > 0 {
		last := words[len(words)-1]
		return len(last) >= 3 && textutil.HasPhrase(norm, last)
	}
	return false
}

// FindVisitType finds the visit type a patient named in text.
func (d *Directory) FindVisitType(text string) (*VisitType, bool) {
	norm := textutil.Normalize(text)
	for i := range d.Schedule.VisitTypes {
		v := d.visits[d.Schedule.VisitTypes[i].ID]
		names := append([]string{v.ID, strings.ReplaceAll(v.ID, "-", " ")}, v.Aliases...)
		for _, n := range v.Name {
			names = append(names, n)
		}
		for _, n := range names {
			if textutil.HasPhrase(norm, textutil.Normalize(n)) {
				return v, true
			}
		}
	}
	return nil, false
}
