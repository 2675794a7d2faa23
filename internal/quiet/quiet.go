// Package quiet is the rule for when proactive messages (reminders,
// surveys, campaigns) may reach a patient: not during quiet hours in the
// patient's time zone. Booking, surveys and campaigns share it so that a
// clinic's night is the same for every kind of message.
package quiet

import (
	"errors"
	"strings"
	"time"
)

// Hours is a daily quiet span in minutes of the day, local time. Start >
// End wraps midnight (21:00-08:00); Start == End means never quiet.
type Hours struct {
	Start, End int
}

// Default is 20:00-08:00, the span proactive outreach keeps clear of.
var Default = Hours{Start: 20 * 60, End: 8 * 60}

// Parse reads "HH:MM-HH:MM".
func Parse(s string) (Hours, error) {
	a, b, ok := strings.Cut(s, "-")
	start, err1 := ClockOf(a)
	end, err2 := ClockOf(b)
	if !ok || err1 != nil || err2 != nil {
		return Hours{}, errors.New("quiet hours must be HH:MM-HH:MM, like 20:00-08:00")
	}
	return Hours{Start: start, End: end}, nil
}

// UnmarshalText reads "HH:MM-HH:MM", so that internal/config can parse
// TEND_QUIET_HOURS straight into Hours.
func (h *Hours) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// Valid reports whether both bounds are minutes of a day, which Parse
// guarantees and a hand-built Hours may not.
func (h Hours) Valid() bool {
	return h.Start >= 0 && h.Start < 24*60 && h.End >= 0 && h.End < 24*60
}

// ClockOf reads "HH:MM" as minutes of the day.
func ClockOf(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Contains reports whether t falls in quiet hours in loc.
func (h Hours) Contains(t time.Time, loc *time.Location) bool {
	if h.Start == h.End {
		return false
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if h.Start > h.End {
		return m >= h.Start || m < h.End
	}
	return m >= h.Start && m < h.End
}

// EndAfter is when the quiet hours containing t end (the next End after t).
func (h Hours) EndAfter(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), h.End/60, h.End%60, 0, 0, loc)
	if !end.After(lt) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

// StartBefore is when the quiet hours containing t began.
func (h Hours) StartBefore(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	start := time.Date(lt.Year(), lt.Month(), lt.Day(), h.Start/60, h.Start%60, 0, 0, loc)
	if start.After(lt) {
		start = start.AddDate(0, 0, -1)
	}
	return start
}

// Next is the first moment at or after t outside quiet hours.
func (h Hours) Next(t time.Time, loc *time.Location) time.Time {
	if !h.Contains(t, loc) {
		return t
	}
	return h.EndAfter(t, loc)
}

// String is "HH:MM-HH:MM".
func (h Hours) String() string {
	f := func(m int) string { return time.Date(2000, 1, 1, m/60, m%60, 0, 0, time.UTC).Format("15:04") }
	return f(h.Start) + "-" + f(h.End)
}
