package booking

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/textutil"
)

// When is what a patient said about when to come: a span of days and a
// span of the day. Choices holds the readings of an ambiguous phrase
// ("next Tuesday" said on a Monday), for the patient to pick.
type When struct {
	From time.Time `json:"from,omitzero"` // start of the first day (zero: from now)
	To   time.Time `json:"to,omitzero"`   // end of the last day (zero: open)
	// AfterMin and BeforeMin bound the time of day, in minutes (0 and 0 for any).
	AfterMin  int    `json:"after,omitempty"`
	BeforeMin int    `json:"before,omitempty"`
	Choices   []When `json:"choices,omitempty"`
}

// Fits reports whether a start time falls in the time-of-day window.
func (w When) Fits(t time.Time, loc *time.Location) bool {
	if w.AfterMin == 0 && w.BeforeMin == 0 {
		return true
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	before := w.BeforeMin
	if before == 0 {
		before = 1440
	}
	return m >= w.AfterMin && m < before
}

// ErrPastDate means the patient named a day that has gone by.
var ErrPastDate = errors.New("that date has passed")

var (
	slashDateRe = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?\b`)
	isoDateRe   = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`)
	clockRe     = `(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a m|p m)?`
	afterRe     = regexp.MustCompile(`\b(?:after|from|despues de las?|despues de la|a partir de las?|desde las?)\s+` + clockRe)
	beforeRe    = regexp.MustCompile(`\b(?:before|by|antes de las?|antes del?)\s+` + clockRe)
	atRe        = regexp.MustCompile(`\b(?:at|around|a las?|alrededor de las?)\s+` + clockRe + `\b`)
	inRe        = regexp.MustCompile(`\b(?:in|en|dentro de)\s+(a|an|one|two|three|four|five|six|un|una|uno|dos|tres|cuatro|cinco|seis|\d{1,2})\s+(day|days|week|weeks|month|months|dia|dias|semana|semanas|mes|meses)\b`)
)

var numberWords = map[string]int{"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	"un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6}

var weekdayWords = map[string]time.Weekday{
	"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
	"domingo": 0, "lunes": 1, "martes": 2, "miercoles": 3, "jueves": 4, "viernes": 5, "sabado": 6,
}

// ParseWhen reads date and time phrases (today, tomorrow, next Tuesday,
// after 3 pm, in two weeks, 12/3, December 3, and their Spanish forms) in
// the patient's time zone. found is false when the text names no time at
// all; err is ErrPastDate for a day gone by. Numeric dates are month first
// in English and day first in Spanish.
func ParseWhen(text, lang string, now time.Time, loc *time.Location) (w When, found bool, err error) {
	raw := textutil.Fold(text)
	norm := " " + textutil.Normalize(text) + " "
	today := dayStart(now.In(loc))
	found = timeOfDay(&w, raw, norm)
	day, days, ok, err := dayPhrase(raw, norm, lang, today)
	if err != nil {
		return When{}, true, err
	}
	if ok {
		found = true
		if len(days) > 1 {
			for _, d := range days {
				c := w
				c.From, c.To = d, d.AddDate(0, 0, 1)
				w.Choices = append(w.Choices, c)
			}
			return w, true, nil
		}
		w.From, w.To = day[0], day[1]
	}
	return w, found, nil
}

func dayStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// timeOfDay fills the time-of-day window from phrases like "after 3 pm",
// "in the morning", "por la tarde".
func timeOfDay(w *When, raw, norm string) bool {
	found := false
	if m := afterRe.FindStringSubmatch(raw); m != nil {
		w.AfterMin, found = clockMinutes(m[1], m[2], m[3]), true
	}
	if m := beforeRe.FindStringSubmatch(raw); m != nil {
		w.BeforeMin, found = clockMinutes(m[1], m[2], m[3]), true
	}
	if !found {
		if m := atRe.FindStringSubmatch(raw); m != nil {
			at := clockMinutes(m[1], m[2], m[3])
			w.AfterMin, w.BeforeMin, found = at, at+60, true
		}
	}
	if strings.Contains(norm, " before noon ") || strings.Contains(norm, " antes del mediodia ") {
		w.BeforeMin, found = 720, true
	}
	switch {
	case hasAny(norm, "morning", "la manana", "am only", "mananas"):
		w.AfterMin, w.BeforeMin, found = 0, 720, true
	case hasAny(norm, "afternoon", "la tarde", "tardes", "pm only"):
		w.AfterMin, w.BeforeMin, found = 720, 0, true
	case hasAny(norm, "evening", "la noche", "after work"):
		w.AfterMin, w.BeforeMin, found = 1020, 0, true
	}
	return found
}

func hasAny(norm string, phrases ...string) bool {
	for _, p := range phrases {
		if strings.Contains(norm, " "+p+" ") {
			return true
		}
	}
	return false
}

// clockMinutes reads an hour said without am/pm as clinic hours do: 1 to
// 6 are afternoon, 7 to 12 morning (12 is noon).
func clockMinutes(h, m, ampm string) int {
	hour, _ := strconv.Atoi(h)
	minute, _ := strconv.Atoi(m)
	if hour > 23 || minute > 59 {
		return 0
	}
	switch strings.ReplaceAll(ampm, " ", "") {
	case "pm":
		if hour < 12 {
			hour += 12
		}
	case "am":
		if hour == 12 {
			hour = 0
		}
	default:
		if hour >= 1 && hour <= 6 {
			hour += 12
		}
	}
	return hour*60 + minute
}

// dayPhrase finds the days named: one span [from, to), or several single
// days when the phrase is ambiguous.
func dayPhrase(raw, norm, lang string, today time.Time) (span [2]time.Time, choices []time.Time, ok bool, err error) {
	one := func(d time.Time) ([2]time.Time, []time.Time, bool, error) {
		if d.Before(today) {
			return span, nil, true, ErrPastDate
		}
		return [2]time.Time{d, d.AddDate(0, 0, 1)}, nil, true, nil
	}
	switch {
	case hasAny(norm, "day after tomorrow", "pasado manana"):
		return one(today.AddDate(0, 0, 2))
	case hasAny(norm, "today", "hoy", "this afternoon", "esta tarde", "this morning", "esta manana"):
		return one(today)
	case hasAny(norm, "tomorrow", "manana por la", "manana en la") || (strings.Contains(norm, " manana ") && !hasAny(norm, "la manana", "las mananas", "de manana")):
		return one(today.AddDate(0, 0, 1))
	case hasAny(norm, "yesterday", "ayer"):
		return span, nil, true, ErrPastDate
	}
	if m := inRe.FindStringSubmatch(norm); m != nil {
		n, isWord := numberWords[m[1]]
		if !isWord {
			n, _ = strconv.Atoi(m[1])
		}
		switch unit := m[2]; {
		case strings.HasPrefix(unit, "day") || strings.HasPrefix(unit, "dia"):
			return one(today.AddDate(0, 0, n))
		case strings.HasPrefix(unit, "week") || strings.HasPrefix(unit, "semana"):
			d := today.AddDate(0, 0, 7*n)
			return [2]time.Time{d, d.AddDate(0, 0, 7)}, nil, true, nil
		default:
			d := today.AddDate(0, n, 0)
			return [2]time.Time{d, d.AddDate(0, 0, 7)}, nil, true, nil
		}
	}
	if s, ok := weekPhrase(norm, today); ok {
		return s, nil, true, nil
	}
	if d, next, ok := weekdayPhrase(norm, today); ok {
		if next {
			// "next Tuesday" said early in the week may mean this week's or
			// the following week's: ask.
			if d.Sub(today) < 7*24*time.Hour && sameWeek(d, today) {
				return span, []time.Time{d, d.AddDate(0, 0, 7)}, true, nil
			}
		}
		return one(d)
	}
	if d, ok, err := calendarDate(raw, norm, lang, today); ok || err != nil {
		if err != nil {
			return span, nil, true, err
		}
		return one(d)
	}
	return span, nil, false, nil
}

