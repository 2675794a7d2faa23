package slack

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func TestPlainText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Hello":                                 "Hello",
		"See <https://x.example/a|the form>":    "See the form (https://x.example/a)",
		"See <https://x.example/a>":             "See https://x.example/a",
		"Mail <mailto:a@b.example|a@b.example>": "Mail a@b.example",
		"Call <tel:5550142000|(555) 014-2000>":  "Call (555) 014-2000",
		"<@U123> can you check?":                "can you check?",
		"<@U123|anna> said hi":                  "anna said hi",
		"<!here> urgent":                        "urgent",
		"in <#C1|front-desk>":                   "in #front-desk",
		"1 &lt; 2 &amp;&amp; 3 &gt; 2":          "1 < 2 && 3 > 2",
		"  spaced  ":                            "spaced",
		"<https://x.example|https://x.example>": "https://x.example",
	} {
		require.Equal(t, want, plainText(in), in)
	}
}

func TestEscapeAndQuote(t *testing.T) {
	t.Parallel()
	require.Equal(t, "&lt;!channel&gt; &amp; &lt;https://evil|bank&gt;", escape("<!channel> & <https://evil|bank>"))
	require.Equal(t, "> a\n> &lt;b&gt;", quote("a\n<b>"))
	require.Equal(t, "abc…", clipRunes("abcdef", 4))
	require.Equal(t, "ñandú", clipRunes("ñandú", 5))
}

func TestPostBackoffAndClassify(t *testing.T) {
	t.Parallel()
	require.Equal(t, time.Second, postBackoff(1))
	require.Equal(t, 2*time.Second, postBackoff(2))
	require.Equal(t, 256*time.Second, postBackoff(9))
	require.Equal(t, 5*time.Minute, postBackoff(10))
	require.Equal(t, 5*time.Minute, postBackoff(300))

	f, wait := classify(&slackgo.RateLimitedError{RetryAfter: 7 * time.Second})
	require.Equal(t, failSnooze, f)
	require.Equal(t, 7*time.Second, wait)
	f, wait = classify(&slackgo.RateLimitedError{})
	require.Equal(t, failSnooze, f)
	require.Equal(t, time.Second, wait)
	f, _ = classify(slackgo.SlackErrorResponse{Err: "msg_too_long"})
	require.Equal(t, failPermanent, f)
	f, _ = classify(slackgo.SlackErrorResponse{Err: "not_in_channel"})
	require.Equal(t, failRetry, f, "an admin can fix it; what waited goes out then")
	f, _ = classify(slackgo.StatusCodeError{Code: 503})
	require.Equal(t, failRetry, f)
	f, _ = classify(errors.New("dial tcp: connection refused"))
	require.Equal(t, failRetry, f)
}

type fakeRegistry struct{}

func (fakeRegistry) Card(_ context.Context, _ store.Q, id int64) (handoff.Card, error) {
	return handoff.Card{Name: "Maria Lopez", DateOfBirth: "1950-02-03", Phone: "+1 555 0100"}, nil
}

// Personal details appear only for a verified patient: an unverified one
// shows the first name the channel gave and "unverified".
func TestPatientDetailsOnlyWhenVerified(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil, withOptions(func(o *Options) { o.Registry = fakeRegistry{} }))

		_, ts := h.requestPerson("anon")
		r := h.slack.lastRender(ts)
		require.Contains(t, r, "Unknown (unverified)")
		require.NotContains(t, r, "Maria Lopez")

		h.patient("verified", "hi")
		_, err := db.Q().Exec(context.Background(), `UPDATE conversations SET patient_id = 7 WHERE id = $1`, h.conv("verified").ID)
		require.NoError(t, err)
		_, ts = h.requestPerson("verified")
		r = h.slack.lastRender(ts)
		require.Contains(t, r, "Maria Lopez (verified)")
		require.Contains(t, r, "Date of birth: 1950-02-03")
		require.Contains(t, r, "Phone: +1 555 0100")
	})
}

