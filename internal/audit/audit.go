// Package audit is Tend's audit trail: who read or changed a patient's data
// (staff, the API, the command line), every sign-in, and every change of
// configuration or of the knowledge base, in an append-only table
// (audit_log, migration 00100) that is tamper-evident.
//
// Each row holds its sequence number, time, actor, action, subject and a
// few facts (detail), the SHA-256 of that content and the hash of the row
// before it, so the rows form a chain: a row changed, removed or inserted
// afterwards breaks it, and Verify (`tend audit verify`) names the first
// row where it breaks. Rows are appended with the single head row
// (audit_head: the last seq and hash) locked, SELECT ... FOR UPDATE on
// PostgreSQL, SQLite's one writer otherwise, so every replica appends to
// the same chain in one order, and inside the caller's transaction when
// there is one, so a change and its row commit together.
//
// A row never holds message text, patient names or contact details: the
// subject is an id ("patient:12", "conversation:34"), the action a verb
// ("patient.export"), the detail numbers and short codes. Append refuses
// long strings in the detail to keep it that way.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/store"
)

// Entry is one thing to record.
type Entry struct {
	At      time.Time
	Actor   string
	Action  string
	Subject string
	// Detail holds facts only: counts, codes, ids, how the actor signed in.
	// Strings longer than MaxDetailString are refused.
	Detail map[string]any
}

