package telegram

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/store"
)

// Send implements bot.Sender: it renders the reply and sends its messages
// in order. The delivery job decides what to do with the error (see
// classify). It returns the Telegram message id of the last message sent.
func (c *Bot) Send(ctx context.Context, to bot.Recipient, r bot.Reply) (string, error) {
	chatID, err := strconv.ParseInt(to.ChatID, 10, 64)
	if err != nil || chatID == 0 {
		return "", fmt.Errorf("%w: telegram chat id is not a number", bot.ErrPermanent)
	}
	rd := renderReply(r, c.labels(to.Lang))
	if len(rd.Messages) == 0 {
		c.log.WarnContext(ctx, "telegram: empty reply not sent", "conversation_id", to.ConversationID)
		return "", nil
	}
	for key, payload := range rd.Stored {
		if err := c.db.Q().PutKV(ctx, kvCallbackKey(key), payload, c.clock.Now()); err != nil {
			return "", err
		}
	}
	// A reply split into several messages records how far it got, so a
	// retry after a failure in the middle does not repeat the first parts.
	var progress *sendProgress
	start := 0
	if len(rd.Messages) > 1 {
		progress = c.loadProgress(ctx, to.ConversationID, r)
		start = progress.done
	}
	var last string
	for i := start; i < len(rd.Messages); i++ {
		id, err := c.sendMessage(ctx, chatID, rd.Messages[i])
		if err != nil {
			return "", classify(err)
		}
		last = id
		if progress != nil {
			c.saveProgress(ctx, progress, i+1, len(rd.Messages))
		}
	}
	return last, nil
}

// sendMessage sends one message; if Telegram cannot parse the HTML (a bug
// of ours, never the patient's fault) it sends the plain text instead.
func (c *Bot) sendMessage(ctx context.Context, chatID int64, m outMessage) (string, error) {
	if err := c.limiter.Wait(ctx); err != nil {
		return "", err
	}
	res, err := c.api.call(ctx, "sendMessage", messageParams(chatID, m.HTML, "HTML", m.Markup))
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code == 400 && strings.Contains(strings.ToLower(apiErr.Description), "can't parse entities") {
		c.log.ErrorContext(ctx, "telegram refused our HTML; sending plain text", "error", err)
		res, err = c.api.call(ctx, "sendMessage", messageParams(chatID, m.Plain, "", m.Markup))
	}
	if err != nil {
		return "", err
	}
	var sent struct {
		MessageID int64 `json:"message_id"`
	}
	_ = json.Unmarshal(res, &sent) // the message is out; an odd answer must not make it an error
	return strconv.FormatInt(sent.MessageID, 10), nil
}

func messageParams(chatID int64, text, parseMode string, markup any) tgbotapi.Params {
	p := tgbotapi.Params{}
	p.AddNonZero64("chat_id", chatID)
	p.AddNonEmpty("text", text)
	p.AddNonEmpty("parse_mode", parseMode)
	if markup != nil {
		_ = p.AddInterface("reply_markup", markup) // our own structs always encode
	}
	return p
}

// classify maps a failed call to what the delivery job should do.
func classify(err error) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return err // network: retried with backoff
	}
	desc := strings.ToLower(apiErr.Description)
	switch {
	case apiErr.Code == 429:
		wait := time.Duration(apiErr.RetryAfter) * time.Second
		if wait < time.Second {
			wait = time.Second
		}
		return &bot.RetryAfterError{After: wait, Err: err}
	case apiErr.Code == 403:
		// Blocked by the user, user deactivated, kicked: only the patient
		// writing again makes the chat reachable.
		return fmt.Errorf("%w: %v", bot.ErrUnreachable, err)
	case apiErr.Code == 400 && (strings.Contains(desc, "chat not found") || strings.Contains(desc, "user not found") ||
		strings.Contains(desc, "peer_id_invalid") || strings.Contains(desc, "user is deactivated")):
		return fmt.Errorf("%w: %v", bot.ErrUnreachable, err)
	case apiErr.Code == 400:
		return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
	default:
		// 5xx, and 401/404 (a wrong token or endpoint the operator can fix):
		// retried with backoff.
		return err
	}
}

// sendProgress is how many messages of a split reply are out.
type sendProgress struct {
	key    string
	digest string
	done   int
}

func progressKey(conversationID int64) string {
	return "telegram:progress:" + strconv.FormatInt(conversationID, 10)
}

// loadProgress finds how many parts of this very reply were sent. The key
// is per conversation: delivery is in order, so an unfinished reply is
// always the next one tried.
func (c *Bot) loadProgress(ctx context.Context, conversationID int64, r bot.Reply) *sendProgress {
	body, _ := json.Marshal(r)
	sum := sha256.Sum256(body)
	p := &sendProgress{key: progressKey(conversationID), digest: hex.EncodeToString(sum[:12])}
	v, err := c.db.Q().GetKV(ctx, p.key)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.log.WarnContext(ctx, "telegram: reading send progress", "error", err)
		}
		return p
	}
	digest, n, ok := strings.Cut(v, ":")
	if ok && digest == p.digest {
		p.done, _ = strconv.Atoi(n)
	}
	return p
}

func (c *Bot) saveProgress(ctx context.Context, p *sendProgress, done, total int) {
	v := p.digest + ":" + strconv.Itoa(done)
	if done >= total {
		v = "" // finished: the same text sent later starts afresh
	}
	if err := c.db.Q().PutKV(context.WithoutCancel(ctx), p.key, v, c.clock.Now()); err != nil {
		c.log.WarnContext(ctx, "telegram: saving send progress", "error", err)
	}
}

// labels are the channel's sentences in a language.
func (c *Bot) labels(lang string) labels {
	return labels{
		SharePhone:  c.catalog.Text(lang, "telegram.share_phone", nil),
		SharePrompt: c.catalog.Text(lang, "telegram.share_phone_prompt", nil),
		Choose:      c.catalog.Text(lang, "telegram.choose", nil),
	}
}
