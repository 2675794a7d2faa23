package store

import "context"

// Rows is a result set from Query; always Close it.
type Rows = rows

// Row is a single-row result from QueryRow; Scan returns ErrNotFound when empty.
type Row = row

// Dialect tells which SQL dialect the queries run against, for the few
// statements that differ.
func (q Q) Dialect() Dialect { return q.dialect }

// Exec runs a statement for a domain package that owns its own SQL. Write
// `$1`-style placeholders; they work on both databases. Times may be passed
// and scanned as time.Time (and *time.Time) on both.
func (q Q) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return q.q.exec(ctx, sql, args...)
}

// Query runs a query (see Exec for the conventions).
func (q Q) Query(ctx context.Context, sql string, args ...any) (Rows, error) {
	return q.q.query(ctx, sql, args...)
}

// QueryRow runs a query expected to return at most one row.
func (q Q) QueryRow(ctx context.Context, sql string, args ...any) Row {
	return q.q.queryRow(ctx, sql, args...)
}

// ForUpdate is " FOR UPDATE" on PostgreSQL and "" on SQLite, whose immediate
// transactions already hold the write lock.
func (q Q) ForUpdate() string { return q.forUpdate() }

// Collect reads every row of a query with scan, closing the rows; pass the
// query's results straight in: store.Collect(q.Query(ctx, sql, args...))(scanX).
func Collect[T any](rs Rows, err error) func(scan func(Row) (T, error)) ([]T, error) {
	return func(scan func(Row) (T, error)) ([]T, error) {
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		var out []T
		for rs.Next() {
			v, err := scan(rs)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, rs.Err()
	}
}

// IDs reads a query of one integer column (ids), closing the rows:
// store.IDs(q.Query(ctx, `SELECT id FROM ...`)).
func IDs(rs Rows, err error) ([]int64, error) {
	return Collect[int64](rs, err)(func(r Row) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
}

// CountBy reads (key, count) rows into a map, closing the rows.
func CountBy(rs Rows, err error) (map[string]int, error) { return countBy[string](rs, err) }

// CountByID is CountBy for rows keyed by an id (a GROUP BY patient_id).
func CountByID(rs Rows, err error) (map[int64]int, error) { return countBy[int64](rs, err) }

func countBy[K comparable](rs Rows, err error) (map[K]int, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[K]int{}
	for rs.Next() {
		var k K
		var n int
		if err := rs.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rs.Err()
}
