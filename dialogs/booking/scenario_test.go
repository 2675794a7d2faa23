package booking_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// Grace Okafor (sample patient MG-1003, born 1985-07-21, last seen by Maria
// Garcia) verifies on web chat with a code, books, gets a calendar file,
// reschedules, is reminded, confirms with "C" after re-verifying, presses
// an old button and cancels.
func TestWebScenario(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.chat("web", "grace-browser")
		a, booked := webBook(t, e, c)
		moved := webReschedule(t, e, c, a, booked)
		rem, r24 := webRemindAndConfirm(t, e, c, moved)
		webCancel(t, e, c, moved, rem, r24)
	})
}

func webBook(t *testing.T, e *env, c *chat) (scheduling.Appointment, bot.Sent) {
	db := e.app.DB
	// Nothing about appointments before verification.
	out := c.say("I need a follow-up")
	require.Contains(t, out, "make sure it's you")
	require.Contains(t, out, "phone number or email")
	require.Contains(t, c.say("grace.okafor@example.com"), "date of birth")
	require.Contains(t, c.say("the day I was born"), "couldn't read that date")
	out = c.say("July 21st, 1985")
	require.Contains(t, out, "6-digit code to g•••@example.com")
	code := e.codes.last(3)
	require.Len(t, code, 6)

	out = c.say(code)
	require.Contains(t, out, "Thank you, Grace")
	require.Contains(t, out, "Who would you like to see?")
	require.Equal(t, "Maria Garcia, NP (last visit)", c.buttons()[0].Label, "the last provider comes first")

	out = c.press("Maria Garcia")
	require.Contains(t, out, "next open times with Maria Garcia")
	require.Len(t, c.buttons(), 6, "three slots, later, another day, morning or afternoon")
	require.Equal(t, "Tue, Dec 1, 9:00 AM", c.buttons()[0].Label)

	out = c.say("tomorrow after 3 pm")
	require.Equal(t, "Tue, Dec 1, 3:00 PM", c.buttons()[0].Label)
	out = c.press("3:20 PM")
	require.Contains(t, out, "Book a Follow-up visit with Maria Garcia, NP on Tue, Dec 1 at 3:20 PM at Maple Grove North Clinic?")

	out = c.press("Yes, book it")
	require.Contains(t, out, "You're booked: Follow-up visit with Maria Garcia, NP on Tue, Dec 1 at 3:20 PM")
	require.Contains(t, out, "1250 Birch Road")
	require.Contains(t, out, "Please bring your insurance card")
	require.Contains(t, out, "copay. (Source: costs.md)")
	booked := c.last[0]
	require.Len(t, booked.Links, 1)
	appts, err := scheduling.ListAppointments(context.Background(), db.Q(), scheduling.Filter{})
	require.NoError(t, err)
	require.Len(t, appts, 1)
	a := appts[0]
	require.Equal(t, "garcia", a.ProviderID)

	// The calendar link works without a login, and only as signed.
	rec := e.get(booked.Links[0].URL, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "DTSTART:20261201T212000Z")
	require.Equal(t, http.StatusForbidden, e.get(strings.Replace(booked.Links[0].URL, "token=", "token=0", 1), "").Code)

	jobs := e.reminderJobs()
	require.Len(t, jobs, 1, "the 24h reminder; 72h and the 2-day prep message are already past")

	// Staff see it; nobody else does.
	require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/appointments", "").Code)
	rec = e.get("/api/v1/appointments?format=csv", "staff-token-0123456789")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "MG-1003,Grace Okafor")
	require.Contains(t, rec.Body.String(), `,"Maria Garcia, NP",Maple Grove North Clinic,`, "the provider and location by name")

	return a, booked
}

func webReschedule(t *testing.T, e *env, c *chat, a scheduling.Appointment, booked bot.Sent) scheduling.Appointment {
	db := e.app.DB
	// Reschedule to Thursday.
	out := c.say("I need to reschedule my appointment")
	require.Contains(t, out, "next open times with Maria Garcia")
	out = c.say("thursday morning")
	require.Equal(t, "Thu, Dec 3, 9:00 AM", c.buttons()[0].Label)
	out = c.press("Thu, Dec 3, 9:20 AM")
	require.Contains(t, out, "from Tue, Dec 1 at 3:20 PM to Thu, Dec 3 at 9:20 AM")
	out = c.press("Yes, move it")
	require.Contains(t, out, "is now on Thu, Dec 3 at 9:20 AM")
	moved, err := scheduling.GetAppointment(context.Background(), db.Q(), a.ID)
	require.NoError(t, err)
	require.Equal(t, 2, moved.Version)
	require.Equal(t, http.StatusGone, e.get(booked.Links[0].URL, "").Code, "the old calendar link is out of date")

	return moved
}

