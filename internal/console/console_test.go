package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"okrgraph/internal/app"
	"okrgraph/internal/browsertest"
	"okrgraph/internal/identity"
	"okrgraph/internal/identity/idptest"
	"okrgraph/internal/testenv"
)

// ScreenshotEnv names a file the browser test saves a screenshot of the
// console to (docs/console.png in the docs).
const ScreenshotEnv = "OKRGRAPH_CONSOLE_SCREENSHOT"

// setValue sets a field's value as typing would, firing its input event.
func setValue(sel, value string) chromedp.Action[chromedp.Void] {
	js, _ := json.Marshal(value)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %s; el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, sel, js))(ctx, t)
		return chromedp.Void{}, err
	}
}

// waitText waits until the element's text contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.textContent.includes(%q) })()`, sel, want)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(2*time.Minute))(ctx, t)
		if err != nil {
			return chromedp.Void{}, fmt.Errorf("waiting for %q in %s: %w", want, sel, err)
		}
		return chromedp.Void{}, nil
	}
}

func text(ctx context.Context, t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).textContent`, sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// TestConsoleHeadline drives the console in a real browser: an admin edits
// a draft, sees a syntax error at its line, fixes it, runs the tests, sees
// the draft's impact (the two members whose organization objectives it
// would refuse), activates it, sees a member's create denied in the
// decision log, and goes back to the default policy.
func TestConsoleHeadline(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, "sqlite", testenv.Config{Demo: true})
	srv := httptest.NewServer(e.App.Handler())
	t.Cleanup(srv.Close)
	// Offline but for loopback, with a generous bound (a loaded CI machine
	// is slow; nothing here measures speed).
	ctx := browsertest.New(t, 4*time.Minute).Ctx

	for _, who := range []string{"steve", "martha"} {
		r := e.As(who, "acme").Do(t, `mutation($in: CreateOKRItemInput!) { createOKRItem(input: $in) { item { id } } }`,
			map[string]any{"in": map[string]any{"kind": "OBJECTIVE", "level": "ORGANIZATION", "title": who + "'s company goal"}})
		if r.Code() != "" {
			t.Fatalf("%s creates: %+v", who, r.Errors)
		}
	}
	flush := func() {
		fctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		testenv.Must(t, e.App.Decisions.Flush(fctx))
	}
	flush()

	policy, err := os.ReadFile(filepath.Join("..", "..", "examples", "tenant-policies", "org-objectives-owners-only", "policy.rego"))
	testenv.Must(t, err)
	// Line 8 loses its closing quote: a syntax error there.
	lines := strings.Split(string(policy), "\n")
	if !strings.Contains(lines[7], `"ORGANIZATION"`) {
		t.Fatalf("line 8 of the example is %q", lines[7])
	}
	broken := append([]string{}, lines...)
	broken[7] = strings.Replace(lines[7], `"ORGANIZATION"`, `"ORGANIZATION`, 1)

	token := e.Token("adam@acme.example")
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		setValue("#token", token),
		setValue("#org", "acme"),
		chromedp.Click(chromedp.CSS(`#signin-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#app")),
		waitText("#who", "adam@acme.example"),

		setValue("#source", strings.Join(broken, "\n")),
		chromedp.Click(chromedp.CSS("#validate")),
		chromedp.WaitVisible(chromedp.CSS(`#gutter .bad[data-line="8"]`)),
	)
	if err != nil {
		t.Fatalf("sign in and validate a broken draft: %v", err)
	}
	if p := text(ctx, t, "#problems"); !strings.Contains(p, "policy.rego:8:") {
		t.Fatalf("problems %q do not point at line 8", p)
	}

	err = chromedp.Do(ctx,
		setValue("#source", string(policy)),
		setValue("#comment", "Organization objectives are the owners' job"),
		chromedp.Click(chromedp.CSS("#validate")),
		waitText("#status", "Validate: done"),
		chromedp.Click(chromedp.CSS("#run-tests")),
		waitText("#tests-summary", "tests passed"),
		chromedp.Click(chromedp.CSS("#save")),
		waitText("#status", "Saved as draft v1"),
		chromedp.Click(chromedp.CSS("#impact")),
		chromedp.WaitVisible(chromedp.CSS("#impact-summary")),
	)
	if err != nil {
		t.Fatalf("fix, test, save and see the impact: %v", err)
	}
	if s := text(ctx, t, "#impact-summary"); !strings.Contains(s, "2 allowed → denied") {
		t.Fatalf("impact summary %q", s)
	}
	subjects := text(ctx, t, "#impact-subjects")
	if !strings.Contains(subjects, "steve@acme.example") || !strings.Contains(subjects, "martha@acme.example") || strings.Contains(subjects, "olivia") {
		t.Fatalf("impact by subject %q", subjects)
	}
	if p := text(ctx, t, "#problems"); strings.TrimSpace(p) != "" {
		t.Fatalf("problems left: %q", p)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#activate")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-yes")),
		chromedp.Click(chromedp.CSS("#confirm-yes")),
		waitText("#status", "Activate v1: done"),
		waitText("#version", "v1 ACTIVE"),
	)
	if err != nil {
		t.Fatalf("activate: %v", err)
	}

	r := e.As("steve", "acme").Do(t, `mutation { createOKRItem(input: {kind: OBJECTIVE, level: ORGANIZATION, title: "No longer"}) { item { id } } }`, nil)
	if r.Code() != "FORBIDDEN" {
		t.Fatalf("steve's create under v1: %q", r.Code())
	}
	flush()
	err = chromedp.Do(ctx,
		setValue("#log-allowed", "false"),
		chromedp.Click(chromedp.CSS(`#log-form button[type="submit"]`)),
		waitText("#log tbody", "tenant v1"),
		waitText("#audit-refresh", "Refresh"),
		chromedp.Click(chromedp.CSS("#audit-refresh")),
		waitText("#audit tbody", "ACTIVATE"),
	)
	if err != nil {
		t.Fatalf("decision log: %v", err)
	}
	logText := text(ctx, t, "#log tbody")
	if !strings.Contains(logText, "steve@acme.example") || !strings.Contains(logText, "only organization owners may create organization-level objectives") {
		t.Fatalf("decision log %q", logText)
	}
	if path := os.Getenv(ScreenshotEnv); path != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		testenv.Must(t, os.WriteFile(path, png, 0o644))
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#deactivate")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-yes")),
		chromedp.Click(chromedp.CSS("#confirm-yes")),
		waitText("#status", "Deactivate: done"),
		waitText("#version", "v1 ARCHIVED"),
	)
	if err != nil {
		t.Fatalf("back to the default policy: %v", err)
	}
	var active struct{ ActivePolicy *struct{ Number int } }
	e.As("adam", "acme").MustDo(t, `{ activePolicy { number } }`, nil, &active)
	if active.ActivePolicy != nil {
		t.Fatalf("still active: v%d", active.ActivePolicy.Number)
	}
	if r := e.As("steve", "acme").Do(t, `mutation { createOKRItem(input: {kind: OBJECTIVE, level: ORGANIZATION, title: "Again"}) { item { id } } }`, nil); r.Code() != "" {
		t.Fatalf("steve's create after deactivation: %+v", r.Errors)
	}
}

