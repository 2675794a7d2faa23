package survey

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tend-health/tend/internal/quiet"
)

// Config tunes surveys. It is read from TEND_SURVEY_* (docs/surveys.md)
// until the lead folds it into internal/config.
type Config struct {
	// File replaces the bundled post-visit survey.
	File string
	// Delay is how long after a visit the invitation goes out.
	Delay time.Duration
	// ExpireAfter is how long an invitation can be answered.
	ExpireAfter time.Duration
	// RemindAfter sends the one reminder this long after the invitation
	// to a patient who has not finished (0: no reminder).
	RemindAfter time.Duration
	// Quiet hours in the patient's time zone hold invitations until morning.
	Quiet quiet.Hours
}

// DefaultConfig: 2 hours after the visit, open 7 days, one reminder after
// 2 days, quiet 20:00-08:00.
func DefaultConfig() Config {
	return Config{Delay: 2 * time.Hour, ExpireAfter: 7 * 24 * time.Hour, RemindAfter: 48 * time.Hour, Quiet: quiet.Default}
}

// ConfigFromEnv reads TEND_SURVEY_FILE, TEND_SURVEY_DELAY,
// TEND_SURVEY_EXPIRE, TEND_SURVEY_REMINDER and TEND_QUIET_HOURS.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := DefaultConfig()
	c.File = getenv("TEND_SURVEY_FILE")
	var errs []error
	dur := func(name string, dst *time.Duration, zeroOK bool) {
		v := getenv(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || (d == 0 && !zeroOK) {
			errs = append(errs, fmt.Errorf("%s must be a duration like 2h", name))
			return
		}
		*dst = d
	}
	dur("TEND_SURVEY_DELAY", &c.Delay, true)
	dur("TEND_SURVEY_EXPIRE", &c.ExpireAfter, false)
	dur("TEND_SURVEY_REMINDER", &c.RemindAfter, true)
	if v := getenv("TEND_QUIET_HOURS"); v != "" {
		h, err := quiet.Parse(v)
		if err != nil {
			errs = append(errs, errors.New("TEND_QUIET_HOURS must be HH:MM-HH:MM, like 20:00-08:00"))
		}
		c.Quiet = h
	}
	return c, errors.Join(errs...)
}
