// Package store opens the database (embedded SQLite by default, PostgreSQL
// for production), migrates it, and runs work in transactions.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/schema/field"
	_ "modernc.org/sqlite" // embedded SQLite driver (pure Go)

	"okrgraph/ent"
	"okrgraph/ent/migrate"
	_ "okrgraph/ent/runtime" // schema hooks and interceptors
	"okrgraph/internal/apperr"
)

// DefaultURL is the embedded database used when none is configured.
const DefaultURL = "sqlite:okrgraph.db"

// DB is an open database with its ent client.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string
}

// Open connects to url: "postgres://..." (or "postgresql://") for
// PostgreSQL; "sqlite:PATH" or a bare path for embedded SQLite, with
// foreign keys, WAL, a busy timeout and immediate write transactions.
// Extra ent options (e.g. a wrapped driver for tests) may be given through
// wrap.
func Open(rawURL string, wrap func(dialect.Driver) dialect.Driver) (*DB, error) {
	if rawURL == "" {
		rawURL = DefaultURL
	}
	var (
		driverName, dsn, dia string
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		driverName, dsn, dia = "postgres", rawURL, dialect.Postgres
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite://"), "sqlite:")
		var err error
		if dsn, err = sqliteDSN(path); err != nil {
			return nil, err
		}
		driverName, dia = "sqlite", dialect.SQLite
	}
	var db *sql.DB
	if dia == dialect.Postgres {
		connector, err := newPGConnector(dsn)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		db = sql.OpenDB(connector)
	} else {
		var err error
		if db, err = sql.Open(driverName, dsn); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	if dia == dialect.SQLite {
		// One writer at a time is SQLite's model; a small pool keeps
		// readers concurrent under WAL without piling up writers.
		db.SetMaxOpenConns(8)
	} else {
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(8)
	}
	var drv dialect.Driver = entsql.OpenDB(dia, db)
	if dia == dialect.SQLite {
		drv = newSerialDriver(drv)
	}
	if wrap != nil {
		drv = wrap(drv)
	}
	client := ent.NewClient(ent.Driver(drv))
	client.Use(textGuard)
	return &DB{Client: client, SQL: db, Dialect: dia}, nil
}

func sqliteDSN(path string) (string, error) {
	if path == "" {
		return "", errors.New("empty SQLite path")
	}
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	// Times are written in one sortable form, in UTC
	// ("2006-01-02 15:04:05.999999999+00:00"), so comparing and ordering
	// them as text (cursors, ranges) orders them in time. The driver's
	// default, Go's time.String(), carries the zone name and the monotonic
	// reading and does not sort.
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	if strings.HasPrefix(path, "file:") {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return path + sep + q.Encode(), nil
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("create database directory: %w", err)
		}
	}
	return "file:" + path + "?" + q.Encode(), nil
}

// Migrate creates or updates the schema. Ids are unique across tables
// (ent's sql/globalid feature), so node(id:) can find any row.
func (d *DB) Migrate(ctx context.Context) error {
	// ent's migration planner keeps package-level state: migrations of
	// several databases in one process (tests) take turns.
	migrateMu.Lock()
	defer migrateMu.Unlock()
	if err := d.Client.Schema.Create(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// ent gives many-to-many join tables only their (item, user) primary
	// key; "the items a user owns / may view / follows, the items of a
	// team" (the dashboard's hasOwnersWith, hasFollowersWith and
	// hasTeamsWith filters) need the other way.
	stmts := extraIndexes
	if d.Dialect == dialect.Postgres {
		stmts = append(slices.Clip(stmts), postgresIndexes...)
	}
	for _, stmt := range stmts {
		if _, err := d.SQL.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: %s: %w", stmt, err)
		}
	}
	// Users are (issuer, subject) now: users created by HS256 tokens
	// before that keep their subject under the "local" issuer of those
	// tokens. Idempotent; nothing writes users.subject any more.
	if _, err := d.SQL.ExecContext(ctx, `UPDATE users SET issuer = 'local', sub = subject, subject = NULL WHERE subject IS NOT NULL AND issuer IS NULL`); err != nil {
		return fmt.Errorf("migrate users to (issuer, subject): %w", err)
	}
	if d.Dialect == dialect.SQLite {
		if err := normalizeTimes(ctx, d.SQL); err != nil {
			return fmt.Errorf("migrate times: %w", err)
		}
	}
	return nil
}

// postgresIndexes serve lists newest first (the SPA's dashboard orders by
// update or creation time): PostgreSQL walks them backwards and stops at
// the page. SQLite, planning without statistics, would also walk them
// for a filtered list and visit every item of the org before the page is
// full (the dashboard benchmark ran 40% slower), so it does without.
var postgresIndexes = []string{
	"CREATE INDEX IF NOT EXISTS okritem_org_id_updated_at ON okr_items (org_id, updated_at)",
	"CREATE INDEX IF NOT EXISTS okritem_org_id_created_at ON okr_items (org_id, created_at)",
}

var extraIndexes = []string{
	"CREATE INDEX IF NOT EXISTS okr_item_owners_user_id ON okr_item_owners (user_id, okr_item_id)",
	"CREATE INDEX IF NOT EXISTS okr_item_viewers_user_id ON okr_item_viewers (user_id, okr_item_id)",
	"CREATE INDEX IF NOT EXISTS okr_item_followers_user_id ON okr_item_followers (user_id, okr_item_id)",
	"CREATE INDEX IF NOT EXISTS okr_item_teams_team_id ON okr_item_teams (team_id, okr_item_id)",
}

