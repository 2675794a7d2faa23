package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/quiet"
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

	require.Equal(t, quiet.Default, c.QuietHours)
	require.Equal(t, quiet.Default, c.ReminderQuietHours(), "reminders follow TEND_QUIET_HOURS")
	require.Equal(t, Booking{VerifyTTL: 30 * time.Minute, LockFor: time.Hour, LockMax: 24 * time.Hour, MaxFailures: 5,
		VerifyBackoff: 2 * time.Second, CodesPerHour: 3, CodesPerDay: 10, FlowTTL: 30 * time.Minute,
		Reminders: []time.Duration{72 * time.Hour, 24 * time.Hour}, PrepDays: 2}, c.Booking)
	require.Equal(t, Schedule{Backend: "db"}, c.Schedule)
	require.Equal(t, Survey{Delay: 2 * time.Hour, ExpireAfter: 7 * 24 * time.Hour, RemindAfter: 48 * time.Hour}, c.Survey)
	require.Empty(t, c.WhatsApp.TemplatesFile)
	require.Empty(t, c.Slack.UrgentMention)
	require.Equal(t, 15*time.Minute, c.Slack.HandoffTimeout)
	require.Equal(t, "en", c.Slack.StaffLang)
	require.Equal(t, c, Defaults())
	require.NoError(t, Defaults().Validate())
}

