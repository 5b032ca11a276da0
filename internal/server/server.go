// Package server is the HTTP layer of okrgraph: GraphQL over HTTP at
// /graphql (bearer-token authenticated), GraphiQL at /, and health probes.
package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"okrgraph/internal/server/graphiql"
)

const (
	defaultAddr            = ":8080"
	defaultShutdownTimeout = 15 * time.Second
	readyTimeout           = 5 * time.Second
	queryCacheSize         = 1000
	apqCacheSize           = 100
)

// Config configures a Server.
type Config struct {
	Addr      string // listen address for Run; default ":8080"
	JWTSecret []byte // HS256 development secret, at least MinSecretLen bytes; optional with Authenticators
	// Authenticators verify the other bearer tokens (OIDC, API tokens);
	// the first that Handles a token decides it.
	Authenticators  []Authenticator
	CORSOrigins     []string // allowlist for SPA origins; empty = no CORS headers
	MaxBodyBytes    int64    // request body limit; default 1 MiB
	ComplexityLimit int      // gqlgen extension.FixedComplexityLimit when > 0 (Limits.MaxCost is the product's)
	// Limits bound each request's document and estimated cost before it
	// is validated (cost.go); zero fields take DefaultLimits.
	Limits Limits
	// RequestTimeout is the execution deadline of a /graphql request
	// (default DefaultRequestTimeout); past it the work and its SQL are
	// cancelled and the answer is QUERY_TIMEOUT.
	RequestTimeout time.Duration
	// Concurrency bounds requests executing at once per org and per user
	// (keys from Tenant; no bound without it).
	Concurrency Concurrency
	// Tenant returns the org and user a request's context (from Identify)
	// acts for; "" for none.
	Tenant         func(ctx context.Context) (org, user string)
	Logger         *slog.Logger
	Schema         graphql.ExecutableSchema
	ErrorPresenter graphql.ErrorPresenterFunc // optional; the default hides non-GraphQL errors as INTERNAL
	RecoverFunc    graphql.RecoverFunc        // optional; the default logs the panic and returns INTERNAL
	// Identify runs for every /graphql request after the bearer token is
	// verified, with the claims and the X-Org header (or the token's org
	// claim when the header is empty); it returns the context the operation
	// executes with (the caller stores viewer/org in it), which must derive
	// from ctx. Its error may be a *RequestError.
	Identify func(ctx context.Context, c Claims, org string) (context.Context, error)
	Ready    func(ctx context.Context) error // for /readyz
	// Export serves GET /export/... (BI downloads) behind the same bearer
	// tokens and X-Org selection as /graphql; nil: no export routes.
	Export http.Handler

	// Extensions are added to the gqlgen handler after the built-in ones
	// (introspection, APQ, read-only guard, complexity limit), e.g.
	// entgql.Transactioner.
	Extensions []graphql.HandlerExtension
	// Metrics, when set, is served at GET /metrics (it guards itself,
	// e.g. with a bearer token of its own).
	Metrics http.Handler
	// Console, when set, serves the policy console under /console/.
	Console http.Handler
	// ShutdownTimeout bounds graceful shutdown in Run/Serve; default 15s.
	ShutdownTimeout time.Duration
}

// RequestError rejects a request with an HTTP status and a GraphQL error
// code; Identify returns it to refuse a request (e.g. 403 FORBIDDEN for a
// non-member). Status 0 is derived from Code and vice versa.
type RequestError struct {
	Status  int
	Code    string
	Message string
}

func (e *RequestError) Error() string {
	return e.code() + ": " + e.message()
}

func (e *RequestError) status() int {
	if e.Status >= 400 && e.Status <= 599 {
		return e.Status
	}
	if s, ok := defaultCodeStatus[e.Code]; ok {
		return s
	}
	return http.StatusBadRequest
}

func (e *RequestError) code() string {
	if e.Code != "" {
		return e.Code
	}
	switch s := e.status(); {
	case s == http.StatusUnauthorized:
		return CodeUnauthenticated
	case s == http.StatusForbidden:
		return CodeForbidden
	case s == http.StatusNotFound:
		return CodeNotFound
	case s == http.StatusConflict:
		return CodeConflict
	case s >= 500:
		return CodeInternal
	default:
		return CodeBadRequest
	}
}

func (e *RequestError) message() string {
	if e.Message != "" {
		return e.Message
	}
	return http.StatusText(e.status())
}

