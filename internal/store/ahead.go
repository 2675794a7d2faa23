package store

import (
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// Reads sent ahead. A turn reads a few small rows that do not depend on the
// conversation (the knowledge index's state, the price lists' versions),
// each in a round trip of its own in the middle of the turn. A caller that
// knows the turn will run such a read can send it ahead, with the
// transaction's next statement (its first, with BEGIN): the rows are kept,
// and the transaction's first query of the same SQL takes them instead of a
// round trip. The read runs a few statements earlier in the same
// transaction; at READ COMMITTED each statement sees what was committed when
// it started, so it is the same read a little sooner, as a transaction that
// began a little sooner would have made it.
//
// A read sent ahead and not used costs its work in PostgreSQL and nothing
// else; its SQL error aborts the transaction as the statement it travelled
// with would, so only plain reads of tables every migrated database has
// belong here.

// ReadAhead sends sql, a query without arguments, with the transaction's
// next statement on PostgreSQL, for the transaction's first Query or
// QueryRow of the same SQL to take its rows. On SQLite, with no network
// between the process and its database, it does nothing.
func (tx *Tx) ReadAhead(sql string) {
	lt, ok := tx.pgTx.(*lazyTx)
	if !ok || lt.closed || lt.ahead[sql] != nil {
		return
	}
	a := &aheadRead{}
	if lt.ahead == nil {
		lt.ahead = map[string]*aheadRead{}
	}
	lt.ahead[sql] = a
	_ = lt.hold(heldStmt{sql: sql, read: a.collect, collect: true})
}

// aheadRead is a read sent ahead: its rows once arrived, until taken.
type aheadRead struct {
	arrived bool
	taken   bool
	rows    aheadRows
}

// collect copies the rows out of the batch (pgx reuses its buffers).
func (a *aheadRead) collect(rs pgx.Rows) error {
	r := aheadRows{fields: slices.Clone(rs.FieldDescriptions()), typeMap: rs.TypeMap(), pos: -1}
	for rs.Next() {
		raw := rs.RawValues()
		row := make([][]byte, len(raw))
		for i, v := range raw {
			if v != nil {
				row[i] = slices.Clone(v)
			}
		}
		r.data = append(r.data, row)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return err
	}
	r.tag = rs.CommandTag()
	a.rows, a.arrived = r, true
	return nil
}

// hasAhead reports rows sent ahead for this query, arrived and not taken.
func (t *lazyTx) hasAhead(sql string, args []any) bool {
	a := t.ahead[sql]
	return a != nil && len(args) == 0 && a.arrived && !a.taken
}

// takeAhead returns the rows sent ahead for this query, once. A query that
// comes before they have arrived runs as usual, and the read sent ahead is
// not used afterwards: the transaction's later queries of it run too.
func (t *lazyTx) takeAhead(sql string, args []any) (pgx.Rows, bool) {
	a := t.ahead[sql]
	if a == nil || len(args) != 0 || a.taken {
		return nil, false
	}
	a.taken = true
	if !a.arrived {
		return nil, false
	}
	rows := a.rows
	a.rows = aheadRows{}
	return &rows, true
}

// aheadRows are rows kept from a read sent ahead, scanned as pgx scans its
// own (the same type map and formats).
type aheadRows struct {
	fields  []pgconn.FieldDescription
	data    [][][]byte
	tag     pgconn.CommandTag
	typeMap *pgtype.Map
	pos     int
	err     error
}

var _ pgx.Rows = (*aheadRows)(nil)

func (r *aheadRows) Close()                                       {}
func (r *aheadRows) Err() error                                   { return r.err }
func (r *aheadRows) CommandTag() pgconn.CommandTag                { return r.tag }
func (r *aheadRows) FieldDescriptions() []pgconn.FieldDescription { return r.fields }
func (r *aheadRows) Conn() *pgx.Conn                              { return nil }
func (r *aheadRows) TypeMap() *pgtype.Map                         { return r.typeMap }

func (r *aheadRows) Next() bool {
	if r.err != nil || r.pos+1 >= len(r.data) {
		r.pos = len(r.data)
		return false
	}
	r.pos++
	return true
}

func (r *aheadRows) RawValues() [][]byte {
	if r.pos < 0 || r.pos >= len(r.data) {
		return nil
	}
	return r.data[r.pos]
}

func (r *aheadRows) Scan(dest ...any) error {
	raw := r.RawValues()
	if raw == nil {
		return errors.New("store: scan called without a row")
	}
	if len(dest) != len(r.fields) {
		r.err = errors.New("store: scan: wrong number of destinations")
		return r.err
	}
	for i, d := range dest {
		if d == nil {
			continue
		}
		f := r.fields[i]
		if err := r.typeMap.Scan(f.DataTypeOID, f.Format, raw[i], d); err != nil {
			r.err = pgx.ScanArgError{ColumnIndex: i, FieldName: f.Name, Err: err}
			return r.err
		}
	}
	return nil
}

func (r *aheadRows) Values() ([]any, error) {
	raw := r.RawValues()
	out := make([]any, len(raw))
	for i, v := range raw {
		if v == nil {
			continue
		}
		f := r.fields[i]
		dt, ok := r.typeMap.TypeForOID(f.DataTypeOID)
		if !ok {
			out[i] = string(v)
			continue
		}
		val, err := dt.Codec.DecodeValue(r.typeMap, f.DataTypeOID, f.Format, v)
		if err != nil {
			return nil, err
		}
		out[i] = val
	}
	return out, nil
}
