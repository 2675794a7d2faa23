// Package fhir is the FHIR R4 schedule back end: free slots come from the
// server's Slot search, booking is a transaction Bundle that creates the
// Appointment and marks the Slot busy under If-Match, cancelling updates
// both. A version conflict (409 or 412) means someone booked first.
package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client speaks FHIR JSON to one server.
type Client struct {
	base  string
	http  *http.Client
	token string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (timeouts, transport, tests).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithToken sends Authorization: Bearer <token>.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// NewClient returns a client for the server at base ("https://fhir.example/R4").
func NewClient(base string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 15 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Error is a failed FHIR request: the status and the OperationOutcome's words.
type Error struct {
	Status      int
	Code        string
	Diagnostics string
}

func (e *Error) Error() string {
	return fmt.Sprintf("fhir: HTTP %d %s: %s", e.Status, e.Code, e.Diagnostics)
}

// Conflict reports whether the server refused a change because the
// resource changed meanwhile (409 Conflict, 412 Precondition Failed).
func (e *Error) Conflict() bool {
	return e.Status == http.StatusConflict || e.Status == http.StatusPreconditionFailed
}

// ErrNotFound is a 404.
var ErrNotFound = errors.New("fhir: not found")

// do sends one request and decodes a JSON answer into out; it returns the
// response's ETag.
func (c *Client) do(ctx context.Context, method, url string, body, out any, header map[string]string) (string, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return "", fmt.Errorf("fhir: encode: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		url = c.base + "/" + strings.TrimLeft(url, "/")
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return "", fmt.Errorf("fhir: %w", err)
	}
	req.Header.Set("Accept", "application/fhir+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("fhir: %s %s: %w", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return "", fmt.Errorf("fhir: read: %w", err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return "", ErrNotFound
	}
	if resp.StatusCode >= 300 {
		return "", outcomeError(resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return "", fmt.Errorf("fhir: decode %s: %w", req.URL.Path, err)
		}
	}
	return resp.Header.Get("ETag"), nil
}

func outcomeError(status int, data []byte) error {
	e := &Error{Status: status}
	var oo OperationOutcome
	if json.Unmarshal(data, &oo) == nil && oo.ResourceType == "OperationOutcome" && len(oo.Issue) > 0 {
		e.Code, e.Diagnostics = oo.Issue[0].Code, oo.Issue[0].Diagnostics
	} else {
		e.Diagnostics = http.StatusText(status)
	}
	return e
}
