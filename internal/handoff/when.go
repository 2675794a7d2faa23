package handoff

import (
	"errors"
	"strconv"
	"time"

	"github.com/tend-health/tend/internal/store"
)

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// When renders a moment for the patient, in their language and the clinic's
// time zone: "today at 8:00 AM", "tomorrow at 8:00 AM", "on Monday at 8:00 AM".
func (m *Machine) When(lang string, now, at time.Time) string {
	loc := time.UTC
	if c := m.engine.Clinic(); c != nil && c.Location() != nil {
		loc = c.Location()
	}
	ln, la := now.In(loc), at.In(loc)
	clock := la.Format(m.text(lang, "handoff.time_layout", nil))
	dayN := func(t time.Time) int {
		y, mo, d := t.Date()
		return int(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	}
	switch dayN(la) - dayN(ln) {
	case 0:
		return m.text(lang, "handoff.when.today", map[string]any{"Time": clock})
	case 1:
		return m.text(lang, "handoff.when.tomorrow", map[string]any{"Time": clock})
	default:
		day := m.text(lang, "handoff.day."+strconv.Itoa(int(la.Weekday())), nil)
		return m.text(lang, "handoff.when.day", map[string]any{"Day": day, "Time": clock})
	}
}

// Duration renders a wait for the patient: "15 minutes", "2 hours".
func (m *Machine) Duration(lang string, d time.Duration) string {
	mins := int(d.Round(time.Minute) / time.Minute)
	switch {
	case mins <= 1:
		return m.text(lang, "handoff.duration.minute", nil)
	case mins < 60 || mins%60 != 0:
		return m.text(lang, "handoff.duration.minutes", map[string]any{"N": mins})
	case mins == 60:
		return m.text(lang, "handoff.duration.hour", nil)
	default:
		return m.text(lang, "handoff.duration.hours", map[string]any{"N": mins / 60})
	}
}
