// Package idptest runs a real OpenID Connect issuer inside a test process:
// an HTTP server serving the discovery document and the JWKS, signing
// tokens with generated RSA or EC keys, able to rotate keys and go down.
package idptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
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
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                p.srv.URL,
			"jwks_uri":                              p.srv.URL + "/jwks",
			"authorization_endpoint":                p.srv.URL + "/authorize",
			"token_endpoint":                        p.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
	})
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
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
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
	raw, err := jwt.Signed(signer).Claims(std).Claims(extra).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
