// Package app assembles okrgraph: database, policy engine, domain services,
// GraphQL schema and HTTP server. The binary and the tests build the very
// same thing through it.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"

	"okrgraph/ent"
	"okrgraph/graph"
	"okrgraph/graph/generated"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/console"
	"okrgraph/internal/decisionlog"
	"okrgraph/internal/identity"
	"okrgraph/internal/metrics"
	"okrgraph/internal/okr"
	"okrgraph/internal/org"
	"okrgraph/internal/policy"
	"okrgraph/internal/review"
	"okrgraph/internal/scope"
	"okrgraph/internal/server"
	"okrgraph/internal/store"
)

// Config configures an App.
type Config struct {
	DatabaseURL string
	JWTSecret   []byte
	Addr        string
	CORSOrigins []string
	Logger      *slog.Logger
	// PlatformAdmins, when non-empty, are the only emails allowed to create
	// organizations; empty lets every authenticated user.
	PlatformAdmins []string
	// Decider overrides the policy engine (benchmarks compare with a no-op).
	Decider access.Decider
	// PolicyTimeout is the deadline of one decision of the default policy
	// (default authz.DefaultTimeout, 5 s: it only catches faults).
	PolicyTimeout time.Duration
	// TenantPolicyTimeout is the deadline of one decision of an org with
	// its own policy, and of an explain (default
	// authz.DefaultTenantTimeout); past it the decision denies.
	TenantPolicyTimeout time.Duration
	// TenantGate bounds concurrent tenant evaluations per org and in all,
	// and the heap one may grow (nil: authz.NewGate defaults).
	TenantGate *authz.Gate
	// DecisionCache is the entry limit per generation of the default
	// policy's decision cache (0: authz.DefaultDecisionCacheEntries);
	// negative disables every engine's cache (OKRGRAPH_DECISION_CACHE=0).
	DecisionCache int
	// Limits bound each GraphQL request's document and cost (zero fields:
	// server.DefaultLimits); see docs/limits.md.
	Limits server.Limits
	// RequestTimeout is the execution deadline of a GraphQL request
	// (default server.DefaultRequestTimeout).
	RequestTimeout time.Duration
	// Concurrency bounds requests executing at once per org and per user.
	Concurrency server.Concurrency
	// PolicyCheckEvery is how often each org's active policy version is
	// re-read (default authz.DefaultCheckEvery).
	PolicyCheckEvery time.Duration
	// MaxTreeItems bounds one read of the flat tree (Query.okrTree) or
	// one export (default okr.DefaultMaxTreeItems).
	MaxTreeItems int
	// NoFastPath leaves the reads graph.FastPath answers itself (whole
	// trees, the dashboard's page) to gqlgen's field-by-field execution;
	// tests compare the two.
	NoFastPath bool
	// OIDC lists the identity providers whose RS256/ES256 tokens are
	// accepted (OKRGRAPH_OIDC_* or OKRGRAPH_OIDC_CONFIG).
	OIDC []identity.Issuer
	// OIDCOptions tune the verifier (tests: the HTTP client, the refetch floor).
	OIDCOptions identity.Options
	// ConsoleClientID, when set, is the policy console's public OIDC
	// client id (OKRGRAPH_CONSOLE_CLIENT_ID): the console signs in with
	// ConsoleIssuer (authorization code + PKCE) instead of taking a
	// pasted token.
	ConsoleClientID string
	// ConsoleIssuer is the issuer of the console's sign-in
	// (OKRGRAPH_CONSOLE_ISSUER); it must be one of OIDC, and may be left
	// empty when OIDC has exactly one.
	ConsoleIssuer string
	// WrapDriver wraps the database driver (tests count queries with it).
	WrapDriver func(dialect.Driver) dialect.Driver
	// DecisionLog configures the decision log (its Client and hooks are
	// set here; zero values take decisionlog's defaults: 30 days of
	// retention, a queue of 10000 entries).
	DecisionLog decisionlog.Config
	// MetricsToken, when set, serves /metrics on the public listener to
	// requests bearing it. Without it /metrics is only served by
	// MetricsHandler (on a listener of its own: OKRGRAPH_METRICS_ADDR).
	MetricsToken string
}

// App is an assembled okrgraph.
type App struct {
	DB     *store.DB
	Orgs   *org.Service
	OKRs   *okr.Service
	Server *server.Server
	Log    *slog.Logger

	Reviews *review.Service // performance reviews

	// Policies: tenant policy versions, tests, explain, activation.
	Policies *policy.Service
	// Router routes each org's decisions to its policy (nil when
	// Config.Decider overrides the engine).
	Router *authz.Router

	// Decisions is the decision log (nil when Config.Decider overrides
	// the engine).
	Decisions *decisionlog.Log
	// Metrics are the Prometheus collectors of this app.
	Metrics *metrics.Metrics

	versions *store.DB        // the Router's own small pool for version checks
	listener *policy.Listener // PostgreSQL notifications of activations
}

