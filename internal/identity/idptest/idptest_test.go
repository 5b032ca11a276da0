package idptest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"okrgraph/internal/identity"
	"okrgraph/internal/identity/idptest"
)

// TestAuthorizationCodePKCE: the test IdP's code flow really checks PKCE
// (a wrong verifier is refused and burns the code), the client and the
// redirect URI, and its id_token verifies as the configured user with the
// client id as audience and the request's nonce.
func TestAuthorizationCodePKCE(t *testing.T) {
	t.Parallel()
	idp := idptest.New(t)
	const client, back = "console", "http://127.0.0.1:1/console/"
	idp.Client(client, back, idptest.Claims{Subject: "adam-1", Email: "adam@acme.example", EmailVerified: true, Name: "Adam"})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := strings.Repeat("v", 20) + "-0123456789abcdefghijklmnopqrstuvwxyz"
	authorize := func(t *testing.T, q url.Values) (int, url.Values) {
		t.Helper()
		res, err := noFollow.Get(idp.URL() + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound {
			return res.StatusCode, nil
		}
		loc, err := url.Parse(res.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.String(), back+"?") {
			t.Fatalf("redirected to %q", res.Header.Get("Location"))
		}
		return res.StatusCode, loc.Query()
	}
	good := url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {back}, "scope": {"openid email profile"},
		"state": {"st-1"}, "nonce": {"n-1"}, "code_challenge": {idptest.Challenge(verifier)}, "code_challenge_method": {"S256"}}
	code := func(t *testing.T) string {
		t.Helper()
		_, q := authorize(t, good)
		if q.Get("state") != "st-1" || q.Get("code") == "" {
			t.Fatalf("redirect query %v", q)
		}
		return q.Get("code")
	}
	exchange := func(t *testing.T, code, verifier string) (int, map[string]any) {
		t.Helper()
		res, err := http.PostForm(idp.URL()+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {back}, "client_id": {client}, "code_verifier": {verifier}})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, out
	}

	c := code(t)
	if st, out := exchange(t, c, verifier+"x"); st != http.StatusBadRequest || out["error"] != "invalid_grant" || out["id_token"] != nil {
		t.Fatalf("wrong verifier: %d %v", st, out)
	}
	if st, out := exchange(t, c, verifier); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("a code refused once is gone, got %d %v", st, out)
	}
	if st, out := exchange(t, code(t), ""); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("no verifier: %d %v", st, out)
	}
	for name, mutate := range map[string]func(url.Values){
		"other client":       func(q url.Values) { q.Set("client_id", "evil") },
		"other redirect_uri": func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:2/steal") },
	} {
		q := url.Values{}
		for k, v := range good {
			q[k] = v
		}
		mutate(q)
		if st, _ := authorize(t, q); st != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400 without redirect", name, st)
		}
	}
	plain := url.Values{}
	for k, v := range good {
		plain[k] = v
	}
	plain.Del("code_challenge")
	if _, q := authorize(t, plain); q.Get("error") != "invalid_request" || q.Get("code") != "" {
		t.Errorf("no PKCE challenge: %v", q)
	}

	st, out := exchange(t, code(t), verifier)
	raw, _ := out["id_token"].(string)
	if st != http.StatusOK || raw == "" {
		t.Fatalf("right verifier: %d %v", st, out)
	}
	v, err := identity.New([]identity.Issuer{{Issuer: idp.URL(), Audience: client}}, identity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(context.Background(), raw)
	if err != nil || id.Subject != "adam-1" || id.Email != "adam@acme.example" {
		t.Fatalf("id_token: %+v %v", id, err)
	}
	var claims struct{ Nonce string }
	parts := strings.Split(raw, ".")
	if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err != nil || json.Unmarshal(b, &claims) != nil || claims.Nonce != "n-1" {
		t.Fatalf("nonce %q (%v)", claims.Nonce, err)
	}
}
