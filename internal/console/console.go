// Package console serves the policy console for org admins at /console:
// one page and its script and style, embedded in the binary (it works
// offline and loads nothing from elsewhere). The page talks only to
// /graphql, with the bearer token the admin signs in with: a pasted one,
// or, when an OIDC client is configured, one from the identity provider
// (authorization code flow with PKCE, run by the page itself).
package console

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

//go:embed assets
var assets embed.FS

// Scopes the console asks the identity provider for.
const Scopes = "openid email profile"

// OIDC configures the console's sign-in with an identity provider. Nothing
// in it is secret: the console is a public client (PKCE, no secret).
type OIDC struct {
	// Issuer is the issuer URL (one whose tokens the server accepts).
	Issuer string `json:"issuer"`
	// ClientID is the console's public client id at the issuer.
	ClientID string `json:"client_id"`
	// Token is the token the console sends as its bearer token:
	// "id_token" (its audience is the client id) when the server's
	// audience for the issuer is the client id, "access_token" otherwise
	// (the provider must then issue JWT access tokens for that audience).
	Token string `json:"token"`
	// Scopes requested; Scopes when empty.
	Scopes string `json:"scopes"`
}

// Handler serves the console under prefix (e.g. "/console"). With oidc
// (nil: pasted tokens only) prefix+"/config.json" tells the page the
// issuer and client id, and the page may connect to the issuer's origin.
func Handler(prefix string, oidc *OIDC) (http.Handler, error) {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	connect := "'self'"
	config := []byte("{}")
	if oidc != nil {
		o := *oidc
		u, err := url.Parse(o.Issuer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return nil, errors.New("console: the OIDC issuer must be an absolute http(s) URL")
		}
		if o.ClientID == "" {
			return nil, errors.New("console: the OIDC client id is empty")
		}
		if o.Token != "id_token" && o.Token != "access_token" {
			return nil, errors.New(`console: the OIDC token must be "id_token" or "access_token"`)
		}
		if o.Scopes == "" {
			o.Scopes = Scopes
		}
		// The discovery document and the token endpoint: the issuer's
		// origin, nothing more.
		connect += " " + u.Scheme + "://" + u.Host
		if config, err = json.Marshal(map[string]any{"oidc": o}); err != nil {
			return nil, err
		}
	}
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src " + connect + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, prefix)
		if name == "" {
			http.Redirect(w, r, prefix+"/", http.StatusMovedPermanently)
			return
		}
		h := w.Header()
		// Nothing but this origin (and the configured issuer's, for the
		// sign-in): no CDN, no inline script.
		h.Set("Content-Security-Policy", csp)
		h.Set("Cache-Control", "no-cache")
		// The page is not sent as a Referer: the authorization code it
		// receives in its URL must not leak to the issuer or anyone else.
		h.Set("Referrer-Policy", "no-referrer")
		if name == "/config.json" {
			h.Set("Content-Type", "application/json")
			h.Set("X-Content-Type-Options", "nosniff")
			_, _ = w.Write(config)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = name
		files.ServeHTTP(w, r2)
	}), nil
}
