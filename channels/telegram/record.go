package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/tend-health/tend/internal/store"
)

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
	if _, err := c.receive(ctx, in); err != nil {
		return fmt.Errorf("telegram: record update %d: %w", u.ID, err)
	}
	c.rejects.OK(updateKey(u))
	return nil
}

// record is process for the poller and the webhook: it returns nil when the
// update is recorded, ignored, or rejected as poison (Telegram may forget
// it), and an error when it must come again.
func (c *Bot) record(ctx context.Context, u update) error {
	err := c.process(ctx, u)
	if err == nil {
		return nil
	}
	rej := c.rejection(u, err)
	rej.ChatID = chatOf(u)
	return c.rejects.Settle(ctx, updateKey(u), rej)
}

func updateKey(u update) string { return strconv.FormatInt(u.ID, 10) }

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
