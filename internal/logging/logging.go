// Package logging builds the process logger. Message bodies and secrets never
// reach it: attributes whose key names a secret or a patient's words are
// replaced before they are written, whatever the caller passed.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"
)

// redactedKeys are attribute keys whose values are always hidden.
var redactedKeys = map[string]bool{
	"text": true, "body": true, "message_text": true, "answer": true, "question": true,
	"token": true, "secret": true, "password": true, "authorization": true, "api_key": true,
	"phone": true, "dob": true, "email": true, "name": true, "database_url": true,
}

// New returns a logger writing text or JSON at the given level.
func New(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(strings.ToUpper(level)))
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: Redact}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Redact is a slog ReplaceAttr that hides values of sensitive keys.
func Redact(_ []string, a slog.Attr) slog.Attr {
	if redactedKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, "[redacted]")
	}
	return a
}

// Discard is a logger that writes nothing, for tests and quiet commands.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// AtLeast returns a logger that drops records below level, for chatty
// libraries (River logs routine counts at info).
func AtLeast(l *slog.Logger, level slog.Level) *slog.Logger {
	return slog.New(minLevel{Handler: l.Handler(), min: level})
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: m.Handler.WithAttrs(attrs), min: m.min}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: m.Handler.WithGroup(name), min: m.min}
}
