// Package poison keeps a channel from retrying forever an inbound item (a
// Telegram update, a WhatsApp message or status) that the database will
// never accept. Retrying it would hold up every item after it (polling) or
// have the platform resend it for days (webhooks), so such an item is
// recorded as rejected and skipped. Telegram and WhatsApp share this code;
// each keeps only how it names and identifies its items.
package poison

import (
	"context"
	"errors"
	"sync"
)

// The reasons for a rejection, as counted in
// tend_webhook_rejections_total{channel,reason} and kept in
// inbound_rejections.
const (
	// Refused: the database refused the item's content (a data exception or
	// a constraint), which it would do on every attempt.
	Refused = "store_refused"
	// Repeated: recording failed MaxAttempts times in a row while other
	// items were recorded, so the fault is this item's.
	Repeated = "repeated_failure"
	// Undecodable: the item is not what the platform's API documents.
	Undecodable = "undecodable"
)

// MaxAttempts is how many failures in a row make an item poison when other
// items were recorded meanwhile. A failure with nothing recorded meanwhile
// (the database down) never does: those items wait.
const MaxAttempts = 5

// maxTracked bounds the memory kept about failing items; past it the counts
// start afresh (a failing item is then retried a little longer).
const maxTracked = 4096

// Judge tells a poison item from a passing failure. Its zero value is ready
// to use; it is safe for concurrent use (webhook requests).
type Judge struct {
	mu       sync.Mutex
	fails    map[string]*failures
	recorded uint64 // items recorded so far (repeats included)
}

type failures struct {
	n     int
	since uint64 // recorded when the first failure happened
}

// OK notes that key was recorded (or recognised as a repeat, which also
// takes a working database).
func (p *Judge) OK(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.fails, key)
	p.recorded++
}

// Failed notes that recording key failed with err and returns the reason
// to reject it now, or "" to try it again later. dbUp is asked before a
// failure is counted: failures while the database does not answer say
// nothing about the item.
func (p *Judge) Failed(key string, err error, dbUp func() bool) string {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "" // shutting down or slow: says nothing about the item
	}
	if refusedData(err) {
		p.forget(key)
		return Refused
	}
	if !dbUp() {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fails[key]
	if f == nil {
		if p.fails == nil || len(p.fails) >= maxTracked {
			p.fails = map[string]*failures{}
		}
		f = &failures{since: p.recorded}
		p.fails[key] = f
	}
	f.n++
	if f.n >= MaxAttempts && p.recorded > f.since {
		delete(p.fails, key)
		return Repeated
	}
	return ""
}

func (p *Judge) forget(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.fails, key)
}
