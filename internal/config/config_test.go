package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTelegramEndpointFormat(t *testing.T) {
	t.Parallel()
	base := map[string]string{"TELEGRAM_BOT_TOKEN": "1:x"}
	for _, tc := range []struct {
		endpoint string
		ok       bool
	}{
		{"https://api.telegram.org/bot%s/%s", true},
		{"http://127.0.0.1:8081/bot%s/%s", true},
		{"https://api.telegram.org/bot%s", false},
		{"not a url %s %s", false},
	} {
		env := map[string]string{"TELEGRAM_API_ENDPOINT": tc.endpoint}
		for k, v := range base {
			env[k] = v
		}
		_, err := LoadFrom(env)
		if tc.ok {
			require.NoError(t, err, tc.endpoint)
		} else {
			require.Error(t, err, tc.endpoint)
		}
	}
}
