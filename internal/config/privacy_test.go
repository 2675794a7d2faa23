package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TEND_RETENTION_MESSAGES defaults to two years (0 keeps messages; less
// than a day is refused), SLACK_CARD_DETAIL to full (or minimal).
func TestRetentionAndCardDetail(t *testing.T) {
	t.Parallel()
	c := Defaults()
	require.Equal(t, 2*365*24*time.Hour, c.RetentionMessages)
	require.Equal(t, "full", c.Slack.CardDetail)

	c, err := LoadFrom(map[string]string{"TEND_RETENTION_MESSAGES": "0", "SLACK_CARD_DETAIL": "minimal"})
	require.NoError(t, err)
	require.Zero(t, c.RetentionMessages)
	require.Equal(t, "minimal", c.Slack.CardDetail)

	_, err = LoadFrom(map[string]string{"TEND_RETENTION_MESSAGES": "2h", "SLACK_CARD_DETAIL": "names"})
	require.ErrorContains(t, err, "TEND_RETENTION_MESSAGES")
	require.ErrorContains(t, err, "SLACK_CARD_DETAIL")
}
