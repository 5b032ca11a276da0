package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

type fixture struct {
	srv  *Server
	h    http.Handler
	logs *syncBuffer
}

// newFixture builds a Server on the test schema. Identify stores the org in
// the context and fails for a few magic org names.
func newFixture(t *testing.T, mod func(*Config)) *fixture {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{
		JWTSecret: testSecret,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Schema:    newTestSchema(nil),
		Identify: func(ctx context.Context, c Claims, org string) (context.Context, error) {
			if got, ok := ClaimsFrom(ctx); !ok || got != c {
				return nil, errors.New("claims not in context")
			}
			switch org {
			case "forbidden":
				return nil, &RequestError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "not a member of forbidden"}
			case "unknown":
				return nil, &RequestError{Code: CodeNotFound, Message: "no such organization"}
			case "deactivated":
				return nil, &RequestError{Status: http.StatusUnauthorized}
			case "broken":
				return nil, errors.New(`db: dial postgres://admin:hunter2@db`)
			case "panic":
				panic("identify exploded: hunter2")
			}
			return context.WithValue(ctx, orgKey{}, org), nil
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, h: srv.Handler(), logs: logs}
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func authed(t *testing.T, rq request, c Claims) request {
	t.Helper()
	if rq.header == nil {
		rq.header = http.Header{}
	}
	rq.header.Set("Authorization", "Bearer "+mustSign(t, c, time.Hour))
	return rq
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{JWTSecret: testSecret}); err == nil {
		t.Error("nil schema accepted")
	}
	if _, err := New(Config{JWTSecret: []byte("short"), Schema: newTestSchema(nil)}); !errors.Is(err, ErrSecretTooShort) {
		t.Errorf("short secret: %v", err)
	}
	s, err := New(Config{JWTSecret: testSecret, Schema: newTestSchema(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if s.addr != defaultAddr || s.shutdownTimeout != defaultShutdownTimeout || s.logger == nil {
		t.Errorf("defaults not applied: %+v", s)
	}
}

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	now := time.Now()
	claims := func(extra map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "u1", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	hs := func(extra map[string]any) string {
		return rawToken(t, jwt.SigningMethodHS256, testSecret, claims(extra))
	}
	cases := []struct {
		name    string
		auth    []string // Authorization header values
		invalid bool     // expect error="invalid_token"
	}{
		{name: "missing"},
		{name: "basic scheme", auth: []string{"Basic dXNlcjpwYXNz"}},
		{name: "bearer without token", auth: []string{"Bearer"}, invalid: true},
		{name: "bearer empty token", auth: []string{"Bearer   "}, invalid: true},
		{name: "malformed token", auth: []string{"Bearer not.a.jwt"}, invalid: true},
		{name: "two headers", auth: []string{"Bearer " + hs(nil), "Bearer " + hs(nil)}, invalid: true},
		{name: "wrong secret", auth: []string{"Bearer " + rawToken(t, jwt.SigningMethodHS256, []byte(strings.Repeat("k", 32)), claims(nil))}, invalid: true},
		{name: "alg none", auth: []string{"Bearer " + rawToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil))}, invalid: true},
		{name: "alg HS512", auth: []string{"Bearer " + rawToken(t, jwt.SigningMethodHS512, testSecret, claims(nil))}, invalid: true},
		{name: "expired", auth: []string{"Bearer " + hs(map[string]any{"exp": now.Add(-time.Hour).Unix()})}, invalid: true},
		{name: "missing sub", auth: []string{"Bearer " + hs(map[string]any{"sub": nil})}, invalid: true},
		{name: "missing exp", auth: []string{"Bearer " + hs(map[string]any{"exp": nil})}, invalid: true},
	}
	for _, tc := range cases {
		for _, mt := range []string{MediaTypeGraphQLResponse, MediaTypeJSON} {
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				t.Run(tc.name+"/"+mt+"/"+method, func(t *testing.T) {
					t.Parallel()
					rq := post(`{"query":"{ viewer }"}`)
					if method == http.MethodGet {
						rq = get("{ viewer }")
					}
					rq.accept = mt
					rq.header = http.Header{"Authorization": tc.auth}
					res := serve(t, f.h, rq)
					if res.status != http.StatusUnauthorized {
						t.Fatalf("status = %d, want 401: %s", res.status, res.raw)
					}
					wa := res.header.Get("WWW-Authenticate")
					if !strings.HasPrefix(wa, "Bearer") || strings.Contains(wa, "invalid_token") != tc.invalid {
						t.Errorf("WWW-Authenticate = %q", wa)
					}
					if ct := res.header.Get("Content-Type"); ct != mt+"; charset=utf-8" {
						t.Errorf("Content-Type = %q", ct)
					}
					if res.code() != CodeUnauthenticated || res.hasData() || len(res.errors) != 1 || res.errors[0].Message == "" {
						t.Errorf("body = %s", res.raw)
					}
				})
			}
		}
	}
	// The expired case says so.
	res := serve(t, f.h, request{body: `{"query":"{ viewer }"}`, header: bearer(hs(map[string]any{"exp": now.Add(-time.Hour).Unix()}))})
	if res.errors[0].Message != "bearer token expired" {
		t.Errorf("expired message = %q", res.errors[0].Message)
	}
}

