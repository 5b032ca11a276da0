package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/lib/pq"
)

// lib/pq sends a statement with parameters as Parse+Describe, waits for
// the answer, then sends Bind+Execute and waits again: two round trips,
// and PostgreSQL parses and plans the text every time. okrgraph runs the
// same few dozen statement texts over and over (ent builds them from the
// schema), so each PostgreSQL connection keeps its statements prepared,
// by text, in a small LRU: after the first use a statement is one round
// trip (Bind+Execute) and PostgreSQL reuses the parse (and, when its
// planner judges a generic plan as good, the plan).
//
// The capacity per connection is the URL parameter statement_cache_capacity
// (default defaultStmtCacheCapacity; 0 turns the cache off, e.g. behind a
// pooler in transaction mode that cannot keep prepared statements). The
// parameter is okrgraph's and is removed from the URL given to lib/pq.

const (
	defaultStmtCacheCapacity = 256
	stmtCacheParam           = "statement_cache_capacity"
)

// PostgreSQL compiles a statement's expressions to machine code (JIT)
// when the planner's cost estimate passes jit_above_cost. okrgraph's
// statements are short, and their estimates are not: the whole tree's
// statement, estimated above the threshold from ~10,000 items on, spent
// 50-90 ms compiling to run in 50, and a table not yet analyzed (a new
// org) estimates worse. So each session okrgraph opens turns JIT off,
// unless the database URL sets jit itself (jit=on is then sent to the
// server as it is).

// pgConnector opens lib/pq connections that keep their statements
// prepared (capacity > 0) and run without JIT (jitOff).
type pgConnector struct {
	base     *pq.Connector
	capacity int
	jitOff   bool
}

// newPGConnector parses rawURL, takes okrgraph's own parameters off it and
// returns the connector of the rest.
func newPGConnector(rawURL string) (driver.Connector, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	capacity := defaultStmtCacheCapacity
	q := u.Query()
	if v := q.Get(stmtCacheParam); v != "" {
		if capacity, err = strconv.Atoi(v); err != nil || capacity < 0 || capacity > 10_000 {
			return nil, fmt.Errorf("database URL: %s must be a whole number from 0 to 10000, not %q", stmtCacheParam, v)
		}
	}
	if q.Has(stmtCacheParam) {
		q.Del(stmtCacheParam)
		u.RawQuery = q.Encode()
	}
	base, err := pq.NewConnector(u.String())
	if err != nil {
		return nil, err
	}
	return &pgConnector{base: base, capacity: capacity, jitOff: !q.Has("jit")}, nil
}

func (c *pgConnector) Driver() driver.Driver { return c.base.Driver() }

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := cn.(pqConn)
	if !ok {
		_ = cn.Close()
		return nil, fmt.Errorf("store: unexpected PostgreSQL connection %T", cn)
	}
	if c.jitOff {
		if _, err := pc.ExecContext(ctx, "SET jit = off", nil); err != nil {
			_ = pc.Close()
			return nil, fmt.Errorf("store: turn JIT off: %w", err)
		}
	}
	if c.capacity == 0 {
		return pc, nil
	}
	return &stmtCacheConn{base: pc, capacity: c.capacity, stmts: map[string]*list.Element{}}, nil
}

// The interfaces of lib/pq's connection that database/sql looks for, and
// of its statements that stmtCacheConn calls.
type (
	pqConn interface {
		driver.Conn
		driver.ConnBeginTx
		driver.ConnPrepareContext
		driver.QueryerContext
		driver.ExecerContext
		driver.NamedValueChecker
		driver.Pinger
		driver.SessionResetter
		driver.Validator
	}
	pqStmt interface {
		driver.Stmt
		driver.StmtQueryContext
		driver.StmtExecContext
	}
)

// stmtCacheConn is one lib/pq connection and its prepared statements.
// database/sql uses a connection from one goroutine at a time, so it needs
// no lock.
type stmtCacheConn struct {
	base     pqConn
	capacity int
	lru      list.List // of *cachedStmt, most recently used first
	stmts    map[string]*list.Element
}

type cachedStmt struct {
	query string
	stmt  pqStmt
}

var _ pqConn = (*stmtCacheConn)(nil)

func (c *stmtCacheConn) Prepare(query string) (driver.Stmt, error) { return c.base.Prepare(query) }

func (c *stmtCacheConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// Close closes the connection; its prepared statements end with its
// session.
func (c *stmtCacheConn) Close() error {
	c.stmts, c.lru = nil, list.List{}
	return c.base.Close()
}

func (c *stmtCacheConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.base.BeginTx(ctx, opts)
}

func (c *stmtCacheConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.base.PrepareContext(ctx, query)
}

func (c *stmtCacheConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.base.CheckNamedValue(nv)
}

func (c *stmtCacheConn) Ping(ctx context.Context) error { return c.base.Ping(ctx) }

func (c *stmtCacheConn) ResetSession(ctx context.Context) error { return c.base.ResetSession(ctx) }

func (c *stmtCacheConn) IsValid() bool { return c.base.IsValid() }

// QueryContext runs a statement with parameters through its prepared
// form; one without parameters goes as a simple query (one round trip
// already).
func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		return c.base.QueryContext(ctx, query, args)
	}
	st, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args)
	if err != nil {
		c.forgetOn(err, query)
	}
	return rows, err
}

func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		return c.base.ExecContext(ctx, query, args)
	}
	st, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args)
	if err != nil {
		c.forgetOn(err, query)
	}
	return res, err
}

// prepared returns query's prepared statement, preparing it (and closing
// the least recently used one beyond the capacity) when it is not cached.
func (c *stmtCacheConn) prepared(ctx context.Context, query string) (pqStmt, error) {
	if el, ok := c.stmts[query]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*cachedStmt).stmt, nil
	}
	s, err := c.base.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := s.(pqStmt)
	if !ok {
		_ = s.Close()
		return nil, fmt.Errorf("store: unexpected PostgreSQL statement %T", s)
	}
	if c.stmts == nil {
		c.stmts = map[string]*list.Element{}
	}
	c.stmts[query] = c.lru.PushFront(&cachedStmt{query: query, stmt: st})
	for c.lru.Len() > c.capacity {
		old := c.lru.Back()
		cs := c.lru.Remove(old).(*cachedStmt)
		delete(c.stmts, cs.query)
		if err := cs.stmt.Close(); err != nil {
			// The statement is gone from the cache; a connection
			// that failed to close it reports itself bad to
			// database/sql, which drops it.
			return st, nil
		}
	}
	return st, nil
}

// forgetOn drops query's statement when PostgreSQL says the prepared form
// no longer fits (the schema under it changed, or it is gone), so that the
// next use prepares it again.
func (c *stmtCacheConn) forgetOn(err error, query string) {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return
	}
	switch pe.Code {
	case "0A000", // feature_not_supported: "cached plan must not change result type"
		"26000": // invalid_sql_statement_name
	default:
		return
	}
	if el, ok := c.stmts[query]; ok {
		c.lru.Remove(el)
		delete(c.stmts, query)
	}
}
