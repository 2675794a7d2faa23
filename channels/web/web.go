// Package web is the web chat channel: a widget served at / (and as one
// script tag for a clinic's own site), talking to a JSON API under
// /api/v1/web/ with server-sent events for replies that arrive later (staff
// messages, reminders).
//
// A session is a random bearer token kept in the browser's localStorage, so
// the conversation survives a page reload; the conversation's chat id is a
// hash of the token, so the database never holds the token itself.
package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
)

// Channel is the web channel's name.
const Channel = "web"

// Module installs the web chat.
type Module struct{}

// Name implements app.Module.
func (Module) Name() string { return "web" }

// Install routes the widget and API and registers the sender.
func (Module) Install(_ context.Context, a *app.App) error {
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	if a.HTTP == nil {
		return nil
	}
	// Series exist from the start, so dashboards show zeros rather than gaps.
	a.Metrics.MessagesIn.WithLabelValues(Channel)
	a.Metrics.MessagesOut.WithLabelValues(Channel, "sent")
	a.Metrics.MessagesOut.WithLabelValues(Channel, "failed")
	h := NewHandler(a)
	h.Routes(a.HTTP)
	a.Engine.RegisterSender(Channel, bot.SenderFunc(func(context.Context, bot.Recipient, bot.Reply) (string, error) {
		// The reply is already stored where the browser reads it; delivery
		// means waking the browser's event stream, done after commit by the
		// engine's outbound hook. Recording it as sent is all that is left.
		return "", nil
	}))
	a.Engine.OnOutbound(h.hub.notify)
	return nil
}

// chatID derives the conversation key from a session token.
func chatID(session string) string {
	sum := sha256.Sum256([]byte("tend-web:" + session))
	return hex.EncodeToString(sum[:16])
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
