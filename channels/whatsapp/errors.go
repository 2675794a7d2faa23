package whatsapp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tend-health/tend/bot"
)

// errReengage means the 24-hour window had closed after all (error 131047):
// the sender falls back to the template path.
var errReengage = errors.New("whatsapp: re-engagement required (24-hour window closed)")

// errAuth marks a rejected access token or missing permission: retried (a
// rotated token may be deployed meanwhile) and logged loudly.
var errAuth = errors.New("whatsapp: access token rejected or lacking permission")

// codeUndeliverable (131026): not a WhatsApp user, an app too old, or the
// terms not accepted.
const codeUndeliverable = 131026

// Default waits when a rate-limit answer carries no Retry-After.
const (
	waitThroughput = 5 * time.Second  // 130429: the number's messages per second
	waitPair       = 10 * time.Second // 131056: one user, about one message per 6 s
	waitAppLimit   = time.Minute      // 4, 80007: app or account call limits
	waitSpam       = 30 * time.Minute // 131048: quality-based limit, back off for long
	maxRetryAfter  = time.Hour
)

// classify turns an API refusal into what the delivery job should do
// (docs/architecture.md, Sender errors): wait, give up, mark unreachable,
// fall back to a template or retry with backoff.
func classify(e *APIError) error {
	switch c := e.Code; {
	case c == 130429:
		return retryAfter(e, waitThroughput)
	case c == 131056:
		return retryAfter(e, waitPair)
	case c == 4 || c == 80007 || c == 613:
		return retryAfter(e, waitAppLimit)
	case c == 131048:
		return retryAfter(e, waitSpam)
	case c == 131047:
		return fmt.Errorf("%w: %w", errReengage, e)
	case c == 131026 || c == 131030 || c == 131021:
		// 131026: not a WhatsApp user, old app or terms not accepted;
		// 131030: not in a test number's allowed list; 131021: the
		// recipient is our own number. None gets better by retrying.
		return fmt.Errorf("%w: %w", bot.ErrUnreachable, e)
	case c == 100 && e.Subcode == 33:
		// The phone number id does not exist or the token cannot see it:
		// configuration, not this message; keep it queued.
		return fmt.Errorf("%w (check WHATSAPP_PHONE_NUMBER_ID): %w", errAuth, e)
	case c == 100 && invalidRecipient(e):
		return fmt.Errorf("%w: %w", bot.ErrUnreachable, e)
	case c == 190 || c == 0 && e.HTTPStatus == http.StatusUnauthorized || c == 3 || c == 10 || c >= 200 && c <= 299:
		return fmt.Errorf("%w: %w", errAuth, e)
	case c == 368 || c == 131031 || c == 131042:
		// Account restricted, locked or with a payment problem: nothing is
		// wrong with this message; keep it queued while the clinic fixes it.
		return fmt.Errorf("whatsapp: business account cannot send now: %w", e)
	case c == 1 || c == 2 || c == 131000 || c == 131016 || c == 133004:
		return e // temporary on Meta's side: retry with backoff
	case e.HTTPStatus == http.StatusTooManyRequests:
		return retryAfter(e, waitThroughput)
	case e.HTTPStatus == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", errAuth, e)
	case e.HTTPStatus >= 500:
		if e.RetryAfter > 0 {
			return retryAfter(e, 0)
		}
		return e
	case e.HTTPStatus == http.StatusRequestTimeout:
		return e
	case e.HTTPStatus >= 400:
		return fmt.Errorf("%w: %w", bot.ErrPermanent, e)
	}
	return e
}

func retryAfter(e *APIError, fallback time.Duration) error {
	wait := e.RetryAfter
	if wait <= 0 {
		wait = fallback
	}
	if wait > maxRetryAfter {
		wait = maxRetryAfter
	}
	return &bot.RetryAfterError{After: wait, Err: e}
}

// invalidRecipient recognises code 100 ("invalid parameter") about the
// "to" field: the number is not one WhatsApp can address.
func invalidRecipient(e *APIError) bool {
	s := strings.ToLower(e.Message + " " + e.Details)
	return strings.Contains(s, "'to'") || strings.Contains(s, "\"to\"") || strings.Contains(s, "phone number") ||
		strings.Contains(s, "recipient")
}