// Server is the okrgraph HTTP server.
type Server struct {
	addr            string
	secret          []byte
	authenticators  []Authenticator
	logger          *slog.Logger
	identify        func(context.Context, Claims, string) (context.Context, error)
	ready           func(context.Context) error
	shutdownTimeout time.Duration
	handler         http.Handler
	tenant          func(context.Context) (string, string)
	concurrency     Concurrency
	orgSem, userSem *keyedSem
}

// New validates cfg and assembles the handler chain.
func New(cfg Config) (*Server, error) {
	if cfg.Schema == nil {
		return nil, errors.New("server: Config.Schema is required")
	}
	if len(cfg.JWTSecret) > 0 || len(cfg.Authenticators) == 0 {
		if len(cfg.JWTSecret) < MinSecretLen {
			return nil, ErrSecretTooShort
		}
	}
	s := &Server{
		addr:            cfg.Addr,
		secret:          cfg.JWTSecret,
		authenticators:  cfg.Authenticators,
		logger:          cfg.Logger,
		identify:        cfg.Identify,
		ready:           cfg.Ready,
		shutdownTimeout: cfg.ShutdownTimeout,
		tenant:          cfg.Tenant,
		concurrency:     cfg.Concurrency.withDefaults(),
	}
	s.orgSem = newKeyedSem(s.concurrency.PerOrg)
	s.userSem = newKeyedSem(s.concurrency.PerUser)
	if s.addr == "" {
		s.addr = defaultAddr
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.shutdownTimeout <= 0 {
		s.shutdownTimeout = defaultShutdownTimeout
	}
	maxBody := cfg.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}

	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	limits := cfg.Limits.withDefaults()
	gql := handler.New(cfg.Schema)
	gql.AddTransport(Transport{MaxBodyBytes: maxBody, Timeout: timeout})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	gql.SetParserTokenLimit(limits.MaxTokens)
	gql.Use(extension.Introspection{})
	gql.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](apqCacheSize)})
	// After APQ (which may supply the query), before parsing and validation.
	gql.Use(&costGuard{limits: limits, docs: lru.New[*ast.QueryDocument](costDocCacheSize)})
	gql.Use(readOnlyGuard{})
	if cfg.ComplexityLimit > 0 {
		gql.Use(extension.FixedComplexityLimit(cfg.ComplexityLimit))
	}
	for _, ext := range cfg.Extensions {
		gql.Use(ext)
	}
	if cfg.ErrorPresenter != nil {
		gql.SetErrorPresenter(cfg.ErrorPresenter)
	} else {
		gql.SetErrorPresenter(s.presentError)
	}
	if cfg.RecoverFunc != nil {
		gql.SetRecoverFunc(cfg.RecoverFunc)
	} else {
		gql.SetRecoverFunc(s.recoverPanic)
	}

	mux := http.NewServeMux()
	// No method in the pattern: the transport answers 405/OPTIONS itself.
	mux.Handle("/graphql", noStore(s.authenticate(gql)))
	if cfg.Export != nil {
		mux.Handle("GET /export/", noStore(s.authenticateExport(cfg.Export)))
	}
	mux.Handle("GET /{$}", graphiql.Page("okrgraph", "/graphql"))
	mux.Handle("GET "+graphiql.AssetPrefix, graphiql.Assets())
	mux.Handle("GET /healthz", noStore(http.HandlerFunc(s.healthz)))
	mux.Handle("GET /readyz", noStore(http.HandlerFunc(s.readyz)))
	if cfg.Console != nil {
		mux.Handle("GET /console", cfg.Console)
		mux.Handle("GET /console/", cfg.Console)
	}
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", noStore(cfg.Metrics))
	}

	var h http.Handler = mux
	if len(cfg.CORSOrigins) > 0 {
		h = cors.New(cors.Options{
			AllowedOrigins: cfg.CORSOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{"Authorization", "Content-Type", "X-Org", "X-Request-ID"},
			ExposedHeaders: []string{"X-Request-ID"},
			MaxAge:         600,
		}).Handler(h)
	}
	h = securityHeaders(h)
	s.handler = s.instrument(h)
	return s, nil
}

// Handler returns the root handler (all routes and middleware).
func (s *Server) Handler() http.Handler { return s.handler }

// Run listens on Config.Addr and serves until ctx is done, then shuts down
// gracefully (see Serve).
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then stops accepting connections and
// waits up to the shutdown timeout for in-flight requests. It returns nil
// after a clean shutdown. Request contexts are not cancelled by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// http.Server.Serve leaves ln open if Shutdown wins the race with it.
	defer func() { _ = ln.Close() }()
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.logger.Info("http server listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}

	s.logger.Info("http server shutting down", "timeout", s.shutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		<-errc
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: serve: %w", err)
	}
	s.logger.Info("http server stopped")
	return nil
}

