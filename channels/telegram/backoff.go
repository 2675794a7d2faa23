package telegram

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// backoff grows a wait from min to max, doubling, with ±20% jitter so that
// replicas restarted together do not call Telegram in step.
type backoff struct {
	min, max time.Duration
	n        int
}

func (b *backoff) next() time.Duration {
	d := b.min << min(b.n, 30)
	if d > b.max || d <= 0 {
		d = b.max
	}
	b.n++
	jitter := time.Duration(rand.Int64N(int64(d)/5 + 1))
	if rand.IntN(2) == 0 {
		return d - jitter
	}
	return d + jitter
}

func (b *backoff) reset() { b.n = 0 }

// wait is how long to pause after a failed call: what a 429 asks for,
// else the next backoff step.
func (b *backoff) wait(err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code == 429 && apiErr.RetryAfter > 0 {
		return time.Duration(apiErr.RetryAfter) * time.Second
	}
	return b.next()
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
