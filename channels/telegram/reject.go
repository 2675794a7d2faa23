package telegram

import (
	"context"
	"strconv"

	"github.com/tend-health/tend/internal/poison"
)

// A poison update is one that cannot be recorded however often it is tried.
// Retrying it forever would hold up every update after it (polling) or have
// Telegram resend it forever (webhook), so internal/poison records it as
// rejected and skips it. What is Telegram's own is how an update is named.

// rejection describes update u for the rejection log and table; err is why
// it could not be recorded. The chat is left to the caller: an update that
// cannot be decoded has none.
func (c *Bot) rejection(u update, err error) poison.Rejection {
	return poison.Rejection{What: "update", ID: c.rejectionID(u.ID), Err: err,
		Attrs: []any{"update_id", u.ID, "kind", u.Kind}}
}

// rejectUndecodable skips update u for good: its update_id is readable,
// the rest is not what the Bot API documents.
func (c *Bot) rejectUndecodable(ctx context.Context, u update, err error) {
	rej := c.rejection(u, err)
	rej.Reason = poison.Undecodable
	c.rejects.Reject(ctx, rej)
}

// rejectionID is the update's external_id in inbound_rejections: update ids
// are per bot.
func (c *Bot) rejectionID(updateID int64) string {
	return c.botID + ":u:" + strconv.FormatInt(updateID, 10)
}
