// Package whatsapp is the WhatsApp Business Cloud API channel, over plain
// net/http: GET /webhooks/whatsapp answers Meta's verification, POST
// /webhooks/whatsapp takes signed notifications (patient messages, delivery
// statuses) and records them for the durable jobs, and the Sender delivers
// replies as text, reply buttons, lists or numbered options, keeping to
// WhatsApp's 24-hour window with approved templates outside it.
//
// Setup, variables and the templates file: docs/whatsapp.md.
package whatsapp

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net/http"

	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/poison"
	"github.com/tend-health/tend/internal/store"
)

// Channel is the channel's name in conversations and metrics.
const Channel = "whatsapp"

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the channel's catalog messages.
func Locales() fs.FS { return catalog.Locales(locales) }

// Module installs the WhatsApp channel. Use it as a pointer: Install keeps
// what Start needs.
type Module struct {
	// HTTPClient reaches the Cloud API (nil: a client with a 20 s timeout).
	HTTPClient *http.Client
	// Templates overrides the templates file (tests).
	Templates *Templates
	// TemplatesFile is read when Templates is nil; empty means the App's
	// Config.WhatsApp.TemplatesFile, and without it the bundled default.
	TemplatesFile string

	reads *reader
}

// Name implements host.Module.
func (*Module) Name() string { return "whatsapp" }

// Install registers the sender, the catalog and (serve mode) the webhook.
func (m *Module) Install(_ context.Context, a *host.Host) error {
	cfg := a.Config.WhatsApp
	if cfg.PhoneNumberID == "" || cfg.AccessToken == "" || cfg.AppSecret == "" || cfg.VerifyToken == "" {
		return errors.New("WhatsApp needs WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_ACCESS_TOKEN, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN")
	}
	tpl, err := m.loadTemplates(cfg.TemplatesFile)
	if err != nil {
		return err
	}
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	cm := newChannelMetrics(a.Metrics.Registry)
	api := newClient(cfg.APIBase, cfg.PhoneNumberID, cfg.AccessToken.Reveal(), m.HTTPClient)
	a.Engine.RegisterSender(Channel, &Sender{api: api, db: a.DB, clock: a.Clock, log: a.Log, metrics: cm,
		templates: tpl, catalog: a.Catalog, clinic: a.Clinic})
	m.reads = newReader(api, a.Log, cm)
	if a.HTTP != nil {
		// A message is answered in the request unless a turn may wait on a
		// network service (bot.Engine.Receive), and on SQLite its reply is sent
		// there too, after commit (ReceiveAndSend): on PostgreSQL the delivery
		// job is woken at once by NOTIFY and a send in the request only races
		// it for the conversation's lock (docs/performance.md, issue 17).
		receive := a.Engine.Receive
		if a.DB.Dialect() == store.SQLite {
			receive = a.Engine.ReceiveAndSend
		}
		if a.Config.TurnsCallOut() {
			receive = a.Engine.Accept
		}
		h := &webhook{accept: receive, db: a.DB, clock: a.Clock, log: a.Log, metrics: a.Metrics, cm: cm,
			appSecret: []byte(cfg.AppSecret.Reveal()), verifyToken: []byte(cfg.VerifyToken.Reveal()),
			phoneID: cfg.PhoneNumberID, reads: m.reads,
			rejects: &poison.Recorder{Channel: Channel, DB: a.DB, Clock: a.Clock, Log: a.Log, Rejections: a.Metrics.WebhookRejections}}
		a.HTTP.HandleFunc("GET /webhooks/whatsapp", h.verify)
		a.HTTP.HandleFunc("POST /webhooks/whatsapp", h.receive)
	}
	a.Log.Info("whatsapp channel ready", "api_base", api.base)
	return nil
}

// Start runs the read-receipt workers until ctx ends.
func (m *Module) Start(ctx context.Context) error {
	if m.reads == nil {
		return errors.New("whatsapp: Start before Install")
	}
	for range 2 {
		go m.reads.run(ctx)
	}
	return nil
}

func (m *Module) loadTemplates(configured string) (*Templates, error) {
	if m.Templates != nil {
		return m.Templates, nil
	}
	path := m.TemplatesFile
	if path == "" {
		path = configured
	}
	if path == "" {
		return DefaultTemplates(), nil
	}
	return LoadTemplates(path)
}
