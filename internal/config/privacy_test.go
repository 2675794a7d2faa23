package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TEND_RETENTION_MESSAGES, TEND_RETENTION_SURVEYS and
// TEND_RETENTION_APPOINTMENTS default to two years (0 keeps; less than a
// day, or a negative period, is refused, naming the variable);
// SLACK_CARD_DETAIL to full (or minimal).
func TestRetentionAndCardDetail(t *testing.T) {
	t.Parallel()
	twoYears := 2 * 365 * 24 * time.Hour
	c := Defaults()
	require.Equal(t, twoYears, c.RetentionMessages)
	require.Equal(t, twoYears, c.RetentionSurveys)
	require.Equal(t, twoYears, c.RetentionAppointments)
	require.Equal(t, "full", c.Slack.CardDetail)

	c, err := LoadFrom(map[string]string{"TEND_RETENTION_MESSAGES": "0", "TEND_RETENTION_SURVEYS": "0",
		"TEND_RETENTION_APPOINTMENTS": "0", "SLACK_CARD_DETAIL": "minimal"})
	require.NoError(t, err)
	require.Zero(t, c.RetentionMessages)
	require.Zero(t, c.RetentionSurveys)
	require.Zero(t, c.RetentionAppointments)
	require.Equal(t, "minimal", c.Slack.CardDetail)

	c, err = LoadFrom(map[string]string{"TEND_RETENTION_SURVEYS": "8760h", "TEND_RETENTION_APPOINTMENTS": "24h"})
	require.NoError(t, err)
	require.Equal(t, 365*24*time.Hour, c.RetentionSurveys)
	require.Equal(t, 24*time.Hour, c.RetentionAppointments)

	_, err = LoadFrom(map[string]string{"TEND_RETENTION_MESSAGES": "2h", "SLACK_CARD_DETAIL": "names"})
	require.ErrorContains(t, err, "TEND_RETENTION_MESSAGES")
	require.ErrorContains(t, err, "SLACK_CARD_DETAIL")

	_, err = LoadFrom(map[string]string{"TEND_RETENTION_SURVEYS": "23h"})
	require.ErrorContains(t, err, "TEND_RETENTION_SURVEYS must be 0 (keep) or at least 24h")
	_, err = LoadFrom(map[string]string{"TEND_RETENTION_APPOINTMENTS": "-48h"})
	require.ErrorContains(t, err, "TEND_RETENTION_APPOINTMENTS must be 0 (keep) or at least 24h")
	_, err = LoadFrom(map[string]string{"TEND_RETENTION_APPOINTMENTS": "two years"})
	require.ErrorContains(t, err, "TEND_RETENTION_APPOINTMENTS")
}

// The retention settings are listed by `tend serve --help` with their
// defaults.
func TestRetentionSettingsAreListed(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, v := range Variables() {
		seen[v.Name] = v.Default
	}
	for _, name := range []string{"TEND_RETENTION_MESSAGES", "TEND_RETENTION_SURVEYS", "TEND_RETENTION_APPOINTMENTS"} {
		require.Equal(t, "17520h", seen[name], name)
	}
}