func TestModuleSettings(t *testing.T) {
	t.Parallel()
	c, err := LoadFrom(map[string]string{
		"TEND_QUIET_HOURS": "21:30-07:15", "TEND_BOOKING_QUIET_HOURS": "22:00-08:00",
		"TEND_BOOKING_VERIFY_TTL": "10m", "TEND_BOOKING_LOCK_FOR": "1h", "TEND_BOOKING_FLOW_TTL": "45m",
		"TEND_BOOKING_REMINDERS": "48h, 2h", "TEND_BOOKING_PREP_DAYS": "0", "TEND_BOOKING_DEMO": "true",
		"TEND_BOOKING_CODE_SENDER": "log", "TEND_BOOKING_LINK_SECRET": "k",
		"TEND_BOOKING_LOCK_MAX": "12h", "TEND_BOOKING_VERIFY_MAX_FAILURES": "4", "TEND_BOOKING_VERIFY_BACKOFF": "0",
		"TEND_BOOKING_CODES_PER_HOUR": "2", "TEND_BOOKING_CODES_PER_DAY": "6", "TEND_CODE_SECRET": strings.Repeat("s", 32),
		"TEND_SCHEDULE_BACKEND": "fhir", "TEND_FHIR_BASE_URL": "https://ehr.example/fhir/R4", "TEND_FHIR_TOKEN": "t",
		"TEND_SURVEY_FILE": "/etc/tend/survey.yaml", "TEND_SURVEY_DELAY": "0", "TEND_SURVEY_EXPIRE": "72h", "TEND_SURVEY_REMINDER": "0",
		"TEND_WHATSAPP_TEMPLATES": "/etc/tend/templates.yaml", "SLACK_URGENT_MENTION": "S0NURSES",
		"SLACK_HANDOFF_TIMEOUT": "20m", "SLACK_STAFF_LANG": "es",
	})
	require.NoError(t, err)
	require.Equal(t, quiet.Hours{Start: 21*60 + 30, End: 7*60 + 15}, c.QuietHours)
	require.Equal(t, quiet.Hours{Start: 22 * 60, End: 8 * 60}, c.ReminderQuietHours())
	require.Equal(t, Booking{VerifyTTL: 10 * time.Minute, LockFor: time.Hour, LockMax: 12 * time.Hour, MaxFailures: 4,
		CodesPerHour: 2, CodesPerDay: 6, CodeSecret: Secret(strings.Repeat("s", 32)), FlowTTL: 45 * time.Minute,
		Reminders: []time.Duration{48 * time.Hour, 2 * time.Hour}, PrepDays: 0, ReminderQuietHours: c.Booking.ReminderQuietHours,
		Demo: true, CodeSender: "log", LinkSecret: "k"}, c.Booking)
	require.Equal(t, Schedule{Backend: "fhir", FHIRBaseURL: "https://ehr.example/fhir/R4", FHIRToken: "t"}, c.Schedule)
	require.Equal(t, Survey{File: "/etc/tend/survey.yaml", ExpireAfter: 72 * time.Hour}, c.Survey)
	require.Equal(t, "/etc/tend/templates.yaml", c.WhatsApp.TemplatesFile)
	require.Equal(t, "S0NURSES", c.Slack.UrgentMention)
	require.Equal(t, 20*time.Minute, c.Slack.HandoffTimeout)
	require.Equal(t, "es", c.Slack.StaffLang)
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
		{map[string]string{"TEND_CONSOLE_IDLE": "0s"}, "TEND_CONSOLE_IDLE"},
		{map[string]string{"TEND_CONSOLE_IDLE": "2h", "TEND_CONSOLE_SESSION_MAX": "1h"}, "TEND_CONSOLE_SESSION_MAX"},
		{map[string]string{"TEND_SHUTDOWN_TIMEOUT": "soon"}, "TEND_SHUTDOWN_TIMEOUT"},
		{map[string]string{"TEND_QUIET_HOURS": "9pm-7am"}, "TEND_QUIET_HOURS"},
		{map[string]string{"TEND_BOOKING_QUIET_HOURS": "21:00"}, "TEND_BOOKING_QUIET_HOURS"},
		{map[string]string{"TEND_BOOKING_VERIFY_TTL": "0s"}, "TEND_BOOKING_VERIFY_TTL"},
		{map[string]string{"TEND_BOOKING_LOCK_FOR": "-5m"}, "TEND_BOOKING_LOCK_FOR"},
		{map[string]string{"TEND_BOOKING_FLOW_TTL": "half an hour"}, "TEND_BOOKING_FLOW_TTL"},
		{map[string]string{"TEND_BOOKING_REMINDERS": "72h,soon"}, "TEND_BOOKING_REMINDERS"},
		{map[string]string{"TEND_BOOKING_REMINDERS": "72h,-1h"}, "TEND_BOOKING_REMINDERS"},
		{map[string]string{"TEND_BOOKING_PREP_DAYS": "31"}, "TEND_BOOKING_PREP_DAYS"},
		{map[string]string{"TEND_BOOKING_PREP_DAYS": "two"}, "TEND_BOOKING_PREP_DAYS"},
		{map[string]string{"TEND_BOOKING_DEMO": "yes please"}, "TEND_BOOKING_DEMO"},
		{map[string]string{"TEND_BOOKING_CODE_SENDER": "sms"}, "TEND_BOOKING_CODE_SENDER"},
		{map[string]string{"TEND_BOOKING_LOCK_MAX": "10m"}, "TEND_BOOKING_LOCK_MAX"},
		{map[string]string{"TEND_BOOKING_VERIFY_MAX_FAILURES": "0"}, "TEND_BOOKING_VERIFY_MAX_FAILURES"},
		{map[string]string{"TEND_BOOKING_VERIFY_BACKOFF": "2h"}, "TEND_BOOKING_VERIFY_BACKOFF"},
		{map[string]string{"TEND_BOOKING_CODES_PER_HOUR": "0"}, "TEND_BOOKING_CODES_PER_HOUR"},
		{map[string]string{"TEND_BOOKING_CODES_PER_DAY": "2"}, "TEND_BOOKING_CODES_PER_DAY"},
		{map[string]string{"TEND_CODE_SECRET": "short"}, "TEND_CODE_SECRET"},
		{map[string]string{"TEND_SCHEDULE_BACKEND": "epic"}, "TEND_SCHEDULE_BACKEND"},
		{map[string]string{"TEND_SCHEDULE_BACKEND": "fhir"}, "TEND_SCHEDULE_BACKEND=fhir needs TEND_FHIR_BASE_URL"},
		{map[string]string{"TEND_SCHEDULE_BACKEND": "fhir", "TEND_FHIR_BASE_URL": "ehr.local/fhir"}, "TEND_FHIR_BASE_URL must be an absolute URL"},
		{map[string]string{"TEND_FHIR_BASE_URL": "https://ehr.example/fhir"}, "TEND_SCHEDULE_BACKEND=fhir"},
		{map[string]string{"TEND_FHIR_TOKEN": "t"}, "TEND_SCHEDULE_BACKEND=fhir"},
		{map[string]string{"TEND_SURVEY_DELAY": "-1h"}, "TEND_SURVEY_DELAY"},
		{map[string]string{"TEND_SURVEY_EXPIRE": "0"}, "TEND_SURVEY_EXPIRE"},
		{map[string]string{"TEND_SURVEY_REMINDER": "-48h"}, "TEND_SURVEY_REMINDER"},
		{map[string]string{"TEND_SURVEY_REMINDER": "2 days"}, "TEND_SURVEY_REMINDER"},
		{map[string]string{"SLACK_URGENT_MENTION": "@nurses"}, "SLACK_URGENT_MENTION must be"},
		{map[string]string{"SLACK_HANDOFF_TIMEOUT": "0s"}, "SLACK_HANDOFF_TIMEOUT must be a positive duration"},
		{map[string]string{"SLACK_HANDOFF_TIMEOUT": "soon"}, "SLACK_HANDOFF_TIMEOUT"},
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
	c, err := LoadFrom(map[string]string{"DATABASE_URL": "postgres://u:hunter2@db/tend", "OPENAI_API_KEY": "sk-live-123",
		"TEND_SCHEDULE_BACKEND": "fhir", "TEND_FHIR_BASE_URL": "https://ehr.example/fhir",
		"TEND_FHIR_TOKEN": "fhir-bearer-456", "TEND_BOOKING_LINK_SECRET": "ics-hmac-789"})
	require.NoError(t, err)
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c, &c, c.Booking, c.Schedule} {
			out := fmt.Sprintf(f, v)
			for _, secret := range []string{"hunter2", "sk-live-123", "fhir-bearer-456", "ics-hmac-789"} {
				require.NotContains(t, out, secret, f)
			}
		}
	}
	require.Equal(t, "sk-live-123", c.OpenAI.APIKey.Reveal())
	require.Equal(t, "fhir-bearer-456", c.Schedule.FHIRToken.Reveal())
	require.Equal(t, "ics-hmac-789", c.Booking.LinkSecret.Reveal())

	// Nor does a validation error quote one.
	_, err = LoadFrom(map[string]string{"TEND_FHIR_TOKEN": "fhir-bearer-456"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "fhir-bearer-456")
}