// Protocol-level rejections need no credentials and reveal nothing.
func TestProtocolErrorsBeforeAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	cases := []struct {
		req  request
		want int
	}{
		{request{method: http.MethodPut}, http.StatusMethodNotAllowed},
		{request{method: http.MethodOptions}, http.StatusNoContent},
		{request{body: `{"query":"{ hello }"}`, accept: "text/html"}, http.StatusNotAcceptable},
	}
	for _, tc := range cases {
		if res := serve(t, f.h, tc.req); res.status != tc.want {
			t.Errorf("%s: status = %d, want %d", tc.req.method, res.status, tc.want)
		}
	}
}

func TestAuthenticatedRequest(t *testing.T) {
	t.Parallel()
	var seen struct {
		claims Claims
		org    string
	}
	f := newFixture(t, func(c *Config) {
		inner := c.Identify
		c.Identify = func(ctx context.Context, cl Claims, org string) (context.Context, error) {
			seen.claims, seen.org = cl, org
			return inner(ctx, cl, org)
		}
	})
	user := Claims{Subject: "u1", Email: "u1@example.com", Name: "U One", Org: "token-org"}
	want := user
	want.Issuer = LocalIssuer

	// X-Org header wins.
	rq := authed(t, post(`{"query":"{ viewer }"}`), user)
	rq.header.Set("X-Org", " acme ")
	res := serve(t, f.h, rq)
	if res.status != 200 || res.data["viewer"] != "u1@acme" {
		t.Fatalf("status %d body %s", res.status, res.raw)
	}
	if seen.claims != want || seen.org != "acme" {
		t.Errorf("Identify saw %+v %q", seen.claims, seen.org)
	}
	if v := res.header.Values("Vary"); len(v) != 1 || v[0] != "Accept" {
		t.Errorf("Vary = %q", v)
	}
	if res.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", res.header.Get("Cache-Control"))
	}

	// Falls back to the token's org claim; GET works too.
	res = serve(t, f.h, authed(t, get("{ viewer }"), user))
	if res.status != 200 || res.data["viewer"] != "u1@token-org" {
		t.Fatalf("status %d body %s", res.status, res.raw)
	}
}

func TestIdentifyErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	cases := []struct {
		org    string
		status int
		code   string
		msg    string
	}{
		{"forbidden", 403, CodeForbidden, "not a member of forbidden"},
		{"unknown", 404, CodeNotFound, "no such organization"},
		{"deactivated", 401, CodeUnauthenticated, "Unauthorized"},
		{"broken", 500, CodeInternal, "internal server error"},
		{"panic", 500, CodeInternal, "internal server error"},
	}
	for _, tc := range cases {
		for _, mt := range []string{MediaTypeGraphQLResponse, MediaTypeJSON} {
			t.Run(tc.org+"/"+mt, func(t *testing.T) {
				t.Parallel()
				rq := authed(t, post(`{"query":"{ viewer }"}`), Claims{Subject: "u1"})
				rq.header.Set("X-Org", tc.org)
				rq.accept = mt
				res := serve(t, f.h, rq)
				if res.status != tc.status || res.code() != tc.code || res.errors[0].Message != tc.msg {
					t.Fatalf("got %d %s", res.status, res.raw)
				}
				if ct := res.header.Get("Content-Type"); tc.org != "panic" && ct != mt+"; charset=utf-8" {
					t.Errorf("Content-Type = %q", ct)
				}
				if strings.Contains(res.raw, "hunter2") {
					t.Errorf("internal details leaked: %s", res.raw)
				}
				if tc.status == 401 && res.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
	}
	t.Cleanup(func() {
		logs := f.logs.String()
		for _, want := range []string{"identify failed", "postgres://admin", "panic serving request", "identify exploded"} {
			if !strings.Contains(logs, want) {
				t.Errorf("logs lack %q", want)
			}
		}
	})
}

func TestReadOnlyToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ro := Claims{Subject: "bi-token-1", ReadOnly: true}
	rw := Claims{Subject: "u1"}
	const mutation = `{"query":"mutation { setGreeting(text: \"hi\") }"}`
	cases := []struct {
		name   string
		req    request
		claims Claims
		grj    int
		json   int
		code   string
	}{
		{"read-only query", post(`{"query":"{ hello }"}`), ro, 200, 200, ""},
		{"read-only mutation", post(mutation), ro, 403, 200, CodeForbidden},
		{"read-only mutation by operationName", post(`{"query":"query Q { hello } mutation M { setGreeting(text: \"x\") }","operationName":"M"}`), ro, 403, 200, CodeForbidden},
		{"read-only mutation via GET", get(`mutation { setGreeting(text: "hi") }`), ro, 405, 405, CodeBadRequest},
		{"read-write mutation", post(mutation), rw, 200, 200, ""},
	}
	for _, tc := range cases {
		for _, mt := range []string{MediaTypeGraphQLResponse, MediaTypeJSON} {
			want := tc.grj
			if mt == MediaTypeJSON {
				want = tc.json
			}
			t.Run(tc.name+"/"+mt, func(t *testing.T) {
				t.Parallel()
				rq := authed(t, tc.req, tc.claims)
				rq.accept = mt
				res := serve(t, f.h, rq)
				if res.status != want || res.code() != tc.code {
					t.Fatalf("got %d %s", res.status, res.raw)
				}
				if tc.code == CodeForbidden {
					if res.hasData() {
						t.Errorf("refused mutation has data: %s", res.raw)
					}
					if r, _ := res.errors[0].Extensions["reasons"].([]any); len(r) != 1 || r[0] != "this token is read-only: it may read but not change anything" {
						t.Errorf("reasons = %v", res.errors[0].Extensions["reasons"])
					}
				}
			})
		}
	}
}

func TestErrorPresentation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	res := serve(t, f.h, authed(t, post(`{"query":"{ hello internalErr requestErr fail }"}`), Claims{Subject: "u1"}))
	if res.status != 200 || res.data["hello"] != "hello, world" || len(res.errors) != 3 {
		t.Fatalf("got %d %s", res.status, res.raw)
	}
	codes := map[string]string{}
	for _, e := range res.errors {
		codes[e.Extensions["code"].(string)] = e.Message
	}
	if codes[CodeInternal] != "internal server error" || codes[CodeConflict] != "version conflict" || codes[CodeNotFound] != "no such thing" {
		t.Errorf("errors = %s", res.raw)
	}
	if strings.Contains(res.raw, "secret_table") {
		t.Errorf("SQL leaked: %s", res.raw)
	}
	if !strings.Contains(f.logs.String(), "secret_table") {
		t.Error("internal error not logged")
	}

	// A resolver panic is a 500 without details.
	res = serve(t, f.h, authed(t, post(`{"query":"{ boom }"}`), Claims{Subject: "u1"}))
	if res.status != 500 || res.code() != CodeInternal || strings.Contains(res.raw, "kaboom") {
		t.Errorf("panic: %d %s", res.status, res.raw)
	}
	if !strings.Contains(f.logs.String(), "kaboom") {
		t.Error("panic not logged")
	}
}

