package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretLen is the minimum HS256 key length in bytes. RFC 7518 §3.2
// requires an HMAC key at least as long as the hash output (256 bits).
const MinSecretLen = 32

// tokenLeeway absorbs clock skew between the token issuer and this server
// when checking exp, nbf and iat.
const tokenLeeway = 30 * time.Second

// ErrSecretTooShort is returned when a signing secret is shorter than MinSecretLen.
var ErrSecretTooShort = fmt.Errorf("server: JWT secret must be at least %d bytes", MinSecretLen)

// LocalIssuer is the issuer of okrgraph's own HS256 development tokens:
// their users are ("local", sub).
const LocalIssuer = "local"

// Claims is the verified identity of a request.
type Claims struct {
	Issuer   string // the identity's issuer: LocalIssuer for HS256 tokens, the OIDC issuer URL, or an API token's
	Subject  string // "sub": the user's identifier at the issuer; required
	Email    string // a verified email (HS256 development tokens are trusted as verified)
	Name     string // "name"
	Org      string // "org": optional default organization (slug or id); an API token's own org
	ReadOnly bool   // read-only: mutations are refused before anything executes
	SSO      bool   // the issuer provisions users through SSO
	// Service marks an API token's service identity (not a person).
	Service bool
	// AdoptLocal: the issuer may take over the "local" user with the same
	// verified email (migration from development tokens to an IdP).
	AdoptLocal bool
	// Loaded is what an Authenticator read while verifying the token (an
	// API token's facts), handed to Identify; the server does not look
	// at it.
	Loaded any
}

// ErrTokenExpired is wrapped by authenticators for expired credentials.
var ErrTokenExpired = errors.New("bearer token expired")

// Authenticator verifies bearer tokens other than okrgraph's own HS256
// development JWTs: an OIDC issuer's tokens, or API tokens. Its errors may
// be a *RequestError or wrap ErrTokenExpired; any other is "invalid bearer
// token".
type Authenticator interface {
	// Handles reports whether raw is this authenticator's to verify, by its
	// form or its (unverified) issuer.
	Handles(raw string) bool
	Authenticate(ctx context.Context, raw string) (Claims, error)
}

// jwtClaims is the wire form of Claims.
type jwtClaims struct {
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
	Org      string `json:"org,omitempty"`
	ReadOnly bool   `json:"read_only,omitempty"`
	jwt.RegisteredClaims
}

// SignToken returns an HS256-signed JWT for c that expires after ttl.
func SignToken(secret []byte, c Claims, ttl time.Duration) (string, error) {
	if len(secret) < MinSecretLen {
		return "", ErrSecretTooShort
	}
	if c.Subject == "" {
		return "", errors.New("server: token subject is required")
	}
	if ttl <= 0 {
		return "", errors.New("server: token ttl must be positive")
	}
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{
		Email:    c.Email,
		Name:     c.Name,
		Org:      c.Org,
		ReadOnly: c.ReadOnly,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   c.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	})
	return tok.SignedString(secret)
}

// ParseToken verifies raw and returns its claims. Only HS256 is accepted
// ("none" and every other algorithm are rejected), exp is required, exp/nbf/iat
// are checked with a small leeway, and sub must be present.
// Errors wrap jwt/v5 errors (e.g. errors.Is(err, jwt.ErrTokenExpired)).
func ParseToken(secret []byte, raw string) (Claims, error) {
	if len(secret) < MinSecretLen {
		return Claims{}, ErrSecretTooShort
	}
	var wc jwtClaims
	_, err := jwt.ParseWithClaims(raw, &wc,
		func(t *jwt.Token) (any, error) {
			// Belt and braces: WithValidMethods already enforces this.
			if t.Method != jwt.SigningMethodHS256 {
				return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
			}
			return secret, nil
		},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(tokenLeeway),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("server: invalid token: %w", err)
	}
	if wc.Subject == "" {
		return Claims{}, fmt.Errorf("server: invalid token: %w", jwt.ErrTokenRequiredClaimMissing)
	}
	if wc.Issuer != "" && wc.Issuer != LocalIssuer {
		// Identities of other issuers are only ever verified by their own
		// keys (an Authenticator), never by the development secret.
		return Claims{}, fmt.Errorf("server: invalid token: %w", jwt.ErrTokenInvalidIssuer)
	}
	return Claims{
		Issuer:   LocalIssuer,
		Subject:  wc.Subject,
		Email:    wc.Email,
		Name:     wc.Name,
		Org:      wc.Org,
		ReadOnly: wc.ReadOnly,
	}, nil
}

type claimsKey struct{}

// WithClaims returns a copy of ctx carrying c. The server does this for every
// authenticated /graphql request; it is exported for tests of other packages.
func WithClaims(ctx context.Context, c Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFrom returns the verified token claims of the current request.
func ClaimsFrom(ctx context.Context) (Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(Claims)
	return c, ok
}