// authenticate verifies the bearer token and runs Identify. Requests the
// transport rejects without reading or executing anything (methods other
// than GET/POST, unacceptable Accept) pass through unauthenticated so they
// get their 405/406/OPTIONS answers.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		mediaType, ok := negotiate(r.Header)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		addVary(w.Header(), "Accept")

		ctx, ok := s.identifyRequest(w, r, mediaType)
		if !ok {
			return
		}
		r = r.WithContext(ctx)
		s.admit(w, r, mediaType, func() { next.ServeHTTP(w, r) })
	})
}

// identifyRequest verifies the bearer token and runs Identify; on failure
// it writes the error (as mediaType) and returns false.
func (s *Server) identifyRequest(w http.ResponseWriter, r *http.Request, mediaType string) (context.Context, bool) {
	raw, found := bearerToken(r.Header)
	if !found {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, mediaType, http.StatusUnauthorized, CodeUnauthenticated, "missing bearer token")
		return nil, false
	}
	claims, err := s.verify(r.Context(), raw)
	if err != nil {
		if re, ok := errors.AsType[*RequestError](err); ok {
			s.identifyFailed(w, r, mediaType, re)
			return nil, false
		}
		msg := "invalid bearer token"
		if errors.Is(err, jwt.ErrTokenExpired) || errors.Is(err, ErrTokenExpired) {
			msg = "bearer token expired"
		}
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeError(w, mediaType, http.StatusUnauthorized, CodeUnauthenticated, msg)
		return nil, false
	}

	ctx := WithClaims(r.Context(), claims)
	if s.identify != nil {
		org := strings.TrimSpace(r.Header.Get("X-Org"))
		if org == "" {
			org = claims.Org
		}
		idCtx, err := s.identify(ctx, claims, org)
		if err == nil && idCtx == nil {
			err = errors.New("Identify returned a nil context")
		}
		if err != nil {
			s.identifyFailed(w, r, mediaType, err)
			return nil, false
		}
		// Keep the verified claims visible to the read-only guard even
		// if Identify replaced them.
		ctx = WithClaims(idCtx, claims)
	}
	return ctx, true
}

// verify checks a bearer token: the first Authenticator that handles it
// decides; otherwise it must be an HS256 development token.
func (s *Server) verify(ctx context.Context, raw string) (Claims, error) {
	for _, a := range s.authenticators {
		if a.Handles(raw) {
			return a.Authenticate(ctx, raw)
		}
	}
	if len(s.secret) == 0 {
		return Claims{}, errors.New("server: no verifier for this token")
	}
	return ParseToken(s.secret, raw)
}

func (s *Server) identifyFailed(w http.ResponseWriter, r *http.Request, mediaType string, err error) {
	if re, ok := errors.AsType[*RequestError](err); ok {
		status := re.status()
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		writeError(w, mediaType, status, re.code(), re.message())
		return
	}
	s.logger.ErrorContext(r.Context(), "identify failed",
		"error", err, "request_id", RequestIDFrom(r.Context()))
	writeError(w, mediaType, http.StatusInternalServerError, CodeInternal, "internal server error")
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header. found is false when there is no Bearer credential at all; a
// malformed Bearer credential is returned as found with an empty token.
func bearerToken(h http.Header) (token string, found bool) {
	values := h.Values("Authorization")
	if len(values) == 0 {
		return "", false
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	if len(values) > 1 {
		return "", true
	}
	return strings.TrimSpace(rest), true
}

// readOnlyGuard refuses mutations for read-only (BI) tokens. As an
// OperationContextMutator it runs after parsing and validation, so it sees
// the operation actually selected (operationName, persisted queries, GET or
// POST alike), and its error is a GraphQL request error: nothing executes,
// the error presenter and response interceptors apply, and the transport
// maps FORBIDDEN to 403 for application/graphql-response+json (200 for
// application/json, as for every GraphQL error).
type readOnlyGuard struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = readOnlyGuard{}

func (readOnlyGuard) ExtensionName() string                   { return "ReadOnlyGuard" }
func (readOnlyGuard) Validate(graphql.ExecutableSchema) error { return nil }

func (readOnlyGuard) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil || opCtx.Operation.Operation != ast.Mutation {
		return nil
	}
	if c, ok := ClaimsFrom(ctx); ok && c.ReadOnly {
		return &gqlerror.Error{
			Message: "This token is read-only: it may read but not change anything.",
			Extensions: map[string]any{
				"code":    CodeForbidden,
				"reasons": []string{"this token is read-only: it may read but not change anything"},
			},
		}
	}
	return nil
}

// presentError is the default error presenter: GraphQL errors (validation,
// coded resolver errors, ...) pass through; a *RequestError becomes its code
// and message; any other error is logged and shown as a generic INTERNAL
// error so that SQL and other internals never reach clients.
func (s *Server) presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr, ok := errors.AsType[*gqlerror.Error](err)
	if !ok {
		gqlErr = gqlerror.WrapPath(graphql.GetPath(ctx), err)
	}
	if _, coded := gqlErr.Extensions["code"]; coded || gqlErr.Err == nil {
		return gqlErr
	}
	if re, ok := errors.AsType[*RequestError](gqlErr.Err); ok {
		return &gqlerror.Error{
			Message:    re.message(),
			Path:       gqlErr.Path,
			Locations:  gqlErr.Locations,
			Extensions: map[string]any{"code": re.code()},
		}
	}
	s.logger.ErrorContext(ctx, "graphql internal error",
		"error", gqlErr.Err, "path", gqlErr.Path.String(), "request_id", RequestIDFrom(ctx))
	return &gqlerror.Error{
		Message:    "internal server error",
		Path:       gqlErr.Path,
		Locations:  gqlErr.Locations,
		Extensions: map[string]any{"code": CodeInternal},
	}
}