func TestCustomPresenterAndRecover(t *testing.T) {
	t.Parallel()
	var presented, recovered bool
	f := newFixture(t, func(c *Config) {
		c.ErrorPresenter = func(ctx context.Context, err error) *gqlerror.Error {
			presented = true
			return codedError("CUSTOM", "custom")
		}
		c.RecoverFunc = func(ctx context.Context, p any) error {
			recovered = true
			return errors.New("recovered")
		}
	})
	res := serve(t, f.h, authed(t, post(`{"query":"{ fail }"}`), Claims{Subject: "u1"}))
	if res.code() != "CUSTOM" || !presented {
		t.Errorf("presenter not used: %s", res.raw)
	}
	serve(t, f.h, authed(t, post(`{"query":"{ boom }"}`), Claims{Subject: "u1"}))
	if !recovered {
		t.Error("recover func not used")
	}
}

func TestComplexityLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.ComplexityLimit = 2 })
	ok := serve(t, f.h, authed(t, post(`{"query":"{ a: hello b: hello }"}`), Claims{Subject: "u1"}))
	if ok.status != 200 {
		t.Fatalf("within limit: %d %s", ok.status, ok.raw)
	}
	over := post(`{"query":"{ a: hello b: hello c: hello }"}`)
	over.accept = MediaTypeGraphQLResponse // status codes for request errors
	res := serve(t, f.h, authed(t, over, Claims{Subject: "u1"}))
	if res.status != 400 || res.code() != "COMPLEXITY_LIMIT_EXCEEDED" || res.hasData() {
		t.Errorf("over limit: %d %s", res.status, res.raw)
	}
}

func TestIntrospectionAndPersistedQueries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	u := Claims{Subject: "u1"}
	res := serve(t, f.h, authed(t, post(`{"query":"{ introspectionEnabled }"}`), u))
	if res.data["introspectionEnabled"] != true {
		t.Errorf("introspection disabled: %s", res.raw)
	}

	q := "{ hello }"
	sum := sha256.Sum256([]byte(q))
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
	hashOnly := `{"extensions":` + ext + `}`
	hashReq := post(hashOnly)
	hashReq.accept = MediaTypeGraphQLResponse // status codes for request errors
	res = serve(t, f.h, authed(t, hashReq, u))
	if res.status != 400 || res.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: %d %s", res.status, res.raw)
	}
	res = serve(t, f.h, authed(t, post(`{"query":"`+q+`","extensions":`+ext+`}`), u))
	if res.status != 200 {
		t.Fatalf("register: %d %s", res.status, res.raw)
	}
	res = serve(t, f.h, authed(t, hashReq, u))
	if res.status != 200 || res.data["hello"] != "hello, world" {
		t.Fatalf("by hash: %d %s", res.status, res.raw)
	}
	res = serve(t, f.h, authed(t, get("", "extensions", ext), u))
	if res.status != 200 || res.data["hello"] != "hello, world" {
		t.Fatalf("by hash via GET: %d %s", res.status, res.raw)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 128 })
	body := `{"query":"{ hello }","variables":{"pad":"` + strings.Repeat("x", 200) + `"}}`
	for _, mt := range []string{MediaTypeGraphQLResponse, MediaTypeJSON} {
		rq := authed(t, post(body), Claims{Subject: "u1"})
		rq.accept = mt
		if res := serve(t, f.h, rq); res.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status = %d: %s", mt, res.status, res.raw)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	var readyErr error
	f := newFixture(t, func(c *Config) {
		c.Ready = func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("no deadline")
			}
			return readyErr
		}
	})
	res := serve(t, f.h, request{method: http.MethodGet, target: "/healthz"})
	if res.status != 200 || res.raw != `{"status":"ok"}` || res.header.Get("Content-Type") != "application/json" {
		t.Errorf("healthz: %d %q %q", res.status, res.header.Get("Content-Type"), res.raw)
	}
	res = serve(t, f.h, request{method: http.MethodGet, target: "/readyz"})
	if res.status != 200 || res.raw != `{"status":"ok"}` {
		t.Errorf("readyz: %d %s", res.status, res.raw)
	}

	g := newFixture(t, func(c *Config) {
		c.Ready = func(context.Context) error {
			return errors.New(`dial tcp 10.1.2.3:5432: pq: password authentication failed for user "okrgraph"`)
		}
	})
	res = serve(t, g.h, request{method: http.MethodGet, target: "/readyz"})
	var body map[string]string
	_ = json.Unmarshal([]byte(res.raw), &body)
	if res.status != 503 || body["status"] != "unavailable" || body["error"] == "" {
		t.Errorf("readyz failing: %d %s", res.status, res.raw)
	}
	for _, secret := range []string{"10.1.2.3", "okrgraph", "pq:", "password"} {
		if strings.Contains(res.raw, secret) {
			t.Errorf("readyz shows the driver error (%q) to an unauthenticated caller: %s", secret, res.raw)
		}
	}

	// No Ready func: ready.
	h := newFixture(t, nil)
	if res := serve(t, h.h, request{method: http.MethodGet, target: "/readyz"}); res.status != 200 {
		t.Errorf("readyz without Ready: %d", res.status)
	}
}

