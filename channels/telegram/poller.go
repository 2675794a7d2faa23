package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/tend-health/tend/internal/poison"
	"github.com/tend-health/tend/internal/store"
)

// allowedUpdates are the update kinds Tend asks for. Edits are asked for
// only to be counted: the bot answers what was first sent.
const allowedUpdates = `["message","edited_message","callback_query"]`

// checkBot calls getMe until it succeeds, so a wrong token or an
// unreachable Telegram is logged at start without stopping the server.
func (c *Bot) checkBot(ctx context.Context) bool {
	bo := c.newBackoff()
	for {
		res, err := c.api.call(ctx, "getMe", nil)
		if err == nil {
			var me struct {
				Username string `json:"username"`
			}
			_ = json.Unmarshal(res, &me)
			mode := "polling"
			if c.webhook {
				mode = "webhook"
			}
			c.log.InfoContext(ctx, "telegram bot connected", "bot", "@"+me.Username, "mode", mode)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		wait := bo.wait(err)
		c.log.WarnContext(ctx, "telegram: getMe failed; retrying (check TELEGRAM_BOT_TOKEN and TELEGRAM_API_ENDPOINT)",
			"error", err, "retry_in", wait.Round(time.Millisecond))
		if !sleep(ctx, wait) {
			return false
		}
	}
}

// poll is the long-polling loop. Its invariant: getUpdates is only ever
// called with an offset that is stored, and the stored offset only passes
// updates the engine has recorded. Telegram forgets updates below the
// offset of a call, so a crash at any point loses nothing; what is fetched
// twice is dropped by the engine as a duplicate.
func (c *Bot) poll(ctx context.Context) {
	offset, ok := c.loadOffset(ctx)
	if !ok {
		return
	}
	bo := c.newBackoff()
	for ctx.Err() == nil {
		raws, err := c.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait := bo.wait(err)
			c.pollFailed(ctx, err, wait)
			if !sleep(ctx, wait) {
				return
			}
			continue
		}
		bo.reset()
		if len(raws) == 0 {
			continue
		}
		// A fetched batch is recorded in full even when shutdown has begun,
		// so that stopping never throws away work already in hand.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.DrainTimeout)
		next, err := c.handleBatch(dctx, raws, offset)
		if next > offset {
			if serr := c.saveOffset(dctx, next); serr != nil {
				err = errors.Join(err, serr)
			} else {
				offset = next
			}
		}
		cancel()
		if err != nil {
			wait := bo.next()
			c.log.WarnContext(ctx, "telegram: could not record updates; fetching them again", "error", poison.ErrClass(err),
				"retry_in", wait.Round(time.Millisecond))
			if !sleep(ctx, wait) {
				return
			}
		}
	}
}

func (c *Bot) getUpdates(ctx context.Context, offset int64) ([]json.RawMessage, error) {
	p := tgbotapi.Params{"allowed_updates": allowedUpdates}
	p.AddNonZero64("offset", offset)
	p.AddNonZero("limit", c.opts.PollLimit)
	p.AddNonZero("timeout", int(c.opts.PollTimeout/time.Second))
	ctx, cancel := context.WithTimeout(ctx, c.opts.PollTimeout+15*time.Second)
	defer cancel()
	res, err := c.api.call(ctx, "getUpdates", p)
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(res, &raws); err != nil {
		return nil, fmt.Errorf("telegram getUpdates: result is not a list: %w", err)
	}
	return raws, nil
}

// pollFailed logs a failed getUpdates and repairs what it can: a webhook
// left from an earlier webhook deployment blocks polling until removed.
func (c *Bot) pollFailed(ctx context.Context, err error, wait time.Duration) {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code == 409 {
		if strings.Contains(strings.ToLower(apiErr.Description), "webhook") {
			c.log.WarnContext(ctx, "telegram: a webhook is registered, which blocks polling; removing it "+
				"(set TELEGRAM_WEBHOOK_SECRET and TEND_PUBLIC_URL for webhook mode)")
			if _, derr := c.api.call(ctx, "deleteWebhook", nil); derr != nil {
				c.log.WarnContext(ctx, "telegram: deleteWebhook failed", "error", derr)
			}
			return
		}
		c.log.WarnContext(ctx, "telegram: another process is polling this bot; run one poller per bot or use webhook mode",
			"retry_in", wait.Round(time.Millisecond))
		return
	}
	c.log.WarnContext(ctx, "telegram: getUpdates failed; retrying", "error", err, "retry_in", wait.Round(time.Millisecond))
}

// handleBatch records updates in order and returns the offset just past the
// last one handled before any that must come again. An update that cannot
// be recorded now does not hold up the other chats: their updates are
// recorded (and recognised as repeats when the batch comes again), while
// the later updates of its own chat wait, to keep their order. A poison
// update is rejected and skipped (record); when the database is down the
// rest of the batch waits too.
func (c *Bot) handleBatch(ctx context.Context, raws []json.RawMessage, offset int64) (int64, error) {
	next := offset
	var failed error
	held := map[string]bool{} // chats with an update that must come again
	for _, raw := range raws {
		u, err := decodeUpdate(raw)
		if errors.Is(err, errMalformed) {
			c.metrics.UnknownUpdates.WithLabelValues(Channel, "malformed").Inc()
			c.log.WarnContext(ctx, "telegram: update without a readable update_id skipped", "bytes", len(raw))
			continue
		}
		if u.ID < next {
			continue // confirmed before; Telegram should not have sent it
		}
		if err != nil {
			c.rejectUndecodable(ctx, u, err)
			if failed == nil {
				next = u.ID + 1
			}
			continue
		}
		chat := chatOf(u)
		if failed != nil && held[chat] {
			continue
		}
		if err := c.record(ctx, u); err != nil {
			if failed == nil {
				failed = err
			}
			held[chat] = true
			if ctx.Err() != nil || !c.dbUp(ctx) {
				return next, failed
			}
			continue
		}
		if failed == nil {
			next = u.ID + 1
		}
	}
	if failed != nil {
		return next, failed
	}
	if next == offset {
		return next, errors.New("telegram: no update in the batch could be read")
	}
	return next, nil
}

// dbUp reports whether the database answers.
func (c *Bot) dbUp(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.db.Ping(ctx) == nil
}

func (c *Bot) offsetKey() string { return "telegram:offset:" + c.botID }

// loadOffset reads the stored offset, retrying while the database is down.
func (c *Bot) loadOffset(ctx context.Context) (int64, bool) {
	bo := c.newBackoff()
	for {
		v, err := c.db.Q().GetKV(ctx, c.offsetKey())
		if errors.Is(err, store.ErrNotFound) {
			return 0, true
		}
		if err == nil {
			n, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil {
				c.log.ErrorContext(ctx, "telegram: stored offset unreadable; starting from Telegram's oldest update", "value", v)
				return 0, true
			}
			return n, true
		}
		if ctx.Err() != nil {
			return 0, false
		}
		wait := bo.next()
		c.log.WarnContext(ctx, "telegram: reading the poll offset failed; retrying", "error", err)
		if !sleep(ctx, wait) {
			return 0, false
		}
	}
}

func (c *Bot) saveOffset(ctx context.Context, offset int64) error {
	return c.db.Q().PutKV(ctx, c.offsetKey(), strconv.FormatInt(offset, 10), c.clock.Now())
}
