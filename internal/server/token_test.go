package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// rawToken signs arbitrary claims with method and key (test helper for
// tokens SignToken refuses to produce).
func rawToken(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustSign(t *testing.T, c Claims, ttl time.Duration) string {
	t.Helper()
	s, err := SignToken(testSecret, c, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	in := Claims{Subject: "user-1", Email: "a@example.com", Name: "Ann", Org: "acme", ReadOnly: true}
	raw := mustSign(t, in, time.Hour)
	out, err := ParseToken(testSecret, raw)
	if err != nil {
		t.Fatal(err)
	}
	in.Issuer = LocalIssuer // HS256 tokens are the "local" issuer's
	if out != in {
		t.Fatalf("claims = %+v, want %+v", out, in)
	}

	// Wire format: standard claim names, read_only, HS256, iat/exp.
	var mc jwt.MapClaims
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &mc)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["alg"] != "HS256" {
		t.Errorf("alg = %v", tok.Header["alg"])
	}
	for _, k := range []string{"sub", "email", "name", "org", "read_only", "iat", "exp"} {
		if _, ok := mc[k]; !ok {
			t.Errorf("claim %q missing in %v", k, mc)
		}
	}

	minimal, err := ParseToken(testSecret, mustSign(t, Claims{Subject: "u"}, time.Minute))
	if err != nil || minimal != (Claims{Issuer: LocalIssuer, Subject: "u"}) {
		t.Errorf("minimal token: %+v, %v", minimal, err)
	}
}

func TestSignTokenErrors(t *testing.T) {
	t.Parallel()
	if _, err := SignToken(testSecret[:31], Claims{Subject: "u"}, time.Hour); !errors.Is(err, ErrSecretTooShort) {
		t.Errorf("short secret: %v", err)
	}
	if _, err := SignToken(testSecret, Claims{}, time.Hour); err == nil {
		t.Error("missing subject: no error")
	}
	if _, err := SignToken(testSecret, Claims{Subject: "u"}, 0); err == nil {
		t.Error("zero ttl: no error")
	}
}

func TestParseTokenRejects(t *testing.T) {
	t.Parallel()
	now := time.Now()
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "u", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hs256 := func(c jwt.MapClaims) string { return rawToken(t, jwt.SigningMethodHS256, testSecret, c) }

	cases := []struct {
		name    string
		token   string
		secret  []byte
		wantErr error // optional errors.Is target
	}{
		{name: "empty", token: ""},
		{name: "malformed", token: "not.a.jwt"},
		{name: "garbage", token: "abc"},
		{name: "wrong secret", token: rawToken(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), valid()), wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "alg none", token: rawToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid())},
		{name: "HS384", token: rawToken(t, jwt.SigningMethodHS384, testSecret, valid())},
		{name: "HS512", token: rawToken(t, jwt.SigningMethodHS512, testSecret, valid())},
		{name: "ES256", token: rawToken(t, jwt.SigningMethodES256, ecKey, valid())},
		{name: "expired", token: hs256(with("exp", now.Add(-time.Hour).Unix())), wantErr: jwt.ErrTokenExpired},
		{name: "expired beyond leeway", token: hs256(with("exp", now.Add(-tokenLeeway-5*time.Second).Unix())), wantErr: jwt.ErrTokenExpired},
		{name: "no exp", token: hs256(with("exp", nil)), wantErr: jwt.ErrTokenRequiredClaimMissing},
		{name: "no sub", token: hs256(with("sub", nil)), wantErr: jwt.ErrTokenRequiredClaimMissing},
		{name: "empty sub", token: hs256(with("sub", "")), wantErr: jwt.ErrTokenRequiredClaimMissing},
		{name: "not yet valid", token: hs256(with("nbf", now.Add(time.Hour).Unix())), wantErr: jwt.ErrTokenNotValidYet},
		{name: "issued in the future", token: hs256(with("iat", now.Add(time.Hour).Unix())), wantErr: jwt.ErrTokenUsedBeforeIssued},
		{name: "sub not a string", token: hs256(with("sub", 42))},
		{name: "read_only not a bool", token: hs256(with("read_only", "yes"))},
		{name: "short secret", token: hs256(valid()), secret: testSecret[:16], wantErr: ErrSecretTooShort},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secret := tc.secret
			if secret == nil {
				secret = testSecret
			}
			c, err := ParseToken(secret, tc.token)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if c != (Claims{}) {
				t.Errorf("claims returned with error: %+v", c)
			}
		})
	}
}

func TestParseTokenLeeway(t *testing.T) {
	t.Parallel()
	now := time.Now()
	raw := rawToken(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{
		"sub": "u",
		"iat": now.Add(-time.Hour).Unix(),
		"exp": now.Add(-tokenLeeway / 2).Unix(), // just expired, within leeway
	})
	if _, err := ParseToken(testSecret, raw); err != nil {
		t.Fatalf("token within leeway rejected: %v", err)
	}
}
