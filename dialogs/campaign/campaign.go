package campaign

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/tend-health/tend/internal/quiet"
	"github.com/tend-health/tend/internal/strictyaml"
)

// Campaign is an outreach campaign: who (an audience over the patient
// registry), what (a message per language with buttons), how (channels in
// order of preference), when (dates and a daily send window) and how often
// (a cap per patient across all campaigns).
type Campaign struct {
	ID       string            `yaml:"id" json:"id"`
	Name     string            `yaml:"name" json:"name"`
	Audience Audience          `yaml:"audience" json:"audience"`
	Message  map[string]string `yaml:"message" json:"message"`
	Buttons  []string          `yaml:"buttons" json:"buttons,omitempty"`
	Channels []string          `yaml:"channels" json:"channels,omitempty"`
	Window   Window            `yaml:"window" json:"window"`
	Starts   string            `yaml:"starts" json:"starts,omitempty"`
	Ends     string            `yaml:"ends" json:"ends,omitempty"`
	Cap      Cap               `yaml:"frequency_cap" json:"frequency_cap"`
	// PerSecond throttles sends per channel (default 10).
	PerSecond float64 `yaml:"per_second" json:"per_second,omitempty"`
}

// Audience filters the registry; every condition given must hold.
type Audience struct {
	MinAge int      `yaml:"min_age" json:"min_age,omitempty"`
	MaxAge int      `yaml:"max_age" json:"max_age,omitempty"`
	Sex    []string `yaml:"sex" json:"sex,omitempty"`
	// VisitedWithinDays: seen at least once in the last N days.
	VisitedWithinDays int `yaml:"visited_within_days" json:"visited_within_days,omitempty"`
	// NotVisitedWithinDays: not seen in the last N days (or never).
	NotVisitedWithinDays int       `yaml:"not_visited_within_days" json:"not_visited_within_days,omitempty"`
	Languages            []string  `yaml:"languages" json:"languages,omitempty"`
	Due                  []DueRule `yaml:"due" json:"due,omitempty"`
	Patients             []string  `yaml:"patients" json:"patients,omitempty"` // record numbers, for a pilot
}

// DueRule is a condition on an imported due item ("mammogram", "refill").
type DueRule struct {
	Item string `yaml:"item" json:"item"`
	// NotDoneWithinDays: last done more than N days ago, or never recorded.
	NotDoneWithinDays int `yaml:"not_done_within_days" json:"not_done_within_days,omitempty"`
	// DueWithinDays: due in the next N days (or up to 30 days overdue).
	DueWithinDays int `yaml:"due_within_days" json:"due_within_days,omitempty"`
}

// Window is when messages may go out, in the patient's time zone, on top
// of quiet hours.
type Window struct {
	Days  []string `yaml:"days" json:"days,omitempty"` // mon..sun; empty: every day
	Start string   `yaml:"start" json:"start,omitempty"`
	End   string   `yaml:"end" json:"end,omitempty"`
}

// Cap limits campaign messages per patient, across all campaigns.
type Cap struct {
	Max     int `yaml:"max" json:"max,omitempty"`
	PerDays int `yaml:"per_days" json:"per_days,omitempty"`
}

// Buttons a campaign may offer.
const (
	ButtonBook   = "book"           // starts the booking dialog
	ButtonLater  = "later"          // remind me in a few days (once)
	ButtonNo     = "not_interested" // nothing more about this campaign
	ButtonRefill = "refill"         // a refill request for staff
)

