package booking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/scheduling"
)

// linkSigner makes and checks calendar links: the link names the
// appointment and the version it shows, expires, and is signed, so it works
// without a login yet cannot be guessed or altered.
type linkSigner struct {
	secret   []byte
	base     string // public URL prefix ("" for a relative link)
	validity time.Duration
}

func (s *linkSigner) sign(id int64, version int, exp int64) string {
	m := hmac.New(sha256.New, s.secret)
	fmt.Fprintf(m, "ics:%d:%d:%d", id, version, exp)
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// url is the calendar link for an appointment as it is now.
func (s *linkSigner) url(a scheduling.Appointment, now time.Time) string {
	if s == nil || len(s.secret) == 0 {
		return ""
	}
	exp := a.End.Add(24 * time.Hour)
	if limit := now.Add(s.validity); exp.After(limit) {
		exp = limit
	}
	q := url.Values{"v": {strconv.Itoa(a.Version)}, "exp": {strconv.FormatInt(exp.Unix(), 10)},
		"token": {s.sign(a.ID, a.Version, exp.Unix())}}
	return fmt.Sprintf("%s/api/v1/appointments/%d/ics?%s", strings.TrimRight(s.base, "/"), a.ID, q.Encode())
}

// check verifies a link's query for appointment id; it returns the version.
func (s *linkSigner) check(id int64, q url.Values, now time.Time) (int, bool) {
	v, err1 := strconv.Atoi(q.Get("v"))
	exp, err2 := strconv.ParseInt(q.Get("exp"), 10, 64)
	if err1 != nil || err2 != nil || now.Unix() > exp || len(s.secret) == 0 {
		return 0, false
	}
	return v, hmac.Equal([]byte(q.Get("token")), []byte(s.sign(id, v, exp)))
}

// ICS renders an appointment as an RFC 5545 calendar with one event. The
// summary names the visit type and provider, no health details.
func ICS(a scheduling.Appointment, dir *scheduling.Directory, clinic, lang string) []byte {
	stamp := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	summary, where := clinic, ""
	if v, ok := dir.VisitType(a.VisitType); ok {
		summary = v.Name.In(lang) + " – " + clinic
	}
	if p, ok := dir.Provider(a.ProviderID); ok {
		summary += " (" + p.Name + ")"
	}
	if l, ok := dir.Location(a.LocationID); ok {
		where = l.Name + ", " + l.Address
	}
	status := "CONFIRMED"
	if a.Status == scheduling.StatusCancelled {
		status = "CANCELLED"
	}
	lines := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Tend//Booking//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
		"BEGIN:VEVENT", fmt.Sprintf("UID:appointment-%d@tend", a.ID), fmt.Sprintf("SEQUENCE:%d", a.Version),
		"DTSTAMP:" + stamp(a.UpdatedAt), "DTSTART:" + stamp(a.Start), "DTEND:" + stamp(a.End),
		"SUMMARY:" + icsEscape(summary), "LOCATION:" + icsEscape(where), "STATUS:" + status, "END:VEVENT", "END:VCALENDAR"}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(icsFold(l))
	}
	return []byte(b.String())
}

func icsEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`)
	return r.Replace(s)
}

// icsFold ends a content line with CRLF, folding it at 75 octets without
// splitting a UTF-8 sequence (RFC 5545 3.1).
func icsFold(line string) string {
	var b strings.Builder
	n := 0
	for _, r := range line {
		size := len(string(r))
		if n+size > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += size
	}
	b.WriteString("\r\n")
	return b.String()
}
