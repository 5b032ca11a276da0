// Package idptest runs a real OpenID Connect issuer inside a test process:
// an HTTP server serving the discovery document and the JWKS, signing
// tokens with generated RSA or EC keys, able to rotate keys and go down.
// With a registered public client it also runs the authorization code flow
// with PKCE (S256): an authorization endpoint that approves at once as the
// configured user, and a token endpoint that checks the client, the
// redirect URI, the one-time code and the code verifier.
package idptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// IdP is a test identity provider.
type IdP struct {
	srv     *httptest.Server
	mu      sync.Mutex
	key     crypto.Signer
	kid     string
	alg     jose.SignatureAlgorithm
	n       int
	down    atomic.Bool
	fetches atomic.Int64

	// the authorization code flow
	clientID, redirectURI string
	user                  Claims
	codes                 map[string]grant
}

// grant is an issued authorization code.
type grant struct {
	clientID, redirectURI, challenge, nonce string
	user                                    Claims
	expires                                 time.Time
}

// New starts an IdP signing with an RSA key; it stops with the test.
func New(t testing.TB) *IdP {
	t.Helper()
	p := &IdP{}
	p.Rotate(t, false)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                p.srv.URL,
			"jwks_uri":                              p.srv.URL + "/jwks",
			"authorization_endpoint":                p.srv.URL + "/authorize",
			"token_endpoint":                        p.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
			"response_types_supported":              []string{"code"},
			"code_challenge_methods_supported":      []string{"S256"},
			"token_endpoint_auth_methods_supported": []string{"none"},
		})
	})
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		if p.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		p.mu.Lock()
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: p.key.Public(), KeyID: p.kid, Algorithm: string(p.alg), Use: "sig"}}}
		p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(set)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the issuer URL.
func (p *IdP) URL() string { return p.srv.URL }

// KeyID is the current key's id.
func (p *IdP) KeyID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kid
}

// JWKSFetches counts requests to the JWKS endpoint.
func (p *IdP) JWKSFetches() int64 { return p.fetches.Load() }

// Down makes discovery and JWKS answer 503.
func (p *IdP) Down(down bool) { p.down.Store(down) }

// Rotate replaces the signing key (and publishes only the new one): EC
// P-256 (ES256) when ec, RSA 2048 (RS256) otherwise.
func (p *IdP) Rotate(t testing.TB, ec bool) {
	t.Helper()
	key, alg := newKey(t, ec)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.key, p.alg = key, alg
	p.kid = "key-" + string(rune('a'+p.n))
}

