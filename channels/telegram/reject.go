package telegram

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

// A poison update is one that cannot be recorded however often it is tried.
// Retrying it forever would hold up every update after it (polling) or have
// Telegram resend it forever (webhook), so it is recorded as rejected and
// skipped. These are the reasons, as counted in
// tend_webhook_rejections_total{channel="telegram",reason} and kept in
// inbound_rejections.
const (
	// rejectRefused: the database refused the update's content (a data
	// exception or a constraint), which it would do on every attempt.
	rejectRefused = "store_refused"
	// rejectRepeated: recording failed maxAttempts times in a row while
	// other updates were recorded, so the fault is this update's.
	rejectRepeated = "repeated_failure"
	// rejectUndecodable: the update's content is not what the Bot API
	// documents (its update_id is readable, the rest is not).
	rejectUndecodable = "undecodable"
)

// maxAttempts is how many failures in a row make an update poison when
// other updates were recorded meanwhile. A failure with nothing recorded
// meanwhile (the database down) never does: those updates wait.
const maxAttempts = 5

// poisonJudge tells a poison update from a passing failure. It is safe for
// concurrent use (webhook requests).
type poisonJudge struct {
	mu       sync.Mutex
	fails    map[string]*failures
	recorded uint64 // updates recorded so far (repeats included)
}

type failures struct {
	n     int
	since uint64 // recorded when the first failure happened
}

// maxTracked bounds the memory kept about failing updates; past it the
// counts start afresh (a failing update is then retried a little longer).
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
// nothing about the update.
func (p *poisonJudge) failed(key string, err error, dbUp func() bool) string {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "" // shutting down or slow: says nothing about the update
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

// rejection is one update skipped for good.
type rejection struct {
	updateID int64
	kind     string // the update's kind (message, callback_query, ...)
	chatID   string // "" when unknown
	reason   string
	err      error
}

// rejectUpdate records a poison update: a log line (no patient text), the
// rejection counter and a row in inbound_rejections. Recording the row is
// best effort; the update is skipped either way.
func (c *Bot) rejectUpdate(ctx context.Context, r rejection) {
	c.metrics.WebhookRejections.WithLabelValues(Channel, r.reason).Inc()
	c.log.WarnContext(ctx, "telegram: update rejected and skipped", "update_id", r.updateID, "kind", r.kind,
		"reason", r.reason, "error", errClass(r.err))
	detail := errClass(r.err)
	if len(detail) > 200 {
		detail = detail[:200]
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := recordRejection(ctx, c.db.Q(), c.rejectionID(r.updateID), r.chatID, r.reason,
		detail, c.clock.Now()); err != nil {
		c.log.WarnContext(ctx, "telegram: could not record a rejected update", "update_id", r.updateID, "error", errClass(err))
	}
}

// rejectedBefore reports whether the update was rejected already (by this
// process or another replica).
func (c *Bot) rejectedBefore(ctx context.Context, updateID int64) bool {
	var n int
	err := c.db.Q().QueryRow(ctx, `SELECT count(*) FROM inbound_rejections WHERE channel = $1 AND external_id = $2`,
		Channel, c.rejectionID(updateID)).Scan(&n)
	return err == nil && n > 0
}

func (c *Bot) rejectionID(updateID int64) string {
	return c.botID + ":u:" + strconv.FormatInt(updateID, 10)
}

func recordRejection(ctx context.Context, q store.Q, externalID, chatID, reason, detail string, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO inbound_rejections (channel, external_id, chat_id, reason, detail, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel, external_id) DO NOTHING`,
		Channel, externalID, chatID, reason, detail, now)
	return err
}