// The console's page, script and style are served by the binary, with a
// policy allowing nothing from elsewhere.
func TestConsoleAssets(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, "sqlite", testenv.Config{})
	for path, ctype := range map[string]string{"/console/": "text/html", "/console/console.js": "text/javascript", "/console/console.css": "text/css"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		rec := httptest.NewRecorder()
		e.App.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Header().Get("Content-Type"))
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if strings.Contains(rec.Body.String(), "https://") {
			t.Errorf("%s refers to another origin", path)
		}
	}
	rec := httptest.NewRecorder()
	e.App.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console", nil))
	if rec.Code != http.StatusMovedPermanently {
		t.Errorf("/console: %d", rec.Code)
	}
}

const consoleClient = "okrgraph-console"

// oidcApp starts an app whose console signs in with idp (the id_token,
// audience = the console's client id), adopting the demo's local users.
func oidcApp(t *testing.T, backend string, idp *idptest.IdP) (*testenv.Env, *httptest.Server) {
	e := testenv.New(t, backend, testenv.Config{Demo: true, Tweak: func(c *app.Config) {
		c.OIDC = []identity.Issuer{{Issuer: idp.URL(), Audience: consoleClient, AdoptLocal: true}}
		c.ConsoleClientID = consoleClient
	}})
	srv := httptest.NewServer(e.App.Handler())
	t.Cleanup(srv.Close)
	return e, srv
}