func TestGraphiQLAndRouting(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	res := serve(t, f.h, request{method: http.MethodGet, target: "/"})
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(strings.ToLower(res.raw), "graphiql") || !strings.Contains(res.raw, "/graphql") {
		t.Errorf("GraphiQL: %d %q", res.status, res.header.Get("Content-Type"))
	}
	if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("GraphiQL CSP = %q", csp)
	}
	// Its assets come from the binary (see graphiql.TestGraphiQLRunsAQueryOffline).
	for _, asset := range []string{"assets/graphiql.min.js", "assets/react.production.min.js", "assets/react-dom.production.min.js", "assets/graphiql.min.css", "init.js"} {
		if res := serve(t, f.h, request{method: http.MethodGet, target: "/graphiql/" + asset}); res.status != 200 || len(res.raw) == 0 {
			t.Errorf("%s: %d", asset, res.status)
		}
	}
	if res := serve(t, f.h, request{method: http.MethodGet, target: "/nope"}); res.status != 404 {
		t.Errorf("/nope: %d", res.status)
	}
	if res := serve(t, f.h, request{method: http.MethodGet, target: "/graphql/"}); res.status != 404 {
		t.Errorf("/graphql/: %d", res.status)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	withCORS := newFixture(t, func(c *Config) { c.CORSOrigins = []string{"https://app.example.com"} })
	noCORS := newFixture(t, nil)
	preflight := func(origin string) request {
		return request{method: http.MethodOptions, header: http.Header{
			"Origin":                         {origin},
			"Access-Control-Request-Method":  {"POST"},
			"Access-Control-Request-Headers": {"authorization, content-type, x-org"},
		}}
	}
	cases := []struct {
		name    string
		h       http.Handler
		req     request
		allowed bool
		status  int
	}{
		{"preflight allowed", withCORS.h, preflight("https://app.example.com"), true, 204},
		{"preflight disallowed", withCORS.h, preflight("https://evil.example.com"), false, 204},
		{"preflight without config", noCORS.h, preflight("https://app.example.com"), false, 204},
		{"request allowed, 401 readable", withCORS.h, request{body: `{"query":"{ hello }"}`, header: http.Header{"Origin": {"https://app.example.com"}}}, true, 401},
		{"request disallowed", withCORS.h, request{body: `{"query":"{ hello }"}`, header: http.Header{"Origin": {"https://evil.example.com"}}}, false, 401},
		{"request without config", noCORS.h, request{body: `{"query":"{ hello }"}`, header: http.Header{"Origin": {"https://app.example.com"}}}, false, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := serve(t, tc.h, tc.req)
			if res.status != tc.status {
				t.Errorf("status = %d, want %d", res.status, tc.status)
			}
			acao := res.header.Get("Access-Control-Allow-Origin")
			if tc.allowed != (acao == "https://app.example.com") {
				t.Errorf("Access-Control-Allow-Origin = %q", acao)
			}
			if tc.allowed && tc.req.method == http.MethodOptions {
				allowHeaders := strings.ToLower(res.header.Get("Access-Control-Allow-Headers"))
				for _, h := range []string{"authorization", "content-type", "x-org"} {
					if !strings.Contains(allowHeaders, h) {
						t.Errorf("Access-Control-Allow-Headers = %q lacks %s", allowHeaders, h)
					}
				}
				if res.header.Get("Access-Control-Allow-Credentials") != "" {
					t.Error("credentials allowed")
				}
			}
			if !tc.allowed && res.header.Get("Access-Control-Allow-Headers") != "" {
				t.Errorf("CORS headers for a disallowed origin: %v", res.header)
			}
		})
	}
}

