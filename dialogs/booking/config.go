package booking

import (
	"time"

	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/quiet"
)

// Config tunes booking. Module fills it from internal/config (the
// TEND_BOOKING_*, TEND_SCHEDULE_BACKEND and TEND_FHIR_* variables, see
// docs/booking.md); tests set it directly.
type Config struct {
	// VerifyTTL is how long an identity verification holds.
	VerifyTTL time.Duration
	// LockFor is how long three failed verifications lock the conversation.
	//
	// Deprecated: Limits.LockFor is what counts; ConfigFrom sets both.
	LockFor time.Duration
	// Limits bound identity verification per patient, phone or address and
	// conversation, on every channel (zero fields take the defaults).
	Limits patients.Limits
	// CodeSecret keys one-time code hashes (TEND_CODE_SECRET); empty means
	// the encryption key's, else one kept in the database.
	CodeSecret config.Secret
	// FlowTTL is how long a half-finished booking waits for the patient.
	FlowTTL time.Duration
	// Reminders are the times before a visit that reminders go out.
	Reminders []time.Duration
	// PrepDays is how many days before a visit "what to expect" goes out (0: never).
	PrepDays int
	// Quiet bounds the hours (patient's time zone) when no reminder is sent.
	Quiet quiet.Hours
	// Demo loads the sample patients and sends web-chat codes to the log.
	Demo bool
	// CodeSender "log" writes one-time codes to the log (development only).
	CodeSender string
	// Backend is "db" (built-in) or "fhir".
	Backend      string
	FHIRBaseURL  string
	FHIRToken    config.Secret
	LinkSecret   config.Secret
	PublicURL    string
	AdminToken   config.Secret
	LinkValidity time.Duration
	// Methods maps a channel to its verification method (phone, contact,
	// code); channels not listed use code.
	Methods map[string]string
}

// Verification methods.
const (
	MethodPhone   = "phone"   // the channel's sender number + date of birth (WhatsApp)
	MethodContact = "contact" // a shared contact + date of birth (Telegram)
	MethodCode    = "code"    // phone or email on file + date of birth + one-time code (web)
)

// ConfigFrom is booking's part of Tend's configuration, plus what no
// variable sets (link validity, verification methods per channel).
func ConfigFrom(c config.Config) Config {
	b, s := c.Booking, c.Schedule
	return Config{VerifyTTL: b.VerifyTTL, LockFor: b.LockFor, FlowTTL: b.FlowTTL, CodeSecret: b.CodeSecret,
		Limits: patients.Limits{MaxFailures: b.MaxFailures, Backoff: b.VerifyBackoff, LockFor: b.LockFor, LockMax: b.LockMax,
			CodesPerHour: b.CodesPerHour, CodesPerDay: b.CodesPerDay},
		Reminders: append([]time.Duration(nil), b.Reminders...), PrepDays: b.PrepDays, Quiet: c.ReminderQuietHours(),
		Demo: b.Demo, CodeSender: b.CodeSender, Backend: s.Backend, FHIRBaseURL: s.FHIRBaseURL, FHIRToken: s.FHIRToken,
		LinkSecret: b.LinkSecret, PublicURL: c.PublicURL, AdminToken: c.AdminToken, LinkValidity: 30 * 24 * time.Hour,
		Methods: map[string]string{"whatsapp": MethodPhone, "telegram": MethodContact}}
}

// DefaultConfig is booking's configuration in the empty environment.
func DefaultConfig() Config { return ConfigFrom(config.Defaults()) }

// method is the verification method for a channel.
func (c Config) method(channel string) string {
	if m := c.Methods[channel]; m != "" {
		return m
	}
	return MethodCode
}

// quiet reports whether t falls in quiet hours in loc.
func (c Config) quiet(t time.Time, loc *time.Location) bool { return c.Quiet.Contains(t, loc) }

// quietEnd is when the quiet hours containing t end.
func (c Config) quietEnd(t time.Time, loc *time.Location) time.Time { return c.Quiet.EndAfter(t, loc) }

// sendTime moves a reminder out of quiet hours: to the morning after, or,
// when that would be too close to the visit, to the evening before.
func (c Config) sendTime(at, visit time.Time, loc *time.Location) time.Time {
	if !c.quiet(at, loc) {
		return at
	}
	if end := c.quietEnd(at, loc); end.Before(visit.Add(-2 * time.Hour)) {
		return end
	}
	start := c.Quiet.StartBefore(at, loc)
	return start.Add(-30 * time.Minute)
}
