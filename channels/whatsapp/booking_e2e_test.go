package whatsapp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/channels/whatsapp/whatsapptest"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/dialogs/booking/bookingtest"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// waPatient plays a patient on WhatsApp: what they do goes to the webhook
// as signed notifications (text, or a tap on a reply button or list row of
// a message they received), and what they are shown is read back from the
// fake Cloud API's records. The sender's number is the identity.
type waPatient struct {
	e       *env
	waID    string
	name    string // the WhatsApp profile name
	handled int    // messages the bot must have handled
	seen    int    // sends already returned
}

// Send types text or, with a payload, taps the reply button or list row
// carrying it in the latest message that has it.
func (p *waPatient) Send(t *testing.T, text, payload string) []bot.Reply {
	t.Helper()
	if payload == "" {
		p.post(t, whatsapptest.Text(p.waID, wamid(), text))
		return p.replies(t)
	}
	sent := p.e.api.SentTo(p.waID)
	for i := len(sent) - 1; i >= 0; i-- {
		for _, c := range sent[i].Choices {
			if c.ID != payload {
				continue
			}
			if sent[i].Interactive == "list" {
				p.post(t, whatsapptest.ListReply(p.waID, wamid(), c.ID, c.Title, c.Description, sent[i].ID))
			} else {
				p.post(t, whatsapptest.ButtonReply(p.waID, wamid(), c.ID, c.Title, sent[i].ID))
			}
			return p.replies(t)
		}
	}
	t.Fatalf("no message to %s has a choice %q (%s)", p.waID, payload, text)
	return nil
}

// ShareContact: WhatsApp has no contact button; the number is the sender's.
func (p *waPatient) ShareContact(t *testing.T, phone string) []bot.Reply {
	t.Fatalf("WhatsApp asked to share a contact (%s): the sender's number is the identity", phone)
	return nil
}

func (p *waPatient) post(t *testing.T, msg map[string]any) {
	t.Helper()
	require.Equal(t, http.StatusOK, p.e.post(p.e.api.Notification(whatsapptest.Inbound(p.waID, p.name, msg))))
}

// replies waits until the message is handled and its replies sent, and
// reads them back as the patient sees them.
func (p *waPatient) replies(t *testing.T) []bot.Reply {
	t.Helper()
	p.handled++
	apptest.Settle(t, p.e.db, whatsapp.Channel, p.waID, p.handled)
	return p.unread(t)
}

// unread is what reached the patient since the last look, as replies.
func (p *waPatient) unread(t *testing.T) []bot.Reply {
	t.Helper()
	require.Empty(t, p.e.api.Rejected(), "the fake refused malformed requests")
	return bookingtest.Unread(t, &p.seen, p.e.api.SentTo(p.waID), asReply)
}

// asReply reads a sent message back: its text (or interactive body) and
// its choices, labelled as the patient reads them (a list row's whole
// label is its description when the title had to be cut).
func asReply(m whatsapptest.Message) bot.Reply {
	r := bot.Reply{Text: m.Text}
	for _, c := range m.Choices {
		label := c.Title
		if c.Description != "" {
			label = c.Description
		}
		r.Buttons = append(r.Buttons, bot.Button{Label: label, Payload: c.ID})
	}
	return r
}

// TestBookingScriptOnWhatsApp: the booking script (the sender's number and
// date of birth, book, reschedule, cancel) through the webhook and the fake
// Cloud API; then a booking two weeks ahead is reminded when the fake clock
// reaches the reminder's time, days after the patient last wrote: the
// configured reminder template goes out, and the reminder itself, with
// its Confirm / Reschedule / Cancel buttons, as soon as the patient answers.
func TestBookingScriptOnWhatsApp(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		bc := booking.DefaultConfig()
		bc.LinkSecret = "test-link-secret"
		e := newEnv(t, db, withModules(&booking.Module{Config: &bc}))
		bookingtest.LoadSamplePatients(t, db, e.clock.Now())
		p := &waPatient{e: e, waID: "15550142002", name: "Walter Brooks"}

		bookingtest.VerifyBookRescheduleCancel(t, p, bookingtest.Walter, bookingtest.Hooks{})
		booked := bookingtest.BookAhead(t, p, bookingtest.Walter)
		lastWrote := e.clock.Now()

		apptest.NewJobs(t, db).FireNext(t, "booking_reminder", func(at time.Time) { e.clock.Advance(at.Sub(e.clock.Now())) })
		require.Greater(t, e.clock.Now().Sub(lastWrote), whatsapp.Window, "the window has closed")
		apptest.Settle(t, db, whatsapp.Channel, p.waID, p.handled)
		sent := e.api.SentTo(p.waID)[p.seen:]
		require.Len(t, sent, 1, "only the template")
		require.Equal(t, "template", sent[0].Type)
		require.Equal(t, "tend_appointment_reminder", sent[0].Template)
		require.Equal(t, "en_US", sent[0].Language)
		require.Equal(t, []string{e.app.Clinic.Name}, sent[0].Params, "no health details in the template")
		p.seen++

		// The patient answers "C": the held reminder comes first, with its
		// buttons; confirming asks for the date of birth again (days passed).
		out := p.Send(t, "C", "")
		require.True(t, strings.HasPrefix(out[0].Text, "Reminder: you have an appointment with Dr. Raj Patel on "), out[0].Text)
		require.Equal(t, bookingtest.When(t, booked), bookingtest.When(t, out[0].Text), "the reminder is for the visit just booked")
		reminder := e.api.SentTo(p.waID)[len(e.api.SentTo(p.waID))-len(out)]
		require.Equal(t, "interactive", reminder.Type)
		require.Equal(t, "button", reminder.Interactive)
		require.Equal(t, []string{"Confirm", "Reschedule", "Cancel visit"}, titles(reminder))
		out = bookingtest.Verified(t, p, bookingtest.Walter, bookingtest.Hooks{}, out[1:])
		require.Contains(t, out[len(out)-1].Text, "is confirmed")
	})
}

func titles(m whatsapptest.Message) []string {
	var out []string
	for _, c := range m.Choices {
		out = append(out, c.Title)
	}
	return out
}
