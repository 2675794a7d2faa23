package survey

import (
	"time"

	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/quiet"
)

// Config tunes surveys. Module fills it from internal/config (the
// TEND_SURVEY_* variables and TEND_QUIET_HOURS, see docs/surveys.md);
// tests set it directly.
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

// ConfigFrom is the survey part of Tend's configuration.
func ConfigFrom(c config.Config) Config {
	s := c.Survey
	return Config{File: s.File, Delay: s.Delay, ExpireAfter: s.ExpireAfter, RemindAfter: s.RemindAfter, Quiet: c.QuietHours}
}

// DefaultConfig is the empty environment's: 2 hours after the visit, open
// 7 days, one reminder after 2 days, quiet 20:00-08:00.
func DefaultConfig() Config { return ConfigFrom(config.Defaults()) }
