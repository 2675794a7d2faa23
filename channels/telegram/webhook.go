package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/store"
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
		c.metrics.UnknownUpdates.WithLabelValues(Channel, "malformed").Inc()
		c.log.WarnContext(r.Context(), "telegram: unreadable update ignored", "update_id", u.ID, "error", err)
		writeOK(w)
		return
	}
	if err := c.process(r.Context(), u); err != nil {
		c.metrics.Errors.WithLabelValues("telegram_webhook").Inc()
		c.log.ErrorContext(r.Context(), "telegram: update not recorded; Telegram will resend it", "update_id", u.ID, "error", err)
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

// process records one update (both polling and webhook come here) and
// answers its callback query. An error means nothing was recorded and the
// update must come again.
func (c *Bot) process(ctx context.Context, u update) error {
	ev := mapUpdate(u, c.botID)
	// The patient's client shows a spinner until the press is answered, so
	// it is answered whatever happens next; a press not recorded now comes
	// again and is recorded then.
	defer c.answerCallback(ev.CallbackID)
	if ev.Ignored != "" {
		c.metrics.UnknownUpdates.WithLabelValues(Channel, ev.Ignored).Inc()
		c.log.DebugContext(ctx, "telegram update ignored", "update_id", u.ID, "kind", ev.Ignored)
		return nil
	}
	in := *ev.Inbound
	if key := ev.Callback.StoredKey; key != "" {
		payload, err := c.db.Q().GetKV(ctx, kvCallbackKey(key))
		switch {
		case err == nil:
			in.Payload = payload
		case errors.Is(err, store.ErrNotFound):
			in.Payload = storedPrefix + key // unknown to us: the engine says the button expired
		default:
			return err
		}
	}
	if _, err := c.engine.Accept(ctx, in); err != nil {
		return fmt.Errorf("telegram: record update %d: %w", u.ID, err)
	}
	return nil
}

// answerCallback stops the spinner on the pressed button, in the background
// so that recording the next update does not wait for it. A redelivered
// update's query is usually too old to answer; that is logged, not retried.
func (c *Bot) answerCallback(id string) {
	if id == "" {
		return
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.api.call(ctx, "answerCallbackQuery", tgbotapi.Params{"callback_query_id": id}); err != nil {
			c.own.callbackAnswers.WithLabelValues("failed").Inc()
			level := slog.LevelWarn
			var apiErr *APIError
			if errors.As(err, &apiErr) && apiErr.Code == 400 {
				level = slog.LevelDebug // "query is too old": a redelivered press, answered the first time
			}
			c.log.Log(ctx, level, "telegram: callback query not answered", "error", err)
			return
		}
		c.own.callbackAnswers.WithLabelValues("ok").Inc()
	}()
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