// normalizeTimes rewrites the times an older SQLite file stored as Go's
// time.String() ("2026-12-02 00:24:03.155 +0000 UTC m=+0.156", which sorts
// wrongly as text) in the sortable form Open now writes. Values already in
// that form have a single space and are left alone, so it runs on every
// migration at the cost of one indexed-or-scanning query per time column.
func normalizeTimes(ctx context.Context, db *sql.DB) error {
	for _, t := range migrate.Tables {
		for _, col := range t.Columns {
			if col.Type != field.TypeTime {
				continue
			}
			if err := normalizeColumn(ctx, db, t.Name, col.Name); err != nil {
				return fmt.Errorf("%s.%s: %w", t.Name, col.Name, err)
			}
		}
	}
	return nil
}

func normalizeColumn(ctx context.Context, db *sql.DB, table, column string) error {
	q := fmt.Sprintf("SELECT id, %[2]q FROM %[1]q WHERE %[2]q LIKE '%% %% %%'", table, column)
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	type fix struct {
		id int
		t  time.Time
	}
	var fixes []fix
	for rows.Next() {
		var f fix
		if err := rows.Scan(&f.id, &f.t); err != nil {
			rows.Close()
			return err
		}
		fixes = append(fixes, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(fixes) == 0 {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	upd := fmt.Sprintf("UPDATE %q SET %q = ? WHERE id = ?", table, column)
	for _, f := range fixes {
		if _, err := tx.ExecContext(ctx, upd, f.t.UTC(), f.id); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

var migrateMu sync.Mutex

// Ping checks the database is reachable.
func (d *DB) Ping(ctx context.Context) error { return d.SQL.PingContext(ctx) }

// Close closes the client and the pool.
func (d *DB) Close() error { return d.Client.Close() }

// InTx runs fn with a client bound to one transaction, committing when fn
// returns no error and rolling back otherwise. Unique-constraint failures
// become CONFLICT errors. Entities fn creates or loads stay usable once the
// transaction is over: their edges and later queries then run on client's
// own driver (see txDriver), so a resolver may walk from what a mutation
// returned. InTx inside InTx joins the outer transaction.
func InTx[T any](ctx context.Context, client *ent.Client, fn func(tx *ent.Client) (T, error)) (T, error) {
	var zero T
	td, err := beginTx(ctx, client.Driver())
	if err != nil {
		return zero, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = td.Rollback()
			panic(p)
		}
	}()
	v, err := fn(client.WithDriver(td))
	if err != nil {
		_ = td.Rollback()
		return zero, classify(err)
	}
	if err := td.Commit(); err != nil {
		return zero, classify(fmt.Errorf("commit: %w", err))
	}
	return v, nil
}

// txDriver runs statements in its transaction while it is open and on the
// driver it began from once it is committed or rolled back. ent binds every
// entity to the driver of the client that loaded it; with ent's own
// transactional driver an entity returned from a committed transaction
// fails every later query ("transaction has already been committed").
type txDriver struct {
	base  dialect.Driver
	outer bool // began the transaction (false: joined an enclosing one)
	mu    sync.RWMutex
	tx    dialect.Tx // nil once finished
}

func beginTx(ctx context.Context, d dialect.Driver) (*txDriver, error) {
	if in, ok := d.(*txDriver); ok {
		if tx := in.current(); tx != nil {
			return &txDriver{base: in.base, tx: tx}, nil
		}
		d = in.base
	}
	tx, err := d.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &txDriver{base: d, outer: true, tx: tx}, nil
}

// current is the open transaction, or nil.
func (d *txDriver) current() dialect.Tx {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.tx
}

func (d *txDriver) conn() dialect.ExecQuerier {
	if tx := d.current(); tx != nil {
		return tx
	}
	return d.base
}

// finish commits or rolls back the transaction it began (a joined one is
// finished by its owner) and switches to the base driver.
func (d *txDriver) finish(commit bool) error {
	d.mu.Lock()
	tx := d.tx
	d.tx = nil
	d.mu.Unlock()
	if tx == nil || !d.outer {
		return nil
	}
	if commit {
		return tx.Commit()
	}
	return tx.Rollback()
}

func (d *txDriver) Commit() error   { return d.finish(true) }
func (d *txDriver) Rollback() error { return d.finish(false) }

func (d *txDriver) Exec(ctx context.Context, query string, args, v any) error {
	return d.conn().Exec(ctx, query, args, v)
}

func (d *txDriver) Query(ctx context.Context, query string, args, v any) error {
	return d.conn().Query(ctx, query, args, v)
}

// ExecContext and QueryContext serve ent's sql/execquery feature.
func (d *txDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ex, ok := d.conn().(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, errors.New("driver does not support ExecContext")
	}
	return ex.ExecContext(ctx, query, args...)
}

func (d *txDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, ok := d.conn().(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	if !ok {
		return nil, errors.New("driver does not support QueryContext")
	}
	return q.QueryContext(ctx, query, args...)
}

// Tx joins the open transaction (a nested InTx or ent's Client.Tx), or
// begins a new one on the base driver once this one is over.
func (d *txDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	return beginTx(ctx, d)
}

func (d *txDriver) Dialect() string { return d.base.Dialect() }

// Close is a no-op: the base driver belongs to its client.
func (d *txDriver) Close() error { return nil }

var (
	_ dialect.Driver = (*txDriver)(nil)
	_ dialect.Tx     = (*txDriver)(nil)
)

func classify(err error) error {
	if _, ok := apperr.As(err); ok {
		return err
	}
	if ent.IsConstraintError(err) {
		return apperr.Conflict("conflicts with an existing record")
	}
	if ent.IsValidationError(err) {
		var ve *ent.ValidationError
		if errors.As(err, &ve) {
			return apperr.BadInput(ve.Name, "invalid %s", ve.Name)
		}
	}
	return err
}
