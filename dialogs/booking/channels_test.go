package booking_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// Rosa Alvarez (MG-1001) books in Spanish on WhatsApp: the channel vouches
// for her number, her date of birth completes the check.
func TestWhatsAppSpanish(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.chat("whatsapp", "15550142001")
	c.meta = map[string]string{bot.MetaPhone: "15550142001"}
	c.e.t = t
	out := joined(c.sendLocale("Quiero una cita con la Dra. Chen la semana que viene", "es"))
	require.Contains(t, out, "necesito confirmar que es usted")
	require.Contains(t, out, "fecha de nacimiento")
	out = c.say("14 de marzo de 1952")
	require.Contains(t, out, "Gracias, Rosa")
	require.Contains(t, out, "¿Qué tipo de consulta necesita?")
	out = c.press("Consulta de seguimiento")
	require.Contains(t, out, "próximos horarios libres con Dr. Emily Chen")
	require.Equal(t, "lun 7 de dic, 8:00", c.buttons()[0].Label, "next week, Monday morning")
	out = c.press("lun 7 de dic, 8:00")
	require.Contains(t, out, "¿Reservo una Consulta de seguimiento con Dr. Emily Chen el lun 7 de dic a las 8:00 en Maple Grove Main Office?")
	out = c.press("Sí, reservar")
	require.Contains(t, out, "Su cita está reservada")
	require.Contains(t, out, "(Fuente: costos.md)")
	require.Contains(t, out, "Por favor traiga su tarjeta del seguro")
}

func (c *chat) sendLocale(text, locale string) []bot.Sent {
	c.e.t.Helper()
	c.n++
	out, err := c.e.app.Engine.Handle(context.Background(), bot.Inbound{Channel: c.channel, ChatID: c.id, SenderID: c.id,
		MessageID: fmt.Sprintf("%s-%d", c.id, c.n), Text: text, Meta: c.meta, Locale: locale})
	require.NoError(c.e.t, err)
	c.last = out.Replies
	return out.Replies
}

// Walter Brooks (MG-1002) on Telegram: a typed number is not proof; the
// shared contact is.
func TestTelegramSharedContact(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.chat("telegram", "tg-778")
	c.send("I need a follow-up", "")
	require.True(t, c.last[0].RequestContact, "ask Telegram for the contact button")
	c.send("+1 555 014 2002", "")
	require.True(t, c.last[0].RequestContact, "a typed number does not count")
	// The Telegram adapter puts the shared number in Meta (and some text).
	c.meta = map[string]string{bot.MetaPhone: "+15550142002"}
	require.Contains(t, c.say("+15550142002"), "date of birth")
	c.meta = nil
	out := c.say("11/02/1948")
	require.Contains(t, out, "Thank you, Walter")
	require.Equal(t, "Dr. Raj Patel (last visit)", c.buttons()[0].Label)
	c.press("Dr. Raj Patel")
	c.press("Mon, Nov 30, 10:00 AM")
	require.Contains(t, c.say("yes please"), "You're booked", "a typed yes books too")
}

// Five wrong birth dates in a row lock verification for an hour, then two;
// an answer right after a wrong one is asked to wait and does not count;
// the patient is told to call.
func TestVerificationLocks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.chat("whatsapp", "15550142005")
	c.meta = map[string]string{bot.MetaPhone: "15550142005"}
	c.say("book an appointment")
	require.Contains(t, c.say("05/09/1940"), "4 tries left")
	require.Contains(t, c.say("05/09/1941"), "Please wait a few seconds", "too soon after a wrong answer")
	e.clock.Advance(2 * time.Second)
	require.Contains(t, c.say("05/09/1941"), "3 tries left")
	e.clock.Advance(3 * time.Second)
	require.Contains(t, c.say("05/09/1941"), "Please wait a few seconds", "the wait doubles")
	e.clock.Advance(time.Second)
	require.Contains(t, c.say("05/09/1942"), "2 tries left")
	e.clock.Advance(time.Minute)
	require.Contains(t, c.say("05/09/1943"), "1 tries left")
	e.clock.Advance(time.Minute)
	require.Contains(t, c.say("05/09/1944"), "Please call us at (555) 014-2000")
	// The right answer now is not accepted while locked.
	require.Contains(t, c.say("book an appointment"), "paused this for a while")
	e.clock.Advance(61 * time.Minute)
	require.Contains(t, c.say("book an appointment"), "date of birth")
	for i := 0; i < 5; i++ {
		e.clock.Advance(time.Minute)
		c.say(fmt.Sprintf("05/09/19%d", 50+i))
	}
	e.clock.Advance(61 * time.Minute)
	require.Contains(t, c.say("book an appointment"), "paused this for a while", "the second lock lasts two hours")
	e.clock.Advance(time.Hour)
	require.Contains(t, c.say("book an appointment"), "date of birth")
	require.Contains(t, c.say("1939-05-09"), "Thank you, Helen")
}

