package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// pgURL returns a PostgreSQL URL on a fresh schema with the given extra
// parameters, or skips without PostgreSQL.
func pgURL(t *testing.T, params map[string]string) string {
	t.Helper()
	base := os.Getenv("OKRGRAPH_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("OKRGRAPH_TEST_POSTGRES_URL not set")
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := fmt.Sprintf("stmtcache_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// pgConn opens the store on a fresh schema (pgURL) and pins one of its
// connections, both closed when t ends.
func pgConn(t *testing.T, params map[string]string) *sql.Conn {
	t.Helper()
	db, err := Open(pgURL(t, params), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Client.Close() })
	conn, err := db.SQL.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// preparedOn counts the statements the session of conn holds prepared
// whose text starts with prefix.
func preparedOn(t *testing.T, conn *sql.Conn, prefix string) int {
	t.Helper()
	var n int
	// No parameters: a simple query, never cached itself.
	q := "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '" + strings.ReplaceAll(prefix, "'", "''") + "%'"
	if err := conn.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPGStatementCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		params   map[string]string
		capacity int
	}{
		{"default", nil, defaultStmtCacheCapacity},
		{"capacity 2", map[string]string{stmtCacheParam: "2"}, 2},
		{"off", map[string]string{stmtCacheParam: "0"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := pgConn(t, tc.params)
			// Three texts, each run three times, answer right every time.
			for round := range 3 {
				for k := range 3 {
					var got int
					q := fmt.Sprintf("SELECT $1::int + %d", k)
					if err := conn.QueryRowContext(ctx, q, round).Scan(&got); err != nil {
						t.Fatal(err)
					}
					if got != round+k {
						t.Fatalf("%s with %d = %d, want %d", q, round, got, round+k)
					}
				}
			}
			if got, want := preparedOn(t, conn, "SELECT $1::int + "), min(3, tc.capacity); got != want {
				t.Fatalf("%d statements prepared, want %d", got, want)
			}
		})
	}
}

// A prepared statement whose result type changes under it (ALTER TABLE)
// fails once, is forgotten, and works again prepared anew.
func TestPGStatementCacheForgetsStalePlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := pgConn(t, nil)
	if _, err := conn.ExecContext(ctx, "CREATE TABLE t (id int PRIMARY KEY, a text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO t VALUES ($1, $2)", 1, "x"); err != nil {
		t.Fatal(err)
	}
	count := func() (int, error) {
		rows, err := conn.QueryContext(ctx, "SELECT * FROM t WHERE id = $1", 1)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		return len(cols), err
	}
	if n, err := count(); err != nil || n != 2 {
		t.Fatalf("columns %d, %v", n, err)
	}
	if _, err := conn.ExecContext(ctx, "ALTER TABLE t ADD COLUMN b int"); err != nil {
		t.Fatal(err)
	}
	if _, err := count(); err == nil || !strings.Contains(err.Error(), "cached plan") {
		t.Fatalf("the stale statement ran: %v", err)
	}
	if n, err := count(); err != nil || n != 3 {
		t.Fatalf("after the change: columns %d, %v", n, err)
	}
}

func TestPGStatementCacheParameter(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"x", "-1", "10001"} {
		if _, err := newPGConnector("postgres://u@127.0.0.1/db?" + stmtCacheParam + "=" + v); err == nil || !strings.Contains(err.Error(), stmtCacheParam) {
			t.Errorf("%s=%s: %v", stmtCacheParam, v, err)
		}
	}
	if _, err := newPGConnector("postgres://u@127.0.0.1/db?sslmode=disable&" + stmtCacheParam + "=8"); err != nil {
		t.Error(err)
	}
}

// TestPGJITOff: okrgraph's sessions run without JIT, with or without the
// statement cache, unless the URL sets jit.
func TestPGJITOff(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		params map[string]string
		want   string
	}{
		{nil, "off"},
		{map[string]string{stmtCacheParam: "0"}, "off"},
		{map[string]string{"jit": "on"}, "on"},
	} {
		var got string
		if err := pgConn(t, c.params).QueryRowContext(context.Background(), "SHOW jit").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("URL parameters %v: jit %s, want %s", c.params, got, c.want)
		}
	}
}
