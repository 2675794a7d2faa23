package whatsapp

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tend-health/tend/internal/store"
)

// A poison message is one that cannot be recorded however often Meta
// delivers it. Answering 500 for it would have Meta resend the whole
// notification for a week, so it is recorded as rejected and skipped (the
// rest of the notification is recorded as usual). These are the reasons, as
// counted in tend_webhook_rejections_total{channel="whatsapp",reason} and
// kept in inbound_rejections.
const (
	// rejectRefused: the database refused the message's content (a data
	// exception or a constraint), which it would do on every attempt.
	rejectRefused = "store_refused"
	// rejectRepeated: recording failed maxAttempts times in a row while
	// other messages were recorded, so the fault is this message's.
	rejectRepeated = "repeated_failure"
	// rejectUndecodable: the message is not what the Cloud API documents.
	rejectUndecodable = "undecodable"
)

// maxAttempts is how many failures in a row make an message poison when
// other messages were recorded meanwhile. A failure with nothing recorded
// meanwhile (the database down) never does: those messages wait.
const maxAttempts = 5

// poisonJudge tells a poison message from a passing failure. It is safe for
// concurrent use (webhook requests).
type poisonJudge struct {
	mu       sync.Mutex
	fails    map[string]*failures
	recorded uint64 // messages recorded so far (repeats included)
}

type failures struct {
	n     int
	since uint64 // recorded when the first failure happened
}

// maxTracked bounds the memory kept about failing messages; past it the
// counts start afresh (a failing message is then retried a little longer).
const maxTracked = 4096

func newPoisonJudge() *poisonJudge { return &poisonJudge{fails: map[string]*failures{}} }

// ok notes that key was recorded (or recognised as a repeat, which also
// takes a working database).
func (p *poisonJudge) ok(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.fails, key)
	p.recorded++
}

// failed notes that recording key failed with err and returns the reason
// to reject it now, or "" to try it again later. dbUp is asked before a
// failure is counted: failures while the database does not answer say
// nothing about the message.
func (p *poisonJudge) failed(key string, err error, dbUp func() bool) string {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "" // shutting down or slow: says nothing about the message
	}
	if refusedData(err) {
		p.forget(key)
		return rejectRefused
	}
	if !dbUp() {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fails[key]
	if f == nil {
		if len(p.fails) >= maxTracked {
			clear(p.fails)
		}
		f = &failures{since: p.recorded}
		p.fails[key] = f
	}
	f.n++
	if f.n >= maxAttempts && p.recorded > f.since {
		delete(p.fails, key)
		return rejectRepeated
	}
	return ""
}

func (p *poisonJudge) forget(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.fails, key)
}

// refusedData reports whether the database refused the data itself: it
// would refuse it again on every attempt. A unique violation is left out:
// a duplicate is the engine's business, and any other is a race a retry
// resolves.
func refusedData(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if len(pgErr.Code) != 5 || pgErr.Code == "23505" {
			return false
		}
		switch pgErr.Code[:2] {
		case "22", "23", "54": // data exception, integrity constraint, program limit exceeded
			return true
		}
		return false
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		code := sqErr.Code()
		if code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return false
		}
		switch code & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
			return true
		}
	}
	return false
}

// errClass describes a store error for the log without its message: a
// database's message can quote the value it refused, which may be what a
// patient wrote.
func errClass(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return "postgres error " + pgErr.Code
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return "sqlite error " + strconv.Itoa(sqErr.Code())
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// rejection is one message (or status) skipped for good.
type rejection struct {
	id     string // the wamid ("" when unreadable)
	chatID string // "" when unknown
	reason string
	err    error
}

// rejectMessage records a poison message: a log line (no patient text), the
// rejection counter and, when its id is known, a row in
// inbound_rejections. Recording the row is best effort; the message is
// skipped either way.
func (h *webhook) rejectMessage(ctx context.Context, r rejection) {
	h.metrics.WebhookRejections.WithLabelValues(Channel, r.reason).Inc()
	h.log.WarnContext(ctx, "whatsapp: message rejected and skipped", "reason", r.reason, "error", errClass(r.err))
	if r.id == "" {
		return
	}
	detail := errClass(r.err)
	if len(detail) > 200 {
		detail = detail[:200]
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := recordRejection(ctx, h.db.Q(), r.id, r.chatID, r.reason, detail, h.clock.Now()); err != nil {
		h.log.WarnContext(ctx, "whatsapp: could not record a rejected message", "error", errClass(err))
	}
}

// rejectedBefore reports whether the message was rejected already (by this
// process or another replica): Meta delivers a notification again when any
// part of it failed.
func (h *webhook) rejectedBefore(ctx context.Context, id string) bool {
	var n int
	err := h.db.Q().QueryRow(ctx, `SELECT count(*) FROM inbound_rejections WHERE channel = $1 AND external_id = $2`,
		Channel, id).Scan(&n)
	return err == nil && n > 0
}

func recordRejection(ctx context.Context, q store.Q, externalID, chatID, reason, detail string, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO inbound_rejections (channel, external_id, chat_id, reason, detail, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel, external_id) DO NOTHING`,
		Channel, externalID, chatID, reason, detail, now)
	return err
}