var (
	buttonNames = []string{ButtonBook, ButtonLater, ButtonNo, ButtonRefill}
	channelList = []string{"whatsapp", "telegram", "web"}
	dayNames    = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	idRe        = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,47}$`)
	sexes       = []string{"F", "M", "X"}
)

// LoadFile reads a campaign file (.yaml, .yml or .json).
func LoadFile(path string) (*Campaign, error) { return strictyaml.LoadFile(path, Parse) }

// Parse reads and validates a campaign; the error lists every problem.
func Parse(data []byte, source string) (*Campaign, error) {
	var c Campaign
	if err := strictyaml.Decode(data, &c); err != nil {
		return nil, fmt.Errorf("campaign %s: %w", source, err)
	}
	if errs := c.validate(); len(errs) > 0 {
		return nil, fmt.Errorf("campaign %s: %d problem(s):\n  %s", source, len(errs), strings.Join(errs, "\n  "))
	}
	c.defaults()
	return &c, nil
}

func (c *Campaign) defaults() {
	if len(c.Channels) == 0 {
		c.Channels = channelList
	}
	if c.PerSecond <= 0 {
		c.PerSecond = 10
	}
	if c.Cap.Max == 0 {
		c.Cap = Cap{Max: 1, PerDays: 7}
	}
	for i, s := range c.Audience.Sex {
		c.Audience.Sex[i] = strings.ToUpper(s)
	}
}

func (c *Campaign) validate() []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if !idRe.MatchString(c.ID) {
		bad("id: %q must be 1-48 of a-z, 0-9 and -", c.ID)
	}
	if strings.TrimSpace(c.Name) == "" {
		bad("name is missing")
	}
	if c.Message["en"] == "" {
		bad("message.en is missing (English is the fallback)")
	}
	for lang, text := range c.Message {
		if err := checkTemplate(text); err != nil {
			bad("message.%s: %v", lang, err)
		}
	}
	for i, b := range c.Buttons {
		if !slices.Contains(buttonNames, b) {
			bad("buttons[%d]: %q must be one of %s", i, b, strings.Join(buttonNames, ", "))
		}
	}
	for i, ch := range c.Channels {
		if !slices.Contains(channelList, ch) {
			bad("channels[%d]: %q must be one of %s", i, ch, strings.Join(channelList, ", "))
		}
	}
	errs = append(errs, c.Audience.validate()...)
	errs = append(errs, c.Window.validate()...)
	for _, d := range []struct{ name, v string }{{"starts", c.Starts}, {"ends", c.Ends}} {
		if d.v != "" {
			if _, err := time.Parse(time.DateOnly, d.v); err != nil {
				bad("%s: %q must be a date like 2026-10-01", d.name, d.v)
			}
		}
	}
	if c.Cap.Max < 0 || c.Cap.PerDays < 0 || (c.Cap.Max > 0 && c.Cap.PerDays == 0) {
		bad("frequency_cap: max and per_days must both be positive")
	}
	return errs
}

func (a Audience) validate() []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if a.MinAge < 0 || a.MaxAge < 0 || (a.MaxAge > 0 && a.MaxAge < a.MinAge) {
		bad("audience: min_age %d and max_age %d do not make a range", a.MinAge, a.MaxAge)
	}
	for i, s := range a.Sex {
		if !slices.Contains(sexes, strings.ToUpper(s)) {
			bad("audience.sex[%d]: %q must be F, M or X", i, s)
		}
	}
	for i, d := range a.Due {
		switch {
		case d.Item == "":
			bad("audience.due[%d]: item is missing", i)
		case (d.NotDoneWithinDays > 0) == (d.DueWithinDays > 0):
			bad("audience.due[%d] (%s): give exactly one of not_done_within_days and due_within_days", i, d.Item)
		}
	}
	return errs
}

func (w Window) validate() []string {
	var errs []string
	for i, d := range w.Days {
		if !slices.Contains(dayNames, strings.ToLower(d)) {
			errs = append(errs, fmt.Sprintf("window.days[%d]: %q must be mon, tue, ... sun", i, d))
		}
	}
	if (w.Start == "") != (w.End == "") {
		errs = append(errs, "window: give both start and end (HH:MM)")
	} else if w.Start != "" {
		if _, err := quiet.Parse(w.Start + "-" + w.End); err != nil {
			errs = append(errs, "window: start and end must be HH:MM")
		}
	}
	return errs
}

// Fields a message may use: {{.FirstName}}, {{.Clinic}}, {{.Phone}},
// {{.DueDate}} (the first due rule's date, when it has one).
type Fields struct {
	FirstName string
	Clinic    string
	Phone     string
	DueDate   string
}

func checkTemplate(text string) error {
	tpl, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return err
	}
	return tpl.Execute(io.Discard, Fields{FirstName: "A", Clinic: "C", Phone: "P", DueDate: "D"})
}

// Render fills the message in lang (English when there is none).
func (c *Campaign) Render(lang string, f Fields) string {
	text := c.Message[lang]
	if text == "" {
		text = c.Message["en"]
	}
	tpl, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return text
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, f); err != nil {
		return text
	}
	return b.String()
}
