package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// pgxQuerier runs on a pgx pool or transaction.
type pgxQuerier struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
}

func (p pgxQuerier) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := p.q.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

func (p pgxQuerier) query(ctx context.Context, sql string, args ...any) (rows, error) {
	r, err := p.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (p pgxQuerier) queryRow(ctx context.Context, sql string, args ...any) row {
	return pgxRow{p.q.QueryRow(ctx, sql, args...)}
}

type pgxRow struct{ r pgx.Row }

func (r pgxRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// sqliteQuerier runs on a database/sql handle or transaction and converts
// times to and from integer microseconds.
type sqliteQuerier struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
}

func sqliteArgs(args []any) []any {
	out := args
	for i, a := range args {
		var conv any
		switch v := a.(type) {
		case time.Time:
			conv = toMicros(v)
		case *time.Time:
			if v == nil {
				conv = nil
			} else {
				conv = toMicros(*v)
			}
		default:
			continue
		}
		if &out[0] == &args[0] {
			out = append([]any(nil), args...)
		}
		out[i] = conv
	}
	return out
}

func toMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func (s sqliteQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, q, sqliteArgs(args)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s sqliteQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := s.q.QueryContext(ctx, q, sqliteArgs(args)...)
	if err != nil {
		return nil, err
	}
	return sqliteRows{r}, nil
}

func (s sqliteQuerier) queryRow(ctx context.Context, q string, args ...any) row {
	return sqliteRow{s.q.QueryRowContext(ctx, q, sqliteArgs(args)...)}
}

type sqliteRows struct{ r *sql.Rows }

func (r sqliteRows) Next() bool             { return r.r.Next() }
func (r sqliteRows) Err() error             { return r.r.Err() }
func (r sqliteRows) Close()                 { _ = r.r.Close() }
func (r sqliteRows) Scan(dest ...any) error { return scanSQLite(r.r.Scan, dest) }

type sqliteRow struct{ r *sql.Row }

func (r sqliteRow) Scan(dest ...any) error {
	err := scanSQLite(r.r.Scan, dest)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// scanSQLite scans integer microseconds into *time.Time and **time.Time targets.
func scanSQLite(scan func(...any) error, dest []any) error {
	type fix struct {
		i   int
		tmp *sql.NullInt64
	}
	var fixes []fix
	d := dest
	for i, v := range dest {
		switch v.(type) {
		case *time.Time, **time.Time:
			if fixes == nil {
				d = append([]any(nil), dest...)
			}
			tmp := new(sql.NullInt64)
			d[i] = tmp
			fixes = append(fixes, fix{i, tmp})
		}
	}
	if err := scan(d...); err != nil {
		return err
	}
	for _, f := range fixes {
		switch t := dest[f.i].(type) {
		case *time.Time:
			if f.tmp.Valid {
				*t = time.UnixMicro(f.tmp.Int64).UTC()
			} else {
				*t = time.Time{}
			}
		case **time.Time:
			if f.tmp.Valid {
				v := time.UnixMicro(f.tmp.Int64).UTC()
				*t = &v
			} else {
				*t = nil
			}
		}
	}
	return nil
}

// isRetryable reports whether a failed transaction may succeed if run again.
func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
