package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"reflect"
	"sync"
)

// SQLite compiles every statement database/sql runs without a Stmt: the
// driver's QueryContext and ExecContext prepare, run and finalize. In the
// answer turn compiling (SQLite's parser and code generator) was a fifth of
// the CPU, the same few dozen statements every time: the store's, River's
// job insert and fetch. stmtCacheConnector keeps each connection's compiled
// statements, the most recently used first, and runs a statement from its
// cache. modernc.org/sqlite resets a prepared statement after Exec and on
// Rows.Close, and SQLite re-prepares one whose schema changed, so a cached
// statement is as good as a fresh one.

// stmtCacheSize bounds the statements kept per connection: the hot ones are
// a few dozen; migrations' and ad-hoc statements pass through and are
// evicted.
const stmtCacheSize = 128

// stmtCacheConnector wraps modernc.org/sqlite's connector the way its
// documentation describes (sqlite.NewConnector): the connection forwards the
// driver's optional interfaces and has Unwrap.
type stmtCacheConnector struct{ base driver.Connector }

func (c stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return newCachingConn(conn), nil
}

func (c stmtCacheConnector) Driver() driver.Driver { return c.base.Driver() }

// baseConn is what modernc.org/sqlite's connection implements and the cache
// relies on.
type baseConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	// busy while Rows from it are open: the same query run again before they
	// are closed (a query inside a loop over its own rows) gets a statement
	// of its own instead of resetting the open one.
	busy bool
}

type cachingConn struct {
	base baseConn
	// mu: database/sql uses a connection from one goroutine at a time, but a
	// context's end closes Rows from another; the lock keeps the cache's
	// bookkeeping whole whichever way.
	mu    sync.Mutex
	bySQL map[string]*list.Element
	lru   list.List // of *cachedStmt, most recently used first
}

func newCachingConn(conn driver.Conn) driver.Conn {
	base, ok := conn.(baseConn)
	if !ok {
		// A driver without the context interfaces: run it as it is.
		return conn
	}
	return &cachingConn{base: base, bySQL: map[string]*list.Element{}}
}

// take returns the query's cached statement marked busy, preparing and
// caching it if needed; nil (and no error) when it is busy already.
func (c *cachingConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	c.mu.Lock()
	if el, ok := c.bySQL[query]; ok {
		cs := el.Value.(*cachedStmt)
		if cs.busy {
			c.mu.Unlock()
			return nil, nil
		}
		cs.busy = true
		c.lru.MoveToFront(el)
		c.mu.Unlock()
		return cs, nil
	}
	c.mu.Unlock()
	st, err := c.base.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: query, stmt: st, busy: true}
	c.mu.Lock()
	c.bySQL[query] = c.lru.PushFront(cs)
	var evict []driver.Stmt
	for el := c.lru.Back(); c.lru.Len() > stmtCacheSize && el != nil; {
		prev := el.Prev()
		if old := el.Value.(*cachedStmt); !old.busy {
			c.lru.Remove(el)
			delete(c.bySQL, old.query)
			evict = append(evict, old.stmt)
		}
		el = prev
	}
	c.mu.Unlock()
	for _, st := range evict {
		_ = st.Close()
	}
	return cs, nil
}

func (c *cachingConn) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.busy = false
	c.mu.Unlock()
}

// drop forgets a statement whose run failed, so a broken one is not kept.
func (c *cachingConn) drop(cs *cachedStmt) {
	c.mu.Lock()
	if el, ok := c.bySQL[cs.query]; ok && el.Value == cs {
		c.lru.Remove(el)
		delete(c.bySQL, cs.query)
	}
	c.mu.Unlock()
	_ = cs.stmt.Close()
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.base.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.drop(cs)
		return nil, err
	}
	return &cachedRows{Rows: rows, conn: c, cs: cs}, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.base.ExecContext(ctx, query, args)
	}
	res, err := cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	if err != nil {
		c.drop(cs)
		return nil, err
	}
	c.release(cs)
	return res, nil
}

// Unwrap returns the driver's connection (sqlite.Limit and the like look
// through wrappers with it).
func (c *cachingConn) Unwrap() driver.Conn { return c.base }

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.base.Prepare(query) }

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.base.PrepareContext(ctx, query)
}

func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.base.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.base.BeginTx(ctx, opts)
}

// Close finalizes the cached statements first: SQLite does not close a
// connection that still has statements.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	stmts := make([]driver.Stmt, 0, c.lru.Len())
	for el := c.lru.Front(); el != nil; el = el.Next() {
		stmts = append(stmts, el.Value.(*cachedStmt).stmt)
	}
	c.lru.Init()
	c.bySQL = map[string]*list.Element{}
	c.mu.Unlock()
	for _, st := range stmts {
		_ = st.Close()
	}
	return c.base.Close()
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.base.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.base.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.base.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// cachedRows gives its statement back to the cache when closed (the driver
// has reset it by then).
type cachedRows struct {
	driver.Rows
	conn   *cachingConn
	cs     *cachedStmt
	closed bool
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if !r.closed {
		r.closed = true
		if err != nil {
			r.conn.drop(r.cs)
		} else {
			r.conn.release(r.cs)
		}
	}
	return err
}

// The column type methods forward to the driver's rows (sql.Rows.ColumnTypes).

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