func sameWeek(a, b time.Time) bool {
	monday := func(t time.Time) time.Time { return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7)) }
	return monday(a).Equal(monday(b))
}

func weekPhrase(norm string, today time.Time) ([2]time.Time, bool) {
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	switch {
	case hasAny(norm, "next week", "proxima semana", "semana que viene", "semana proxima", "siguiente semana"):
		return [2]time.Time{monday.AddDate(0, 0, 7), monday.AddDate(0, 0, 14)}, true
	case hasAny(norm, "this week", "esta semana"):
		return [2]time.Time{today, monday.AddDate(0, 0, 7)}, true
	case hasAny(norm, "next month", "proximo mes", "mes que viene"):
		first := time.Date(today.Year(), today.Month()+1, 1, 0, 0, 0, 0, today.Location())
		return [2]time.Time{first, first.AddDate(0, 1, 0)}, true
	}
	return [2]time.Time{}, false
}

// weekdayPhrase finds "tuesday", "next tuesday", "el proximo martes",
// "el martes que viene"; next reports an explicit "next".
func weekdayPhrase(norm string, today time.Time) (time.Time, bool, bool) {
	for _, word := range strings.Fields(norm) {
		wd, ok := weekdayWords[word]
		if !ok {
			continue
		}
		ahead := (int(wd) - int(today.Weekday()) + 7) % 7
		if ahead == 0 {
			ahead = 7
		}
		next := hasAny(norm, "next "+word, "proximo "+word, word+" que viene", word+" proximo")
		return today.AddDate(0, 0, ahead), next, true
	}
	return time.Time{}, false, false
}

// calendarDate reads 12/3, 12/3/2026, 2026-12-03, December 3, 3 de diciembre.
func calendarDate(raw, norm, lang string, today time.Time) (time.Time, bool, error) {
	var y, d int
	var mo time.Month
	if m := isoDateRe.FindStringSubmatch(raw); m != nil {
		y, _ = strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		d, _ = strconv.Atoi(m[3])
		mo = time.Month(mi)
	} else if m := slashDateRe.FindStringSubmatch(raw); m != nil {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		if lang == "es" || a > 12 {
			a, b = b, a
		}
		mo, d = time.Month(a), b
		if m[3] != "" {
			y, _ = strconv.Atoi(m[3])
			if y < 100 {
				y += 2000
			}
		}
	} else if mm, dd, ok := namedDay(norm); ok {
		mo, d = mm, dd
	} else {
		return time.Time{}, false, nil
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, false, nil
	}
	explicitYear := y != 0
	if !explicitYear {
		y = today.Year()
	}
	t := time.Date(y, mo, d, 0, 0, 0, 0, today.Location())
	if t.Day() != d {
		return time.Time{}, false, nil // February 30
	}
	if t.Before(today) {
		// A date without a year a month or more ago means next year's.
		if explicitYear || today.Sub(t) < 31*24*time.Hour {
			return t, true, ErrPastDate
		}
		t = t.AddDate(1, 0, 0)
	}
	return t, true, nil
}

// namedDay finds "december 3", "dec 3rd", "3 de diciembre", "the 3rd of december".
func namedDay(norm string) (time.Month, int, bool) {
	words := strings.Fields(norm)
	for i, w := range words {
		m, ok := patients.MonthByName(w)
		if !ok || w == "mar" && i > 0 && words[i-1] == "el" {
			continue
		}
		for _, j := range []int{i + 1, i - 1, i - 2} {
			if j < 0 || j >= len(words) {
				continue
			}
			if d, err := strconv.Atoi(strings.TrimRight(words[j], "stndrh")); err == nil && d >= 1 && d <= 31 {
				return m, d, true
			}
		}
	}
	return 0, 0, false
}
