package rekey

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tend-health/tend/internal/sealed"
	"github.com/tend-health/tend/internal/store"
)

// value is the column as text (a jsonb column on PostgreSQL reads as its
// JSON text, a sealed value as a JSON string).
func value(col store.SealedColumn) string {
	if col.JSON {
		return "CAST(" + col.Column + " AS text)"
	}
	return col.Column
}

// nonEmpty is the condition for a row whose column holds something.
func nonEmpty(col store.SealedColumn) string {
	if col.JSON {
		return value(col) + " NOT IN ('', '{}', '[]', 'null')"
	}
	return col.Column + " <> ''"
}

// sealedPrefix is how a value sealed under kid starts as stored.
func sealedPrefix(col store.SealedColumn, kid string) string {
	p := "v1:" + kid + ":"
	if col.JSON {
		p = `"` + p
	}
	return p
}

// needsWork adds the condition for rows not (wholly) under kid: a value
// that is plaintext or sealed under another key, or a lookup hash made
// with another key.
func needsWork(w *store.Where, col store.SealedColumn, kid string) {
	cond := "(" + nonEmpty(col) + " AND " + value(col) + " NOT LIKE %s)"
	vals := []any{sealedPrefix(col, kid) + "%"}
	if col.Hash != "" {
		cond = "(" + cond + " OR (" + col.Column + " <> '' AND " + col.Hash + " NOT LIKE %s))"
		vals = append(vals, kid+":%")
	}
	w.Add(cond, vals...)
}

type found struct {
	key   any
	value string
	hash  string
}

// rewrite seals one batch of col's rows after the cursor under the
// current key.
func rewrite(ctx context.Context, q store.Q, keys *sealed.Keyring, col store.SealedColumn, after int64) (batch, error) {
	var b batch
	kid := keys.Current()
	var w store.Where
	if !col.Small {
		w.Add(col.PK+" > %s", after)
	}
	needsWork(&w, col, kid)
	if col.Where != "" {
		w.Add(strings.ReplaceAll(col.Where, "%", "%%"))
	}
	sel := "SELECT " + col.PK + ", " + value(col)
	if col.Hash != "" {
		sel += ", " + col.Hash
	}
	sel += " FROM " + col.Table + w.SQL() + " ORDER BY " + col.PK
	if !col.Small {
		sel += " LIMIT " + w.Arg(BatchSize)
	}
	rs, err := q.Query(ctx, sel, w.Args()...)
	if err != nil {
		return b, err
	}
	var rows []found
	for rs.Next() {
		var f found
		dest := []any{&f.key, &f.value}
		if col.Hash != "" {
			dest = append(dest, &f.hash)
		}
		if err := rs.Scan(dest...); err != nil {
			rs.Close()
			return b, err
		}
		rows = append(rows, f)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return b, err
	}
	if !col.Small && len(rows) == BatchSize {
		b.full = true
		last, err := toInt64(rows[len(rows)-1].key)
		if err != nil {
			return b, err
		}
		b.last = last
	}
	purpose := col.Purpose()
	for _, f := range rows {
		open, seal := q.Open, q.Seal
		if col.JSON {
			open, seal = q.OpenJSON, q.SealJSON
		}
		plain, err := open(purpose, f.value)
		if err != nil {
			b.unreadable++
			continue
		}
		nv := f.value
		if !strings.HasPrefix(f.value, sealedPrefix(col, kid)) {
			nv = seal(purpose, plain)
		}
		// The row changes only if it still holds what was read: a value
		// written meanwhile is already sealed under the current key.
		args := []any{nv}
		set := col.Column + " = $1"
		if col.Hash != "" {
			args = append(args, q.LookupHash(purpose, plain))
			set += ", " + col.Hash + " = $2"
		}
		args = append(args, f.key, f.value)
		pk, old := fmt.Sprintf("$%d", len(args)-1), fmt.Sprintf("$%d", len(args))
		if col.JSON && q.Dialect() == store.Postgres {
			old = "CAST(" + old + " AS jsonb)"
		}
		n, err := q.Exec(ctx, "UPDATE "+col.Table+" SET "+set+" WHERE "+col.PK+" = "+pk+" AND "+col.Column+" = "+old, args...)
		if err != nil {
			return b, err
		}
		b.rewritten += n
	}
	return b, nil
}

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	}
	return 0, fmt.Errorf("rekey: key of type %T is not an integer", v)
}

// Count is how many values of one column are plaintext ("") or sealed
// under each key id.
type Count struct {
	Column string           `json:"column"`
	Keys   map[string]int64 `json:"keys"`
}

// Status is what `tend keys status` shows.
type Status struct {
	Current    string   `json:"current"`
	Configured []string `json:"configured"`
	Columns    []Count  `json:"columns"`
	// Totals adds the columns up per key id ("" is plaintext).
	Totals   map[string]int64 `json:"totals"`
	Progress *Progress        `json:"progress,omitempty"`
	Running  bool             `json:"running"`
}

// InUse lists the key ids some value is sealed or hashed under, sorted.
func (s Status) InUse() []string {
	var out []string
	for id, n := range s.Totals {
		if id != "" && n > 0 {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// CountKeys reads every sealed column and counts its values per key id,
// with the rotation's progress.
func CountKeys(ctx context.Context, db *store.DB) (Status, error) {
	q := db.Q()
	keys := db.Keyring()
	s := Status{Current: keys.Current(), Configured: keys.IDs(), Totals: map[string]int64{}}
	for _, col := range store.SealedColumns() {
		prefix := "v1:________:%"
		start := "4"
		if col.JSON {
			prefix, start = `"`+prefix, "5"
		}
		v := value(col)
		where := nonEmpty(col)
		if col.Where != "" {
			where += " AND " + col.Where
		}
		c, err := count(ctx, q, col.Purpose(), `SELECT CASE WHEN `+v+` LIKE '`+prefix+`' THEN substr(`+v+`, `+start+`, 8)
			ELSE '' END, count(*) FROM `+col.Table+` WHERE `+where+` GROUP BY 1`)
		if err != nil {
			return s, err
		}
		s.Columns = append(s.Columns, c)
		if col.Hash != "" {
			c, err := count(ctx, q, col.Table+"."+col.Hash, `SELECT substr(`+col.Hash+`, 1, 8), count(*) FROM `+col.Table+`
				WHERE `+col.Hash+` <> '' GROUP BY 1`)
			if err != nil {
				return s, err
			}
			s.Columns = append(s.Columns, c)
		}
	}
	for _, c := range s.Columns {
		for id, n := range c.Keys {
			s.Totals[id] += n
		}
	}
	p, ok, err := LoadProgress(ctx, q)
	if err != nil {
		return s, err
	}
	if ok {
		s.Progress = &p
	}
	s.Running, err = Running(ctx, q)
	return s, err
}

func count(ctx context.Context, q store.Q, name, sql string) (Count, error) {
	m, err := store.CountBy(q.Query(ctx, sql))
	if err != nil {
		return Count{}, fmt.Errorf("rekey: count %s: %w", name, err)
	}
	c := Count{Column: name, Keys: map[string]int64{}}
	for k, n := range m {
		c.Keys[k] = int64(n)
	}
	return c, nil
}
