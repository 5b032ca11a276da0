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
	"strings"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"  // PostgreSQL driver
	_ "modernc.org/sqlite" // embedded SQLite driver (pure Go)

	"okrgraph/ent"
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
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
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
	return nil
}

var migrateMu sync.Mutex

// Ping checks the database is reachable.
func (d *DB) Ping(ctx context.Context) error { return d.SQL.PingContext(ctx) }

// Close closes the client and the pool.
func (d *DB) Close() error { return d.Client.Close() }

// InTx runs fn with a client bound to one transaction, committing when fn
// returns no error and rolling back otherwise. Unique-constraint failures
// become CONFLICT errors.
func InTx[T any](ctx context.Context, client *ent.Client, fn func(tx *ent.Client) (T, error)) (T, error) {
	var zero T
	tx, err := client.Tx(ctx)
	if err != nil {
		return zero, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	v, err := fn(tx.Client())
	if err != nil {
		_ = tx.Rollback()
		return zero, classify(err)
	}
	if err := tx.Commit(); err != nil {
		return zero, classify(fmt.Errorf("commit: %w", err))
	}
	return v, nil
}

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
