package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVariablesListEverySetting(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, v := range Variables() {
		seen[v.Name] = v.Default
	}
	for _, name := range []string{"TEND_DATA_DIR", "DATABASE_URL", "TEND_ADDR", "TELEGRAM_BOT_TOKEN", "SLACK_APP_TOKEN"} {
		require.Contains(t, seen, name)
	}
	require.Equal(t, ":8080", seen["TEND_ADDR"])
}
