package bookingtest

import (
	"context"
	"sync"

	"github.com/tend-health/tend/dialogs/booking"
)

// CodeBox is a booking.CodeSender that keeps the last one-time code sent,
// for the patient to type (Hooks.Code: box.Last).
type CodeBox struct {
	mu   sync.Mutex
	code string
}

// SendCode keeps code, whoever it is for.
func (c *CodeBox) SendCode(_ context.Context, _ booking.Destination, code, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.code = code
	return nil
}

// Last is the last code sent ("" before any).
func (c *CodeBox) Last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code
}