// A hand-built Config (tests, callers) gets the same checks as the environment.
func TestValidateHandBuiltValues(t *testing.T) {
	t.Parallel()
	c := Defaults()
	c.QuietHours = quiet.Hours{Start: 25 * 60}
	c.Booking.ReminderQuietHours = &quiet.Hours{End: -1}
	c.Booking.Reminders = []time.Duration{0}
	err := c.Validate()
	require.Error(t, err)
	for _, name := range []string{"TEND_QUIET_HOURS", "TEND_BOOKING_QUIET_HOURS", "TEND_BOOKING_REMINDERS"} {
		require.Contains(t, err.Error(), name)
	}
}

// Parse errors are renamed from the Go field to the variable by field name,
// so two fields that can fail to parse must not share a name.
func TestParsedFieldNamesAreUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if f.Type.Kind() == reflect.Struct && f.Tag.Get("env") == "" {
				walk(f.Type)
				continue
			}
			if f.Tag.Get("env") == "" || f.Type.Kind() == reflect.String {
				continue // strings never fail to parse
			}
			require.NotContains(t, seen, f.Name, "%s and %s", seen[f.Name], f.Tag.Get("env"))
			seen[f.Name] = f.Tag.Get("env")
		}
	}
	walk(reflect.TypeOf(Config{}))
	require.Equal(t, "TEND_BOOKING_QUIET_HOURS", envName(reflect.TypeOf(Config{}), "ReminderQuietHours"))
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

