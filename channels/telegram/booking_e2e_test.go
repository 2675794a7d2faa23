package telegram_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/dialogs/booking/bookingtest"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// tgPatient plays a patient on Telegram for the channel-agnostic booking
// script: what they do goes into the fake Bot API as updates (text,
// callback queries on the inline keyboards they received, a shared
// contact), and what they are shown is read back from the fake's
// sendMessage records.
type tgPatient struct {
	h       *harness
	u       telegramtest.User
	handled int // updates the bot must have handled
	seen    int // bot messages already returned
}

func (p *tgPatient) chatID() string { return strconv.FormatInt(p.u.ID, 10) }

// Send types text or, with a payload, presses the button carrying it under
// the bot's latest message that has it.
func (p *tgPatient) Send(t *testing.T, text, payload string) []bot.Reply {
	t.Helper()
	if payload == "" {
		p.h.fake.PushText(p.u, text)
		return p.replies(t)
	}
	sent := p.h.fake.SentTo(p.u.ID)
	for i := len(sent) - 1; i >= 0; i-- {
		for j, data := range sent[i].Data() {
			if data == payload {
				require.Equal(t, text, sent[i].Labels()[j])
				_, query := p.h.fake.Press(p.u, sent[i], text)
				out := p.replies(t)
				require.Eventually(t, func() bool { return slices.Contains(p.h.fake.Answered(), query) }, waitFor, 20*time.Millisecond,
					"the button press is answered")
				return out
			}
		}
	}
	t.Fatalf("no message to chat %d has a button %q (%s)", p.u.ID, payload, text)
	return nil
}

// ShareContact taps the request_contact keyboard: the patient's own contact.
func (p *tgPatient) ShareContact(t *testing.T, phone string) []bot.Reply {
	t.Helper()
	p.h.fake.Push("message", p.h.fake.Message(p.u, map[string]any{
		"contact": map[string]any{"phone_number": phone, "first_name": p.u.FirstName, "user_id": p.u.ID}}))
	return p.replies(t)
}

// replies waits until the update is handled and its replies sent, and
// reads them back as the patient sees them.
func (p *tgPatient) replies(t *testing.T) []bot.Reply {
	t.Helper()
	p.handled++
	apptest.Settle(t, p.h.db, telegram.Channel, p.chatID(), p.handled)
	return p.unread(t)
}

// unread is what the bot sent since the last look, as replies.
func (p *tgPatient) unread(t *testing.T) []bot.Reply {
	t.Helper()
	return bookingtest.Unread(t, &p.seen, p.h.fake.SentTo(p.u.ID), asReply)
}

// asReply reads a sent message back: text, inline buttons (label and
// callback data), and whether its keyboard asks for the contact.
func asReply(m telegramtest.Message) bot.Reply {
	r := bot.Reply{Text: m.Text}
	if m.Markup == nil {
		return r
	}
	for _, row := range m.Markup.InlineKeyboard {
		for _, b := range row {
			switch {
			case b.CallbackData != nil:
				r.Buttons = append(r.Buttons, bot.Button{Label: b.Text, Payload: *b.CallbackData})
			case b.URL != nil:
				r.Links = append(r.Links, bot.Link{Label: b.Text, URL: *b.URL})
			}
		}
	}
	for _, row := range m.Markup.Keyboard {
		for _, b := range row {
			r.RequestContact = r.RequestContact || b.RequestContact
		}
	}
	return r
}

// TestBookingScriptOnTelegram: the booking script (verify by shared
// contact and date of birth, book, reschedule, cancel) through the real
// adapter and the fake Bot API; then a booking two weeks ahead is
// reminded when the fake clock reaches the reminder's time, through
// sendMessage with Confirm / Reschedule / Cancel buttons that work.
func TestBookingScriptOnTelegram(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFake(time.Now())
		bc := booking.DefaultConfig()
		bc.LinkSecret = "test-link-secret"
		h := newHarness(t, db, harnessOpts{clock: clk, modules: []app.Module{&booking.Module{Config: &bc}}})
		bookingtest.LoadSamplePatients(t, db, clk.Now())
		h.start()
		p := &tgPatient{h: h, u: telegramtest.User{ID: 7002, FirstName: "Walter", LanguageCode: "en"}}

		bookingtest.VerifyBookRescheduleCancel(t, p, bookingtest.Walter, bookingtest.Hooks{})
		booked := bookingtest.BookAhead(t, p, bookingtest.Walter)

		apptest.NewJobs(t, db).FireNext(t, "booking_reminder", clk.Set)
		apptest.Settle(t, db, telegram.Channel, p.chatID(), p.handled)
		sent := h.fake.SentTo(p.u.ID)[p.seen:]
		require.Len(t, sent, 1, "one reminder")
		require.True(t, strings.HasPrefix(sent[0].Text, "Reminder: you have an appointment with Dr. Raj Patel on "), sent[0].Text)
		require.Equal(t, bookingtest.When(t, booked), bookingtest.When(t, sent[0].Text), "the reminder is for the visit just booked")
		require.Equal(t, []string{"Confirm", "Reschedule", "Cancel visit"}, sent[0].Labels())
		p.seen++

		// Days later the verification has expired: the button asks again first.
		confirm := bookingtest.Verified(t, p, bookingtest.Walter, bookingtest.Hooks{}, p.Send(t, "Confirm", sent[0].Data()[0]))
		require.Contains(t, confirm[len(confirm)-1].Text, "is confirmed")
		h.requireCleanLogs("11/02/1948")
	})
}
