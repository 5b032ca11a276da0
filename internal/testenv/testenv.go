// Package testenv runs okrgraph end to end for tests: the real app and HTTP
// handler on a fresh database — embedded SQLite always, and PostgreSQL too
// when OKRGRAPH_TEST_POSTGRES_URL is set.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	_ "github.com/lib/pq" // PostgreSQL driver, for creating schemas

	"okrgraph/internal/app"
	"okrgraph/internal/authz"
	"okrgraph/internal/demo"
	"okrgraph/internal/server"
)

// PostgresEnv names the variable holding the test PostgreSQL URL.
const PostgresEnv = "OKRGRAPH_TEST_POSTGRES_URL"

// Env is one running app on its own database.
type Env struct {
	App     *app.App
	Backend string
	URL     string
	secret  []byte
	queries atomic.Int64
	counted atomic.Bool

	mu    sync.Mutex
	texts []string // the statements Statements records
}

// Backends lists the databases tests run on.
func Backends() []string {
	b := []string{"sqlite"}
	if os.Getenv(PostgresEnv) != "" {
		b = append(b, "postgres")
	}
	return b
}

// Run runs fn as a parallel subtest on every backend, each with a fresh
// database holding the demo organization.
func Run(t *testing.T, fn func(t *testing.T, e *Env)) {
	t.Helper()
	RunWith(t, Config{Demo: true}, fn)
}

// RunWith is Run with the app configured by cfg.
func RunWith(t *testing.T, cfg Config, fn func(t *testing.T, e *Env)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			fn(t, New(t, b, cfg))
		})
	}
}

// Config configures New.
type Config struct {
	Demo bool
	// Tweak adjusts the app config before it starts.
	Tweak func(*app.Config)
	// DatabaseURL, when set, runs the app on this database of the backend
	// (another Env's URL: two app instances sharing one database, as
	// replicas do) instead of a fresh one.
	DatabaseURL string
}

