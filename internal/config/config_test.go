package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := LoadFrom(map[string]string{})
	require.NoError(t, err)
	require.Equal(t, "./data", c.DataDir)
	require.Equal(t, ":8080", c.Addr)
	require.False(t, c.UsesPostgres())
	require.Equal(t, "data/tend.db", c.SQLitePath())
	require.False(t, c.LLMEnabled())
	require.False(t, c.TelegramEnabled() || c.WhatsAppEnabled() || c.SlackEnabled())
}

func TestInvalidCombinationsNameTheVariable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL"},
		{map[string]string{"TEND_ADDR": "8080"}, "TEND_ADDR"},
		{map[string]string{"TEND_LOG_LEVEL": "loud"}, "TEND_LOG_LEVEL"},
		{map[string]string{"TEND_CHAT_MODEL": "gpt"}, "OPENAI_API_KEY or OPENAI_BASE_URL"},
		{map[string]string{"OPENAI_BASE_URL": "localhost:11434"}, "OPENAI_BASE_URL"},
		{map[string]string{"TELEGRAM_WEBHOOK_SECRET": "abc"}, "TELEGRAM_BOT_TOKEN"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_SECRET": "has space"}, "TELEGRAM_WEBHOOK_SECRET"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_API_ENDPOINT": "http://x/bot"}, "TELEGRAM_API_ENDPOINT"},
		{map[string]string{"WHATSAPP_PHONE_NUMBER_ID": "123"}, "WHATSAPP_ACCESS_TOKEN"},
		{map[string]string{"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2", "SLACK_HANDOFF_CHANNEL": "C1"}, "xapp-"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_HANDOFF_CHANNEL"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_HANDOFF_CHANNEL": "C1"}, "SLACK_SIGNING_SECRET"},
		{map[string]string{"TEND_ADMIN_TOKEN": "short"}, "TEND_ADMIN_TOKEN"},
		{map[string]string{"TEND_WEB_RATE_PER_MINUTE": "0"}, "TEND_WEB_RATE_PER_MINUTE"},
		{map[string]string{"TEND_SHUTDOWN_TIMEOUT": "soon"}, "TEND_SHUTDOWN_TIMEOUT"},
	} {
		_, err := LoadFrom(tc.env)
		require.Error(t, err, "%v", tc.env)
		require.Contains(t, err.Error(), tc.want, "%v", tc.env)
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	t.Parallel()
	_, err := LoadFrom(map[string]string{"TEND_ADDR": "x", "TEND_LOG_LEVEL": "y", "TEND_LOG_FORMAT": "z"})
	require.Error(t, err)
	require.Equal(t, 3, strings.Count(err.Error(), "\n")+1)
}

func TestValidChannelSetups(t *testing.T) {
	t.Parallel()
	c, err := LoadFrom(map[string]string{
		"TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_SECRET": "s3cr3t_-", "TEND_PUBLIC_URL": "https://tend.example",
		"WHATSAPP_PHONE_NUMBER_ID": "1", "WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_APP_SECRET": "s", "WHATSAPP_VERIFY_TOKEN": "v",
		"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "SLACK_HANDOFF_CHANNEL": "C123",
		"OPENAI_BASE_URL": "http://localhost:11434/v1", "TEND_CHAT_MODEL": "llama3", "TEND_EMBEDDING_MODEL": "nomic-embed-text",
		"DATABASE_URL": "postgres://u:p@db/tend",
	})
	require.NoError(t, err)
	require.True(t, c.TelegramEnabled() && c.WhatsAppEnabled() && c.SlackEnabled() && c.LLMEnabled() && c.RemoteEmbeddings())
	require.True(t, c.UsesPostgres())
}

func TestSecretsNeverPrint(t *testing.T) {
	t.Parallel()
	c, err := LoadFrom(map[string]string{"DATABASE_URL": "postgres://u:hunter2@db/tend", "OPENAI_API_KEY": "sk-live-123"})
	require.NoError(t, err)
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(f, c)
		require.NotContains(t, out, "hunter2", f)
		require.NotContains(t, out, "sk-live-123", f)
	}
	require.Equal(t, "sk-live-123", c.OpenAI.APIKey.Reveal())
}
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
