package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// entered tells when a write outside a transaction reaches SQLite.
type entered struct {
	*entsql.Driver
	writes chan string
}

func (e entered) Exec(ctx context.Context, query string, args, v any) error {
	e.writes <- query
	return e.Driver.Exec(ctx, query, args, v)
}

// TestSQLiteWritesQueueBehindTransactions: on SQLite a write outside a
// transaction (ent's UPDATE of the sign-in time, say) waits for the
// process's writer slot while a transaction holds it, instead of reaching
// SQLite and polling for the file's lock, and runs once the transaction
// commits.
func TestSQLiteWritesQueueBehindTransactions(t *testing.T) {
	ctx := context.Background()
	dsn, err := sqliteDSN(filepath.Join(t.TempDir(), "serial.db"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	rec := entered{Driver: entsql.OpenDB(dialect.SQLite, db), writes: make(chan string, 1)}
	d := newSerialDriver(rec)
	tx, err := d.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Exec(ctx, "INSERT INTO t (x) VALUES (1)", []any{}, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Exec(ctx, "UPDATE t SET x = 2", []any{}, nil) }()
	// A correct driver never lets the write through before the commit,
	// however slow the machine; a broken one lets it through at once.
	select {
	case q := <-rec.writes:
		t.Fatalf("%q reached SQLite while a transaction held the writer", q)
	case <-time.After(100 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if q := <-rec.writes; q != "UPDATE t SET x = 2" {
		t.Fatalf("write %q", q)
	}
	if err := <-done; err != nil {
		t.Fatalf("the queued update after the commit: %v", err)
	}
	var x int
	if err := db.QueryRowContext(ctx, "SELECT x FROM t").Scan(&x); err != nil || x != 2 {
		t.Fatalf("x = %d (%v), want the queued update's 2", x, err)
	}
}
