// Package bookingtest is the booking conversation as a channel-agnostic
// script: verify, book, reschedule, cancel. Each channel's tests drive it
// through their own adapter (a Driver), so the same conversation is proven
// on web chat, WhatsApp and Telegram.
package bookingtest

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/sample"
)

// Driver is one patient on one channel.
type Driver interface {
	// Send sends text, or presses a button when payload is set (text is
	// then its label), and returns the bot's replies to it.
	Send(t *testing.T, text, payload string) []bot.Reply
	// ShareContact shares the patient's own phone number the channel's
	// way (Telegram's contact button), with the replies.
	ShareContact(t *testing.T, phone string) []bot.Reply
}

// Patient is who the script plays: a patient of the sample registry
// (sample/patients.csv), loaded into the store under test.
type Patient struct {
	Phone, Email, BirthDate string
	// Provider is the label of the provider to book with.
	Provider string
}

// LoadSamplePatients imports the sample registry (sample/patients.csv)
// into db, as `tend patients import --sample` does.
func LoadSamplePatients(t testing.TB, db *store.DB, now time.Time) {
	t.Helper()
	ps, err := patients.ParseCSV(strings.NewReader(string(sample.PatientsCSV())), now)
	require.NoError(t, err)
	require.NoError(t, patients.Import(context.Background(), db, ps, now))
}

// Walter is sample patient MG-1002.
var Walter = Patient{Phone: "+15550142002", Email: "walter.brooks@example.com", BirthDate: "11/02/1948", Provider: "Dr. Raj Patel"}

// Hooks reach what the channel cannot show.
type Hooks struct {
	// Code returns the last one-time code sent (web chat); nil elsewhere.
	Code func() string
}

// VerifyBookRescheduleCancel runs the whole conversation in English.
func VerifyBookRescheduleCancel(t *testing.T, d Driver, p Patient, h Hooks) {
	t.Helper()
	s := &script{t: t, d: d}
	s.send("I need a follow-up")
	verify(t, s, p, h)
	require.Contains(t, s.text(), "Who would you like to see?")
	s.press(p.Provider)
	require.Contains(t, s.text(), "next open times")
	first := s.buttons()[0].Label
	s.press(first)
	s.press("Yes, book it")
	require.Contains(t, s.text(), "You're booked")

	s.send("I need to reschedule my appointment")
	require.Contains(t, s.text(), "next open times")
	second := s.buttons()[1].Label
	s.press(second)
	require.Contains(t, s.text(), "Move your")
	s.press("Yes, move it")
	require.Contains(t, s.text(), "is now on")

	s.send("please cancel my appointment")
	require.Contains(t, s.text(), "Cancel your")
	s.press("Yes, cancel it")
	require.Contains(t, s.text(), "is cancelled")

	s.send("my appointments")
	require.Contains(t, s.text(), "no upcoming appointments")
}

// BookAhead books the patient's provider about two weeks ahead, far enough
// for every reminder to be scheduled, and returns the confirmation. The
// patient is verified already (run after VerifyBookRescheduleCancel).
func BookAhead(t *testing.T, d Driver, p Patient) string {
	t.Helper()
	s := &script{t: t, d: d}
	s.send("I need a follow-up")
	require.Contains(t, s.text(), "Who would you like to see?")
	s.press(p.Provider)
	require.Contains(t, s.text(), "next open times")
	s.send("in two weeks")
	require.NotEmpty(t, s.buttons(), s.text())
	s.press(s.buttons()[0].Label)
	s.press("Yes, book it")
	require.Contains(t, s.text(), "You're booked")
	return s.text()
}

// Verified answers the identity questions in replies when the bot asks
// them (a verification expires; an action from an old reminder asks
// again), and returns the replies that follow; other replies are returned
// as they are.
func Verified(t *testing.T, d Driver, p Patient, h Hooks, replies []bot.Reply) []bot.Reply {
	t.Helper()
	s := &script{t: t, d: d, last: replies}
	if s.asksContact() || strings.Contains(s.text(), "make sure it's you") {
		verify(t, s, p, h)
	}
	return s.last
}

// Unread returns what a channel's fake API recorded for the patient since
// the last look (*seen messages were returned already), read back as
// replies by asReply, and moves *seen on. A Driver's Send ends with it.
func Unread[M any](t testing.TB, seen *int, sent []M, asReply func(M) bot.Reply) []bot.Reply {
	t.Helper()
	require.Greater(t, len(sent), *seen, "the bot answered")
	out := make([]bot.Reply, 0, len(sent)-*seen)
	for _, m := range sent[*seen:] {
		out = append(out, asReply(m))
	}
	*seen = len(sent)
	return out
}

var whenRe = regexp.MustCompile(`\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [A-Z][a-z]{2} \d{1,2} at \d{1,2}:\d\d [AP]M`)

// When is the visit time an English booking message names ("Mon, Dec 7 at
// 8:00 AM").
func When(t testing.TB, text string) string {
	t.Helper()
	w := whenRe.FindString(text)
	require.NotEmpty(t, w, "no visit time in %q", text)
	return w
}

// verify answers the identity questions, whichever the channel asks.
func verify(t *testing.T, s *script, p Patient, h Hooks) {
	t.Helper()
	for i := 0; i < 5; i++ {
		out := s.text()
		switch {
		case strings.Contains(out, "You're verified"):
			return
		case s.asksContact():
			s.last = s.d.ShareContact(t, p.Phone)
		case strings.Contains(out, "phone number or email"):
			s.send(p.Email)
		case strings.Contains(out, "date of birth"):
			s.send(p.BirthDate)
		case strings.Contains(out, "6-digit code"):
			require.NotNil(t, h.Code, "the channel verifies by code: Hooks.Code is needed")
			s.send(h.Code())
		default:
			t.Fatalf("unexpected verification step: %q", out)
		}
	}
	t.Fatalf("not verified after five answers: %q", s.text())
}

type script struct {
	t    *testing.T
	d    Driver
	last []bot.Reply
}

func (s *script) send(text string) { s.last = s.d.Send(s.t, text, "") }

func (s *script) press(label string) {
	s.t.Helper()
	for _, b := range s.buttons() {
		if strings.Contains(b.Label, label) {
			s.last = s.d.Send(s.t, b.Label, b.Payload)
			return
		}
	}
	s.t.Fatalf("no button %q in %q", label, s.text())
}

func (s *script) text() string {
	var parts []string
	for _, r := range s.last {
		parts = append(parts, r.Text)
	}
	return strings.Join(parts, "\n")
}

func (s *script) buttons() []bot.Button {
	var out []bot.Button
	for _, r := range s.last {
		out = append(out, r.Buttons...)
	}
	return out
}

func (s *script) asksContact() bool {
	for _, r := range s.last {
		if r.RequestContact {
			return true
		}
	}
	return false
}
