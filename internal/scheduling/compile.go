package scheduling

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,23}$`)

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// compiler collects problems while building a Directory.
type compiler struct {
	d    *Directory
	errs []LineError
}

func (c *compiler) bad(line int, path, format string, args ...any) {
	c.errs = append(c.errs, LineError{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Compile validates a schedule and builds its Directory. holidays
// (YYYY-MM-DD) close the whole clinic on top of the schedule's exceptions.
// Every problem is reported, by line where the file had lines.
func Compile(s Schedule, holidays ...string) (*Directory, error) {
	s = withDefaults(s)
	c := &compiler{d: &Directory{Schedule: s, locations: map[string]*Location{}, visits: map[string]*VisitType{},
		providers: map[string]*Provider{}, tz: map[string]*time.Location{}, weekly: map[string][]window{}}}
	c.settings(s)
	c.d.unit = time.Duration(s.SlotMinutes) * time.Minute
	c.locations(s.Locations)
	c.visitTypes(s.VisitTypes, s.SlotMinutes)
	c.providers(s.Providers)
	for i, t := range s.Templates {
		c.template(i, t)
	}
	c.overlaps()
	c.index()
	for i, e := range s.Exceptions {
		c.exception(fmt.Sprintf("exceptions[%d]", i), e)
	}
	for _, h := range holidays {
		c.exception("clinic holidays", Exception{Date: h, Reason: "clinic holiday"})
	}
	if len(c.errs) > 0 {
		return nil, &ImportError{Errors: c.errs}
	}
	return c.d, nil
}

func withDefaults(s Schedule) Schedule {
	if s.SlotMinutes == 0 {
		s.SlotMinutes = 20
	}
	if s.MinNoticeMinutes == 0 {
		s.MinNoticeMinutes = 60
	}
	if s.HorizonDays == 0 {
		s.HorizonDays = 90
	}
	if s.LateCancelHours == 0 {
		s.LateCancelHours = 24
	}
	return s
}

func (c *compiler) settings(s Schedule) {
	if s.SlotMinutes < 5 || s.SlotMinutes > 240 || 1440%s.SlotMinutes != 0 {
		c.bad(0, "slot_minutes", "%d must divide a day and be 5 to 240", s.SlotMinutes)
	}
	if s.MinNoticeMinutes < 0 || s.HorizonDays < 1 || s.HorizonDays > 730 || s.LateCancelHours < 0 {
		c.bad(0, "settings", "min_notice_minutes, horizon_days (1-730) and late_cancel_hours must be positive")
	}
	if len(s.Locations) == 0 || len(s.VisitTypes) == 0 || len(s.Providers) == 0 {
		c.bad(0, "", "a schedule needs at least one location, visit type and provider")
	}
}

func (c *compiler) id(line int, path, id string, seen func(string) bool) bool {
	switch {
	case !idRe.MatchString(id):
		c.bad(line, path+".id", "%q must be 1-24 lower-case letters, digits, - or _", id)
	case seen(id):
		c.bad(line, path+".id", "%q is used twice", id)
	default:
		return true
	}
	return false
}

func (c *compiler) locations(ls []Location) {
	for i := range ls {
		l := &ls[i]
		p := fmt.Sprintf("locations[%d]", i)
		if !c.id(l.Line, p, l.ID, func(id string) bool { return c.d.locations[id] != nil }) {
			continue
		}
		if l.Name == "" || l.Address == "" {
			c.bad(l.Line, p, "name and address are required")
		}
		tz, err := time.LoadLocation(l.TimeZone)
		if l.TimeZone == "" || err != nil {
			c.bad(l.Line, p+".time_zone", "%q is not a time zone like America/Chicago", l.TimeZone)
			tz = time.UTC
		}
		for day, span := range l.Hours {
			if _, ok := weekdayNames[strings.ToLower(day)]; !ok {
				c.bad(l.Line, p+".hours", "%q is not a weekday", day)
			}
			if _, err := parseSpans(span); err != nil {
				c.bad(l.Line, p+".hours."+day, "%v", err)
			}
		}
		c.d.locations[l.ID], c.d.tz[l.ID] = l, tz
	}
}

func (c *compiler) visitTypes(vs []VisitType, unit int) {
	for i := range vs {
		v := &vs[i]
		p := fmt.Sprintf("visit_types[%d]", i)
		if !c.id(v.Line, p, v.ID, func(id string) bool { return c.d.visits[id] != nil }) {
			continue
		}
		if v.Name.In("en") == "" {
			c.bad(v.Line, p+".name", "is required")
		}
		if v.Minutes <= 0 || v.Minutes%unit != 0 || v.Minutes > 480 {
			c.bad(v.Line, p+".minutes", "%d must be a multiple of slot_minutes (%d), at most 480", v.Minutes, unit)
		}
		c.d.visits[v.ID] = v
	}
}

func (c *compiler) providers(ps []Provider) {
	for i := range ps {
		pr := &ps[i]
		p := fmt.Sprintf("providers[%d]", i)
		if !c.id(pr.Line, p, pr.ID, func(id string) bool { return c.d.providers[id] != nil }) {
			continue
		}
		if pr.Name == "" {
			c.bad(pr.Line, p+".name", "is required")
		}
		if len(pr.Locations) == 0 {
			c.bad(pr.Line, p+".locations", "at least one location is required")
		}
		for _, l := range pr.Locations {
			if c.d.locations[l] == nil {
				c.bad(pr.Line, p+".locations", "unknown location %q", l)
			}
		}
		for _, v := range pr.VisitTypes {
			if c.d.visits[v] == nil {
				c.bad(pr.Line, p+".visit_types", "unknown visit type %q", v)
			}
		}
		c.d.providers[pr.ID] = pr
	}
}

func (c *compiler) template(i int, t TemplateSpec) {
	p := fmt.Sprintf("templates[%d]", i)
	pr := c.d.providers[t.Provider]
	if pr == nil {
		c.bad(t.Line, p+".provider", "unknown provider %q", t.Provider)
		return
	}
	if c.d.locations[t.Location] == nil || !contains(pr.Locations, t.Location) {
		c.bad(t.Line, p+".location", "%q is not one of %s's locations", t.Location, t.Provider)
		return
	}
	if !c.dateRange(t.Line, p, t.From, t.Until, true) {
		return
	}
	if len(t.Hours) == 0 {
		c.bad(t.Line, p+".hours", "at least one day is required")
	}
	for day, span := range t.Hours {
		wd, ok := weekdayNames[strings.ToLower(strings.TrimSpace(day))]
		if !ok {
			c.bad(t.Line, p+".hours", "%q is not a weekday (mon, tue, ...)", day)
			continue
		}
		spans, err := parseSpans(span)
		if err != nil {
			c.bad(t.Line, p+".hours."+day, "%v", err)
			continue
		}
		for _, sp := range spans {
			c.d.weekly[t.Provider] = append(c.d.weekly[t.Provider], window{location: t.Location, weekday: wd,
				start: sp[0], end: sp[1], from: t.From, to: t.Until})
		}
	}
}

// index sorts each provider's windows by weekday and start.
func (c *compiler) index() {
	c.d.byDay = map[string][7][]window{}
	for prov, ws := range c.d.weekly {
		var days [7][]window
		for _, w := range ws {
			days[w.weekday] = append(days[w.weekday], w)
		}
		for i := range days {
			sort.Slice(days[i], func(a, b int) bool { return days[i][a].start < days[i][b].start })
		}
		c.d.byDay[prov] = days
	}
}

// overlaps rejects a provider booked in two places at once.
func (c *compiler) overlaps() {
	for prov, ws := range c.d.weekly {
		for i := range ws {
			for j := i + 1; j < len(ws); j++ {
				a, b := ws[i], ws[j]
				if a.weekday == b.weekday && a.start < b.end && b.start < a.end && datesOverlap(a.from, a.to, b.from, b.to) {
					c.bad(0, "templates", "%s has overlapping hours on %s (%s and %s)", prov, a.weekday,
						spanString(a.start, a.end), spanString(b.start, b.end))
				}
			}
		}
	}
}

func datesOverlap(af, at, bf, bt string) bool {
	if at == "" {
		at = "9999-12-31"
	}
	if bt == "" {
		bt = "9999-12-31"
	}
	return af <= bt && bf <= at
}

func (c *compiler) dateRange(line int, p, from, until string, optionalFrom bool) bool {
	ok := true
	for _, d := range []struct{ name, v string }{{"from", from}, {"until", until}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", d.v); err != nil {
			c.bad(line, p+"."+d.name, "%q is not a date like 2026-12-24", d.v)
			ok = false
		}
	}
	if ok && from != "" && until != "" && until < from {
		c.bad(line, p, "until (%s) is before from (%s)", until, from)
		ok = false
	}
	return ok
}

func (c *compiler) exception(p string, e Exception) {
	if e.Date == "" {
		c.bad(e.Line, p+".date", "is required")
		return
	}
	if !c.dateRange(e.Line, p, e.Date, e.Until, false) {
		return
	}
	if e.Provider != "" && c.d.providers[e.Provider] == nil {
		c.bad(e.Line, p+".provider", "unknown provider %q", e.Provider)
	}
	if e.Location != "" && c.d.locations[e.Location] == nil {
		c.bad(e.Line, p+".location", "unknown location %q", e.Location)
	}
	cl := closure{provider: e.Provider, location: e.Location, from: e.Date, until: e.Until, start: 0, end: 1440}
	if cl.until == "" {
		cl.until = cl.from
	}
	if e.Start != "" || e.End != "" {
		spans, err := parseSpans(e.Start + "-" + e.End)
		if err != nil {
			c.bad(e.Line, p, "start and end: %v", err)
			return
		}
		cl.start, cl.end = spans[0][0], spans[0][1]
	}
	c.d.closed = append(c.d.closed, cl)
}

// parseSpans reads "08:00-12:00, 13:00-17:00".
func parseSpans(s string) ([][2]int, error) {
	var out [][2]int
	for _, part := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		from, err1 := parseClock(a)
		to, err2 := parseClock(b)
		if !ok || err1 != nil || err2 != nil || to <= from {
			return nil, fmt.Errorf("%q is not HH:MM-HH:MM", strings.TrimSpace(part))
		}
		out = append(out, [2]int{from, to})
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "24:00" {
		return 1440, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

func spanString(a, b int) string { return fmt.Sprintf("%02d:%02d-%02d:%02d", a/60, a%60, b/60, b%60) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
