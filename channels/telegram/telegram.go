// Package telegram is the Telegram channel: it receives patients' messages
// by long polling (no public URL needed) or by webhook, records each one
// durably with the engine before confirming it to Telegram, and delivers
// the engine's replies with inline keyboards for buttons.
//
// Telegram's own wire structs stay in this package; the engine sees only
// bot.Inbound and bot.Reply.
package telegram

import (
	"context"
	"crypto/sha256"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/metrics"
	"github.com/tend-health/tend/internal/poison"
	"github.com/tend-health/tend/internal/store"
)

// Channel is the channel's name in messages, conversations and metrics.
const Channel = "telegram"

// WebhookPath is where Telegram posts updates in webhook mode.
const WebhookPath = "/webhooks/telegram"

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the channel's catalog messages.
func Locales() fs.FS { return catalog.Locales(locales) }

// Options tune the channel; zero values take the defaults, which suit
// production. Tests shorten the waits.
type Options struct {
	// HTTPClient makes the Bot API calls; per-call deadlines come from contexts.
	HTTPClient *http.Client
	// PollTimeout is how long one getUpdates call waits for updates (whole seconds).
	PollTimeout time.Duration
	// PollLimit is the most updates fetched at once (1-100).
	PollLimit int
	// MinBackoff and MaxBackoff bound the waits between failed calls at start
	// and while polling.
	MinBackoff, MaxBackoff time.Duration
	// SendPerSecond caps messages sent per second across all chats
	// (Telegram allows about 30).
	SendPerSecond float64
	// DrainTimeout bounds recording an already fetched batch at shutdown.
	DrainTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.PollTimeout < time.Second {
		o.PollTimeout = 25 * time.Second
	}
	if o.PollLimit < 1 || o.PollLimit > 100 {
		o.PollLimit = 100
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(30*time.Second, o.MinBackoff)
	}
	if o.SendPerSecond <= 0 {
		o.SendPerSecond = 25
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 10 * time.Second
	}
	return o
}

// Module installs the Telegram channel when TELEGRAM_BOT_TOKEN is set.
type Module struct {
	Options Options
	ch      *Bot
}

// Name implements host.Module.
func (*Module) Name() string { return "telegram" }

// Install registers the sender, and the webhook route in webhook mode.
func (m *Module) Install(_ context.Context, a *host.Host) error {
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	if !a.Config.TelegramEnabled() {
		return nil
	}
	m.ch = New(a, m.Options)
	a.Engine.RegisterSender(Channel, m.ch)
	if m.ch.webhook && a.HTTP != nil {
		a.HTTP.Handle("POST "+WebhookPath, m.ch)
	}
	a.OnClose(m.ch.Wait)
	return nil
}

// Start implements host.Starter: it connects to Telegram in the background
// (never failing the start) and then polls or registers the webhook.
func (m *Module) Start(ctx context.Context) error {
	if m.ch != nil {
		m.ch.Start(ctx)
	}
	return nil
}

// Bot is the installed channel (nil when Telegram is not configured).
func (m *Module) Bot() *Bot { return m.ch }

// Bot is the channel for one Telegram bot: poller or webhook, and sender.
type Bot struct {
	api    *client
	botID  string
	opts   Options
	engine *bot.Engine
	// receive records a message: answered in the request when a turn calls
	// no network service (engine.Receive), else accepted for a job (Accept).
	receive func(context.Context, bot.Inbound) (bot.Outcome, error)
	db      *store.DB
	catalog *catalog.Catalog
	clock   clock.Clock
	log     *slog.Logger
	metrics *metrics.Metrics
	own     *channelMetrics
	limiter *rate.Limiter
	rejects *poison.Recorder // poison updates, skipped for good

	webhook    bool
	webhookURL string
	secret     string
	secretSum  [32]byte

	bg sync.WaitGroup
}

// New builds the channel from the app's configuration. Webhook mode needs
// both TELEGRAM_WEBHOOK_SECRET and TEND_PUBLIC_URL; otherwise it polls.
func New(a *host.Host, o Options) *Bot {
	o = o.withDefaults()
	cfg := a.Config.Telegram
	c := &Bot{
		api:     newClient(cfg.BotToken.Reveal(), cfg.APIEndpoint, o.HTTPClient),
		botID:   botIDFromToken(cfg.BotToken.Reveal()),
		opts:    o,
		engine:  a.Engine,
		db:      a.DB,
		catalog: a.Catalog,
		clock:   a.Clock,
		log:     a.Log.With("channel", Channel),
		metrics: a.Metrics,
		own:     newChannelMetrics(a.Metrics.Registry),
		limiter: rate.NewLimiter(rate.Limit(o.SendPerSecond), max(1, int(o.SendPerSecond))),
	}
	c.receive = c.engine.Receive
	if a.Config.TurnsCallOut() {
		c.receive = c.engine.Accept
	}
	c.rejects = &poison.Recorder{Channel: Channel, DB: c.db, Clock: c.clock, Log: c.log, Rejections: c.metrics.WebhookRejections}
	c.api.onError = func(method, reason string) { c.own.apiErrors.WithLabelValues(method, reason).Inc() }
	if cfg.WebhookSecret != "" {
		if a.Config.PublicURL == "" {
			c.log.Warn("TELEGRAM_WEBHOOK_SECRET is set but TEND_PUBLIC_URL is not; using long polling")
		} else {
			c.webhook = true
			c.webhookURL = strings.TrimRight(a.Config.PublicURL, "/") + WebhookPath
			c.secret = cfg.WebhookSecret.Reveal()
			c.secretSum = sha256.Sum256([]byte(c.secret))
		}
	}
	if c.webhook && !a.Config.TurnsCallOut() && a.DB.Dialect() == store.SQLite {
		// A webhook's reply is sent in its request too, after commit, where
		// the delivery job waits for River's poll (SQLite). On PostgreSQL
		// the job is woken at once by NOTIFY and a send in the request only
		// races it for the conversation's lock (docs/performance.md, issue
		// 17). The poller, one update after another, leaves it to the job.
		c.receive = c.engine.ReceiveAndSend
	}
	return c
}

// Start connects in the background: getMe, then polling or webhook
// registration, each retried with backoff until ctx ends.
func (c *Bot) Start(ctx context.Context) {
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		if !c.checkBot(ctx) {
			return
		}
		if c.webhook {
			c.registerWebhook(ctx)
			return
		}
		c.poll(ctx)
	}()
}

// Wait blocks until background work (the poller, callback answers) is done;
// it returns promptly once the context given to Start has ended.
func (c *Bot) Wait() { c.bg.Wait() }

func (c *Bot) newBackoff() *backoff {
	return &backoff{min: c.opts.MinBackoff, max: c.opts.MaxBackoff}
}

// channelMetrics are Telegram's own, beside the shared per-channel ones.
type channelMetrics struct {
	apiErrors       *prometheus.CounterVec
	callbackAnswers *prometheus.CounterVec
}

func newChannelMetrics(r *prometheus.Registry) *channelMetrics {
	return &channelMetrics{
		apiErrors: register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_telegram_api_errors_total",
			Help: "Failed Bot API calls, by method and HTTP code (or network, timeout)."}, []string{"method", "reason"})),
		callbackAnswers: register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_telegram_callback_answers_total",
			Help: "answerCallbackQuery calls, by outcome (ok, failed)."}, []string{"outcome"})),
	}
}

// register adds c to r, or returns the one already there (a second channel
// on the same app, as in tests that restart the poller).
func register[C prometheus.Collector](r *prometheus.Registry, c C) C {
	if err := r.Register(c); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}
