package patients

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tend-health/tend/internal/textutil"
)

// Date is a calendar date without a time zone (a birth date).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// String is the ISO form, YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d.Year == 0 }

// ErrBadDate means the text is not a date we can read unambiguously.
var ErrBadDate = errors.New("not a recognizable date")

var monthNames = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
	"june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
	"october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
	"enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5, "junio": 6, "julio": 7,
	"agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9, "set": 9, "octubre": 10, "noviembre": 11,
	"diciembre": 12, "dic": 12,
}

// MonthByName returns the month an English or Spanish name (or common
// abbreviation) stands for; the word must be folded (lower case, no accents).
func MonthByName(word string) (time.Month, bool) {
	m, ok := monthNames[strings.TrimSuffix(word, ".")]
	return m, ok
}

var fillerWords = map[string]bool{"de": true, "del": true, "of": true, "the": true, "el": true}

// ParseBirthDate reads a birth date typed in the common ways: 03/14/1952,
// 3-14-52, 1952-03-14, March 14 1952, 14 March 1952, 14 de marzo de 1952.
// Numeric dates whose order cannot be told from the numbers follow the
// language's habit: month first in English, day first in Spanish. today
// bounds the result (no future dates) and resolves two-digit years.
func ParseBirthDate(s, lang string, today time.Time) (Date, error) {
	toks := dateTokens(s)
	var d Date
	var ok bool
	switch {
	case len(toks) == 3 && allDigits(toks):
		d, ok = numericDate(toks, lang, today)
	case len(toks) >= 2 && len(toks) <= 3:
		d, ok = namedDate(toks, today)
	case len(toks) == 1 && len(toks[0]) == 8 && allDigits(toks):
		// 19520314 or 03141952
		t := toks[0]
		if t[:2] == "19" || t[:2] == "20" {
			d, ok = numericDate([]string{t[:4], t[4:6], t[6:]}, lang, today)
		} else {
			d, ok = numericDate([]string{t[:2], t[2:4], t[4:]}, lang, today)
		}
	}
	if !ok || !validDate(d) {
		return Date{}, ErrBadDate
	}
	ty, tm, td := today.Date()
	if d.Year < 1900 || d.Year > ty || (d.Year == ty && (d.Month > tm || (d.Month == tm && d.Day > td))) {
		return Date{}, ErrBadDate
	}
	return d, nil
}

// dateTokens splits folded text into words and numbers, dropping ordinal
// suffixes ("14th") and filler words ("de", "of").
func dateTokens(s string) []string {
	s = textutil.Fold(s)
	f := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var out []string
	for _, w := range f {
		if fillerWords[w] {
			continue
		}
		for _, suf := range []string{"st", "nd", "rd", "th", "o"} {
			if n := strings.TrimSuffix(w, suf); n != w && n != "" && allDigits([]string{n}) {
				w = n
				break
			}
		}
		out = append(out, w)
	}
	return out
}

func allDigits(toks []string) bool {
	for _, t := range toks {
		if t == "" {
			return false
		}
		for _, r := range t {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}

func atoi(s string) int {
	if len(s) > 6 {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func numericDate(toks []string, lang string, today time.Time) (Date, bool) {
	if len(toks[0]) == 4 {
		return Date{atoi(toks[0]), time.Month(atoi(toks[1])), atoi(toks[2])}, true
	}
	a, b := atoi(toks[0]), atoi(toks[1])
	y, ok := year(toks[2], today)
	if !ok {
		return Date{}, false
	}
	monthFirst := lang != "es"
	switch {
	case a > 12 && b <= 12:
		monthFirst = false
	case b > 12 && a <= 12:
		monthFirst = true
	}
	if monthFirst {
		return Date{y, time.Month(a), b}, true
	}
	return Date{y, time.Month(b), a}, true
}

func year(tok string, today time.Time) (int, bool) {
	n := atoi(tok)
	switch len(tok) {
	case 4:
		return n, true
	case 2:
		// A two-digit year is in the past century unless that would make the
		// person younger than this year's two digits allow.
		if n > today.Year()%100 {
			return 1900 + n, true
		}
		return 2000 + n, true
	}
	return 0, false
}

func namedDate(toks []string, today time.Time) (Date, bool) {
	var d Date
	var nums []string
	for _, t := range toks {
		if m, ok := MonthByName(t); ok && d.Month == 0 {
			d.Month = m
			continue
		}
		if !allDigits([]string{t}) {
			return Date{}, false
		}
		nums = append(nums, t)
	}
	if d.Month == 0 || len(nums) != 2 {
		return Date{}, false
	}
	// The year is the four-digit number, or the second of two short ones.
	di, yi := 0, 1
	if len(nums[0]) == 4 {
		di, yi = 1, 0
	}
	if len(nums[di]) > 2 {
		return Date{}, false
	}
	y, ok := year(nums[yi], today)
	if !ok {
		return Date{}, false
	}
	d.Year, d.Day = y, atoi(nums[di])
	return d, true
}

func validDate(d Date) bool {
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 || d.Year < 1 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Day() == d.Day && t.Month() == d.Month
}

// ParseISODate reads YYYY-MM-DD strictly.
func ParseISODate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return Date{}, ErrBadDate
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}