// New starts an app on a fresh database of the backend.
func New(t testing.TB, backend string, cfg Config) *Env {
	t.Helper()
	e := &Env{Backend: backend}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	e.secret = []byte(hex.EncodeToString(raw))
	switch {
	case cfg.DatabaseURL != "":
		e.URL = cfg.DatabaseURL
	case backend == "sqlite":
		e.URL = "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	case backend == "postgres":
		e.URL = postgresSchema(t)
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	ac := app.Config{
		DatabaseURL: e.URL,
		JWTSecret:   e.secret,
		// Tests check decisions, not speed: a loaded 2-core machine must
		// not turn a slow evaluation into a denial.
		PolicyTimeout: 10 * time.Second,
		// Nor may a busy machine turn the per-org and per-user bounds into
		// refusals of tests that send many requests at once (the
		// containment tests set the product's bounds themselves).
		Concurrency:    server.Concurrency{PerOrg: 256, PerUser: 256, Wait: time.Minute},
		TenantGate:     relaxedGate(),
		RequestTimeout: 2 * time.Minute,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		WrapDriver: func(d dialect.Driver) dialect.Driver {
			return dialect.DebugWithContext(d, func(_ context.Context, v ...any) {
				if e.counted.Load() {
					e.queries.Add(1)
					e.record(fmt.Sprint(v...))
					if os.Getenv("OKRGRAPH_TEST_SQL") != "" {
						// Lists the statements CountQueries counts.
						fmt.Fprintln(os.Stderr, v...)
					}
				}
			})
		},
	}
	if testing.Verbose() && os.Getenv("OKRGRAPH_TEST_LOG") != "" {
		ac.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.Tweak != nil {
		cfg.Tweak(&ac)
	}
	ctx := context.Background()
	a, err := app.New(ctx, ac)
	if err != nil {
		t.Fatalf("start app on %s: %v", backend, err)
	}
	t.Cleanup(func() { a.Close() })
	e.App = a
	if cfg.Demo {
		if err := demo.Seed(ctx, a.DB.Client); err != nil {
			t.Fatalf("seed demo: %v", err)
		}
	}
	return e
}

// relaxedGate bounds tenant evaluations as the product does, but waits
// and lets test runs last long enough for a loaded machine.
func relaxedGate() *authz.Gate {
	g := authz.NewGate(0, 0, time.Minute, 0)
	g.TestTimeout = time.Minute
	return g
}

// postgresSchema makes a fresh schema on the test server and returns a URL
// whose search_path selects it.
func postgresSchema(t testing.TB) string {
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("%s is not set", PostgresEnv)
	}
	db, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw := make([]byte, 6)
	_, _ = rand.Read(raw)
	name := "t_" + hex.EncodeToString(raw)
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("postgres", base)
		if err == nil {
			_, _ = db.Exec("DROP SCHEMA " + name + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// Token returns a bearer token for email (subject = email).
func (e *Env) Token(email string) string {
	tok, err := server.SignToken(e.secret, server.Claims{Subject: email, Email: email, Name: strings.Split(email, "@")[0]}, time.Hour)
	if err != nil {
		panic(err)
	}
	return tok
}

// ReadOnlyToken returns a read-only bearer token for email.
func (e *Env) ReadOnlyToken(email string) string {
	tok, err := server.SignToken(e.secret, server.Claims{Subject: email, Email: email, ReadOnly: true}, time.Hour)
	if err != nil {
		panic(err)
	}
	return tok
}

// Error is one GraphQL error of a response.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Response is a decoded GraphQL response.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Decode unmarshals data into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// Code returns the code of the first error, or "" when there is none.
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code()
}

// Client asks the app as one user in one organization.
type Client struct {
	e     *Env
	token string
	org   string
}

// As returns a client for the demo user (email or key such as "steve")
// in the organization org (slug; "" for none).
func (e *Env) As(who, org string) *Client {
	if !strings.Contains(who, "@") {
		who += "@acme.example"
	}
	return &Client{e: e, token: e.Token(who), org: org}
}

// WithToken returns a client using a raw bearer token.
func (e *Env) WithToken(token, org string) *Client {
	return &Client{e: e, token: token, org: org}
}

// Do posts a GraphQL request through the real handler.
func (c *Client) Do(t testing.TB, query string, vars map[string]any) *Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.org != "" {
		req.Header.Set("X-Org", c.org)
	}
	rec := httptest.NewRecorder()
	c.e.App.Handler().ServeHTTP(rec, req)
	resp := &Response{Status: rec.Code}
	if err := json.Unmarshal(rec.Body.Bytes(), resp); err != nil {
		t.Fatalf("decode response (%d): %v: %s", rec.Code, err, rec.Body.String())
	}
	return resp
}

// Get sends a GET request for path (e.g. "/export/tree.ndjson") through
// the real handler with the client's token and org, and returns the
// recorded response.
func (c *Client) Get(path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.org != "" {
		req.Header.Set("X-Org", c.org)
	}
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			// An aborted stream (http.ErrAbortHandler) keeps what was written.
			if p := recover(); p != nil && p != http.ErrAbortHandler {
				panic(p)
			} else if p != nil {
				rec.Header().Set("X-Test-Aborted", "true")
			}
		}()
		c.e.App.Handler().ServeHTTP(rec, req)
	}()
	return rec
}

// MustDo is Do that fails the test on any error and decodes data into v.
func (c *Client) MustDo(t testing.TB, query string, vars map[string]any, v any) {
	t.Helper()
	r := c.Do(t, query, vars)
	r.Decode(t, v)
}

// CountQueries runs fn and returns how many SQL statements it sent.
func (e *Env) CountQueries(fn func()) int64 {
	e.queries.Store(0)
	e.counted.Store(true)
	defer e.counted.Store(false)
	fn()
	return e.queries.Load()
}

// Statements runs fn and returns the text of each SQL statement it sent,
// without its arguments, in the order they were sent.
func (e *Env) Statements(fn func()) []string {
	e.mu.Lock()
	e.texts = nil
	e.mu.Unlock()
	e.CountQueries(fn)
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.texts
}

// record keeps the text of a statement ent's debug driver describes as
// "driver.Query: query=... args=[...]".
func (e *Env) record(described string) {
	_, text, ok := strings.Cut(described, "query=")
	if !ok {
		return
	}
	if i := strings.LastIndex(text, " args="); i >= 0 {
		text = text[:i]
	}
	e.mu.Lock()
	e.texts = append(e.texts, text)
	e.mu.Unlock()
}

// UserID returns the id of the user with email (or demo key) as a string.
func (e *Env) UserID(t testing.TB, who string) string {
	t.Helper()
	var out struct {
		Viewer struct {
			User struct{ ID string } `json:"user"`
		} `json:"viewer"`
	}
	e.As(who, "").MustDo(t, `{ viewer { user { id } } }`, nil, &out)
	return out.Viewer.User.ID
}

// Must fails the test when err is not nil.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(fmt.Sprint(err))
	}
}
