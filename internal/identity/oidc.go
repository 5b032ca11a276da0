// Package identity verifies bearer tokens from OpenID Connect identity
// providers: RS256/ES256 JWTs checked against each configured issuer's
// JWKS (found through its discovery document), issuer, audience, exp and
// nbf. It uses coreos/go-oidc for discovery and claim checks and go-jose
// for JOSE; the key cache here adds what go-oidc's RemoteKeySet lacks: a
// floor between JWKS fetches (so tokens with random key ids cannot make
// the server hammer the provider) and keeping the cached keys when the
// provider is unreachable.
package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// Algorithms accepted from OIDC issuers; "none" and HS* never are.
var Algorithms = []string{oidc.RS256, oidc.ES256}

// Defaults.
const (
	DefaultLeeway       = 30 * time.Second
	DefaultRefetchFloor = time.Minute
	fetchTimeout        = 10 * time.Second
	maxDocBytes         = 1 << 20
)

// Issuer configures one identity provider.
type Issuer struct {
	// Issuer is the issuer URL (the iss claim; discovery lives at
	// Issuer + "/.well-known/openid-configuration").
	Issuer string `json:"issuer"`
	// Audience is required in the token's aud claim.
	Audience string `json:"audience"`
	// SSO marks its users as provisioned by SSO (they may not edit their
	// profile name).
	SSO bool `json:"sso"`
	// AdoptLocal lets the first verified sign-in of this issuer take over
	// the user of the "local" (HS256) issuer with the same email: the
	// migration path of a deployment that used development tokens before
	// it had an IdP. Off by default.
	AdoptLocal bool `json:"adopt_local_users"`
	// Claims maps claim names when the provider uses others than the
	// standard "email", "email_verified" and "name".
	Claims ClaimNames `json:"claims"`
}

// ClaimNames names the claims read from a token.
type ClaimNames struct {
	Email         string `json:"email"`
	EmailVerified string `json:"email_verified"`
	Name          string `json:"name"`
}

// File is the form of OKRGRAPH_OIDC_CONFIG: {"issuers": [Issuer...]}.
type File struct {
	Issuers []Issuer `json:"issuers"`
}

// LoadFile reads an issuer configuration file.
func LoadFile(path string) ([]Issuer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f.Issuers, nil
}

// Identity is a verified caller.
type Identity struct {
	Issuer, Subject string
	// Email is set only when the provider says it is verified.
	Email string
	Name  string
	SSO   bool
	// AdoptLocal: see Issuer.AdoptLocal.
	AdoptLocal bool
}

// Errors of Verify. A token that is not verified for any other reason
// wraps ErrInvalid.
var (
	ErrInvalid     = errors.New("invalid token")
	ErrExpired     = errors.New("token expired")
	ErrUnavailable = errors.New("the identity provider's signing keys are unavailable")
)

// Options tune a Verifier.
type Options struct {
	Client       *http.Client     // default: a client with a 10s timeout
	Leeway       time.Duration    // clock skew for exp and nbf; default 30s
	RefetchFloor time.Duration    // least time between two JWKS fetches of one issuer; default 1m
	Now          func() time.Time // tests
}

// Verifier verifies tokens of the configured issuers.
type Verifier struct {
	opts    Options
	issuers map[string]*issuer
}

// New returns a Verifier for issuers. Discovery happens on first use (and
// is retried, no more often than the refetch floor, until it succeeds), so
// a provider that is down at startup does not keep the server down.
func New(issuers []Issuer, opts Options) (*Verifier, error) {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: fetchTimeout}
	}
	if opts.Leeway <= 0 {
		opts.Leeway = DefaultLeeway
	}
	if opts.RefetchFloor <= 0 {
		opts.RefetchFloor = DefaultRefetchFloor
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	v := &Verifier{opts: opts, issuers: map[string]*issuer{}}
	for _, c := range issuers {
		if c.Issuer == "" {
			return nil, errors.New("identity: an issuer needs its URL")
		}
		if c.Audience == "" {
			return nil, fmt.Errorf("identity: issuer %s needs an audience", c.Issuer)
		}
		if c.Issuer == LocalIssuer || c.Issuer == ServiceIssuer {
			return nil, fmt.Errorf("identity: %q is reserved", c.Issuer)
		}
		if _, dup := v.issuers[c.Issuer]; dup {
			return nil, fmt.Errorf("identity: issuer %s is configured twice", c.Issuer)
		}
		if c.Claims.Email == "" {
			c.Claims.Email = "email"
		}
		if c.Claims.EmailVerified == "" {
			c.Claims.EmailVerified = "email_verified"
		}
		if c.Claims.Name == "" {
			c.Claims.Name = "name"
		}
		is := &issuer{cfg: c, opts: &v.opts}
		is.keys = &keySet{is: is}
		v.issuers[c.Issuer] = is
	}
	return v, nil
}

// Reserved issuers: HS256 development tokens, API token service identities.
const (
	LocalIssuer   = "local"
	ServiceIssuer = "okrgraph:api-token"
)

// Handles reports whether iss is a configured issuer.
func (v *Verifier) Handles(iss string) bool {
	if v == nil {
		return false
	}
	_, ok := v.issuers[iss]
	return ok
}

// UnverifiedIssuer returns the iss claim of a compact JWT without verifying
// anything: it only picks the verifier.
func UnverifiedIssuer(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Iss
}