// TestConsoleOIDCSignIn: with an OIDC client configured, an admin signs in
// to the console with the issuer (authorization code + PKCE, through a real
// browser and a real test IdP that checks the verifier), becomes the demo's
// Adam (his verified email adopts the local user), sees the versions, and
// the code leaves the address bar; an answer the tab did not ask for is
// refused; signing out forgets the token.
func TestConsoleOIDCSignIn(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			idp := idptest.New(t)
			e, srv := oidcApp(t, b, idp)
			adamID := e.UserID(t, "adam")
			e.As("adam", "acme").MustDo(t, `mutation { savePolicyDraft(modules: [{name: "policy.rego", source: "package okrgraph.tenant.x\n"}], comment: "before SSO") { id } }`, nil, &struct{}{})
			idp.Client(consoleClient, srv.URL+"/console/", idptest.Claims{Subject: "idp-adam-7", Email: "adam@acme.example", EmailVerified: true, Name: "Adam"})
			br := browsertest.New(t, 4*time.Minute)
			ctx := br.Ctx

			// A forged answer (no sign-in started in this tab) is refused.
			err := chromedp.Do(ctx,
				chromedp.Navigate(srv.URL+"/console/?code=stolen&state=forged"),
				waitText("#signin-error", "state mismatch"),
			)
			if err != nil {
				t.Fatalf("forged answer: %v", err)
			}
			err = chromedp.Do(ctx,
				chromedp.Navigate(srv.URL+"/console/"),
				chromedp.WaitVisible(chromedp.CSS("#oidc-signin")),
				setValue("#org", "acme"),
				chromedp.Click(chromedp.CSS("#oidc-signin")),
				chromedp.WaitVisible(chromedp.CSS("#app")),
				waitText("#who", "adam@acme.example — acme (ADMIN)"),
				waitText("#version", "v1 DRAFT — before SSO"),
			)
			if err != nil {
				t.Fatalf("sign in with the IdP: %v (console errors %q)", err, br.ConsoleErrors())
			}
			search, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`))
			testenv.Must(t, err)
			if search != "" {
				t.Errorf("the code stayed in the address bar: %q", search)
			}
			stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.parse(sessionStorage.getItem("okrgraph.console")).token`))
			testenv.Must(t, err)
			var out struct {
				Viewer struct{ User struct{ ID string } }
			}
			e.WithToken(stored, "acme").MustDo(t, `{ viewer { user { id } } }`, nil, &out)
			if out.Viewer.User.ID != adamID {
				t.Fatalf("the console's token is user %s, want Adam %s", out.Viewer.User.ID, adamID)
			}
			if local, err := chromedp.Run(ctx, chromedp.Evaluate[int](`localStorage.length`)); err != nil || local != 0 {
				t.Errorf("localStorage holds %d entries (%v)", local, err)
			}
			var authorized bool
			for _, u := range br.Requests() {
				if strings.HasPrefix(u, idp.URL()+"/authorize?") {
					authorized = strings.Contains(u, "code_challenge_method=S256") && strings.Contains(u, "scope=openid+email+profile")
				}
			}
			if !authorized {
				t.Errorf("no S256 authorization request in %q", br.Requests())
			}
			if nl := br.NonLoopback(); len(nl) > 0 {
				t.Errorf("requests off this machine: %q", nl)
			}

			err = chromedp.Do(ctx,
				chromedp.Click(chromedp.CSS("#signout")),
				chromedp.WaitVisible(chromedp.CSS("#oidc-signin")),
			)
			if err != nil {
				t.Fatalf("sign out: %v", err)
			}
			if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`sessionStorage.length`)); err != nil || n != 0 {
				t.Errorf("after sign-out sessionStorage holds %d entries (%v)", n, err)
			}
		})
	}
}

// TestConsoleConfig: config.json and the CSP name the issuer only when the
// console's client is configured; the token the console sends follows the
// issuer's audience; a client id without a known issuer stops the start.
func TestConsoleConfig(t *testing.T) {
	t.Parallel()
	idp := idptest.New(t)
	get := func(h http.Handler, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	plain := testenv.New(t, "sqlite", testenv.Config{Tweak: func(c *app.Config) {
		c.OIDC = []identity.Issuer{{Issuer: idp.URL(), Audience: "okrgraph"}}
	}})
	rec := get(plain.App.Handler(), "/console/config.json")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "{}" {
		t.Errorf("without a console client: %d %s", rec.Code, rec.Body)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self';") {
		t.Errorf("without a console client the CSP connects elsewhere: %q", csp)
	}
	for aud, token := range map[string]string{consoleClient: "id_token", "okrgraph-api": "access_token"} {
		e := testenv.New(t, "sqlite", testenv.Config{Tweak: func(c *app.Config) {
			c.OIDC = []identity.Issuer{{Issuer: idp.URL(), Audience: aud}}
			c.ConsoleClientID = consoleClient
		}})
		for _, path := range []string{"/console/", "/console/config.json"} {
			rec := get(e.App.Handler(), path)
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' "+idp.URL()+";") {
				t.Errorf("%s: CSP %q does not allow exactly the issuer", path, csp)
			}
		}
		var cfg struct {
			OIDC struct{ Issuer, ClientID, Token, Scopes string }
		}
		rec := get(e.App.Handler(), "/console/config.json")
		testenv.Must(t, json.Unmarshal([]byte(strings.ReplaceAll(rec.Body.String(), "client_id", "clientid")), &cfg))
		if cfg.OIDC.Issuer != idp.URL() || cfg.OIDC.ClientID != consoleClient || cfg.OIDC.Token != token || cfg.OIDC.Scopes != "openid email profile" {
			t.Errorf("audience %s: config %s", aud, rec.Body)
		}
	}
	other := idptest.New(t)
	for name, c := range map[string]app.Config{
		"unknown issuer":    {OIDC: []identity.Issuer{{Issuer: idp.URL(), Audience: "a"}}, ConsoleClientID: "c", ConsoleIssuer: other.URL()},
		"no issuer":         {ConsoleClientID: "c"},
		"two issuers":       {OIDC: []identity.Issuer{{Issuer: idp.URL(), Audience: "a"}, {Issuer: other.URL(), Audience: "a"}}, ConsoleClientID: "c"},
		"issuer, no client": {OIDC: []identity.Issuer{{Issuer: idp.URL(), Audience: "a"}}, ConsoleIssuer: idp.URL()},
	} {
		c.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "x.db")
		c.JWTSecret = []byte(strings.Repeat("s", 32))
		if a, err := app.New(context.Background(), c); err == nil {
			a.Close()
			t.Errorf("%s: the app started", name)
		}
	}
}
