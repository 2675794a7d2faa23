// Package clinic holds the clinic's profile: its name, phone number, time
// zone and business hours, which the bot's sentences and schedules use.
package clinic

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Profile describes the clinic.
type Profile struct {
	Name      string `yaml:"name"`
	Phone     string `yaml:"phone"`
	Website   string `yaml:"website"`
	Address   string `yaml:"address"`
	TimeZone  string `yaml:"timezone"`
	Emergency string `yaml:"emergency_number"`
	Crisis    string `yaml:"crisis_line"`
	// Hours are the staffed hours per weekday ("mon": "08:00-17:00"); a
	// missing day is closed.
	Hours map[string]string `yaml:"hours"`
	// Holidays are dates (YYYY-MM-DD) when the clinic is closed.
	Holidays []string `yaml:"holidays"`

	loc   *time.Location
	hours map[time.Weekday][2]int // minutes since midnight
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Load reads a profile from a YAML file.
func Load(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("clinic profile: %w", err)
	}
	return Parse(data)
}

// Parse reads a profile from YAML and validates it.
func Parse(data []byte) (*Profile, error) {
	var p Profile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("clinic profile: %w", err)
	}
	if err := p.init(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Profile) init() error {
	var errs []error
	if strings.TrimSpace(p.Name) == "" {
		errs = append(errs, errors.New("clinic profile: name is required"))
	}
	if strings.TrimSpace(p.Phone) == "" {
		errs = append(errs, errors.New("clinic profile: phone is required"))
	}
	if p.Emergency == "" {
		p.Emergency = "911"
	}
	if p.Crisis == "" {
		p.Crisis = "988"
	}
	if p.TimeZone == "" {
		p.TimeZone = "UTC"
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		errs = append(errs, fmt.Errorf("clinic profile: timezone %q: %w", p.TimeZone, err))
	}
	p.loc = loc
	p.hours = map[time.Weekday][2]int{}
	for day, span := range p.Hours {
		wd, ok := weekdays[strings.ToLower(day)[:min(3, len(day))]]
		if !ok {
			errs = append(errs, fmt.Errorf("clinic profile: hours: unknown day %q", day))
			continue
		}
		from, to, err := parseSpan(span)
		if err != nil {
			errs = append(errs, fmt.Errorf("clinic profile: hours %s: %w", day, err))
			continue
		}
		p.hours[wd] = [2]int{from, to}
	}
	for _, h := range p.Holidays {
		if _, err := time.Parse("2006-01-02", h); err != nil {
			errs = append(errs, fmt.Errorf("clinic profile: holiday %q is not YYYY-MM-DD", h))
		}
	}
	return errors.Join(errs...)
}

func parseSpan(s string) (int, int, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not HH:MM-HH:MM", s)
	}
	from, err1 := time.Parse("15:04", strings.TrimSpace(a))
	to, err2 := time.Parse("15:04", strings.TrimSpace(b))
	if err1 != nil || err2 != nil || !to.After(from) {
		return 0, 0, fmt.Errorf("%q is not HH:MM-HH:MM", s)
	}
	return from.Hour()*60 + from.Minute(), to.Hour()*60 + to.Minute(), nil
}

// Location is the clinic's time zone.
func (p *Profile) Location() *time.Location { return p.loc }

// IsOpen reports whether t falls in staffed hours.
func (p *Profile) IsOpen(t time.Time) bool {
	lt := t.In(p.loc)
	if p.isHoliday(lt) {
		return false
	}
	span, ok := p.hours[lt.Weekday()]
	if !ok {
		return false
	}
	m := lt.Hour()*60 + lt.Minute()
	return m >= span[0] && m < span[1]
}

func (p *Profile) isHoliday(lt time.Time) bool {
	d := lt.Format("2006-01-02")
	for _, h := range p.Holidays {
		if h == d {
			return true
		}
	}
	return false
}

// NextOpening returns when staffed hours next begin at or after t (t itself
// when open); the zero time when the clinic has no hours at all.
func (p *Profile) NextOpening(t time.Time) time.Time {
	if p.IsOpen(t) {
		return t
	}
	lt := t.In(p.loc)
	for d := 0; d <= 14; d++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()+d, 0, 0, 0, 0, p.loc)
		span, ok := p.hours[day.Weekday()]
		if !ok || p.isHoliday(day) {
			continue
		}
		open := day.Add(time.Duration(span[0]) * time.Minute)
		if open.After(lt) || open.Equal(lt) {
			return open
		}
	}
	return time.Time{}
}

// TemplateData is what every catalog message can refer to.
func (p *Profile) TemplateData() map[string]any {
	return map[string]any{
		"Clinic": p.Name, "Phone": p.Phone, "Website": p.Website, "Address": p.Address,
		"Emergency": p.Emergency, "Crisis": p.Crisis,
	}
}
