package booking

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/quiet"
)

// Config tunes booking. It is read from TEND_BOOKING_* variables (see
// docs/booking.md) until the lead folds it into internal/config.
type Config struct {
	// VerifyTTL is how long an identity verification holds.
	VerifyTTL time.Duration
	// LockFor is how long three failed verifications lock the conversation.
	LockFor time.Duration
	// FlowTTL is how long a half-finished booking waits for the patient.
	FlowTTL time.Duration
	// Reminders are the times before a visit that reminders go out.
	Reminders []time.Duration
	// PrepDays is how many days before a visit "what to expect" goes out (0: never).
	PrepDays int
	// QuietStart and QuietEnd (minutes of the day, patient's time zone)
	// bound the hours when no reminder is sent.
	QuietStart, QuietEnd int
	// Demo loads the sample patients and sends web-chat codes to the log.
	Demo bool
	// CodeSender "log" writes one-time codes to the log (development only).
	CodeSender string
	// Backend is "db" (built-in) or "fhir".
	Backend      string
	FHIRBaseURL  string
	FHIRToken    string
	LinkSecret   string
	PublicURL    string
	AdminToken   string
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

// DefaultConfig is booking's defaults.
func DefaultConfig() Config {
	return Config{VerifyTTL: 30 * time.Minute, LockFor: 30 * time.Minute, FlowTTL: 30 * time.Minute,
		Reminders: []time.Duration{72 * time.Hour, 24 * time.Hour}, PrepDays: 2, QuietStart: 21 * 60, QuietEnd: 8 * 60,
		Backend: "db", LinkValidity: 30 * 24 * time.Hour,
		Methods: map[string]string{"whatsapp": MethodPhone, "telegram": MethodContact}}
}

// ConfigFromEnv reads TEND_BOOKING_* and TEND_FHIR_* over the defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := DefaultConfig()
	var errs []error
	dur := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s must be a positive duration like 30m", name))
				return
			}
			*dst = d
		}
	}
	dur("TEND_BOOKING_VERIFY_TTL", &c.VerifyTTL)
	dur("TEND_BOOKING_LOCK_FOR", &c.LockFor)
	dur("TEND_BOOKING_FLOW_TTL", &c.FlowTTL)
	if v := getenv("TEND_BOOKING_REMINDERS"); v != "" {
		c.Reminders = nil
		for _, p := range strings.Split(v, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(p))
			if err != nil || d <= 0 {
				errs = append(errs, errors.New("TEND_BOOKING_REMINDERS must list durations like 72h,24h"))
				break
			}
			c.Reminders = append(c.Reminders, d)
		}
	}
	if v := getenv("TEND_BOOKING_PREP_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 30 {
			errs = append(errs, errors.New("TEND_BOOKING_PREP_DAYS must be 0 to 30"))
		}
		c.PrepDays = n
	}
	if v := getenv("TEND_BOOKING_QUIET_HOURS"); v != "" {
		h, err := quiet.Parse(v)
		if err != nil {
			errs = append(errs, errors.New("TEND_BOOKING_QUIET_HOURS must be HH:MM-HH:MM, like 21:00-08:00"))
		}
		c.QuietStart, c.QuietEnd = h.Start, h.End
	}
	c.Demo = getenv("TEND_BOOKING_DEMO") == "1" || getenv("TEND_BOOKING_DEMO") == "true"
	c.CodeSender = getenv("TEND_BOOKING_CODE_SENDER")
	if c.CodeSender != "" && c.CodeSender != "log" {
		errs = append(errs, errors.New(`TEND_BOOKING_CODE_SENDER must be "log" (development) or empty`))
	}
	if v := getenv("TEND_SCHEDULE_BACKEND"); v != "" {
		c.Backend = v
	}
	c.FHIRBaseURL, c.FHIRToken = getenv("TEND_FHIR_BASE_URL"), getenv("TEND_FHIR_TOKEN")
	switch {
	case c.Backend != "db" && c.Backend != "fhir":
		errs = append(errs, errors.New("TEND_SCHEDULE_BACKEND must be db or fhir"))
	case c.Backend == "fhir" && c.FHIRBaseURL == "":
		errs = append(errs, errors.New("TEND_SCHEDULE_BACKEND=fhir needs TEND_FHIR_BASE_URL"))
	}
	c.LinkSecret = getenv("TEND_BOOKING_LINK_SECRET")
	return c, errors.Join(errs...)
}

// method is the verification method for a channel.
func (c Config) method(channel string) string {
	if m := c.Methods[channel]; m != "" {
		return m
	}
	return MethodCode
}

// quiet reports whether t falls in quiet hours in loc.
func (c Config) quiet(t time.Time, loc *time.Location) bool {
	return quiet.Hours{Start: c.QuietStart, End: c.QuietEnd}.Contains(t, loc)
}

// quietEnd is when the quiet hours containing t end.
func (c Config) quietEnd(t time.Time, loc *time.Location) time.Time {
	return quiet.Hours{Start: c.QuietStart, End: c.QuietEnd}.EndAfter(t, loc)
}

// sendTime moves a reminder out of quiet hours: to the morning after, or,
// when that would be too close to the visit, to the evening before.
func (c Config) sendTime(at, visit time.Time, loc *time.Location) time.Time {
	if !c.quiet(at, loc) {
		return at
	}
	if end := c.quietEnd(at, loc); end.Before(visit.Add(-2 * time.Hour)) {
		return end
	}
	start := quiet.Hours{Start: c.QuietStart, End: c.QuietEnd}.StartBefore(at, loc)
	return start.Add(-30 * time.Minute)
}