// New opens and migrates the database and assembles the server.
func New(ctx context.Context, cfg Config) (*App, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	db, err := store.Open(cfg.DatabaseURL, cfg.WrapDriver)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := okr.InheritPeriods(ctx, db.Client); err != nil {
		db.Close()
		return nil, fmt.Errorf("key result periods: %w", err)
	}
	tenantTimeout := cfg.TenantPolicyTimeout
	if tenantTimeout <= 0 {
		tenantTimeout = authz.DefaultTenantTimeout
	}
	gate := cfg.TenantGate
	if gate == nil {
		gate = authz.NewGate(0, 0, 0, 0)
	}
	tenantOpts := []authz.Option{authz.WithLogger(log), authz.WithTimeout(tenantTimeout), authz.WithGate(gate)}
	if cfg.DecisionCache < 0 {
		tenantOpts = append(tenantOpts, authz.WithDecisionCache(-1, 0))
	}
	a := &App{DB: db, Log: log, Metrics: metrics.New()}
	decider := cfg.Decider
	if decider == nil {
		engine, err := authz.NewEngine(authz.WithLogger(log), authz.WithTimeout(cfg.PolicyTimeout),
			authz.WithDecisionCache(cfg.DecisionCache, 0))
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("policy engine: %w", err)
		}
		// Version checks run inside decisions, themselves inside write
		// transactions: they get a pool of their own so they never wait
		// for a connection of the main pool.
		if a.versions, err = store.Open(cfg.DatabaseURL, nil); err != nil {
			a.Close()
			return nil, err
		}
		a.versions.SQL.SetMaxOpenConns(4)
		a.Router = &authz.Router{
			Default:    engine,
			Source:     &policy.Source{Client: a.versions.Client},
			CheckEvery: cfg.PolicyCheckEvery,
			Log:        log,
			Options:    tenantOpts,
		}
		dl := cfg.DecisionLog
		// The log writes through a client of its own over the same pool:
		// its batches are no request's statements (and tests counting a
		// request's queries through WrapDriver must not see them).
		dl.Client, dl.Logger = ent.NewClient(ent.Driver(entsql.OpenDB(db.Dialect, db.SQL))), log
		dl.OnDrop, dl.OnWriteError = a.Metrics.LogDropped, a.Metrics.LogWriteFailed
		a.Decisions = decisionlog.New(dl)
		a.Decisions.Start()
		a.Router.Observer = authz.Observers{a.Metrics, a.Decisions}
		decider = a.Router
		if db.Dialect == dialect.Postgres {
			// Without it, activations elsewhere still apply at the next
			// version check.
			if a.listener, err = policy.Listen(cfg.DatabaseURL, a.Router, log); err != nil {
				log.Warn("tenant policy changes are not listened for", "err", err)
			}
		}
	}
	guard := &access.Guard{Decider: decider, Log: log}
	// Tenant rules never apply to org.manage_policy (policies/final.rego),
	// so the policy service asks the default policy directly: admins can
	// repair a tenant policy even when it cannot be loaded at all.
	policyGuard := guard
	if a.Router != nil {
		policyGuard = &access.Guard{Decider: a.Router.Default, Log: log}
	}
	a.Orgs = &org.Service{
		Client: db.Client,
		Guard:  guard,
	}
	a.OKRs = &okr.Service{Client: db.Client, Guard: guard, Dialect: db.Dialect, MaxTreeItems: cfg.MaxTreeItems}
	a.Policies = &policy.Service{Client: db.Client, Guard: policyGuard, Router: a.Router, EngineOptions: tenantOpts, Gate: gate}
	a.Reviews = &review.Service{Client: db.Client, Guard: guard}
	if len(cfg.PlatformAdmins) > 0 {
		admins := map[string]bool{}
		for _, e := range cfg.PlatformAdmins {
			admins[e] = true
		}
		a.Orgs.MayCreateOrg = func(email string) bool { return admins[email] }
	}
	authenticators := []server.Authenticator{apiTokenAuth{a.Orgs}}
	if len(cfg.OIDC) > 0 {
		v, err := identity.New(cfg.OIDC, cfg.OIDCOptions)
		if err != nil {
			a.Close()
			return nil, err
		}
		authenticators = append(authenticators, oidcAuth{v})
	}
	consoleOIDC, err := consoleSignIn(cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	consoleHandler, err := console.Handler("/console", consoleOIDC)
	if err != nil {
		a.Close()
		return nil, err
	}
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{
		Client:        db.Client,
		Orgs:          a.Orgs,
		OKRs:          a.OKRs,
		ReviewService: a.Reviews,
		Policies:      a.Policies,
	}})
	limits := cfg.Limits
	if limits.MaxTreeItems <= 0 {
		// A walk down children is bounded by the same tree bound as the
		// flat tree (internal/okr: LoadSubtree refuses more at run time).
		limits.MaxTreeItems = cmp.Or(cfg.MaxTreeItems, okr.DefaultMaxTreeItems)
	}
	// Inside the metrics interceptor (gqlgen nests response interceptors in
	// registration order, the first outermost): it times and counts what
	// the fast path answers too (TestMetrics).
	fastPath := graph.FastPath{OKRs: a.OKRs}
	if cfg.NoFastPath {
		fastPath.OKRs = nil
	}
	srv, err := server.New(server.Config{
		Addr:           cfg.Addr,
		JWTSecret:      cfg.JWTSecret,
		Authenticators: authenticators,
		CORSOrigins:    cfg.CORSOrigins,
		Limits:         limits,
		RequestTimeout: cfg.RequestTimeout,
		Concurrency:    cfg.Concurrency,
		Tenant:         tenantKeys,
		Logger:         log,
		Schema:         schema,
		ErrorPresenter: graph.ErrorPresenter(log),
		Identify:       a.identify,
		Ready:          db.Ping,
		Extensions:     []graphql.HandlerExtension{graph.InputCheck{}, a.Metrics.Extension(), fastPath},
		Metrics:        metricsRoute(a.Metrics, cfg.MetricsToken),
		Console:        consoleHandler,
		Export:         server.ExportHandler(a.OKRs.Tree),
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Server = srv
	return a, nil
}

// consoleSignIn is the console's OIDC sign-in, nil without a client id.
// The console sends the id_token (audience: the client id) when the
// server's audience for the issuer is the client id, else the access token.
func consoleSignIn(cfg Config) (*console.OIDC, error) {
	if cfg.ConsoleClientID == "" {
		if cfg.ConsoleIssuer != "" {
			return nil, errors.New("OKRGRAPH_CONSOLE_ISSUER needs OKRGRAPH_CONSOLE_CLIENT_ID")
		}
		return nil, nil
	}
	want := strings.TrimSuffix(cfg.ConsoleIssuer, "/")
	if want == "" {
		if len(cfg.OIDC) != 1 {
			return nil, fmt.Errorf("OKRGRAPH_CONSOLE_CLIENT_ID: %d OIDC issuers are configured; name the console's with OKRGRAPH_CONSOLE_ISSUER", len(cfg.OIDC))
		}
		want = strings.TrimSuffix(cfg.OIDC[0].Issuer, "/")
	}
	for _, is := range cfg.OIDC {
		if strings.TrimSuffix(is.Issuer, "/") != want {
			continue
		}
		token := "access_token"
		if is.Audience == cfg.ConsoleClientID {
			token = "id_token"
		}
		return &console.OIDC{Issuer: is.Issuer, ClientID: cfg.ConsoleClientID, Token: token, Scopes: console.Scopes}, nil
	}
	return nil, fmt.Errorf("OKRGRAPH_CONSOLE_ISSUER %q is not one of the configured OIDC issuers", want)
}

// Handler is the HTTP handler of the app.
func (a *App) Handler() http.Handler { return a.Server.Handler() }

// MetricsHandler serves the metrics without authentication, for a
// listener of their own that only operators reach.
func (a *App) MetricsHandler() http.Handler { return a.Metrics.Handler("") }

func metricsRoute(m *metrics.Metrics, token string) http.Handler {
	if token == "" {
		return nil
	}
	return m.Handler(token)
}

// Close stops the policy listener, writes the decision log's queue and
// releases the database.
func (a *App) Close() error {
	if a.Decisions != nil {
		a.Decisions.Close()
	}
	if a.listener != nil {
		a.listener.Close()
	}
	if a.versions != nil {
		a.versions.Close()
	}
	return a.DB.Close()
}

// tenantKeys names the org and user a request acts for, for the server's
// per-org and per-user concurrency bounds.
func tenantKeys(ctx context.Context) (string, string) {
	s := scope.From(ctx)
	org, user := "", ""
	if s.OrgID != 0 {
		org = access.ID(s.OrgID)
	}
	if s.UserID != 0 {
		user = access.ID(s.UserID)
	}
	return org, user
}

// identify provisions the caller's user and selects the organization. It
// runs for every request, so a member removed from the org, or a revoked
// API token, is refused from the next request on. It reads the user, the
// membership and the actor's facts in one statement (org.Identify) and
// hands that actor to the request's first actor read (access.WithCache);
// the user row answers viewer { user } (graph.WithViewerUser).
func (a *App) identify(ctx context.Context, c server.Claims, orgRef string) (context.Context, error) {
	if c.Service {
		return a.identifyService(ctx, c, orgRef)
	}
	caller, err := a.Orgs.Identify(ctx, org.Identity{Issuer: c.Issuer, Subject: c.Subject, Email: c.Email, Name: c.Name, SSO: c.SSO, AdoptLocal: c.AdoptLocal}, orgRef)
	if err != nil {
		return nil, requestError(err)
	}
	s := scope.Scope{UserID: caller.User.ID, OrgID: caller.OrgID}
	if caller.Touch {
		if err := a.Orgs.Touch(ctx, s.UserID, s.OrgID); err != nil {
			a.Log.WarnContext(ctx, "recording the sign-in failed", "err", err)
		}
	}
	ctx = graph.WithViewerUser(ctx, caller.User)
	return access.WithCache(scope.With(ctx, s), caller.Actor), nil
}

// identifyService scopes an API token's request to its own organization:
// an X-Org naming any other is NOT_FOUND, as for every org one is not in.
// The token's facts were read when it was verified (apiTokenAuth).
func (a *App) identifyService(ctx context.Context, c server.Claims, orgRef string) (context.Context, error) {
	sc, ok := c.Loaded.(*access.ServiceCaller)
	if !ok {
		return nil, errors.New("identify: service claims without their token")
	}
	if orgRef != "" && orgRef != c.Org {
		if err := org.CheckServiceOrg(sc.Actor.OrgID, sc.OrgSlug, orgRef); err != nil {
			return nil, requestError(err)
		}
	}
	s := scope.Scope{UserID: sc.Actor.UserID, OrgID: sc.Actor.OrgID, Service: true}
	return access.WithCache(scope.With(ctx, s), sc.Actor), nil
}

// apiTokenAuth verifies API tokens (okrg_…) against the database on every
// request, so revocation and expiry apply to the very next request.
type apiTokenAuth struct{ orgs *org.Service }

func (apiTokenAuth) Handles(raw string) bool { return strings.HasPrefix(raw, org.APITokenPrefix) }

func (t apiTokenAuth) Authenticate(ctx context.Context, raw string) (server.Claims, error) {
	sc, err := t.orgs.AuthenticateAPIToken(ctx, raw)
	if err != nil {
		return server.Claims{}, requestError(err)
	}
	return server.Claims{
		Issuer:   org.ServiceIssuer,
		Subject:  strconv.Itoa(sc.Token.ServiceUserID),
		Org:      strconv.Itoa(sc.Token.OrgID),
		Service:  true,
		ReadOnly: true, // "read" is the only scope: no token may write
		Loaded:   sc,
	}, nil
}

// oidcAuth verifies the tokens of the configured OIDC issuers.
type oidcAuth struct{ v *identity.Verifier }

func (o oidcAuth) Handles(raw string) bool { return o.v.Handles(identity.UnverifiedIssuer(raw)) }

func (o oidcAuth) Authenticate(ctx context.Context, raw string) (server.Claims, error) {
	id, err := o.v.Verify(ctx, raw)
	switch {
	case errors.Is(err, identity.ErrExpired):
		return server.Claims{}, server.ErrTokenExpired
	case errors.Is(err, identity.ErrUnavailable):
		return server.Claims{}, &server.RequestError{Status: http.StatusUnauthorized, Code: server.CodeUnauthenticated,
			Message: "the identity provider's signing keys could not be fetched; try again shortly"}
	case err != nil:
		return server.Claims{}, err
	}
	return server.Claims{Issuer: id.Issuer, Subject: id.Subject, Email: id.Email, Name: id.Name, SSO: id.SSO, AdoptLocal: id.AdoptLocal}, nil
}

func requestError(err error) error {
	if ae, ok := apperr.As(err); ok {
		status := http.StatusBadRequest
		switch ae.Code {
		case apperr.CodeUnauthenticated:
			status = http.StatusUnauthorized
		case apperr.CodeNotFound:
			status = http.StatusNotFound
		case apperr.CodeForbidden:
			status = http.StatusForbidden
		}
		return &server.RequestError{Status: status, Code: ae.Code, Message: ae.Message}
	}
	return errors.Join(errors.New("identify"), err)
}
