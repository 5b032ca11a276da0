// Command okrgraph serves the okrgraph GraphQL API and carries its admin
// commands:
//
//	okrgraph serve [--demo]              run the server (migrates first)
//	okrgraph migrate                     create or update the schema
//	okrgraph token --email E [--name N]  print a signed bearer token
//	okrgraph remind [--dry-run] [--org SLUG]  send due check-in reminders
//	okrgraph policy validate|test|push|activate|rollback|deactivate|list ...
//	                                     tenant policies kept in git (policy.go)
//	okrgraph schema                      print the published GraphQL schema (SDL)
//
// Configuration comes from the environment (see README.md).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"okrgraph/graph"
	"okrgraph/internal/app"
	"okrgraph/internal/decisionlog"
	"okrgraph/internal/demo"
	"okrgraph/internal/identity"
	"okrgraph/internal/notify"
	"okrgraph/internal/okr"
	"okrgraph/internal/server"
	"okrgraph/internal/store"
)

const usage = `usage:
  okrgraph serve [--demo]                 run the GraphQL server
  okrgraph migrate                        create or update the database schema
  okrgraph token --email E [--name N]     print a bearer token signed with OKRGRAPH_JWT_SECRET
  okrgraph remind [--dry-run] [--org SLUG]
                                          remind check-in owners (and delegates) of items due a check-in
  okrgraph policy validate|test|push|activate|rollback|deactivate|list [--org SLUG --as EMAIL] [--version N] [DIR]
                                          an organization's own Rego policy (okrgraph policy help)
  okrgraph schema                         print the GraphQL schema clients see (SDL), e.g. for relay-compiler

environment:
  OKRGRAPH_DATABASE_URL   postgres://... or sqlite:PATH (default sqlite:okrgraph.db)
  OKRGRAPH_JWT_SECRET     HS256 secret for development tokens, 32+ bytes (SQLite only: generated into PATH.jwt-secret when unset;
                          with an OIDC issuer configured, HS256 tokens are accepted only when it is set)
  OKRGRAPH_OIDC_ISSUER    OIDC issuer URL whose RS256/ES256 tokens sign users in
  OKRGRAPH_OIDC_AUDIENCE  audience required in those tokens (required with OKRGRAPH_OIDC_ISSUER)
  OKRGRAPH_OIDC_SSO       true: users of that issuer are provisioned by SSO (cannot edit their name)
  OKRGRAPH_OIDC_ADOPT_LOCAL_USERS true: a verified sign-in takes over the development-token user with that email (migration)
  OKRGRAPH_CONSOLE_CLIENT_ID public OIDC client id of the policy console (/console signs in with the issuer: code + PKCE)
  OKRGRAPH_CONSOLE_ISSUER  the console's issuer when several are configured (default: the only one)
  OKRGRAPH_OIDC_CONFIG    JSON file of several issuers: {"issuers":[{"issuer","audience","sso","claims":{"email","email_verified","name"}}]}
  OKRGRAPH_ADDR           listen address (default 127.0.0.1:8080)
  OKRGRAPH_CORS_ORIGINS   comma-separated SPA origins allowed by CORS
  OKRGRAPH_PLATFORM_ADMINS comma-separated emails allowed to create organizations (default: anyone)
  OKRGRAPH_LOG_LEVEL      debug, info, warn or error (default info)
  OKRGRAPH_METRICS_ADDR   serve /metrics (Prometheus) on this separate listener, e.g. 127.0.0.1:9090
  OKRGRAPH_METRICS_TOKEN  serve /metrics on the main listener to requests bearing this token
  OKRGRAPH_DECISION_LOG_RETENTION  how long decision log entries are kept (default 720h)
  OKRGRAPH_DECISION_CACHE cached policy decisions per generation of the default policy's cache (default 16384; 0 disables every cache)
  OKRGRAPH_ORG_CONCURRENCY  requests of one organization running at once (default max(3, cores + 1))
  OKRGRAPH_USER_CONCURRENCY requests of one user running at once (default max(2, cores/2))
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, os.Args[2:])
	case "migrate":
		err = migrate(ctx)
	case "token":
		err = token(os.Args[2:])
	case "remind":
		err = remind(ctx, os.Args[2:])
	case "policy":
		err = policyCmd(ctx, os.Args[2:], os.Stdout)
	case "schema":
		_, err = fmt.Print(graph.PublishedSDL())
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "okrgraph:", err)
		os.Exit(1)
	}
}

func logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(env("OKRGRAPH_LOG_LEVEL", "info"))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func list(name string) []string {
	var out []string
	for _, s := range strings.Split(os.Getenv(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func databaseURL() string { return env("OKRGRAPH_DATABASE_URL", store.DefaultURL) }

// secret returns the JWT secret. Without OKRGRAPH_JWT_SECRET, an embedded
// SQLite deployment keeps a generated secret in a file beside the database
// so that `serve` and `token` agree; PostgreSQL deployments must set it.
func secret() ([]byte, error) {
	if s := os.Getenv("OKRGRAPH_JWT_SECRET"); s != "" {
		if len(s) < server.MinSecretLen {
			return nil, fmt.Errorf("OKRGRAPH_JWT_SECRET must be at least %d bytes", server.MinSecretLen)
		}
		return []byte(s), nil
	}
	u := databaseURL()
	if strings.HasPrefix(u, "postgres") {
		return nil, errors.New("OKRGRAPH_JWT_SECRET is required with PostgreSQL")
	}
	path := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite://"), "sqlite:")
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	file := path + ".jwt-secret"
	if b, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(b))) >= server.MinSecretLen {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	s := hex.EncodeToString(raw)
	if dir := filepath.Dir(file); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(file, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write generated JWT secret: %w", err)
	}
	return []byte(s), nil
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	withDemo := fs.Bool("demo", false, "load the demo organization and print tokens")
	if err := fs.Parse(args); err != nil {
		return err
	}
	issuers, err := oidcIssuers()
	if err != nil {
		return err
	}
	var sec []byte
	// With an identity provider configured, HS256 development tokens are
	// accepted only when OKRGRAPH_JWT_SECRET is set explicitly.
	if len(issuers) == 0 || os.Getenv("OKRGRAPH_JWT_SECRET") != "" || *withDemo {
		if sec, err = secret(); err != nil {
			return err
		}
	}
	log := logger()
	// A request allocates many short-lived objects and keeps few: with
	// Go's default GOGC=100 the collector ran about a sixth of the server's
	// CPU under load. 200 halves how often it runs for a heap that stays
	// small (docs/performance.md); an explicit GOGC wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	addr := env("OKRGRAPH_ADDR", "127.0.0.1:8080")
	var retention time.Duration
	if v := os.Getenv("OKRGRAPH_DECISION_LOG_RETENTION"); v != "" {
		if retention, err = time.ParseDuration(v); err != nil || retention <= 0 {
			return fmt.Errorf("OKRGRAPH_DECISION_LOG_RETENTION: %q is not a positive duration such as 720h", v)
		}
	}
	metricsToken := os.Getenv("OKRGRAPH_METRICS_TOKEN")
	if metricsToken != "" && len(metricsToken) < 16 {
		return errors.New("OKRGRAPH_METRICS_TOKEN must be at least 16 characters")
	}
	maxTree := 0
	if v := os.Getenv("OKRGRAPH_TREE_MAX_ITEMS"); v != "" {
		if maxTree, err = strconv.Atoi(v); err != nil || maxTree <= 0 {
			return fmt.Errorf("OKRGRAPH_TREE_MAX_ITEMS must be a positive integer, got %q", v)
		}
	}
	var conc server.Concurrency
	for _, c := range []struct {
		name string
		to   *int
	}{{"OKRGRAPH_ORG_CONCURRENCY", &conc.PerOrg}, {"OKRGRAPH_USER_CONCURRENCY", &conc.PerUser}} {
		if v := os.Getenv(c.name); v != "" {
			if *c.to, err = strconv.Atoi(v); err != nil || *c.to <= 0 || *c.to > 10_000 {
				return fmt.Errorf("%s must be a whole number from 1 to 10000, got %q", c.name, v)
			}
		}
	}
	decisionCache := 0
	if v := os.Getenv("OKRGRAPH_DECISION_CACHE"); v != "" {
		if decisionCache, err = strconv.Atoi(v); err != nil || decisionCache < 0 {
			return fmt.Errorf("OKRGRAPH_DECISION_CACHE must be a non-negative integer, got %q", v)
		}
		if decisionCache == 0 {
			decisionCache = -1
		}
	}
	a, err := app.New(ctx, app.Config{
		DecisionCache:   decisionCache,
		Concurrency:     conc,
		MaxTreeItems:    maxTree,
		DatabaseURL:     databaseURL(),
		JWTSecret:       sec,
		OIDC:            issuers,
		ConsoleClientID: os.Getenv("OKRGRAPH_CONSOLE_CLIENT_ID"),
		ConsoleIssuer:   os.Getenv("OKRGRAPH_CONSOLE_ISSUER"),
		Addr:            addr,
		CORSOrigins:     list("OKRGRAPH_CORS_ORIGINS"),
		PlatformAdmins:  list("OKRGRAPH_PLATFORM_ADMINS"),
		Logger:          log,
		DecisionLog:     decisionlog.Config{Retention: retention},
		MetricsToken:    metricsToken,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if *withDemo {
		if err := demo.Seed(ctx, a.DB.Client); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if err := printDemo(sec, addr); err != nil {
			return err
		}
	}
	if maddr := os.Getenv("OKRGRAPH_METRICS_ADDR"); maddr != "" {
		ms := &http.Server{Addr: maddr, Handler: a.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := ms.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics listener failed", "addr", maddr, "err", err)
			}
		}()
		defer ms.Close()
		log.Info("metrics listening", "addr", maddr)
	}
	log.Info("listening", "addr", addr, "graphiql", "http://"+addr+"/")
	return a.Server.Run(ctx)
}

// oidcIssuers reads the identity providers: OKRGRAPH_OIDC_CONFIG (a JSON
// file with several issuers and claim mappings) and/or the one issuer of
// OKRGRAPH_OIDC_ISSUER, OKRGRAPH_OIDC_AUDIENCE and OKRGRAPH_OIDC_SSO.
func oidcIssuers() ([]identity.Issuer, error) {
	var out []identity.Issuer
	if path := os.Getenv("OKRGRAPH_OIDC_CONFIG"); path != "" {
		f, err := identity.LoadFile(path)
		if err != nil {
			return nil, fmt.Errorf("OKRGRAPH_OIDC_CONFIG: %w", err)
		}
		out = append(out, f...)
	}
	if iss := os.Getenv("OKRGRAPH_OIDC_ISSUER"); iss != "" {
		aud := os.Getenv("OKRGRAPH_OIDC_AUDIENCE")
		if aud == "" {
			return nil, errors.New("OKRGRAPH_OIDC_AUDIENCE is required with OKRGRAPH_OIDC_ISSUER")
		}
		sso, err := strconv.ParseBool(env("OKRGRAPH_OIDC_SSO", "false"))
		if err != nil {
			return nil, fmt.Errorf("OKRGRAPH_OIDC_SSO: %w", err)
		}
		adopt, err := strconv.ParseBool(env("OKRGRAPH_OIDC_ADOPT_LOCAL_USERS", "false"))
		if err != nil {
			return nil, fmt.Errorf("OKRGRAPH_OIDC_ADOPT_LOCAL_USERS: %w", err)
		}
		out = append(out, identity.Issuer{Issuer: iss, Audience: aud, SSO: sso, AdoptLocal: adopt})
	}
	return out, nil
}

func printDemo(sec []byte, addr string) error {
	fmt.Printf("\nDemo organization %q is loaded. GraphiQL: http://%s/ (add the headers below)\n\n", demo.Slug, addr)
	for _, p := range demo.People {
		tok, err := server.SignToken(sec, server.Claims{Subject: p.Email, Email: p.Email, Name: p.Name, Org: demo.Slug}, 30*24*time.Hour)
		if err != nil {
			return err
		}
		fmt.Printf("%s — %s\n  Authorization: Bearer %s\n\n", p.Name, p.Role, tok)
	}
	tok, _ := server.SignToken(sec, server.Claims{Subject: demo.People[7].Email, Email: demo.People[7].Email, Name: demo.People[7].Name}, 30*24*time.Hour)
	fmt.Printf(`Sample query, as Steve:
  curl -s http://%s/graphql -H 'Content-Type: application/json' \
    -H 'Authorization: Bearer %s' -H 'X-Org: %s' \
    -d '{"query":"{ viewer { user { name } } okrs(first: 10) { totalCount edges { node { id kind level title owners { name } creator { name } } } } }"}'

