package campaign

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
)

// facts are what the audience filter reads besides the registry: last
// visits (booked appointments that took place, surveyed visits) and the
// imported due items.
type facts struct {
	lastVisit map[int64]time.Time
	due       map[int64]map[string]dueItem
}

type dueItem struct{ lastDone, due string }

func loadFacts(ctx context.Context, q store.Q, now time.Time) (facts, error) {
	f := facts{lastVisit: map[int64]time.Time{}, due: map[int64]map[string]dueItem{}}
	for _, sql := range []string{
		`SELECT patient_id, starts_at FROM appointments WHERE status = 'booked' AND starts_at < $1`,
		`SELECT patient_id, visit_at FROM survey_responses WHERE visit_at < $1`,
	} {
		rs, err := q.Query(ctx, sql, now)
		if err != nil {
			return f, fmt.Errorf("campaign: visits: %w", err)
		}
		for rs.Next() {
			var id int64
			var at time.Time
			if err := rs.Scan(&id, &at); err != nil {
				rs.Close()
				return f, err
			}
			if at.After(f.lastVisit[id]) {
				f.lastVisit[id] = at
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return f, err
		}
	}
	rs, err := q.Query(ctx, `SELECT patient_id, item, last_done_on, due_on FROM patient_due_items`)
	if err != nil {
		return f, fmt.Errorf("campaign: due items: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var id int64
		var item string
		var d dueItem
		if err := rs.Scan(&id, &item, &d.lastDone, &d.due); err != nil {
			return f, err
		}
		if f.due[id] == nil {
			f.due[id] = map[string]dueItem{}
		}
		f.due[id][item] = d
	}
	return f, rs.Err()
}

// matches reports whether p is in the audience on today (the clinic's
// date), and the due date the message may mention.
func (a Audience) matches(p patients.Patient, f facts, now time.Time, loc *time.Location) (bool, string) {
	today := now.In(loc)
	if len(a.Patients) > 0 && !slices.Contains(a.Patients, p.ExternalID) {
		return false, ""
	}
	if a.MinAge > 0 || a.MaxAge > 0 {
		age, ok := ageOn(p.BirthDate, today)
		if !ok || age < a.MinAge || (a.MaxAge > 0 && age > a.MaxAge) {
			return false, ""
		}
	}
	if len(a.Sex) > 0 && !slices.Contains(a.Sex, strings.ToUpper(p.Sex)) {
		return false, ""
	}
	if len(a.Languages) > 0 && !slices.Contains(a.Languages, langOf(p)) {
		return false, ""
	}
	last, seen := f.lastVisit[p.ID]
	if a.VisitedWithinDays > 0 && (!seen || now.Sub(last) > days(a.VisitedWithinDays)) {
		return false, ""
	}
	if a.NotVisitedWithinDays > 0 && seen && now.Sub(last) <= days(a.NotVisitedWithinDays) {
		return false, ""
	}
	dueDate := ""
	for _, r := range a.Due {
		ok, date := r.holds(f.due[p.ID][r.Item], today)
		if !ok {
			return false, ""
		}
		if dueDate == "" {
			dueDate = date
		}
	}
	return true, dueDate
}

func (r DueRule) holds(d dueItem, today time.Time) (bool, string) {
	day := func(s string) (time.Time, bool) {
		t, err := time.ParseInLocation(time.DateOnly, s, today.Location())
		return t, err == nil
	}
	if r.NotDoneWithinDays > 0 {
		done, ok := day(d.lastDone)
		return !ok || today.Sub(done) > days(r.NotDoneWithinDays), ""
	}
	due, ok := day(d.due)
	if !ok {
		return false, ""
	}
	// Due in the next N days, or lapsed in the last 30.
	return !due.After(today.Add(days(r.DueWithinDays))) && !due.Before(today.Add(-days(30))), d.due
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func ageOn(birth string, today time.Time) (int, bool) {
	b, err := time.Parse(time.DateOnly, birth)
	if err != nil {
		return 0, false
	}
	age := today.Year() - b.Year()
	if today.Month() < b.Month() || (today.Month() == b.Month() && today.Day() < b.Day()) {
		age--
	}
	return age, true
}

func langOf(p patients.Patient) string {
	if p.Lang == "" {
		return "en"
	}
	return p.Lang
}
