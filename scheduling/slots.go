package scheduling

import (
	"sort"
	"time"
)

// Slot is a time a visit can be booked.
type Slot struct {
	ProviderID string    `json:"provider"`
	LocationID string    `json:"location"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	// Ref is the back end's own id for the slot (a FHIR Slot id); empty for
	// the built-in back end.
	Ref string `json:"ref,omitempty"`
}

// Candidates lists the times a visit of the given length could start with
// the provider in [from, to), by the weekly templates and exceptions alone
// (bookings are the back end's business), sorted by start. An empty
// location means any of the provider's locations.
func (d *Directory) Candidates(provider, location string, minutes int, from, to time.Time) []Slot {
	dur := time.Duration(minutes) * time.Minute
	var out []Slot
	for _, w := range d.weekly[provider] {
		if location != "" && w.location != location {
			continue
		}
		tz := d.TimeZone(w.location)
		lf, lt := from.In(tz), to.In(tz)
		day := time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, tz)
		for ; !day.After(lt); day = day.AddDate(0, 0, 1) {
			if day.Weekday() != w.weekday {
				continue
			}
			ds := day.Format("2006-01-02")
			if (w.from != "" && ds < w.from) || (w.to != "" && ds > w.to) {
				continue
			}
			out = d.appendWindow(out, provider, w, day, dur, from, to)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return dedupe(out)
}

func (d *Directory) appendWindow(out []Slot, provider string, w window, day time.Time, dur time.Duration, from, to time.Time) []Slot {
	step := int(d.unit / time.Minute)
	mins := int(dur / time.Minute)
	for m := w.start; m+mins <= w.end; m += step {
		start := time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, day.Location())
		if start.Before(from) || !start.Before(to) {
			continue
		}
		end := start.Add(dur)
		if d.closedAt(provider, w.location, start, end) {
			continue
		}
		out = append(out, Slot{ProviderID: provider, LocationID: w.location, Start: start.UTC(), End: end.UTC()})
	}
	return out
}

func dedupe(s []Slot) []Slot {
	out := s[:0]
	for i, x := range s {
		if i > 0 && x.Start.Equal(out[len(out)-1].Start) {
			continue
		}
		out = append(out, x)
	}
	return out
}

// closedAt reports whether an exception covers any of [start, end).
func (d *Directory) closedAt(provider, location string, start, end time.Time) bool {
	tz := d.TimeZone(location)
	ls, le := start.In(tz), end.In(tz)
	date := ls.Format("2006-01-02")
	sm := ls.Hour()*60 + ls.Minute()
	em := sm + int(le.Sub(ls)/time.Minute)
	for _, c := range d.closed {
		if (c.provider != "" && c.provider != provider) || (c.location != "" && c.location != location) {
			continue
		}
		if date < c.from || date > c.until {
			continue
		}
		if sm < c.end && c.start < em {
			return true
		}
	}
	return false
}

// IsCandidate reports whether a visit of the given length may start at
// start with the provider at the location, by templates and exceptions.
func (d *Directory) IsCandidate(provider, location string, minutes int, start time.Time) bool {
	for _, s := range d.Candidates(provider, location, minutes, start, start.Add(time.Minute)) {
		if s.Start.Equal(start) {
			return true
		}
	}
	return false
}

// Units are the grid units a visit occupies, the keys the built-in back
// end books.
func (d *Directory) Units(start time.Time, minutes int) []time.Time {
	n := int(time.Duration(minutes) * time.Minute / d.unit)
	if n < 1 {
		n = 1
	}
	out := make([]time.Time, n)
	for i := range out {
		out[i] = start.Add(time.Duration(i) * d.unit).UTC()
	}
	return out
}
