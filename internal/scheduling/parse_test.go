package scheduling

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/sample"
)

func TestSampleScheduleCompiles(t *testing.T) {
	t.Parallel()
	s, err := ParseYAML(sample.ScheduleYAML())
	require.NoError(t, err)
	d, err := Compile(s)
	require.NoError(t, err)
	require.Len(t, d.Providers("telehealth"), 3)
	require.Len(t, d.Providers("new-patient"), 2)
	require.Equal(t, 20*time.Minute, d.Unit())
	p, ok := d.FindProvider("book with Dr. Chen next week")
	require.True(t, ok)
	require.Equal(t, "chen", p.ID)
	v, ok := d.FindVisitType("necesito una consulta de seguimiento")
	require.True(t, ok)
	require.Equal(t, "follow-up", v.ID)
	require.Equal(t, 10, s.Locations[0].Line, "entries keep their line")
}

func importErrors(t *testing.T, err error) map[int][]string {
	t.Helper()
	var ie *ImportError
	require.True(t, errors.As(err, &ie), "want *ImportError, got %v", err)
	out := map[int][]string{}
	for _, e := range ie.Errors {
		out[e.Line] = append(out[e.Line], e.Path+": "+e.Msg)
	}
	return out
}

const badYAML = `slot_minutes: 20
locations:
  - id: main
    name: Main
    address: 1 Road
    time_zone: Mars/Base
visit_types:
  - id: follow-up
    name: Follow-up
    minutes: 25
providers:
  - id: chen
    name: Dr. Chen
    locations: [main, nowhere]
    colour: blue
templates:
  - provider: chen
    location: main
    hours: {mon: "12:00-08:00", funday: "08:00-09:00"}
  - provider: nobody
    location: main
    hours: {mon: "08:00-12:00"}
exceptions:
  - date: 2026-13-01
`

func TestYAMLErrorsByLine(t *testing.T) {
	t.Parallel()
	_, err := ParseYAML([]byte(badYAML))
	lines := importErrors(t, err)
	require.Contains(t, lines[15][0], "colour: unknown key")

	s, err := ParseYAML([]byte(strings.Replace(badYAML, "    colour: blue\n", "", 1)))
	require.NoError(t, err)
	_, err = Compile(s)
	lines = importErrors(t, err)
	require.Contains(t, strings.Join(lines[3], ";"), "time_zone")
	require.Contains(t, strings.Join(lines[8], ";"), "minutes")
	require.Contains(t, strings.Join(lines[12], ";"), `unknown location "nowhere"`)
	require.Len(t, lines[16], 2, "both bad days of the template")
	require.Contains(t, strings.Join(lines[19], ";"), `unknown provider "nobody"`)
	require.Contains(t, strings.Join(lines[23], ";"), "not a date")

	_, err = ParseYAML([]byte("locations: [\n  - {id: x\n"))
	require.Error(t, err)
	require.NotEmpty(t, importErrors(t, err))
}

const goodCSV = `record,id,name,name_es,address,time_zone,minutes,locations,provider,location,day,start,end,date,until,reason,key,value
setting,,,,,,,,,,,,,,,,slot_minutes,15
location,main,Main Office,,1 Road,America/Chicago,,,,,,,,,,,,
visit_type,follow-up,Follow-up,Seguimiento,,,15,,,,,,,,,,,
provider,chen,Dr. Chen,,,,,main,,,,,,,,,,
template,,,,,,,,chen,main,mon,08:00,12:00,,,,,
template,,,,,,,,chen,main,tue,08:00,12:00,,,,,
exception,,,,,,,,,,,,,2026-12-24,2026-12-26,Holiday,,
`

