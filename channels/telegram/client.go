package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// client is the Bot API as Tend uses it. tgbotapi builds its requests
// without a context, and its transport errors quote the request URL, which
// holds the token. So each call runs on a copy of the BotAPI whose HTTP
// client binds the call's context, remembers the HTTP status and redacts
// the token from every error.
type client struct {
	bot   *tgbotapi.BotAPI
	token string
	http  *http.Client
	// onError is told about each failed call (method, reason) for metrics.
	onError func(method, reason string)
}

// newClient makes a client without calling getMe (tgbotapi's constructors
// do, and would fail the start when Telegram is unreachable).
func newClient(token, endpoint string, hc *http.Client) *client {
	if endpoint == "" {
		endpoint = tgbotapi.APIEndpoint
	}
	if hc == nil {
		hc = &http.Client{}
	}
	b := &tgbotapi.BotAPI{Token: token, Client: hc, Buffer: 100}
	b.SetAPIEndpoint(endpoint)
	return &client{bot: b, token: token, http: hc}
}

// call runs one Bot API method and returns its result.
func (c *client) call(ctx context.Context, method string, params tgbotapi.Params) (json.RawMessage, error) {
	d := &ctxDoer{ctx: ctx, hc: c.http, token: c.token}
	b := *c.bot
	b.Client = d
	resp, err := b.MakeRequest(method, params)
	if err == nil {
		return resp.Result, nil
	}
	err = c.explain(method, d.status, err)
	if c.onError != nil && ctx.Err() == nil { // a call cut short by shutdown is no failure

		c.onError(method, reason(err))
	}
	return nil, err
}

// explain turns a failed call into an error that names the method and the
// HTTP status, never the token.
func (c *client) explain(method string, status int, err error) error {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) {
		if apiErr.Code == 0 {
			apiErr.Code = status
		}
		return &APIError{Method: method, Code: apiErr.Code, Description: redact(apiErr.Message, c.token),
			RetryAfter: apiErr.RetryAfter}
	}
	if status >= 300 {
		// A proxy in front of the Bot API answered with something that is not
		// the API's JSON (an HTML 502 page, say).
		return &APIError{Method: method, Code: status, Description: http.StatusText(status)}
	}
	return &transportError{method: method, err: err}
}

// APIError is a refusal by the Bot API ({"ok":false,...}) or an HTTP error
// from a proxy in front of it.
type APIError struct {
	Method      string
	Code        int
	Description string
	RetryAfter  int // seconds, on 429
}

func (e *APIError) Error() string {
	return fmt.Sprintf("telegram %s: %d %s", e.Method, e.Code, e.Description)
}

// transportError is a network failure; its message has the token removed.
type transportError struct {
	method string
	err    error
}

func (e *transportError) Error() string { return fmt.Sprintf("telegram %s: %v", e.method, e.err) }
func (e *transportError) Unwrap() error { return e.err }

// reason is a short label for metrics.
func reason(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return strconv.Itoa(apiErr.Code)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "network"
}

// ctxDoer binds a context to tgbotapi's context-free requests.
type ctxDoer struct {
	ctx    context.Context
	hc     *http.Client
	token  string
	status int
}

func (d *ctxDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.hc.Do(req.WithContext(d.ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// Keep the cause (context.Canceled, ...) for errors.Is.
			return nil, &url.Error{Op: ue.Op, URL: redact(ue.URL, d.token), Err: redactedErr{ue.Err, d.token}}
		}
		return nil, redactedErr{err, d.token}
	}
	d.status = resp.StatusCode
	return resp, nil
}

// redactedErr hides the token in an error's message but keeps its chain.
type redactedErr struct {
	err   error
	token string
}

func (e redactedErr) Error() string { return redact(e.err.Error(), e.token) }
func (e redactedErr) Unwrap() error { return e.err }

// redact removes the bot token (and its URL-escaped form) from s.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, "<token>")
	return strings.ReplaceAll(s, url.PathEscape(token), "<token>")
}

// botIDFromToken is the numeric bot id that starts a token ("123:abc"); it
// is public, unlike the rest of the token, and keys per-bot state.
func botIDFromToken(token string) string {
	id, _, ok := strings.Cut(token, ":")
	if ok {
		if _, err := strconv.ParseInt(id, 10, 64); err == nil {
			return id
		}
	}
	return "bot"
}