`, addr, tok, demo.Slug)
	return nil
}

func migrate(ctx context.Context) error {
	db, err := store.Open(databaseURL(), nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	return okr.InheritPeriods(ctx, db.Client)
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email (also the token subject)")
	name := fs.String("name", "", "the user's display name")
	org := fs.String("org", "", "default organization (slug or id) for requests without X-Org")
	readOnly := fs.Bool("read-only", false, "a read-only token (BI tools): mutations are refused")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("token: --email is required")
	}
	sec, err := secret()
	if err != nil {
		return err
	}
	tok, err := server.SignToken(sec, server.Claims{Subject: *email, Email: *email, Name: *name, Org: *org, ReadOnly: *readOnly}, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

// remind sends the check-in reminders due now, through the log notifier
// (one JSON record per reminder on stderr), and prints a summary.
func remind(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("remind", flag.ContinueOnError)
	dryRun := fs.Bool("dry-run", false, "list the reminders without sending them")
	org := fs.String("org", "", "only this organization (slug)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := store.Open(databaseURL(), nil)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := &okr.Service{Client: db.Client}
	sent, err := svc.Remind(ctx, notify.Log{Logger: logger()}, okr.RemindOptions{OrgSlug: *org, DryRun: *dryRun})
	if err != nil && len(sent) == 0 {
		return err
	}
	verb := "sent"
	if *dryRun {
		verb = "due (dry run, nothing sent)"
	}
	for _, r := range sent {
		fmt.Printf("%s\titem %d %q\t%s\n", r.OrgSlug, r.ItemID, r.Title, r.Email)
	}
	fmt.Printf("%d reminders %s\n", len(sent), verb)
	return err
}