func TestCSV(t *testing.T) {
	t.Parallel()
	s, err := ParseCSV(strings.NewReader(goodCSV))
	require.NoError(t, err)
	d, err := Compile(s)
	require.NoError(t, err)
	require.Equal(t, 15*time.Minute, d.Unit())
	v, _ := d.VisitType("follow-up")
	require.Equal(t, "Seguimiento", v.Name.In("es"))
	require.Equal(t, 6, s.Templates[0].Line)

	bad := goodCSV + "provider,patel,,,,,,north,,,,,,,,,,\ntemplate,,,,,,,,chen,main,mon,11:00,13:00,,,,,\nwidget,,,,,,,,,,,,,,,,,\nlocation,north,North,,2 Road,UTC,30,,,,,,,,,,,\n"
	s, err = ParseCSV(strings.NewReader(bad))
	lines := importErrors(t, err)
	require.Contains(t, lines[11][0], "widget")
	require.Contains(t, lines[12][0], "minutes")

	s, err = ParseCSV(strings.NewReader(strings.Join(strings.Split(bad, "\n")[:10], "\n")))
	require.NoError(t, err)
	_, err = Compile(s)
	lines = importErrors(t, err)
	require.NotEmpty(t, lines[9], "patel's unknown location and name")
	require.Contains(t, strings.Join(lines[0], ";"), "overlapping")
}

func FuzzParseYAML(f *testing.F) {
	f.Add(string(sample.ScheduleYAML()))
	f.Add(badYAML)
	f.Fuzz(func(t *testing.T, s string) {
		sched, err := ParseYAML([]byte(s))
		if err != nil {
			return
		}
		if d, err := Compile(sched); err == nil {
			for _, p := range d.Providers("") {
				for _, v := range d.VisitTypes() {
					_ = d.Candidates(p.ID, "", v.Minutes, time.Unix(0, 0), time.Unix(7*86400, 0))
				}
			}
		}
	})
}

func FuzzParseCSV(f *testing.F) {
	f.Add(goodCSV)
	f.Add("record\n\"")
	f.Fuzz(func(t *testing.T, s string) {
		sched, err := ParseCSV(strings.NewReader(s))
		if err == nil {
			_, _ = Compile(sched)
		}
	})
}

func TestCandidatesHonourExceptionsAndDST(t *testing.T) {
	t.Parallel()
	s, err := ParseYAML(sample.ScheduleYAML())
	require.NoError(t, err)
	d, err := Compile(s, "2026-12-01")
	require.NoError(t, err)
	chi, _ := time.LoadLocation("America/Chicago")
	day := func(y int, m time.Month, dd int) []Slot {
		from := time.Date(y, m, dd, 0, 0, 0, 0, chi)
		return d.Candidates("chen", "", 20, from, from.AddDate(0, 0, 1))
	}
	require.Len(t, day(2026, 11, 30), 24, "Monday: 8 hours in 20-minute slots")
	require.Empty(t, day(2026, 11, 26), "Thanksgiving")
	require.Empty(t, day(2026, 12, 1), "a clinic holiday from the profile")
	nye := day(2026, 12, 31)
	require.Len(t, nye, 6, "New Year's Eve is closed 12-17; Chen works 12-19")
	require.Equal(t, "17:00", nye[0].Start.In(chi).Format("15:04"))
	// 2027-03-15 is the Monday after DST starts: 08:00 local is 13:00 UTC.
	mar := day(2027, 3, 15)
	require.Equal(t, 13, mar[0].Start.Hour())
	require.True(t, d.IsCandidate("chen", "main", 40, mar[0].Start))
	require.False(t, d.IsCandidate("chen", "main", 40, mar[0].Start.Add(10*time.Minute)))
	last := mar[len(mar)-1]
	require.Equal(t, "16:40", last.Start.In(chi).Format("15:04"))
	forty := d.Candidates("chen", "", 40, time.Date(2027, 3, 15, 0, 0, 0, 0, chi), time.Date(2027, 3, 16, 0, 0, 0, 0, chi))
	require.Len(t, forty, 22, "a 40-minute visit cannot start in the last unit of a window")
}