func TestMiddlewareHeadersAndLogging(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, target := range []string{"/healthz", "/graphql", "/", "/nope"} {
		res := serve(t, f.h, request{method: http.MethodGet, target: target})
		if res.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", target)
		}
		if len(res.header.Get("X-Request-ID")) < 16 {
			t.Errorf("%s: X-Request-ID = %q", target, res.header.Get("X-Request-ID"))
		}
	}

	res := serve(t, f.h, request{method: http.MethodGet, target: "/healthz", header: http.Header{"X-Request-Id": {"req-123"}}})
	if got := res.header.Get("X-Request-ID"); got != "req-123" {
		t.Errorf("request id not echoed: %q", got)
	}
	res = serve(t, f.h, request{method: http.MethodGet, target: "/healthz", header: http.Header{"X-Request-Id": {"bad id with spaces"}}})
	if got := res.header.Get("X-Request-ID"); got == "bad id with spaces" || got == "" {
		t.Errorf("invalid request id kept: %q", got)
	}

	// One structured log line per request.
	type line struct {
		Msg       string  `json:"msg"`
		Method    string  `json:"method"`
		Path      string  `json:"path"`
		Status    int     `json:"status"`
		Bytes     int64   `json:"bytes"`
		Duration  float64 `json:"duration"`
		RequestID string  `json:"request_id"`
	}
	var found bool
	for _, l := range strings.Split(strings.TrimSpace(f.logs.String()), "\n") {
		var ln line
		if json.Unmarshal([]byte(l), &ln) != nil || ln.Msg != "http request" || ln.RequestID != "req-123" {
			continue
		}
		found = true
		if ln.Method != "GET" || ln.Path != "/healthz" || ln.Status != 200 || ln.Bytes != int64(len(`{"status":"ok"}`)) {
			t.Errorf("log line = %s", l)
		}
	}
	if !found {
		t.Errorf("no request log line in %s", f.logs.String())
	}
}

// startServer runs Serve on a loopback listener.
func startServer(t *testing.T, f *fixture) (ctx context.Context, cancel context.CancelFunc, url string, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	t.Cleanup(cancel)
	errc := make(chan error, 1)
	go func() { errc <- f.srv.Serve(ctx, ln) }()
	return ctx, cancel, "http://" + ln.Addr().String(), errc
}

func slowFixture(t *testing.T, shutdownTimeout time.Duration) (f *fixture, started, release chan struct{}) {
	started, release = make(chan struct{}), make(chan struct{})
	f = newFixture(t, func(c *Config) {
		c.ShutdownTimeout = shutdownTimeout
		c.Schema = newTestSchema(func() {
			close(started)
			<-release
		})
	})
	return f, started, release
}

func postSlow(t *testing.T, url string) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(`{"query":"{ slow }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+mustSign(t, Claims{Subject: "u1"}, time.Hour))
	return http.DefaultClient.Do(req)
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	f, started, release := slowFixture(t, 5*time.Second)
	_, cancel, url, done := startServer(t, f)

	type reply struct {
		status int
		body   string
		err    error
	}
	replies := make(chan reply, 1)
	go func() {
		resp, err := postSlow(t, url)
		if err != nil {
			replies <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		replies <- reply{status: resp.StatusCode, body: string(b)}
	}()

	<-started
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Serve returned before the in-flight request finished: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	// New connections are refused while draining.
	if resp, err := http.Get(url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("new request accepted during shutdown")
	}
	close(release)

	r := <-replies
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"slow":"done"`) {
		t.Fatalf("in-flight request: %+v", r)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestShutdownTimeout(t *testing.T) {
	t.Parallel()
	f, started, release := slowFixture(t, 50*time.Millisecond)
	defer close(release)
	_, cancel, url, done := startServer(t, f)
	go func() {
		if resp, err := postSlow(t, url); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Serve = %v, want deadline exceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Addr = "127.0.0.1:0" })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.srv.Run(ctx); err != nil {
		t.Errorf("Run with a cancelled context = %v", err)
	}
	bad := newFixture(t, func(c *Config) { c.Addr = "127.0.0.1:-1" })
	if err := bad.srv.Run(context.Background()); err == nil {
		t.Error("Run on a bad address succeeded")
	}
}
