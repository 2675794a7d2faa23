package mention_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/slack/mention"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "", "S0NURSES": "<!subteam^S0NURSES>", "U012AB": "<@U012AB>", "W012AB": "<@W012AB>",
		"here": "<!here>", "channel": "<!channel>", " everyone ": "<!everyone>", "<!subteam^S1|@nurses>": "<!subteam^S1|@nurses>",
	} {
		got, err := mention.Parse(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"@nurses", "nurses", "s0lower", "<unclosed"} {
		_, err := mention.Parse(bad)
		require.ErrorIs(t, err, mention.ErrSyntax, bad)
	}
}
