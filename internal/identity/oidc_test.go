package identity_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	jwtv5 "github.com/golang-jwt/jwt/v5"

	"okrgraph/internal/identity"
	"okrgraph/internal/identity/idptest"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	idp := idptest.New(t)
	v, err := identity.New([]identity.Issuer{{Issuer: idp.URL(), Audience: "okrgraph", SSO: true}}, identity.Options{RefetchFloor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	good := idptest.Claims{Subject: "u1", Audience: "okrgraph", Email: "ann@acme.example", EmailVerified: true, Name: "Ann", Expiry: now.Add(time.Hour)}

	id, err := v.Verify(ctx, idp.Sign(t, good))
	if err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if id.Issuer != idp.URL() || id.Subject != "u1" || id.Email != "ann@acme.example" || id.Name != "Ann" || !id.SSO {
		t.Fatalf("identity = %+v", id)
	}

	unverified := good
	unverified.EmailVerified = false
	if id, err := v.Verify(ctx, idp.Sign(t, unverified)); err != nil || id.Email != "" {
		t.Fatalf("unverified email must not be taken: %+v %v", id, err)
	}

	bad := map[string]idptest.Claims{}
	c := good
	c.Audience = "someone-else"
	bad["wrong audience"] = c
	c = good
	c.Expiry = now.Add(-time.Hour)
	bad["expired"] = c
	c = good
	c.NotBefore = now.Add(time.Hour)
	bad["not yet valid"] = c
	c = good
	c.Subject = ""
	bad["no subject"] = c
	for name, c := range bad {
		if _, err := v.Verify(ctx, idp.Sign(t, c)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c = good
	c.Expiry = now.Add(-time.Hour)
	if _, err := v.Verify(ctx, idp.Sign(t, c)); !errors.Is(err, identity.ErrExpired) {
		t.Errorf("expired: %v, want ErrExpired", err)
	}

	// Wrong issuer: a second provider with its own keys, and a token of
	// ours claiming another issuer.
	other := idptest.New(t)
	if _, err := v.Verify(ctx, other.Sign(t, good)); err == nil {
		t.Error("token of an unconfigured issuer accepted")
	}
	c = good
	c.Issuer = other.URL()
	if _, err := v.Verify(ctx, idp.Sign(t, c)); err == nil {
		t.Error("token claiming another issuer accepted")
	}
	// Signed by another key under the configured issuer's name.
	forged := other.SignAs(t, idp.URL(), good)
	if _, err := v.Verify(ctx, forged); err == nil {
		t.Error("token signed by a foreign key accepted")
	}

	// alg confusion: HS256 with the issuer's public key as the secret.
	pub := idp.PublicKeyPEM(t)
	hs := jwtv5.NewWithClaims(jwtv5.SigningMethodHS256, jwtv5.MapClaims{"iss": idp.URL(), "sub": "u1", "aud": "okrgraph", "exp": now.Add(time.Hour).Unix()})
	hs.Header["kid"] = idp.KeyID()
	raw, err := hs.SignedString(pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, raw); err == nil {
		t.Error("HS256 token signed with the public key accepted")
	}
	// alg none.
	none := jwtv5.NewWithClaims(jwtv5.SigningMethodNone, jwtv5.MapClaims{"iss": idp.URL(), "sub": "u1", "aud": "okrgraph", "exp": now.Add(time.Hour).Unix()})
	raw, _ = none.SignedString(jwtv5.UnsafeAllowNoneSignatureType)
	if _, err := v.Verify(ctx, raw); err == nil {
		t.Error("alg none accepted")
	}
}

func TestES256AndRotation(t *testing.T) {
	t.Parallel()
	idp := idptest.New(t)
	v, err := identity.New([]identity.Issuer{{Issuer: idp.URL(), Audience: "okrgraph"}}, identity.Options{RefetchFloor: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := idptest.Claims{Subject: "u1", Audience: "okrgraph", Expiry: time.Now().Add(time.Hour)}
	if _, err := v.Verify(ctx, idp.Sign(t, c)); err != nil {
		t.Fatal(err)
	}
	// The provider rotates to an EC key: the unknown kid refetches.
	idp.Rotate(t, true)
	time.Sleep(2 * time.Millisecond)
	if _, err := v.Verify(ctx, idp.Sign(t, c)); err != nil {
		t.Fatalf("token of the rotated (ES256) key: %v", err)
	}
	// A token with a kid the provider never published is refused.
	if _, err := v.Verify(ctx, idp.SignWithUnpublishedKey(t, c)); err == nil {
		t.Fatal("unknown kid accepted")
	}
}

func TestRefetchFloorAndOutage(t *testing.T) {
	t.Parallel()
	idp := idptest.New(t)
	v, err := identity.New([]identity.Issuer{{Issuer: idp.URL(), Audience: "okrgraph"}}, identity.Options{RefetchFloor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := idptest.Claims{Subject: "u1", Audience: "okrgraph", Expiry: time.Now().Add(time.Hour)}
	if _, err := v.Verify(ctx, idp.Sign(t, c)); err != nil {
		t.Fatal(err)
	}
	fetches := idp.JWKSFetches()
	// Many tokens with unknown kids: at most one more fetch within the floor.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := v.Verify(ctx, idp.SignWithUnpublishedKey(t, c)); err == nil {
				t.Error("unknown kid accepted")
			}
		})
	}
	wg.Wait()
	if n := idp.JWKSFetches() - fetches; n > 1 {
		t.Fatalf("%d JWKS fetches for unknown kids within the floor, want at most 1", n)
	}
	// The provider goes down: cached keys keep working.
	idp.Down(true)
	if _, err := v.Verify(ctx, idp.Sign(t, c)); err != nil {
		t.Fatalf("cached key while the provider is down: %v", err)
	}

	// A verifier that never reached the provider: a clear unavailable error.
	v2, _ := identity.New([]identity.Issuer{{Issuer: idp.URL(), Audience: "okrgraph"}}, identity.Options{})
	if _, err := v2.Verify(ctx, idp.Sign(t, c)); !errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("provider down, no cache: %v, want ErrUnavailable", err)
	}
}

// BenchmarkVerify: one OIDC token verification with the keys cached (RS256
// and ES256), the cost every request with an IdP token pays.
func BenchmarkVerify(b *testing.B) {
	for _, ec := range []bool{false, true} {
		name := "RS256"
		if ec {
			name = "ES256"
		}
		b.Run(name, func(b *testing.B) {
			idp := idptest.New(b)
			if ec {
				idp.Rotate(b, true)
			}
			v, err := identity.New([]identity.Issuer{{Issuer: idp.URL(), Audience: "okrgraph"}}, identity.Options{})
			if err != nil {
				b.Fatal(err)
			}
			raw := idp.Sign(b, idptest.Claims{Subject: "u1", Audience: "okrgraph", Email: "a@b.example", EmailVerified: true, Expiry: time.Now().Add(time.Hour)})
			ctx := context.Background()
			if _, err := v.Verify(ctx, raw); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
