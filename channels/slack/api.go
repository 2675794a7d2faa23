package slack

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"
)

// Slack answers that retrying the same request cannot fix; the post is
// marked failed and the thread moves on. Missing scopes, a revoked token
// or a bot not in the channel are not here: an admin can fix those, and
// the queue then delivers what waited.
var permanentErrors = map[string]bool{
	"msg_too_long": true, "no_text": true, "invalid_blocks": true, "invalid_blocks_format": true,
	"message_not_found": true, "cant_update_message": true, "edit_window_closed": true,
	"too_many_attachments": true, "invalid_arguments": true, "thread_not_found": true,
}

// failure says what to do about an error from Slack.
type failure int

const (
	failRetry     failure = iota // transient: retry with backoff
	failSnooze                   // rate limited: wait RetryAfter
	failPermanent                // this request can never succeed
)

func classify(err error) (failure, time.Duration) {
	var rl *slackgo.RateLimitedError
	if errors.As(err, &rl) {
		return failSnooze, max(rl.RetryAfter, time.Second)
	}
	var se slackgo.SlackErrorResponse
	if errors.As(err, &se) && permanentErrors[se.Err] {
		return failPermanent, 0
	}
	return failRetry, 0
}

// nameCache remembers staff first names (not patient data) for the life of
// the process, so a busy thread does not call users.info per message.
type nameCache struct {
	mu sync.Mutex
	m  map[string]string
}

// staffName is the first name patients see for a Slack user: the profile's
// first name, else the first word of the real or display name, else the
// fallback (the username in a button press), else the user id.
func (m *Module) staffName(ctx context.Context, userID, fallback string) string {
	m.names.mu.Lock()
	name, ok := m.names.m[userID]
	m.names.mu.Unlock()
	if ok {
		return name
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u, err := m.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		m.a.Log.WarnContext(ctx, "slack users.info failed; using the username", "user", userID, "error", err)
	} else {
		for _, n := range []string{u.Profile.FirstName, firstWord(u.RealName), firstWord(u.Profile.DisplayName), u.Name} {
			if n != "" {
				name = n
				break
			}
		}
	}
	if name == "" {
		name = fallback
	}
	if name == "" {
		return userID
	}
	if err == nil {
		m.names.mu.Lock()
		if m.names.m == nil {
			m.names.m = map[string]string{}
		}
		m.names.m[userID] = name
		m.names.mu.Unlock()
	}
	return name
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// trustedResponseURL accepts Slack's response URLs only (and the configured
// API host, which tests point at a local fake), so that a forged payload
// could not make Tend post elsewhere even past the signature check.
func (m *Module) trustedResponseURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Scheme == "https" && u.Host == "hooks.slack.com" {
		return true
	}
	api, err := url.Parse(m.apiURL)
	return err == nil && u.Host == api.Host && u.Scheme == api.Scheme
}
