// Package slack is the staff side of handoffs: a Slack app that posts one
// message per handoff in SLACK_HANDOFF_CHANNEL, mirrors the patient's
// messages into its thread, relays the owner's thread replies to the patient
// and offers Take over / Return to bot / Resolve buttons.
//
// Slack reaches Tend over Socket Mode when SLACK_APP_TOKEN is set (no public
// URL needed) and otherwise over the Events API and interactivity webhooks,
// verified with the signing secret. Either way every event is stored and
// acknowledged at once, then handled by a durable job in arrival order per
// thread; every post to Slack is a row in an outbox worked in order per
// thread, so a Slack outage delays messages without losing or reordering
// them. The state machine itself lives in internal/handoff.
package slack

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	slackgo "github.com/slack-go/slack"

	"github.com/tend-health/tend/channels/slack/mention"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/host"
)

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the staff-facing messages (Slack texts).
func Locales() fs.FS { return catalog.Locales(locales) }

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Options are the Slack settings the handoff needs beyond credentials.
// NewModule fills the first four from Tend's Slack settings (SLACK_URGENT_MENTION,
// SLACK_HANDOFF_TIMEOUT, SLACK_STAFF_LANG, SLACK_CARD_DETAIL); tests set them directly.
type Options struct {
	// UrgentMention is who is mentioned on emergency handoffs: a user group
	// id (S0123ABCD), a user id (U0123ABCD), "here" or "channel", or a raw
	// mention ("<!subteam^S0123ABCD>"). Empty mentions nobody.
	UrgentMention string
	// WaitTimeout is how long a handoff may wait before the patient is told
	// what happens next and staff are reminded.
	WaitTimeout time.Duration
	// StaffLang is the language of the Slack texts.
	StaffLang string
	// CardDetail is CardFull (the default) or CardMinimal: what the handoff
	// message shows of a verified patient (SLACK_CARD_DETAIL).
	CardDetail string

	// NoticeEvery spaces "still waiting" notes to a waiting patient.
	NoticeEvery time.Duration
	// Summarizer adds a two-line summary to the handoff message (LLM).
	Summarizer handoff.Summarizer
	// Registry gives staff a verified patient's card.
	Registry handoff.Registry
	// HTTPClient reaches Slack (tests, proxies); nil means a client with a timeout.
	HTTPClient *http.Client
	// SocketPingInterval overrides how long Socket Mode waits for Slack's pings.
	SocketPingInterval time.Duration
}

// optionsFrom takes the handoff settings from Tend's configuration, which
// validated them at start.
func optionsFrom(c config.Slack) Options {
	return Options{UrgentMention: c.UrgentMention, WaitTimeout: c.HandoffTimeout, StaffLang: c.StaffLang,
		CardDetail: c.CardDetail}
}

// Module installs the Slack handoff. Create it with NewModule.
type Module struct {
	opts Options

	a         *host.Host
	api       *slackgo.Client
	apiURL    string
	channel   string
	secret    string
	socket    bool
	mention   string
	machine   *handoff.Machine
	names     nameCache
	startOnce sync.Once
	done      chan struct{}
}

// NewModule returns the module configured from Tend's Slack settings;
// edits then adjust the options, e.g. to add a Summarizer once an LLM
// client exists: NewModule(cfg.Slack, func(o *Options) { o.Summarizer = s }).
func NewModule(cfg config.Slack, edits ...func(*Options)) *Module {
	o := optionsFrom(cfg)
	for _, edit := range edits {
		edit(&o)
	}
	return NewModuleWith(o)
}

// NewModuleWith returns the module with explicit options (tests). Its
// handoff state machine exists from here on, so the command layer can hand
// it to the modules that open handoffs (Staff) before any is installed.
func NewModuleWith(o Options) *Module {
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = handoff.DefaultWaitTimeout
	}
	if o.StaffLang == "" {
		o.StaffLang = "en"
	}
	m := &Module{opts: o}
	m.machine = handoff.NewMachine(handoff.Options{Board: &board{m: m}, WaitTimeout: o.WaitTimeout,
		NoticeEvery: o.NoticeEvery, Registry: withCardDetail(o.Registry, o.CardDetail)})
	return m
}

// Name implements host.Module.
func (m *Module) Name() string { return "slack" }

// Machine is the handoff state machine the module drives.
func (m *Module) Machine() *handoff.Machine { return m.machine }

// Staff is the staff side of handoffs, for the modules that open them
// (triage, "talk to a person", surveys): the state machine, which works
// once this module is installed.
func (m *Module) Staff() handoff.Notifier { return m.machine }

// Install attaches the handoff machine to the engine and adds its
// staff-ownership guard, the job workers and (HTTP mode) the webhook routes.
func (m *Module) Install(_ context.Context, a *host.Host) error {
	cfg := a.Config.Slack
	if cfg.BotToken == "" || cfg.HandoffChannel == "" {
		return errors.New("SLACK_BOT_TOKEN and SLACK_HANDOFF_CHANNEL are required")
	}
	var err error
	if m.mention, err = mention.Parse(m.opts.UrgentMention); err != nil {
		return fmt.Errorf("SLACK_URGENT_MENTION %w, got %q", err, m.opts.UrgentMention)
	}
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	m.a, m.channel, m.secret = a, cfg.HandoffChannel, cfg.SigningSecret.Reveal()
	m.socket = cfg.AppToken != ""
	m.apiURL = cfg.APIURL
	if m.apiURL == "" {
		m.apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(m.apiURL, "/") {
		m.apiURL += "/" // slack-go appends method names directly
	}
	client := m.opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	apiOpts := []slackgo.Option{slackgo.OptionAPIURL(m.apiURL), slackgo.OptionHTTPClient(client)}
	if m.socket {
		apiOpts = append(apiOpts, slackgo.OptionAppLevelToken(cfg.AppToken.Reveal()))
	}
	m.api = slackgo.New(cfg.BotToken.Reveal(), apiOpts...)
	m.machine.Attach(a.Engine)
	// Runs after triage and consent (bot.GuardOrder): keeps the bot quiet
	// while staff own (or are about to own) a conversation.
	a.Engine.AddGuard(m.machine.Guard())
	m.machine.AddWorkers(a.Workers)
	river.AddWorker(a.Workers, &postWorker{m: m})
	river.AddWorker(a.Workers, &inboxWorker{m: m})
	river.AddWorker(a.Workers, &ephemeralWorker{m: m})
	river.AddWorker(a.Workers, &cleanupWorker{m: m})
	a.AddPeriodic(cleanupJob())
	if a.HTTP != nil && m.secret != "" {
		a.HTTP.Handle("POST /webhooks/slack/events", http.HandlerFunc(m.events))
		a.HTTP.Handle("POST /webhooks/slack/interactions", http.HandlerFunc(m.interactions))
	}
	return nil
}

// Start connects Socket Mode when an app token is configured; it reconnects
// until ctx ends (SIGTERM) and Close waits for it to finish.
func (m *Module) Start(ctx context.Context) error {
	if !m.socket || m.a == nil {
		return nil
	}
	m.startOnce.Do(func() {
		m.done = make(chan struct{})
		go func() {
			defer close(m.done)
			m.runSocket(ctx)
		}()
		m.a.OnClose(func() {
			select {
			case <-m.done:
			case <-time.After(10 * time.Second):
				m.a.Log.Warn("slack socket mode did not stop in time")
			}
		})
	})
	return nil
}