func FuzzParseInteraction(f *testing.F) {
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1","name":"anna"},"container":{"message_ts":"1.2","channel_id":"C1"},"trigger_id":"t","actions":[{"action_id":"handoff_take","value":"12","action_ts":"3.4"}],"response_url":"https://hooks.slack.com/x"}`))
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"handoff_resolve","value":"9"}]}`))
	f.Add([]byte(`{"type":"view_submission"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		it, key, thread, ok, err := parseInteraction(raw)
		if err != nil {
			require.ErrorIs(t, err, errMalformed)
			return
		}
		if ok {
			require.Positive(t, it.HandoffID)
			require.NotEmpty(t, it.User)
			require.NotEmpty(t, key)
			require.NotEmpty(t, thread)
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add([]byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1.2","thread_ts":"1.1"}}`))
	f.Add([]byte(`{"type":"url_verification","challenge":"abc"}`))
	f.Add([]byte(`{"type":`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		env, err := decodeEnvelope(raw)
		if err != nil {
			require.ErrorIs(t, err, errMalformed)
			return
		}
		require.NotEmpty(t, env.Type)
		m := &Module{channel: "C1"}
		var ev messageEvent
		if len(env.Event) > 0 && json.Unmarshal(env.Event, &ev) == nil && m.relevant(ev) {
			require.NotEmpty(t, ev.User)
			require.NotEqual(t, ev.ThreadTS, ev.TS)
		}
	})
}

func FuzzPlainText(f *testing.F) {
	f.Add("See <https://x.example|form> &amp; <@U1>")
	f.Add("<<>>|<|>")
	f.Fuzz(func(t *testing.T, s string) {
		out := plainText(s)
		require.LessOrEqual(t, len(out), len(s)+len(s)/2+8)
	})
}

// The handoff settings come from Tend's config, whose defaults are the
// handoff machine's.
func TestOptionsFromConfig(t *testing.T) {
	t.Parallel()
	o := optionsFrom(config.Defaults().Slack)
	require.Equal(t, Options{WaitTimeout: handoff.DefaultWaitTimeout, StaffLang: "en", CardDetail: CardFull}, o)

	c, err := config.LoadFrom(map[string]string{"SLACK_URGENT_MENTION": "S0NURSES", "SLACK_HANDOFF_TIMEOUT": "20m",
		"SLACK_STAFF_LANG": "es"})
	require.NoError(t, err)
	o = optionsFrom(c.Slack)
	require.Equal(t, Options{UrgentMention: "S0NURSES", WaitTimeout: 20 * time.Minute, StaffLang: "es", CardDetail: CardFull}, o)
}

// The manifest in deploy/ asks for what the module needs.
func TestManifest(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"slack-manifest.yaml", "slack-manifest-http.yaml"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", name))
		require.NoError(t, err)
		var m struct {
			OAuth struct {
				Scopes struct{ Bot []string } `yaml:"scopes"`
			} `yaml:"oauth_config"`
			Settings struct {
				Events struct {
					RequestURL string   `yaml:"request_url"`
					BotEvents  []string `yaml:"bot_events"`
				} `yaml:"event_subscriptions"`
				Interactivity struct {
					Enabled    bool   `yaml:"is_enabled"`
					RequestURL string `yaml:"request_url"`
				} `yaml:"interactivity"`
				Socket bool `yaml:"socket_mode_enabled"`
			} `yaml:"settings"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &m), name)
		require.Subset(t, m.OAuth.Scopes.Bot, []string{"chat:write", "channels:history", "groups:history", "users:read"}, name)
		require.ElementsMatch(t, []string{"message.channels", "message.groups"}, m.Settings.Events.BotEvents, name)
		require.True(t, m.Settings.Interactivity.Enabled, name)
		if m.Settings.Socket {
			require.Empty(t, m.Settings.Events.RequestURL, name)
		} else {
			require.True(t, strings.HasSuffix(m.Settings.Events.RequestURL, "/webhooks/slack/events"), name)
			require.True(t, strings.HasSuffix(m.Settings.Interactivity.RequestURL, "/webhooks/slack/interactions"), name)
		}
	}
}
