package booking

import (
	"context"
	"errors"
	"log/slog"

	"github.com/tend-health/tend/internal/store"
)

// InfoSource tells what to expect from a visit type (preparation, cost and
// coverage notes) in a language, with the document it comes from. The
// knowledge base implements it; ok is false when it knows nothing. It reads
// through q, the caller's transaction: a turn that holds its conversation's
// lock must not wait for a second connection from the pool.
type InfoSource interface {
	VisitInfo(ctx context.Context, q store.Q, visitType, lang string) (text, source string, ok bool)
}

// InfoFunc adapts a function to InfoSource.
type InfoFunc func(ctx context.Context, q store.Q, visitType, lang string) (string, string, bool)

// VisitInfo calls f.
func (f InfoFunc) VisitInfo(ctx context.Context, q store.Q, visitType, lang string) (string, string, bool) {
	return f(ctx, q, visitType, lang)
}

// visitInfo asks src, tolerating a nil source.
func visitInfo(ctx context.Context, q store.Q, src InfoSource, visitType, lang string) (string, string, bool) {
	if src == nil {
		return "", "", false
	}
	return src.VisitInfo(ctx, q, visitType, lang)
}

// Destination is where a one-time code goes: the phone or email on file.
type Destination struct {
	PatientID int64
	Phone     string
	Email     string
}

// CodeSender delivers one-time verification codes (SMS, email). It runs
// after the transaction that issued the code commits.
type CodeSender interface {
	SendCode(ctx context.Context, to Destination, code, lang string) error
}

// ErrNoCodeSender means no way to deliver codes is configured.
var ErrNoCodeSender = errors.New("booking: no code sender configured")

// DevCodeSender writes codes to the log, for development and demos only:
// the module installs it only when TEND_BOOKING_CODE_SENDER=log or
// TEND_BOOKING_DEMO=1, or in `tend chat`. It logs at warning level so that
// the quiet terminal of `tend chat` shows it; the destination is not logged.
type DevCodeSender struct{ Log *slog.Logger }

// SendCode logs the code.
func (s DevCodeSender) SendCode(ctx context.Context, to Destination, code, _ string) error {
	s.Log.WarnContext(ctx, "DEVELOPMENT code sender: one-time code (never enable in production)",
		"patient_id", to.PatientID, "otp", code)
	return nil
}
