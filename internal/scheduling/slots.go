package scheduling

import "time"

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
//
// It walks day by day and, within a day, the provider's windows in order
// of start (Compile rejects overlapping windows), so the output is sorted
// as it is made, with no sort and few allocations: free-slot search must
// stay within a few milliseconds at the 99th percentile.
func (d *Directory) Candidates(provider, location string, minutes int, from, to time.Time) []Slot {
	dur := time.Duration(minutes) * time.Minute
	ws, ok := d.byDay[provider]
	if !ok {
		return nil
	}
	out := make([]Slot, 0, d.estimate(provider, from, to))
	// Days are walked in the first location's zone; a clinic's locations
	// share one in practice, and each window is placed in its own.
	tz := d.TimeZone(d.weekly[provider][0].location)
	lf := from.In(tz)
	day := time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, tz)
	for ; day.Before(to); day = day.AddDate(0, 0, 1) {
		ds := day.Format("2006-01-02")
		closures := d.closuresOn(provider, ds)
		for _, w := range ws[day.Weekday()] {
			if (location != "" && w.location != location) || (w.from != "" && ds < w.from) || (w.to != "" && ds > w.to) {
				continue
			}
			out = d.appendWindow(out, provider, w, day, dur, from, to, closures)
		}
	}
	return out
}

// estimate sizes the result so that it is allocated once.
func (d *Directory) estimate(provider string, from, to time.Time) int {
	perWeek := 0
	step := int(d.unit / time.Minute)
	for _, w := range d.weekly[provider] {
		perWeek += (w.end - w.start) / step
	}
	weeks := int(to.Sub(from)/(7*24*time.Hour)) + 1
	return min(perWeek*weeks, 100000)
}

// closuresOn are the exceptions that may apply to a provider on a date.
func (d *Directory) closuresOn(provider, date string) []closure {
	var out []closure
	for _, c := range d.closed {
		if (c.provider == "" || c.provider == provider) && date >= c.from && date <= c.until {
			out = append(out, c)
		}
	}
	return out
}

func (d *Directory) appendWindow(out []Slot, provider string, w window, day time.Time, dur time.Duration, from, to time.Time, closures []closure) []Slot {
	step := int(d.unit / time.Minute)
	mins := int(dur / time.Minute)
	tz := d.TimeZone(w.location)
	for m := w.start; m+mins <= w.end; m += step {
		start := time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, tz)
		if start.Before(from) || !start.Before(to) || closedFor(closures, w.location, m, m+mins) {
			continue
		}
		out = append(out, Slot{ProviderID: provider, LocationID: w.location, Start: start.UTC(), End: start.Add(dur).UTC()})
	}
	return out
}

// closedFor reports whether a closure covers minutes [from, to) of the day.
func closedFor(closures []closure, location string, from, to int) bool {
	for _, c := range closures {
		if (c.location == "" || c.location == location) && from < c.end && c.start < to {
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
