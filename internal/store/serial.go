package store

import (
	"context"
	"database/sql"

	"entgo.io/ent/dialect"
)

// serialDriver makes the transactions of one process queue for SQLite's
// single writer instead of polling for its lock through busy_timeout:
// every transaction here is a write transaction (_txlock=immediate), and
// under load the polling gave multi-second tails while the lock was free
// most of the time. Waiters are served in arrival order (a channel), and a
// waiter whose context ends stops waiting. A write outside a transaction
// (ent's Exec: an UPDATE such as the once-a-minute sign-in time, a raw
// ExecContext) queues for the same slot: polling for the lock there gave
// the check-ins of a freshly started server second-long tails. Reads do
// not queue (WAL serves them beside the writer). Other processes sharing
// the file still meet busy_timeout.
type serialDriver struct {
	dialect.Driver
	slot chan struct{}
}

func newSerialDriver(d dialect.Driver) *serialDriver {
	return &serialDriver{Driver: d, slot: make(chan struct{}, 1)}
}

// acquire takes the writer's slot, or gives up when ctx ends.
func (d *serialDriver) acquire(ctx context.Context) error {
	select {
	case d.slot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Exec runs a statement outside a transaction: a write, so it queues.
func (d *serialDriver) Exec(ctx context.Context, query string, args, v any) error {
	if err := d.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-d.slot }()
	return d.Driver.Exec(ctx, query, args, v)
}

func (d *serialDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	if err := d.acquire(ctx); err != nil {
		return nil, err
	}
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		<-d.slot
		return nil, err
	}
	return &serialTx{Tx: tx, release: func() { <-d.slot }}, nil
}

type serialTx struct {
	dialect.Tx
	release func()
	done    bool
}

func (t *serialTx) Commit() error {
	err := t.Tx.Commit()
	t.finish()
	return err
}

func (t *serialTx) Rollback() error {
	err := t.Tx.Rollback()
	t.finish()
	return err
}

func (t *serialTx) finish() {
	if !t.done {
		t.done = true
		t.release()
	}
}

type execQuerier interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// ExecContext and QueryContext pass raw statements through (ent's
// sql/execquery feature asks the driver for them).
func (d *serialDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := d.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-d.slot }()
	return d.Driver.(execQuerier).ExecContext(ctx, query, args...)
}

func (d *serialDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.Driver.(execQuerier).QueryContext(ctx, query, args...)
}

func (t *serialTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.(execQuerier).ExecContext(ctx, query, args...)
}

func (t *serialTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.(execQuerier).QueryContext(ctx, query, args...)
}
