package booking_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/internal/quiet"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// bookFar books Dr. Chen for Rosa on WhatsApp ten days ahead, so every
// reminder and the prep message are scheduled.
func bookFar(t *testing.T, e *env) (*chat, scheduling.Appointment) {
	c := e.chat("whatsapp", "15550142001")
	c.meta = map[string]string{bot.MetaPhone: "15550142001"}
	c.say("book a follow-up with Dr. Chen on 12/10")
	c.say("03/14/1952")
	c.press("Thu, Dec 10, 12:00 PM")
	require.Contains(t, c.press("Yes, book it"), "You're booked")
	list, err := scheduling.ListAppointments(context.Background(), e.app.DB.Q(), scheduling.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	return c, list[0]
}

func scheduledAt(t *testing.T, e *env, what string) time.Time {
	var at any
	args := "args->>'what'"
	if e.app.DB.Dialect() == store.SQLite {
		args = "json_extract(args, '$.what')"
	}
	require.NoError(t, e.app.DB.Q().QueryRow(context.Background(),
		`SELECT scheduled_at FROM river_job WHERE kind = 'booking_reminder' AND `+args+` = $1`, what).Scan(&at))
	tm, ok := at.(time.Time)
	require.True(t, ok, "scheduled_at is a time, got %T", at)
	return tm
}

func TestRemindersScheduledOutsideQuietHours(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, a := bookFar(t, e)
		jobs := e.reminderJobs()
		require.Len(t, jobs, 3, "72h, 24h and prep")
		// Noon visit: 72h and 24h before are at noon, outside quiet hours.
		require.True(t, scheduledAt(t, e, (72*time.Hour).String()).Equal(a.Start.Add(-72*time.Hour)))
		require.True(t, scheduledAt(t, e, "prep").Equal(a.Start.AddDate(0, 0, -2)))
	})
}

func TestQuietHoursMoveAndSnooze(t *testing.T) {
	t.Parallel()
	cfg := booking.DefaultConfig()
	chi, _ := time.LoadLocation("America/Chicago")
	visit := time.Date(2026, 12, 10, 8, 0, 0, 0, chi)
	// A 24h reminder for an 8:00 visit is due at 8:00 the day before: fine.
	// A 72h reminder for a 7:00 visit would be at 7:00: moved to 8:00.
	early := time.Date(2026, 12, 10, 7, 0, 0, 0, chi)
	require.Equal(t, time.Date(2026, 12, 7, 8, 0, 0, 0, chi), booking.SendTime(cfg, early.Add(-72*time.Hour), early, chi).In(chi))
	// 23:00 the evening before a 9:00 visit would wake people; the morning
	// after is too close to the visit, so the evening before, half an hour
	// before quiet hours begin: 19:30 by default (TEND_QUIET_HOURS), 20:30
	// when TEND_BOOKING_QUIET_HOURS lets reminders start their night at 21:00.
	late := time.Date(2026, 12, 10, 23, 0, 0, 0, chi)
	require.Equal(t, time.Date(2026, 12, 10, 19, 30, 0, 0, chi), booking.SendTime(cfg, late, time.Date(2026, 12, 11, 9, 0, 0, 0, chi), chi).In(chi))
	later := cfg
	later.Quiet = quiet.Hours{Start: 21 * 60, End: 8 * 60}
	require.Equal(t, time.Date(2026, 12, 10, 20, 30, 0, 0, chi), booking.SendTime(later, late, time.Date(2026, 12, 11, 9, 0, 0, 0, chi), chi).In(chi))
	require.Equal(t, visit.Add(-24*time.Hour), booking.SendTime(cfg, visit.Add(-24*time.Hour), visit, chi))

	e := newEnv(t, storetest.OpenSQLite(t))
	_, a := bookFar(t, e)
	// The worker runs late (a queue backlog) and lands in quiet hours: it snoozes.
	e.clock.Set(time.Date(2026, 12, 7, 22, 30, 0, 0, chi))
	err := e.work(booking.ReminderArgs{AppointmentID: a.ID, Version: a.Version, What: (72 * time.Hour).String()})
	require.Error(t, err)
	require.Contains(t, err.Error(), "JobSnooze")
}

func TestPrepMessageFromDirectoryAndKnowledgeBase(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	c, a := bookFar(t, e)
	before := int64(len(e.outbound(c.id, c.channel, 0)))
	e.clock.Set(a.Start.AddDate(0, 0, -2))
	require.NoError(t, e.work(booking.ReminderArgs{AppointmentID: a.ID, Version: a.Version, What: "prep"}))
	sent := e.outbound(c.id, c.channel, before)
	require.Len(t, sent, 1)
	m := sent[0]
	require.Contains(t, m.Text, "Your Follow-up visit with Dr. Emily Chen is on Thu, Dec 10 at 12:00 PM")
	require.Contains(t, m.Text, "Please bring your insurance card")            // directory
	require.Contains(t, m.Text, "copay. (Source: costs.md)")                   // knowledge base
	require.Contains(t, m.Text, "Dr. Chen has cared for Maple Grove families") // directory bio
	require.Equal(t, []bot.Source{{Document: "costs.md"}}, m.Sources)
	require.Equal(t, bot.KindReminder, m.Kind)
	require.Equal(t, "booking:ask", m.Buttons[0].Payload)
	c.last = sent
	require.Contains(t, c.press("Ask a question"), "What would you like to know?")

	// The message's Reschedule button: verify again (it has been days), then move.
	c.last = sent
	require.Contains(t, c.press("Reschedule"), "date of birth")
	out := c.say("03/14/1952")
	require.Contains(t, out, "Thank you, Rosa")
	require.Contains(t, out, "next open times with Dr. Emily Chen")
	c.press("Tue, Dec 8, 2:00 PM")
	require.Contains(t, c.press("Yes, move it"), "is now on Tue, Dec 8 at 2:00 PM")

	// Re-enqueueing the same reminder is a no-op (unique by appointment, version, kind).
	n := len(e.reminderJobs())
	require.NoError(t, e.app.DB.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.Enqueue(context.Background(), booking.ReminderArgs{AppointmentID: a.ID, Version: a.Version, What: "prep"},
			booking.ReminderInsertOpts(a.Start))
	}))
	require.Len(t, e.reminderJobs(), n)
}

func TestNoRemindersWithoutConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.chat("whatsapp", "15550142005") // Helen: consent_reminders = no
	c.meta = map[string]string{bot.MetaPhone: "15550142005"}
	c.say("book a follow-up with Dr. Chen on 12/10")
	c.say("05/09/1939")
	c.press("Thu, Dec 10, 1:00 PM") // Helen lives on New York time
	require.Contains(t, c.press("Yes, book it"), "You're booked")
	require.Empty(t, e.reminderJobs())
}

func TestProviderInfoAndMenuButton(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.chat("web", "curious")
	out := c.say("tell me about Dr. Patel")
	require.Contains(t, out, "Dr. Raj Patel (Internal medicine): Dr. Patel is an internist")
	out = c.say("hi")
	found := false
	for _, b := range c.buttons() {
		found = found || b.Payload == "booking:start"
	}
	require.True(t, found, "the menu offers booking once the dialog is installed: %s", out)
	require.Contains(t, c.press("Book a follow-up"), "make sure it's you")
}