// Web chat does not tell a stranger whether a person is registered: the
// answer is the same, and no code is sent.
func TestWebCodeDoesNotRevealRegistration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.chat("web", "stranger")
	c.say("my appointments")
	c.say("someone@example.com")
	out := c.say("01/01/1970")
	require.Contains(t, out, "If those details match our records")
	require.Contains(t, c.say("123456"), "That code isn't right")
	require.Empty(t, e.codes.codes)
}

// Someone who knows a patient's email and birth date cannot flood their
// inbox with codes from many chats.
func TestCodesAreRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	for i := 0; i < 5; i++ {
		c := e.chat("web", fmt.Sprint("flood-", i))
		c.say("my appointments")
		c.say("grace.okafor@example.com")
		require.Contains(t, c.say("1985-07-21"), "If those details match our records")
	}
	require.Equal(t, 3, e.codes.sent)
	e.clock.Advance(11 * time.Minute) // the codes expire, the hour has not passed
	c := e.chat("web", "later")
	c.say("my appointments")
	c.say("grace.okafor@example.com")
	c.say("1985-07-21")
	require.Equal(t, 3, e.codes.sent, "three codes an hour")
	e.clock.Advance(50 * time.Minute)
	c = e.chat("web", "next hour")
	c.say("my appointments")
	c.say("grace.okafor@example.com")
	c.say("1985-07-21")
	require.Equal(t, 4, e.codes.sent)
	require.Contains(t, c.say(e.codes.last(3)), "Thank you, Grace")
}

// A booking left halfway expires; old buttons say so; questions in the
// middle of a booking go to the other dialogs.
func TestHalfFinishedBookingExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.chat("whatsapp", "15550142003")
	c.meta = map[string]string{bot.MetaPhone: "15550142003"}
	c.say("I'd like to book a follow-up with Maria Garcia")
	c.say("1985-07-21")
	require.Len(t, c.buttons(), 6)
	slotButton := c.payload("Tue, Dec 1")
	require.NotContains(t, c.say("how much does a visit cost without insurance?"), "didn't understand that day",
		"a question passes to the FAQ")
	require.Contains(t, c.say("yesterday"), "already passed")
	require.Contains(t, c.say("blorp"), "didn't understand that day")
	e.clock.Advance(45 * time.Minute)
	out := joined(c.send("", slotButton))
	require.Contains(t, out, "from an earlier message")
	list, err := scheduling.ListAppointments(context.Background(), e.app.DB.Q(), scheduling.Filter{})
	require.NoError(t, err)
	require.Empty(t, list, "nothing was held or booked")
	conv, err := e.app.DB.Q().FindConversation(context.Background(), "whatsapp", "15550142003")
	require.NoError(t, err)
	require.Equal(t, "", conv.Dialog)
}

// TestFiftyPatientsRaceInChat: fifty verified patients press "Yes, book it"
// for the same slot at once, through the engine. One is booked; every
// other is told it was just taken and offered the next times.
func TestFiftyPatientsRaceInChat(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const n = 50
		chats := make([]*chat, n)
		require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
			for i := range chats {
				p := patients.Patient{ExternalID: fmt.Sprintf("R-%d", i), FirstName: "Racer", LastName: fmt.Sprint(i),
					BirthDate: "1960-01-01", Phone: fmt.Sprintf("1666%07d", i), ConsentReminders: true}
				if err := patients.Upsert(context.Background(), tx.Q, &p, start); err != nil {
					return err
				}
			}
			return nil
		}))
		for i := range chats {
			c := e.chat("whatsapp", fmt.Sprintf("1666%07d", i))
			c.meta = map[string]string{bot.MetaPhone: c.id}
			c.say("book a follow-up with Dr. Chen")
			c.say("01/01/1960")
			c.press("Mon, Nov 30, 10:00 AM")
			chats[i] = c
		}
		var wg sync.WaitGroup
		results := make([]string, n)
		for i, c := range chats {
			wg.Add(1)
			go func(i int, c *chat, payload string) {
				defer wg.Done()
				out, err := e.app.Engine.Handle(context.Background(), bot.Inbound{Channel: c.channel, ChatID: c.id,
					SenderID: c.id, MessageID: c.id + "-race", Text: "Yes, book it", Payload: payload, Meta: c.meta})
				if err != nil {
					results[i] = "error: " + err.Error()
					return
				}
				results[i] = joined(out.Replies)
			}(i, c, c.payload("Yes, book it"))
		}
		wg.Wait()
		won, lost := 0, 0
		for _, r := range results {
			switch {
			case contains(r, "You're booked"):
				won++
			case contains(r, "someone just booked that time") && contains(r, "next open times"):
				lost++
			default:
				t.Errorf("unexpected answer: %s", r)
			}
		}
		require.Equal(t, 1, won)
		require.Equal(t, n-1, lost)
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
