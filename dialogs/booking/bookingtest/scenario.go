// Package bookingtest is the booking conversation as a channel-agnostic
// script: verify, book, reschedule, cancel. Each channel's tests drive it
// through their own adapter (a Driver), so the same conversation is proven
// on web chat, WhatsApp and Telegram.
package bookingtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
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
