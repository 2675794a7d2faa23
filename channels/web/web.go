// Package web is the web chat channel: a widget served at / (and as one
// script tag for a clinic's own site), talking to a JSON API under
// /api/v1/web/ with server-sent events for replies that arrive later (staff
// messages, reminders).
//
// A session is a bearer token the server issues and keeps (under its hash,
// see sessions.go), held in the browser's localStorage so the conversation
// survives a page reload while the session lives; it travels in the
// Authorization header, never in a URL.
package web

import (
	"context"
	"sync"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/httpserver"
)

// Channel is the web channel's name.
const Channel = "web"

// Module installs the web chat.
type Module struct{}

// Name implements host.Module.
func (Module) Name() string { return "web" }

// Install routes the widget and API and registers the sender.
func (Module) Install(_ context.Context, a *host.Host) error {
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	if a.HTTP == nil {
		return nil
	}
	// The server-wide protection (trusted proxies, /metrics access, admin
	// sign-in) is configured here because every serving assembly installs
	// the web chat; it belongs with the server's construction in
	// internal/app, and calling it twice is harmless.
	a.HTTP.Secure(httpserver.SecurityFrom(a.Config))
	// Series exist from the start, so dashboards show zeros rather than gaps.
	a.Metrics.MessagesIn.WithLabelValues(Channel)
	a.Metrics.MessagesOut.WithLabelValues(Channel, "sent")
	a.Metrics.MessagesOut.WithLabelValues(Channel, "failed")
	h := NewHandler(a)
	h.Routes(a.HTTP)
	// A reply is stored where the browser reads it, and delivery means waking
	// the browser's event streams, which the engine's outbound hook does after
	// commit: the turn records its replies as sent, with no delivery job (a
	// job insert, a job run and its statements per message, about a fifth of
	// a web turn's CPU). The sender serves what is still queued for a web
	// conversation by other paths (re-deliveries, campaigns).
	a.Engine.DeliverInline(Channel)
	a.Engine.RegisterSender(Channel, bot.SenderFunc(func(context.Context, bot.Recipient, bot.Reply) (string, error) {
		return "", nil
	}))
	a.Engine.OnOutbound(h.hub.notify)
	return nil
}

// hub wakes event streams when their conversation gets a new message.
type hub struct {
	mu   sync.Mutex
	subs map[int64]map[chan struct{}]bool
}

func newHub() *hub { return &hub{subs: map[int64]map[chan struct{}]bool{}} }

func (h *hub) subscribe(conv int64) (chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[conv] == nil {
		h.subs[conv] = map[chan struct{}]bool{}
	}
	h.subs[conv][ch] = true
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[conv], ch)
		if len(h.subs[conv]) == 0 {
			delete(h.subs, conv)
		}
		h.mu.Unlock()
	}
}

func (h *hub) notify(conv int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[conv] {
		select {
		case ch <- struct{}{}:
		default: // already signalled
		}
	}
}