func newKey(t testing.TB, ec bool) (crypto.Signer, jose.SignatureAlgorithm) {
	if ec {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k, jose.ES256
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k, jose.RS256
}

// PublicKeyPEM is the current public key in PEM (for alg-confusion tests).
func (p *IdP) PublicKeyPEM(t testing.TB) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(p.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Claims of a token; Issuer defaults to the IdP's URL, IssuedAt to now.
type Claims struct {
	Issuer, Subject, Audience string
	Email                     string
	EmailVerified             bool
	Name                      string
	Nonce                     string
	Expiry, NotBefore         time.Time
}

// Sign returns a token signed with the current key.
func (p *IdP) Sign(t testing.TB, c Claims) string {
	p.mu.Lock()
	key, kid, alg := p.key, p.kid, p.alg
	p.mu.Unlock()
	return sign(t, key, kid, alg, p.srv.URL, c)
}

// SignAs signs with this IdP's key but another issuer's name.
func (p *IdP) SignAs(t testing.TB, iss string, c Claims) string {
	p.mu.Lock()
	key, kid, alg := p.key, p.kid, p.alg
	p.mu.Unlock()
	return sign(t, key, kid, alg, iss, c)
}

// SignWithUnpublishedKey signs with a fresh key whose kid is not published.
func (p *IdP) SignWithUnpublishedKey(t testing.TB, c Claims) string {
	key, alg := newKey(t, true)
	return sign(t, key, "never-published-"+rand.Text(), alg, p.srv.URL, c)
}

func sign(t testing.TB, key crypto.Signer, kid string, alg jose.SignatureAlgorithm, iss string, c Claims) string {
	t.Helper()
	raw, err := signRaw(key, kid, alg, iss, c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// signErr signs with the current key (the token endpoint: no testing.TB).
func (p *IdP) signErr(c Claims) (string, error) {
	p.mu.Lock()
	key, kid, alg := p.key, p.kid, p.alg
	p.mu.Unlock()
	return signRaw(key, kid, alg, p.srv.URL, c)
}

func signRaw(key crypto.Signer, kid string, alg jose.SignatureAlgorithm, iss string, c Claims) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		return "", err
	}
	if c.Issuer != "" {
		iss = c.Issuer
	}
	std := jwt.Claims{Issuer: iss, Subject: c.Subject, IssuedAt: jwt.NewNumericDate(time.Now())}
	if c.Audience != "" {
		std.Audience = jwt.Audience{c.Audience}
	}
	if !c.Expiry.IsZero() {
		std.Expiry = jwt.NewNumericDate(c.Expiry)
	}
	if !c.NotBefore.IsZero() {
		std.NotBefore = jwt.NewNumericDate(c.NotBefore)
	}
	extra := map[string]any{"email_verified": c.EmailVerified}
	if c.Email != "" {
		extra["email"] = c.Email
	}
	if c.Name != "" {
		extra["name"] = c.Name
	}
	if c.Nonce != "" {
		extra["nonce"] = c.Nonce
	}
	return jwt.Signed(signer).Claims(std).Claims(extra).Serialize()
}

// Client registers the public client of the authorization code flow and
// the user its authorization endpoint signs in (Issuer, Audience and
// Expiry are set on each token: the IdP's URL, the client id, an hour).
func (p *IdP) Client(clientID, redirectURI string, user Claims) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clientID, p.redirectURI, p.user = clientID, redirectURI, user
	if p.codes == nil {
		p.codes = map[string]grant{}
	}
}

// authorize approves at once: it redirects back with a one-time code bound
// to the client, redirect URI, PKCE challenge and nonce. Errors of the
// client or redirect URI are shown here, never redirected (RFC 6749 4.1.2.1).
func (p *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clientID == "" || q.Get("client_id") != p.clientID || q.Get("redirect_uri") != p.redirectURI {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	back, err := url.Parse(p.redirectURI)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	bq := url.Values{}
	if s := q.Get("state"); s != "" {
		bq.Set("state", s)
	}
	scopes := " " + q.Get("scope") + " "
	switch {
	case q.Get("response_type") != "code":
		bq.Set("error", "unsupported_response_type")
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		bq.Set("error", "invalid_request")
		bq.Set("error_description", "PKCE with S256 is required")
	case !strings.Contains(scopes, " openid "):
		bq.Set("error", "invalid_scope")
	default:
		code := rand.Text()
		p.codes[code] = grant{clientID: p.clientID, redirectURI: p.redirectURI, challenge: q.Get("code_challenge"),
			nonce: q.Get("nonce"), user: p.user, expires: time.Now().Add(5 * time.Minute)}
		bq.Set("code", code)
	}
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token exchanges a code (once) for an id_token, checking the client, the
// redirect URI and that the code verifier hashes to the challenge.
func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "no-store")
	fail := func(code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	if err := r.ParseForm(); err != nil {
		fail("invalid_request", err.Error())
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "authorization_code" {
		fail("unsupported_grant_type", "authorization_code only")
		return
	}
	p.mu.Lock()
	g, ok := p.codes[f.Get("code")]
	delete(p.codes, f.Get("code")) // one use, right or wrong
	p.mu.Unlock()
	switch {
	case !ok || time.Now().After(g.expires):
		fail("invalid_grant", "unknown, used or expired code")
	case f.Get("client_id") != g.clientID || f.Get("redirect_uri") != g.redirectURI:
		fail("invalid_grant", "client or redirect_uri mismatch")
	case len(f.Get("code_verifier")) < 43 || subtle.ConstantTimeCompare([]byte(Challenge(f.Get("code_verifier"))), []byte(g.challenge)) != 1:
		fail("invalid_grant", "code_verifier does not match the code_challenge")
	default:
		c := g.user
		c.Audience, c.Nonce, c.Expiry = g.clientID, g.nonce, time.Now().Add(time.Hour)
		idToken, err := p.signErr(c)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 3600, "id_token": idToken})
	}
}

// Challenge is the S256 PKCE challenge of verifier (for tests of the flow).
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