// Row is one recorded entry as stored.
type Row struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject,omitempty"`
	Detail   json.RawMessage `json:"detail,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Genesis is the previous hash of the first row.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// MaxDetailString bounds a string in an entry's detail: a fact, never text.
const MaxDetailString = 128

// timeLayout is how a row's time enters its hash (microseconds, as both
// databases store it).
const timeLayout = "2006-01-02T15:04:05.000000Z"

var actionRe = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)

// For is an entry for ctx's actor (see WithActor), at now. How the actor
// signed in goes into the detail as "via".
func For(ctx context.Context, now time.Time, action, subject string, detail map[string]any) Entry {
	a, ok := ActorFrom(ctx)
	if !ok {
		a = Actor{ID: "unknown"}
	}
	if a.Via != "" {
		if detail == nil {
			detail = map[string]any{}
		}
		detail["via"] = a.Via
	}
	return Entry{At: now, Actor: a.ID, Action: action, Subject: subject, Detail: detail}
}

// Record appends entries in a transaction of their own.
func Record(ctx context.Context, db *store.DB, entries ...Entry) error {
	return db.InTx(ctx, func(tx *store.Tx) error { return Append(ctx, tx, entries...) })
}

// Append appends entries to the chain inside tx: they commit, or roll back,
// with whatever else tx does. The chain's head stays locked until tx ends,
// so append last in a long transaction.
func Append(ctx context.Context, tx *store.Tx, entries ...Entry) error {
	return AppendIn(ctx, tx.Q, entries...)
}

// AppendIn is Append for code that holds only its transaction's Q. q must
// be a transaction's: outside one the head's lock would not hold, and two
// replicas appending at once would fail on the duplicate seq (never fork
// the chain).
func AppendIn(ctx context.Context, q store.Q, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	rows := make([]Row, len(entries))
	for i, e := range entries {
		r, err := prepare(e)
		if err != nil {
			return err
		}
		rows[i] = r
	}
	var seq int64
	var prev string
	if err := q.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+q.ForUpdate()).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("audit: lock the chain: %w", err)
	}
	for _, r := range rows {
		seq++
		r.Seq, r.PrevHash = seq, prev
		r.Hash = r.computeHash()
		if _, err := q.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.Seq, r.At, r.Actor, r.Action, r.Subject, string(r.Detail),
			r.PrevHash, r.Hash); err != nil {
			return fmt.Errorf("audit: append: %w", err)
		}
		prev = r.Hash
	}
	if _, err := q.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, seq, prev); err != nil {
		return fmt.Errorf("audit: move the head: %w", err)
	}
	return nil
}

// prepare checks an entry and turns it into a row without its place in
// the chain.
func prepare(e Entry) (Row, error) {
	if e.At.IsZero() {
		return Row{}, errors.New("audit: an entry needs its time")
	}
	if !actionRe.MatchString(e.Action) || len(e.Action) > 64 {
		return Row{}, fmt.Errorf("audit: action %q is not a verb like patient.export", e.Action)
	}
	actor := clean(e.Actor, 128)
	if actor == "" {
		return Row{}, errors.New("audit: an entry needs its actor")
	}
	r := Row{At: e.At.UTC().Truncate(time.Microsecond), Actor: actor, Action: e.Action, Subject: clean(e.Subject, 128)}
	if len(e.Detail) > 0 {
		for k, v := range e.Detail {
			if err := checkFact(k, v); err != nil {
				return Row{}, err
			}
		}
		b, err := json.Marshal(e.Detail) // map keys sorted: one encoding
		if err != nil {
			return Row{}, fmt.Errorf("audit: detail: %w", err)
		}
		r.Detail = b
	}
	return r, nil
}

// checkFact refuses what could be text rather than a fact.
func checkFact(k string, v any) error {
	switch x := v.(type) {
	case nil, bool, int, int32, int64, uint, uint32, uint64, float64:
		return nil
	case string:
		if len([]rune(x)) > MaxDetailString || strings.ContainsAny(x, "\n\r") {
			return fmt.Errorf("audit: detail %q is too long or spans lines: a fact, never text", k)
		}
		return nil
	case []string:
		for _, s := range x {
			if err := checkFact(k, s); err != nil {
				return err
			}
		}
		return nil
	case map[string]int64:
		return nil
	case map[string]int:
		return nil
	}
	return fmt.Errorf("audit: detail %q has type %T; use numbers, booleans and short strings", k, v)
}

// computeHash is the SHA-256 of the row's content and its previous hash,
// as one JSON array (unambiguous whatever the fields hold).
func (r Row) computeHash() string {
	detail := string(r.Detail)
	b, _ := json.Marshal([]any{"tend-audit-v1", r.Seq, r.At.UTC().Format(timeLayout), r.Actor, r.Action, r.Subject,
		detail, r.PrevHash})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

const rowCols = `seq, at, actor, action, subject, detail, prev_hash, hash`

func scanRow(r store.Row) (Row, error) {
	var x Row
	var detail string
	if err := r.Scan(&x.Seq, &x.At, &x.Actor, &x.Action, &x.Subject, &detail, &x.PrevHash, &x.Hash); err != nil {
		return x, err
	}
	x.At = x.At.UTC()
	if detail != "" {
		x.Detail = json.RawMessage(detail)
	}
	return x, nil
}

// Filter selects rows for List.
type Filter struct {
	Subject string // exact: "patient:12"
	Actor   string // exact: "admin-token", "cli:alice"
	Action  string // exact, or a prefix ending in "." ("patient.")
	// Before lists rows older than this seq (paging, newest first); 0: from the newest.
	Before int64
	// Limit caps the rows (default 100, at most 1000).
	Limit int
}

// List returns rows newest first.
func List(ctx context.Context, q store.Q, f Filter) ([]Row, error) {
	var w store.Where
	if f.Subject != "" {
		w.Add("subject = %s", f.Subject)
	}
	if f.Actor != "" {
		w.Add("actor = %s", f.Actor)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			w.Add("substr(action, 1, %s) = %s", len(f.Action), f.Action)
		} else {
			w.Add("action = %s", f.Action)
		}
	}
	if f.Before > 0 {
		w.Add("seq < %s", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := store.Collect[Row](q.Query(ctx, `SELECT `+rowCols+` FROM audit_log`+w.SQL()+
		` ORDER BY seq DESC LIMIT `+w.Arg(limit), w.Args()...))(scanRow)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	return rows, nil
}

// Head is the chain's last seq and hash as the head row holds them.
func Head(ctx context.Context, q store.Q) (seq int64, hash string, err error) {
	err = q.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	if err != nil {
		err = fmt.Errorf("audit: head: %w", err)
	}
	return seq, hash, err
}
