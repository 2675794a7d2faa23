package quiet_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/quiet"
)

func TestHours(t *testing.T) {
	t.Parallel()
	chi, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	h := quiet.Default
	at := func(hh, mm int) time.Time { return time.Date(2026, 3, 10, hh, mm, 0, 0, chi) }
	require.True(t, h.Contains(at(20, 0), chi))
	require.True(t, h.Contains(at(7, 59), chi))
	require.False(t, h.Contains(at(8, 0), chi))
	require.False(t, h.Contains(at(19, 59), chi))
	require.Equal(t, at(8, 0).AddDate(0, 0, 1), h.Next(at(22, 0), chi))
	require.Equal(t, at(8, 0), h.Next(at(3, 0), chi))
	require.Equal(t, at(12, 0), h.Next(at(12, 0), chi))
	require.Equal(t, at(20, 0), h.StartBefore(at(23, 0), chi))
	p, err := quiet.Parse("21:30-07:15")
	require.NoError(t, err)
	require.Equal(t, "21:30-07:15", p.String())
	_, err = quiet.Parse("9pm-7am")
	require.Error(t, err)
	require.False(t, quiet.Hours{}.Contains(at(3, 0), chi), "equal bounds: never quiet")
	day := quiet.Hours{Start: 9 * 60, End: 17 * 60}
	require.True(t, day.Contains(at(12, 0), chi))
	require.Equal(t, at(17, 0), day.Next(at(12, 0), chi))
}

func TestUnmarshalText(t *testing.T) {
	t.Parallel()
	var h quiet.Hours
	require.NoError(t, h.UnmarshalText([]byte("21:00-08:00")))
	require.Equal(t, quiet.Hours{Start: 21 * 60, End: 8 * 60}, h)
	require.True(t, h.Valid())
	require.Error(t, h.UnmarshalText([]byte("21-8")))
	require.Equal(t, quiet.Hours{Start: 21 * 60, End: 8 * 60}, h, "a bad value leaves the hours alone")
	require.False(t, quiet.Hours{Start: 24 * 60}.Valid())
	require.False(t, quiet.Hours{End: -1}.Valid())
}