// recoverPanic is the default gqlgen RecoverFunc (resolver panics).
func (s *Server) recoverPanic(ctx context.Context, p any) error {
	s.logger.ErrorContext(ctx, "panic in resolver",
		"panic", fmt.Sprint(p), "stack", string(debug.Stack()), "request_id", RequestIDFrom(ctx))
	return codedError(CodeInternal, "internal server error")
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.logger.WarnContext(ctx, "not ready", "error", err, "request_id", RequestIDFrom(ctx))
			w.WriteHeader(http.StatusServiceUnavailable)
			// The cause (a driver error naming hosts, users, databases) goes
			// to the log only: /readyz answers unauthenticated callers.
			_ = json.NewEncoder(w).Encode(map[string]string{
				"status":     "unavailable",
				"error":      "the database does not answer; the server log has the cause",
				"request_id": RequestIDFrom(ctx),
			})
			return
		}
	}
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

// --- middleware -------------------------------------------------------

type requestIDKey struct{}

// RequestIDFrom returns the request id (X-Request-ID) of the current request.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// instrument assigns the request id, recovers panics (500 with a generic
// body) and logs one line per request.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = rand.Text()
		}
		w.Header().Set("X-Request-ID", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		rec := &responseRecorder{ResponseWriter: w}

		defer func() {
			p := recover()
			if p != nil && p != http.ErrAbortHandler {
				s.logger.ErrorContext(r.Context(), "panic serving request",
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()), "request_id", id)
				if !rec.wroteHeader {
					writeError(rec, MediaTypeJSON, http.StatusInternalServerError, CodeInternal, "internal server error")
					p = nil
				}
			}
			status := rec.statusCode()
			level := slog.LevelInfo
			if status >= 500 || p != nil {
				level = slog.LevelError
			}
			s.logger.LogAttrs(r.Context(), level, "http request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", id),
			)
			if p != nil {
				// The response is already under way: abort it.
				panic(http.ErrAbortHandler)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// validRequestID accepts client-supplied ids of up to 128 visible ASCII
// characters; anything else is replaced by a generated id.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// responseRecorder captures status and size for the request log.
type responseRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (rr *responseRecorder) WriteHeader(code int) {
	if !rr.wroteHeader && code >= 200 {
		rr.status, rr.wroteHeader = code, true
	}
	rr.ResponseWriter.WriteHeader(code)
}

func (rr *responseRecorder) Write(b []byte) (int, error) {
	if !rr.wroteHeader {
		rr.status, rr.wroteHeader = http.StatusOK, true
	}
	n, err := rr.ResponseWriter.Write(b)
	rr.bytes += int64(n)
	return n, err
}

func (rr *responseRecorder) statusCode() int {
	if !rr.wroteHeader {
		return http.StatusOK
	}
	return rr.status
}

// Flush supports streaming handlers that type-assert http.Flusher.
func (rr *responseRecorder) Flush() {
	if !rr.wroteHeader {
		rr.status, rr.wroteHeader = http.StatusOK, true
	}
	_ = http.NewResponseController(rr.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rr *responseRecorder) Unwrap() http.ResponseWriter { return rr.ResponseWriter }
