package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/poison"
)

// MaxWebhookBody is the largest webhook request accepted (413 above it).
// A text message of 4,096 characters with its entities and the message it
// replies to is well under 64 KiB.
const MaxWebhookBody = 1 << 20

// secretHeader carries the secret_token given to setWebhook.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// ServeHTTP handles POST /webhooks/telegram. The answer tells Telegram what
// to do: 2xx means recorded (or deliberately ignored), 5xx means try again
// later, 4xx refuses a request that did not come from Telegram.
func (c *Bot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !c.secretOK(r.Header.Get(secretHeader)) {
		c.reject(w, r, http.StatusUnauthorized, "secret", "missing or wrong secret token")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.reject(w, r, http.StatusRequestEntityTooLarge, "size", fmt.Sprintf("body over %d bytes", MaxWebhookBody))
			return
		}
		c.reject(w, r, http.StatusBadRequest, "read", "could not read the body")
		return
	}
	u, err := decodeUpdate(body)
	switch {
	case errors.Is(err, errMalformed):
		c.reject(w, r, http.StatusBadRequest, "json", "body is not a Telegram update")
		return
	case err != nil:
		// From Telegram (the secret matched) but not as documented. Refusing
		// it would make Telegram resend it, holding up the updates after it.
		c.rejectUndecodable(r.Context(), u, err)
		writeOK(w)
		return
	}
	// A poison update is rejected and answered 200: a 503 would have
	// Telegram resend it forever.
	if err := c.record(r.Context(), u); err != nil {
		c.metrics.Errors.WithLabelValues("telegram_webhook").Inc()
		c.log.ErrorContext(r.Context(), "telegram: update not recorded; Telegram will resend it", "update_id", u.ID,
			"error", poison.ErrClass(err))
		httpserver.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable")
		return
	}
	writeOK(w)
}

// secretOK compares hashes in constant time, so neither the secret's
// content nor its length leaks through timing.
func (c *Bot) secretOK(got string) bool {
	if got == "" || c.secret == "" {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], c.secretSum[:]) == 1
}

func (c *Bot) reject(w http.ResponseWriter, r *http.Request, status int, reason, msg string) {
	c.metrics.WebhookRejections.WithLabelValues(Channel, reason).Inc()
	c.log.WarnContext(r.Context(), "telegram webhook request rejected", "status", status, "reason", reason,
		"remote", r.RemoteAddr)
	httpserver.WriteError(w, status, msg)
}

func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"ok":true}`))
}

// registerWebhook calls setWebhook until Telegram accepts it.
func (c *Bot) registerWebhook(ctx context.Context) {
	bo := c.newBackoff()
	for {
		p := tgbotapi.Params{"url": c.webhookURL, "secret_token": c.secret, "allowed_updates": allowedUpdates}
		p.AddNonZero("max_connections", 40)
		_, err := c.api.call(ctx, "setWebhook", p)
		if err == nil {
			c.log.InfoContext(ctx, "telegram webhook registered", "url", c.webhookURL)
			return
		}
		if ctx.Err() != nil {
			return
		}
		wait := bo.wait(err)
		c.log.WarnContext(ctx, "telegram: setWebhook failed; retrying", "error", err, "retry_in", wait.Round(time.Millisecond))
		if !sleep(ctx, wait) {
			return
		}
	}
}
