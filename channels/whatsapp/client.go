package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIBase is the Graph API root with the version Tend was built and
// tested against (v26.0, released July 2026, available until at least
// mid-2028); WHATSAPP_API_BASE overrides it, version included.
const DefaultAPIBase = "https://graph.facebook.com/v26.0"

// maxResponse bounds what is read of an API answer; real ones are tiny.
const maxResponse = 1 << 20

// client speaks to the Cloud API's messages endpoint. The token goes only
// into the Authorization header; it is never part of an error or a log.
type client struct {
	base    string
	phoneID string
	token   string
	http    *http.Client
}

func newClient(base, phoneID, token string, hc *http.Client) *client {
	if base == "" {
		base = DefaultAPIBase
	}
	if hc == nil {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	return &client{base: strings.TrimRight(base, "/"), phoneID: phoneID, token: token, http: hc}
}

// Outgoing wire format: one struct for every request to /messages.
type outMessage struct {
	MessagingProduct string          `json:"messaging_product"`
	RecipientType    string          `json:"recipient_type,omitempty"`
	To               string          `json:"to,omitempty"`
	Type             string          `json:"type,omitempty"`
	Text             *outText        `json:"text,omitempty"`
	Interactive      *outInteractive `json:"interactive,omitempty"`
	Template         *outTemplate    `json:"template,omitempty"`
	// Status and MessageID mark an inbound message as read.
	Status    string `json:"status,omitempty"`
	MessageID string `json:"message_id,omitempty"`
}

type outText struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url,omitempty"`
}

type outInteractive struct {
	Type   string    `json:"type"` // button or list
	Body   outBody   `json:"body"`
	Action outAction `json:"action"`
}

type outBody struct {
	Text string `json:"text"`
}

type outAction struct {
	Buttons  []outButton  `json:"buttons,omitempty"`
	Button   string       `json:"button,omitempty"`
	Sections []outSection `json:"sections,omitempty"`
}

type outButton struct {
	Type  string   `json:"type"` // reply
	Reply outReply `json:"reply"`
}

type outReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type outSection struct {
	Title string   `json:"title,omitempty"`
	Rows  []outRow `json:"rows"`
}

type outRow struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

type outTemplate struct {
	Name       string         `json:"name"`
	Language   outLanguage    `json:"language"`
	Components []outComponent `json:"components,omitempty"`
}

type outLanguage struct {
	Code string `json:"code"`
}

type outComponent struct {
	Type       string     `json:"type"` // body
	Parameters []outParam `json:"parameters"`
}

type outParam struct {
	Type string `json:"type"` // text
	Text string `json:"text"`
}

type sendResponse struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

type errorResponse struct {
	Error *struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		ErrorSubcode int    `json:"error_subcode"`
		FBTraceID    string `json:"fbtrace_id"`
		ErrorData    struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
}

// APIError is a refusal from the Graph API. Its text names the code and
// trace id, never the token, and has long digit runs (phone numbers) masked.
type APIError struct {
	HTTPStatus int
	Code       int
	Subcode    int
	Type       string
	Message    string
	Details    string
	TraceID    string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "whatsapp api: http %d", e.HTTPStatus)
	if e.Code != 0 {
		fmt.Fprintf(&b, ", code %d", e.Code)
	}
	if e.Subcode != 0 {
		fmt.Fprintf(&b, "/%d", e.Subcode)
	}
	if e.Type != "" {
		fmt.Fprintf(&b, " (%s)", e.Type)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Details != "" {
		fmt.Fprintf(&b, " [%s]", e.Details)
	}
	if e.TraceID != "" {
		fmt.Fprintf(&b, " fbtrace_id=%s", e.TraceID)
	}
	return b.String()
}

// send posts one message and returns its wamid.
func (c *client) send(ctx context.Context, m outMessage) (string, error) {
	m.MessagingProduct = "whatsapp"
	var out sendResponse
	if err := c.post(ctx, m, &out); err != nil {
		return "", err
	}
	if len(out.Messages) == 0 || out.Messages[0].ID == "" {
		return "", errors.New("whatsapp api: answer without a message id")
	}
	return out.Messages[0].ID, nil
}

// markRead shows the patient's message as read (blue ticks).
func (c *client) markRead(ctx context.Context, wamid string) error {
	return c.post(ctx, outMessage{MessagingProduct: "whatsapp", Status: "read", MessageID: wamid}, nil)
}

func (c *client) post(ctx context.Context, body any, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("whatsapp api: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/"+c.phoneID+"/messages", bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("whatsapp api: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error names the URL (API base and phone number id, no
		// secrets); the token is in a header and never printed.
		return fmt.Errorf("whatsapp api: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("whatsapp api: read answer: %w", err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("whatsapp api: unreadable answer: %w", err)
		}
		return nil
	}
	return parseAPIError(resp.StatusCode, resp.Header.Get("Retry-After"), data)
}

func parseAPIError(status int, retryAfter string, data []byte) *APIError {
	e := &APIError{HTTPStatus: status, RetryAfter: parseRetryAfter(retryAfter, time.Now())}
	var er errorResponse
	if json.Unmarshal(data, &er) == nil && er.Error != nil {
		e.Code, e.Subcode, e.Type = er.Error.Code, er.Error.ErrorSubcode, clip(er.Error.Type, 64)
		e.Message = scrub(clip(er.Error.Message, 300))
		e.Details = scrub(clip(er.Error.ErrorData.Details, 300))
		e.TraceID = clip(er.Error.FBTraceID, 64)
	}
	return e
}

func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(h); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

var digitRun = regexp.MustCompile(`\+?\d[\d\s-]{5,}\d`)

// scrub masks what could be a phone number in text from the API, which is
// stored with the message and logged.
func scrub(s string) string { return digitRun.ReplaceAllString(s, "[number]") }
