package booking_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/quiet"
)

// Booking takes its settings from Tend's config; reminders keep the
// clinic's quiet hours unless TEND_BOOKING_QUIET_HOURS gives them their own.
func TestConfigFrom(t *testing.T) {
	t.Parallel()
	d := booking.DefaultConfig()
	require.Equal(t, 30*time.Minute, d.VerifyTTL)
	require.Equal(t, []time.Duration{72 * time.Hour, 24 * time.Hour}, d.Reminders)
	require.Equal(t, 2, d.PrepDays)
	require.Equal(t, quiet.Default, d.Quiet)
	require.Equal(t, "db", d.Backend)
	require.Equal(t, booking.MethodPhone, d.Methods["whatsapp"])

	c, err := config.LoadFrom(map[string]string{
		"TEND_QUIET_HOURS": "19:00-09:00", "TEND_BOOKING_REMINDERS": "48h, 2h", "TEND_BOOKING_PREP_DAYS": "0",
		"TEND_SCHEDULE_BACKEND": "fhir", "TEND_FHIR_BASE_URL": "https://ehr.example/fhir", "TEND_FHIR_TOKEN": "tok-123",
		"TEND_BOOKING_LINK_SECRET": "links-456", "TEND_BOOKING_DEMO": "1",
	})
	require.NoError(t, err)
	b := booking.ConfigFrom(c)
	require.Equal(t, quiet.Hours{Start: 19 * 60, End: 9 * 60}, b.Quiet, "reminders follow TEND_QUIET_HOURS")
	require.Equal(t, []time.Duration{48 * time.Hour, 2 * time.Hour}, b.Reminders)
	require.Zero(t, b.PrepDays)
	require.True(t, b.Demo)
	require.Equal(t, "fhir", b.Backend)
	require.Equal(t, "https://ehr.example/fhir", b.FHIRBaseURL)
	require.Equal(t, "tok-123", b.FHIRToken.Reveal())
	require.Equal(t, "links-456", b.LinkSecret.Reveal())
	printed := fmt.Sprintf("%v %+v %#v", b, b, b)
	require.NotContains(t, printed, "tok-123")
	require.NotContains(t, printed, "links-456")

	c, err = config.LoadFrom(map[string]string{"TEND_BOOKING_QUIET_HOURS": "21:00-08:00"})
	require.NoError(t, err)
	require.Equal(t, quiet.Hours{Start: 21 * 60, End: 8 * 60}, booking.ConfigFrom(c).Quiet)
	require.Equal(t, quiet.Default, c.QuietHours, "the override is for reminders only")
}