// TestHTTPSecuritySettings: the web chat's sessions, proxies, streams and
// metrics access (docs/security.md), with their defaults and checks.
func TestHTTPSecuritySettings(t *testing.T) {
	t.Parallel()
	d := Defaults()
	require.Empty(t, d.WebAllowedOrigins, "the chat may be framed by its own origin only")
	require.Equal(t, HTTPSecurity{WebSessionIdle: 30 * time.Minute, WebSessionIdleAnonymous: 24 * time.Hour,
		WebStreamsPerSession: 3, WebStreams: 1000, WebStreamMaxAge: 10 * time.Minute}, d.Security)

	c, err := LoadFrom(map[string]string{
		"TEND_WEB_ALLOWED_ORIGINS": "https://www.clinic.example,https://*.clinic.example:8443",
		"TEND_WEB_SESSION_IDLE":    "15m", "TEND_WEB_SESSION_IDLE_ANONYMOUS": "2h", "TEND_WEB_ADDRESS_RATE_PER_MINUTE": "120",
		"TEND_WEB_STREAMS_PER_SESSION": "2", "TEND_WEB_STREAMS_MAX": "50", "TEND_WEB_STREAM_MAX_AGE": "5m",
		"TEND_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7,fd00::/8", "TEND_METRICS_TOKEN": "metrics-token-0123456789",
		"TEND_METRICS_ADDR": "127.0.0.1:9090",
	})
	require.NoError(t, err)
	require.Equal(t, []string{"https://www.clinic.example", "https://*.clinic.example:8443"}, c.WebAllowedOrigins)
	s := c.Security
	require.Equal(t, 15*time.Minute, s.WebSessionIdle)
	require.Equal(t, 2*time.Hour, s.WebSessionIdleAnonymous)
	require.Equal(t, 120, s.WebAddressRatePerMinute)
	require.Equal(t, 2, s.WebStreamsPerSession)
	require.Equal(t, 50, s.WebStreams)
	require.Equal(t, 5*time.Minute, s.WebStreamMaxAge)
	require.Equal(t, "127.0.0.1:9090", s.MetricsAddr)
	require.Equal(t, "metrics-token-0123456789", s.MetricsToken.Reveal())
	require.NotContains(t, fmt.Sprintf("%+v", c), "metrics-token-0123456789")
	var prefixes []string
	for _, p := range s.TrustedProxyPrefixes() {
		prefixes = append(prefixes, p.String())
	}
	require.Equal(t, []string{"10.0.0.0/8", "192.0.2.7/32", "fd00::/8"}, prefixes)

	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TEND_WEB_ALLOWED_ORIGINS": "https://a.example; script-src *"}, "TEND_WEB_ALLOWED_ORIGINS"},
		{map[string]string{"TEND_WEB_ALLOWED_ORIGINS": "https://a.example/path"}, "TEND_WEB_ALLOWED_ORIGINS"},
		{map[string]string{"TEND_WEB_SESSION_IDLE": "0s"}, "TEND_WEB_SESSION_IDLE"},
		{map[string]string{"TEND_WEB_SESSION_IDLE": "48h"}, "must not be longer than TEND_WEB_SESSION_IDLE_ANONYMOUS"},
		{map[string]string{"TEND_WEB_SESSION_IDLE_ANONYMOUS": "forever"}, "TEND_WEB_SESSION_IDLE_ANONYMOUS"},
		{map[string]string{"TEND_WEB_ADDRESS_RATE_PER_MINUTE": "-1"}, "TEND_WEB_ADDRESS_RATE_PER_MINUTE"},
		{map[string]string{"TEND_WEB_STREAMS_PER_SESSION": "0"}, "TEND_WEB_STREAMS_PER_SESSION"},
		{map[string]string{"TEND_WEB_STREAMS_PER_SESSION": "5", "TEND_WEB_STREAMS_MAX": "4"}, "TEND_WEB_STREAMS_MAX"},
		{map[string]string{"TEND_WEB_STREAM_MAX_AGE": "10ms"}, "TEND_WEB_STREAM_MAX_AGE"},
		{map[string]string{"TEND_TRUSTED_PROXIES": "10.0.0.0/33"}, "TEND_TRUSTED_PROXIES"},
		{map[string]string{"TEND_TRUSTED_PROXIES": "proxy.local"}, "TEND_TRUSTED_PROXIES"},
		{map[string]string{"TEND_METRICS_TOKEN": "short"}, "TEND_METRICS_TOKEN"},
		{map[string]string{"TEND_METRICS_ADDR": "9090"}, "TEND_METRICS_ADDR"},
		{map[string]string{"TEND_METRICS_ADDR": ":8080"}, "TEND_METRICS_ADDR"},
	} {
		_, err := LoadFrom(tc.env)
		require.Error(t, err, "%v", tc.env)
		require.Contains(t, err.Error(), tc.want, "%v", tc.env)
		require.NotContains(t, err.Error(), "short", "a secret is never quoted")
	}
}