// Verify checks raw against its issuer and returns the identity.
func (v *Verifier) Verify(ctx context.Context, raw string) (Identity, error) {
	is, ok := v.issuers[UnverifiedIssuer(raw)]
	if !ok {
		return Identity{}, fmt.Errorf("%w: unknown issuer", ErrInvalid)
	}
	return is.verify(ctx, raw)
}

type issuer struct {
	cfg  Issuer
	opts *Options
	keys *keySet

	mu        sync.Mutex
	verifier  *oidc.IDTokenVerifier
	jwksURL   string
	lastTried time.Time
}

// discovered returns the token verifier, running discovery when it has not
// succeeded yet (at most once per refetch floor).
func (is *issuer) discovered(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.verifier != nil {
		return is.verifier, nil
	}
	now := is.opts.Now()
	if !is.lastTried.IsZero() && now.Sub(is.lastTried) < is.opts.RefetchFloor {
		return nil, fmt.Errorf("%w: discovery failed recently", ErrUnavailable)
	}
	is.lastTried = now
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, is.opts.Client), fetchTimeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, is.cfg.Issuer) // checks the document's issuer
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %v", ErrUnavailable, err)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil || doc.JWKSURI == "" {
		return nil, fmt.Errorf("%w: discovery document has no jwks_uri", ErrUnavailable)
	}
	is.jwksURL = doc.JWKSURI
	is.verifier = oidc.NewVerifier(is.cfg.Issuer, is.keys, &oidc.Config{
		ClientID:             is.cfg.Audience,
		SupportedSigningAlgs: Algorithms,
		// go-oidc checks exp with no leeway: shift its clock back by ours.
		Now: func() time.Time { return is.opts.Now().Add(-is.opts.Leeway) },
	})
	return is.verifier, nil
}

func (is *issuer) verify(ctx context.Context, raw string) (Identity, error) {
	ver, err := is.discovered(ctx)
	if err != nil {
		return Identity{}, err
	}
	tok, err := ver.Verify(ctx, raw)
	if err != nil {
		if _, ok := errors.AsType[*oidc.TokenExpiredError](err); ok {
			return Identity{}, ErrExpired
		}
		if errors.Is(err, ErrUnavailable) {
			return Identity{}, ErrUnavailable
		}
		return Identity{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// go-oidc allows 5 minutes on nbf; ours is the configured leeway.
	if nbf, ok := claims["nbf"].(float64); ok && time.Unix(int64(nbf), 0).After(is.opts.Now().Add(is.opts.Leeway)) {
		return Identity{}, fmt.Errorf("%w: not valid yet", ErrInvalid)
	}
	if _, ok := claims["exp"]; !ok {
		return Identity{}, fmt.Errorf("%w: no exp", ErrInvalid)
	}
	if tok.Subject == "" {
		return Identity{}, fmt.Errorf("%w: no sub", ErrInvalid)
	}
	id := Identity{Issuer: is.cfg.Issuer, Subject: tok.Subject, SSO: is.cfg.SSO, AdoptLocal: is.cfg.AdoptLocal}
	if name, ok := claims[is.cfg.Claims.Name].(string); ok {
		id.Name = name
	}
	if email, ok := claims[is.cfg.Claims.Email].(string); ok && verified(claims[is.cfg.Claims.EmailVerified]) {
		id.Email = email
	}
	return id, nil
}

// verified reads email_verified, which some providers send as a string.
func verified(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// keySet is the issuer's JWKS cache (an oidc.KeySet).
type keySet struct {
	is *issuer

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	lastFetch time.Time
}

// VerifySignature implements oidc.KeySet: the token's key is looked up in
// the cache; an unknown key id refetches the JWKS unless the last fetch is
// more recent than the floor; a failed fetch keeps the cached keys.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: one signature expected", ErrInvalid)
	}
	kid := jws.Signatures[0].Header.KeyID
	if key, ok := k.find(kid); ok {
		return jws.Verify(key)
	}
	if err := k.refresh(ctx); err != nil {
		return nil, err
	}
	if key, ok := k.find(kid); ok {
		return jws.Verify(key)
	}
	return nil, fmt.Errorf("%w: no key %q in the issuer's key set", ErrInvalid, kid)
}

func (k *keySet) find(kid string) (*jose.JSONWebKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := range k.keys {
		if k.keys[i].KeyID == kid && (k.keys[i].Use == "" || k.keys[i].Use == "sig") {
			return &k.keys[i], true
		}
	}
	return nil, false
}

// refresh fetches the JWKS unless it was fetched (or tried) within the
// floor. Concurrent callers wait for one fetch.
func (k *keySet) refresh(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.is.opts.Now()
	if !k.lastFetch.IsZero() && now.Sub(k.lastFetch) < k.is.opts.RefetchFloor {
		if len(k.keys) == 0 {
			return ErrUnavailable
		}
		return nil
	}
	k.lastFetch = now
	keys, err := k.fetch(ctx)
	if err != nil {
		if len(k.keys) == 0 {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return nil // keep the cached keys
	}
	k.keys = keys
	return nil
}

func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.is.jwksURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.is.opts.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: %s", resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, maxDocBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("jwks: %v", err)
	}
	return set.Keys, nil
}
