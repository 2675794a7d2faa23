package clinic

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const profile = `
name: Test Clinic
phone: "(555) 010-0000"
timezone: America/Chicago
hours:
  mon: "08:00-17:00"
  fri: "09:00-12:00"
holidays: ["2026-03-16"]
`

func TestHours(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(profile))
	require.NoError(t, err)
	chi := p.Location()
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, chi)
		require.NoError(t, err)
		return v
	}
	require.True(t, p.IsOpen(at("2026-03-09 08:00")), "Monday opening minute")
	require.False(t, p.IsOpen(at("2026-03-09 17:00")), "closing time is closed")
	require.False(t, p.IsOpen(at("2026-03-10 10:00")), "Tuesday has no hours")
	require.False(t, p.IsOpen(at("2026-03-16 10:00")), "holiday")
	require.Equal(t, at("2026-03-13 09:00"), p.NextOpening(at("2026-03-09 18:00")))
	require.Equal(t, at("2026-03-20 09:00"), p.NextOpening(at("2026-03-13 12:30")), "skips the Monday holiday")
	require.Equal(t, at("2026-03-09 10:00"), p.NextOpening(at("2026-03-09 10:00")), "open now")
}

func TestInvalidProfiles(t *testing.T) {
	t.Parallel()
	for bad, want := range map[string]string{
		"phone: x":                               "name is required",
		"name: X\nphone: y\nhours: {mon: '9-5'}": "HH:MM-HH:MM",
		"name: X\nphone: y\nhours: {funday: '09:00-17:00'}": "unknown day",
		"name: X\nphone: y\nholidays: ['12/25']":            "YYYY-MM-DD",
		"name: X\nphone: y\ncolour: blue":                   "colour",
	} {
		_, err := Parse([]byte(bad))
		require.ErrorContains(t, err, want, bad)
	}
}
