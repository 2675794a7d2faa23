package booking_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/store/storetest"
)

// An ambiguous day is asked about; "later", "morning or afternoon" and an
// empty window behave; "menu" leaves the booking.
func TestSlotChoices(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.chat("whatsapp", "15550142002")
	c.meta = map[string]string{bot.MetaPhone: "15550142002"}
	c.say("book a follow-up with Dr. Patel next friday")
	out := c.say("11/02/1948")
	require.Contains(t, out, "Which day do you mean?")
	require.Equal(t, []string{"Fri, Dec 4", "Fri, Dec 11"}, labels(c.buttons()))

	c.press("Fri, Dec 11")
	require.Equal(t, "Fri, Dec 11, 9:00 AM", c.buttons()[0].Label)
	c.press("Later times")
	require.Equal(t, "Fri, Dec 11, 10:00 AM", c.buttons()[0].Label)

	require.Contains(t, c.press("Morning or afternoon"), "morning or the afternoon")
	out = c.press("Afternoon")
	require.Contains(t, out, "no open times then", "Dr. Patel works Friday mornings only")
	require.Equal(t, "Mon, Nov 30, 10:00 AM", c.buttons()[0].Label, "the nearest times instead")

	require.Contains(t, c.say("whoever"), "didn't understand that day")
	require.NotContains(t, c.say("menu"), "didn't understand", "menu leaves the booking")
	conv, err := e.app.DB.Q().FindConversation(context.Background(), "whatsapp", "15550142002")
	require.NoError(t, err)
	require.Equal(t, "", conv.Dialog)

	// Still verified: a new booking goes straight to the questions.
	out = c.say("I want to book an appointment")
	require.Contains(t, out, "What kind of visit")
	c.press("New patient visit")
	require.Contains(t, joined(c.last), "Who would you like to see?")
	require.Contains(t, c.say("Dr. Nobody"), "couldn't find that provider")
	out = c.press("Whoever is free first")
	require.Contains(t, out, "next open times with")
}

func labels(bs []bot.Button) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Label)
	}
	return out
}

// The verification runs out while the patient picks a time: they verify
// again and carry on where they were.
func TestVerificationExpiresMidBooking(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.chat("whatsapp", "15550142002")
	c.meta = map[string]string{bot.MetaPhone: "15550142002"}
	c.say("book a follow-up with Dr. Patel")
	c.say("11/02/1948")
	c.press("Mon, Nov 30, 10:00 AM")
	e.clock.Advance(25 * time.Minute)
	require.Contains(t, c.say("no, other times"), "next open times", "still verified")
	e.clock.Advance(25 * time.Minute) // 50 minutes after verifying; the flow was refreshed at 25
	out := c.say("tomorrow")
	require.Contains(t, out, "date of birth")
	out = c.say("11/02/1948")
	require.Contains(t, out, "next open times with Dr. Raj Patel")
}