func webRemindAndConfirm(t *testing.T, e *env, c *chat, moved scheduling.Appointment) (bot.Sent, booking.ReminderArgs) {
	a := moved
	// The old version's reminders do nothing; the new one's remind.
	seqBefore := int64(len(e.outbound("grace-browser", "web", 0)))
	for _, j := range e.reminderJobs() {
		if j.Version == 1 {
			require.NoError(t, e.work(j))
		}
	}
	require.Len(t, e.outbound("grace-browser", "web", seqBefore), 0, "moved appointments' old reminders are silent")

	e.clock.Set(moved.Start.Add(-24 * time.Hour))
	var r24 booking.ReminderArgs
	for _, j := range e.reminderJobs() {
		if j.Version == 2 && j.What == (24*time.Hour).String() {
			r24 = j
		}
	}
	require.Equal(t, a.ID, r24.AppointmentID)
	require.NoError(t, e.work(r24))
	sent := e.outbound("grace-browser", "web", seqBefore)
	require.Len(t, sent, 1)
	rem := sent[0]
	require.Equal(t, bot.KindReminder, rem.Kind)
	require.Equal(t, "reminder", rem.Template.Purpose)
	require.Equal(t, []string{"Maple Grove Family Clinic", "Thu, Dec 3", "9:20 AM"}, rem.Template.Params, "no health details in the template")
	require.Contains(t, rem.Text, "Reminder: you have an appointment with Maria Garcia, NP on Thu, Dec 3 at 9:20 AM")
	require.Len(t, rem.Buttons, 3)

	// "C" confirms, after verifying again: the verification has expired.
	e.clock.Advance(time.Hour) // the patient answers an hour later
	out := c.say("C")
	require.Contains(t, out, "make sure it's you")
	c.say("grace.okafor@example.com")
	c.say("07/21/1985")
	out = c.say(e.codes.last(3))
	require.Contains(t, out, "is confirmed")

	return rem, r24
}

func webCancel(t *testing.T, e *env, c *chat, moved scheduling.Appointment, rem bot.Sent, r24 booking.ReminderArgs) {
	a, db := moved, e.app.DB
	// A button made before the move (version 1) is out of date.
	c.last = []bot.Sent{{Reply: bot.Reply{Buttons: []bot.Button{{Label: "Cancel visit", Payload: bot.Payload("booking", "cx", itoa(a.ID), "1")}}}}}
	out := c.press("Cancel visit")
	require.Contains(t, out, "out of date: this appointment has changed. It is now on Thu, Dec 3 at 9:20 AM")

	// Cancel, inside 24 hours: the policy warning.
	out = c.say("please cancel my appointment")
	require.Contains(t, out, "Cancel your Follow-up visit with Maria Garcia, NP on Thu, Dec 3 at 9:20 AM?")
	require.Contains(t, out, "less than 24 hours away")
	out = c.press("Yes, cancel it")
	require.Contains(t, out, "is cancelled")
	cancelled, err := scheduling.GetAppointment(context.Background(), db.Q(), a.ID)
	require.NoError(t, err)
	require.Equal(t, scheduling.StatusCancelled, cancelled.Status)
	require.True(t, cancelled.LateCancel)
	slots, err := e.mod.Service.FreeSlots(context.Background(), db.Q(), "garcia", "follow-up", moved.Start, moved.End, 1)
	require.NoError(t, err)
	require.True(t, slots[0].Start.Equal(moved.Start), "the slot is free again")

	// The reminder's own Cancel button now says what happened.
	c.last = []bot.Sent{rem}
	require.Contains(t, c.press("Cancel visit"), "has since been cancelled")
	require.NoError(t, e.work(r24), "a cancelled appointment's reminder does nothing")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
