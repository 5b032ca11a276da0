package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	jwtv5 "github.com/golang-jwt/jwt/v5"

	"okrgraph/ent/review"
	"okrgraph/ent/user"
	"okrgraph/internal/app"
	"okrgraph/internal/identity"
	"okrgraph/internal/identity/idptest"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

type apiToken struct {
	ID         string
	Name       string
	Scopes     []string
	CreatedBy  *struct{ Name string } `json:"createdBy"`
	ExpiresAt  *string                `json:"expiresAt"`
	LastUsedAt *string                `json:"lastUsedAt"`
	RevokedAt  *string                `json:"revokedAt"`
}

const apiTokenFields = `id name scopes createdBy { name } expiresAt lastUsedAt revokedAt`

func createToken(t *testing.T, c *testenv.Client, name string) (apiToken, string) {
	t.Helper()
	var out struct {
		CreateAPIToken struct {
			Token  apiToken
			Secret string
		} `json:"createApiToken"`
	}
	c.MustDo(t, `mutation($n: String!) { createApiToken(input: {name: $n}) { token { `+apiTokenFields+` } secret } }`, map[string]any{"n": name}, &out)
	return out.CreateAPIToken.Token, out.CreateAPIToken.Secret
}

func wantStatus(t *testing.T, r *testenv.Response, status int, code string) {
	t.Helper()
	if r.Status != status || r.Code() != code {
		t.Fatalf("status %d code %q, want %d %s: %+v", r.Status, r.Code(), status, code, r.Errors)
	}
}

// TestAPITokens: org admins create, list and revoke tokens; a token acts
// as its org's read-only service identity, only in its org, until revoked
// or expired — refused on the very next request.
func TestAPITokens(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		olivia, steve := e.As("olivia", "acme"), e.As("steve", "acme")

		tok, secret := createToken(t, olivia, "Looker")
		if !strings.HasPrefix(secret, "okrg_") || len(secret) < 30 {
			t.Fatalf("secret %q", secret)
		}
		if !slices.Equal(tok.Scopes, []string{"READ"}) || tok.CreatedBy == nil || tok.CreatedBy.Name != "Olivia Owner" || tok.ExpiresAt == nil {
			t.Fatalf("token %+v", tok)
		}
		stored, err := e.App.DB.Client.APIToken.Query().Only(ctx)
		testenv.Must(t, err)
		if strings.Contains(string(stored.SecretHash), secret) || len(stored.SecretHash) != 32 {
			t.Fatal("the secret must be stored hashed only")
		}

		// Members who are not org admins can neither create nor list.
		for _, q := range []string{`mutation { createApiToken(input: {name: "x"}) { secret } }`, `{ apiTokens { id } }`} {
			if r := steve.Do(t, q, nil); r.Code() != "FORBIDDEN" {
				t.Fatalf("%s as a member: %+v", q, r.Errors)
			}
		}

		svc := e.WithToken(secret, "acme")
		var me struct {
			Viewer struct {
				User       struct{ Name string }
				Membership *struct{ Role string }
			}
			Okrs struct{ TotalCount int }
		}
		svc.MustDo(t, `{ viewer { user { name } membership { role } } okrs { totalCount } }`, nil, &me)
		if me.Viewer.User.Name != "Looker" || me.Viewer.Membership != nil || me.Okrs.TotalCount == 0 {
			t.Fatalf("service viewer %+v", me)
		}
		// Without X-Org the token's own org is selected.
		e.WithToken(secret, "").MustDo(t, `{ okrs { totalCount } }`, nil, &me)

		// Listing shows the last use, never the secret.
		r := olivia.Do(t, `{ apiTokens { `+apiTokenFields+` } }`, nil)
		if strings.Contains(string(r.Data), secret) || strings.Contains(string(r.Data), "okrg_") {
			t.Fatal("apiTokens shows the secret")
		}
		var list struct {
			APITokens []apiToken `json:"apiTokens"`
		}
		r.Decode(t, &list)
		if len(list.APITokens) != 1 || list.APITokens[0].LastUsedAt == nil {
			t.Fatalf("apiTokens %+v", list.APITokens)
		}

		// Read-only: mutations are FORBIDDEN with a sentence.
		r = svc.Do(t, `mutation { createOKRItem(input: {kind: OBJECTIVE, level: INDIVIDUAL, title: "x"}) { item { id } } }`, nil)
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("mutation with a read-only token: %+v", r.Errors)
		}
		if reasons, _ := r.Errors[0].Extensions["reasons"].([]any); len(reasons) != 1 || !strings.Contains(fmt.Sprint(reasons[0]), "read-only") || strings.Contains(fmt.Sprint(reasons[0]), "_") {
			t.Fatalf("reasons %v", r.Errors[0].Extensions["reasons"])
		}

		// A token of org A is NOT_FOUND in org B, and the other way round.
		var created struct {
			CreateOrganization struct{ Organization struct{ ID string } } `json:"createOrganization"`
		}
		steve.MustDo(t, `mutation { createOrganization(input: {name: "Globex", slug: "globex"}) { organization { id } } }`, nil, &created)
		wantStatus(t, e.WithToken(secret, "globex").Do(t, `{ okrs { totalCount } }`, nil), http.StatusNotFound, "NOT_FOUND")
		wantStatus(t, e.WithToken(secret, created.CreateOrganization.Organization.ID).Do(t, `{ okrs { totalCount } }`, nil), http.StatusNotFound, "NOT_FOUND")
		_, globexSecret := createToken(t, e.As("steve", "globex"), "Globex BI")
		wantStatus(t, e.WithToken(globexSecret, "acme").Do(t, `{ okrs { totalCount } }`, nil), http.StatusNotFound, "NOT_FOUND")
		if r := e.As("steve", "globex").Do(t, `mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, map[string]any{"id": tok.ID}); r.Code() != "NOT_FOUND" {
			t.Fatalf("revoking another org's token: %+v", r.Errors)
		}

		// Revoked: refused on the very next request.
		var rev struct {
			RevokeAPIToken apiToken `json:"revokeApiToken"`
		}
		olivia.MustDo(t, `mutation($id: ID!) { revokeApiToken(id: $id) { `+apiTokenFields+` } }`, map[string]any{"id": tok.ID}, &rev)
		if rev.RevokeAPIToken.RevokedAt == nil {
			t.Fatal("revokedAt not set")
		}
		wantStatus(t, svc.Do(t, `{ okrs { totalCount } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED")

		// Expired: refused too.
		exp, expSecret := createToken(t, olivia, "Expiring")
		e.WithToken(expSecret, "acme").MustDo(t, `{ okrs { totalCount } }`, nil, &me)
		// (expires_at is immutable through the API and ent: set it in SQL
		// to its creation time, which is past.)
		_, err = e.App.DB.SQL.ExecContext(ctx, `UPDATE api_tokens SET expires_at = created_at WHERE name = 'Expiring'`)
		testenv.Must(t, err)
		_ = exp
		wantStatus(t, e.WithToken(expSecret, "acme").Do(t, `{ okrs { totalCount } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED")

		// Guessed and malformed tokens.
		for _, s := range []string{"okrg_" + strings.Repeat("A", 26), "okrg_", secret + "x"} {
			wantStatus(t, e.WithToken(s, "acme").Do(t, `{ okrs { totalCount } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED")
		}
		// Bad input writes nothing.
		before, _ := e.App.DB.Client.APIToken.Query().Count(ctx)
		for _, in := range []string{`{name: ""}`, `{name: "x", expiresAt: "2001-01-01T00:00:00Z"}`, `{name: "x", expiresAt: "2999-01-01T00:00:00Z"}`} {
			if r := olivia.Do(t, `mutation { createApiToken(input: `+in+`) { secret } }`, nil); r.Code() != "BAD_USER_INPUT" {
				t.Fatalf("%s: %+v", in, r.Errors)
			}
		}
		if after, _ := e.App.DB.Client.APIToken.Query().Count(ctx); after != before {
			t.Fatalf("bad input wrote tokens: %d -> %d", before, after)
		}
	})
}

// TestServiceIdentityReads: a service identity reads a 5-level tree, and
// no query field of the schema — walked from introspection, with the ids
// of private items and reviews as arguments — shows it a private OKR or a
// review, or answers INTERNAL.
func TestServiceIdentityReads(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		olivia, steve := e.As("olivia", "acme"), e.As("steve", "acme")
		const secretTitle, secretKR, secretReview = "PRIVSECRET objective", "PRIVSECRET key result", "REVIEWSECRET confidential"

		parent := ""
		var tree []string
		for i := 1; i <= 5; i++ {
			in := map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": fmt.Sprintf("Tree level %d", i)}
			if i == 1 {
				in["level"] = "ORGANIZATION"
			}
			if i == 5 {
				in["kind"] = "KEY_RESULT"
			}
			if parent != "" {
				in["parentId"] = parent
			}
			parent = mustCreate(t, olivia, in).ID
			tree = append(tree, parent)
		}
		priv := mustCreate(t, steve, map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": secretTitle, "private": true})
		privKR := mustCreate(t, steve, map[string]any{"kind": "KEY_RESULT", "level": "INDIVIDUAL", "title": secretKR, "parentId": priv.ID})
		testenv.Must(t, e.App.DB.Client.Review.Update().SetComments(secretReview).Exec(ctx))
		rv, err := e.App.DB.Client.Review.Query().Where(review.CommentsEQ(secretReview)).First(ctx)
		testenv.Must(t, err)

		_, secret := createToken(t, olivia, "BI")
		svc := e.WithToken(secret, "acme")

		var out struct {
			Node struct {
				Title    string
				Children struct {
					Edges []struct {
						Node struct {
							Title    string
							Children struct {
								Edges []struct {
									Node struct {
										Title    string
										Children struct {
											Edges []struct {
												Node struct {
													Title    string
													Children struct {
														Edges []struct{ Node struct{ Title string } }
													}
												}
											}
										}
									}
								}
							}
						}
					}
				}
			}
		}
		const level = `title children(first: 10) { edges { node { %s } } }`
		sel := "title"
		for range 4 {
			sel = fmt.Sprintf(level, sel)
		}
		svc.MustDo(t, `query($id: ID!) { node(id: $id) { ... on OKRItem { `+sel+` } } }`, map[string]any{"id": tree[0]}, &out)
		n := out.Node
		got := []string{n.Title}
		if len(n.Children.Edges) == 1 {
			n2 := n.Children.Edges[0].Node
			got = append(got, n2.Title)
			if len(n2.Children.Edges) == 1 {
				n3 := n2.Children.Edges[0].Node
				got = append(got, n3.Title)
				if len(n3.Children.Edges) == 1 {
					n4 := n3.Children.Edges[0].Node
					got = append(got, n4.Title)
					if len(n4.Children.Edges) == 1 {
						got = append(got, n4.Children.Edges[0].Node.Title)
					}
				}
			}
		}
		if len(got) != 5 || got[4] != "Tree level 5" {
			t.Fatalf("5-level tree as a service identity: %v", got)
		}

		ids := []string{priv.ID, privKR.ID, fmt.Sprint(rv.ID), fmt.Sprint(rv.CycleID)}
		for _, q := range schemaQueries(t, olivia, ids) {
			r := svc.Do(t, q, nil)
			body, _ := json.Marshal(r)
			for _, s := range []string{"PRIVSECRET", "REVIEWSECRET"} {
				if strings.Contains(string(body), s) {
					t.Errorf("%s leaks %s to a service identity: %s", q, s, body)
				}
			}
			for _, er := range r.Errors {
				if er.Code() == "INTERNAL" {
					t.Errorf("%s: INTERNAL: %+v", q, er)
				}
			}
		}
		// The same queries do show them to someone allowed (the walk reaches them).
		var seen bool
		for _, q := range schemaQueries(t, olivia, ids) {
			body, _ := json.Marshal(e.As("steve", "acme").Do(t, q, nil))
			seen = seen || strings.Contains(string(body), "PRIVSECRET")
		}
		if !seen {
			t.Fatal("the walk never reaches the private item even for its owner: it proves nothing")
		}
	})
}

// schemaQueries builds one query per Query field (and per sensitive id for
// fields taking a required ID), selecting the scalars of the result and of
// its objects two levels down (connections through edges.node).
func schemaQueries(t *testing.T, c *testenv.Client, ids []string) []string {
	t.Helper()
	type typeRef struct {
		Kind   string
		Name   *string
		OfType *typeRef `json:"ofType"`
	}
	type field struct {
		Name string
		Args []struct {
			Name string
			Type typeRef
		}
		Type typeRef
	}
	var intro struct {
		Schema struct {
			Types []struct {
				Name   string
				Kind   string
				Fields []field
			}
		} `json:"__schema"`
	}
	const tref = `kind name ofType { kind name ofType { kind name ofType { kind name } } }`
	c.MustDo(t, `{ __schema { types { name kind fields { name args { name type { `+tref+` } } type { `+tref+` } } } } }`, nil, &intro)
	types := map[string][]field{}
	kinds := map[string]string{}
	for _, ty := range intro.Schema.Types {
		types[ty.Name] = ty.Fields
		kinds[ty.Name] = ty.Kind
	}
	named := func(r typeRef) (string, bool) { // name, required
		req := r.Kind == "NON_NULL"
		for r.Name == nil && r.OfType != nil {
			r = *r.OfType
		}
		return *r.Name, req
	}
	hasRequired := func(f field) bool {
		for _, a := range f.Args {
			if _, req := named(a.Type); req {
				return true
			}
		}
		return false
	}
	scalars := func(tn string) string {
		var out []string
		for _, f := range types[tn] {
			ft, _ := named(f.Type)
			if k := kinds[ft]; (k == "SCALAR" || k == "ENUM") && !hasRequired(f) {
				out = append(out, f.Name)
			}
		}
		return strings.Join(out, " ")
	}
	var selection func(tn string, depth int) string
	selection = func(tn string, depth int) string {
		switch kinds[tn] {
		case "SCALAR", "ENUM":
			return ""
		case "INTERFACE", "UNION":
			return "{ __typename ... on OKRItem { id title } ... on Review { id comments } }"
		}
		parts := []string{"__typename", scalars(tn)}
		if depth > 0 {
			for _, f := range types[tn] {
				ft, _ := named(f.Type)
				if k := kinds[ft]; k == "OBJECT" && !hasRequired(f) {
					if strings.HasSuffix(ft, "Connection") {
						parts = append(parts, f.Name+"(first: 5) { totalCount edges { node "+selection(strings.TrimSuffix(ft, "Connection"), depth-1)+" } }")
					} else {
						parts = append(parts, f.Name+" "+selection(ft, depth-1))
					}
				}
			}
		}
		return "{ " + strings.Join(parts, " ") + " }"
	}
	var out []string
	for _, f := range types["Query"] {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		ft, _ := named(f.Type)
		sel := selection(ft, 2)
		var idArgs []string
		ok := true
		for _, a := range f.Args {
			an, req := named(a.Type)
			if !req {
				continue
			}
			switch {
			case an == "ID" && a.Type.Kind == "NON_NULL" && a.Type.OfType.Kind != "LIST":
				idArgs = append(idArgs, a.Name)
			case an == "ID":
				idArgs = append(idArgs, a.Name+"[]")
			default:
				ok = false
			}
		}
		if !ok {
			continue
		}
		if len(idArgs) == 0 {
			out = append(out, "{ "+f.Name+" "+sel+" }")
			continue
		}
		for _, id := range ids {
			var args []string
			for _, a := range idArgs {
				if name, ok := strings.CutSuffix(a, "[]"); ok {
					args = append(args, fmt.Sprintf("%s: [%q]", name, id))
				} else {
					args = append(args, fmt.Sprintf("%s: %q", a, id))
				}
			}
			out = append(out, "{ "+f.Name+"("+strings.Join(args, ", ")+") "+sel+" }")
		}
	}
	if len(out) < 10 {
		t.Fatalf("schema walk found only %d queries", len(out))
	}
	return out
}

func oidcEnv(t *testing.T, backend string, idp *idptest.IdP, dbURL string) *testenv.Env {
	return testenv.New(t, backend, testenv.Config{Demo: dbURL == "", DatabaseURL: dbURL, Tweak: func(c *app.Config) {
		c.OIDC = []identity.Issuer{{Issuer: idp.URL(), Audience: "okrgraph", SSO: true}}
		c.OIDCOptions = identity.Options{RefetchFloor: time.Millisecond}
	}})
}

// TestOIDCSignIn runs a real issuer in the test process: users are
// (issuer, subject), email only from the verified claim, invitations bind
// to the first verified sign-in (no email squatting), SSO users cannot
// rename themselves, and bad tokens are 401.
func TestOIDCSignIn(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			idp := idptest.New(t)
			e := oidcEnv(t, b, idp, "")
			ctx := scope.System(context.Background())
			olivia := e.As("olivia", "acme")
			exp := time.Now().Add(time.Hour)
			as := func(c idptest.Claims, org string) *testenv.Client {
				if c.Audience == "" {
					c.Audience = "okrgraph"
				}
				if c.Expiry.IsZero() {
					c.Expiry = exp
				}
				return e.WithToken(idp.Sign(t, c), org)
			}

			// The admin invites the new hire by email, as an ADMIN.
			olivia.MustDo(t, `mutation { addMember(input: {email: "newhire@acme.example", role: ADMIN}) { membership { id } } }`, nil, &struct{}{})

			// A squatter claims the email without the provider verifying it:
			// the invitation is not theirs.
			squatter := idptest.Claims{Subject: "squatter", Email: "newhire@acme.example", Name: "Squatter"}
			wantStatus(t, as(squatter, "acme").Do(t, `{ okrs { totalCount } }`, nil), http.StatusNotFound, "NOT_FOUND")
			var v struct {
				Viewer struct{ User struct{ Email *string } }
			}
			as(squatter, "").MustDo(t, `{ viewer { user { email } } }`, nil, &v)
			if v.Viewer.User.Email != nil {
				t.Fatalf("unverified email taken: %v", *v.Viewer.User.Email)
			}
			// The email is not editable through the API (no oracle either).
			r := as(squatter, "").Do(t, `mutation { updateProfile(input: {email: "newhire@acme.example"}) { user { email } } }`, nil)
			if len(r.Errors) == 0 || r.Code() == "CONFLICT" {
				t.Fatalf("updateProfile(email) %+v", r.Errors)
			}

			// The real hire signs in with the verified email: the invitation
			// binds to them, with its role; the name comes from the token.
			hire := idptest.Claims{Subject: "hire-1", Email: "newhire@acme.example", EmailVerified: true, Name: "Nina Newhire"}
			var me struct {
				Viewer struct {
					User struct {
						Name, Email string
						SSO         bool
					}
					Membership struct{ Role string }
				}
			}
			as(hire, "acme").MustDo(t, `{ viewer { user { name email sso } membership { role } } }`, nil, &me)
			if me.Viewer.User.Name != "Nina Newhire" || me.Viewer.User.Email != "newhire@acme.example" || !me.Viewer.User.SSO || me.Viewer.Membership.Role != "ADMIN" {
				t.Fatalf("hire %+v", me)
			}
			u, err := e.App.DB.Client.User.Query().Where(user.Issuer(idp.URL()), user.Sub("hire-1")).Only(ctx)
			testenv.Must(t, err)
			if u.Email == nil || *u.Email != "newhire@acme.example" {
				t.Fatal("hire not bound by (issuer, subject)")
			}
			// A second identity with the same verified email does not take it over.
			other := idptest.Claims{Subject: "hire-2", Email: "newhire@acme.example", EmailVerified: true}
			wantStatus(t, as(other, "acme").Do(t, `{ okrs { totalCount } }`, nil), http.StatusNotFound, "NOT_FOUND")
			// A local (HS256) user with the same subject is another user.
			if id := e.UserID(t, "hire-1@acme.example"); id == fmt.Sprint(u.ID) {
				t.Fatal("local and OIDC subjects collide")
			}

			// SSO users cannot rename themselves; the policy says why.
			r = as(hire, "acme").Do(t, `mutation { updateProfile(input: {name: "Other"}) { user { name } } }`, nil)
			if r.Code() != "FORBIDDEN" || !strings.Contains(fmt.Sprint(r.Errors[0].Extensions["reasons"]), "SSO") {
				t.Fatalf("SSO rename: %+v", r.Errors)
			}

			// Org admins see the last sign-in; members do not.
			q := `{ members(first: 50) { edges { node { user { name } lastSignInAt } } } }`
			seen := func(c *testenv.Client) (hireSeen bool) {
				var m struct {
					Members struct {
						Edges []struct {
							Node struct {
								User         struct{ Name string }
								LastSignInAt *string
							}
						}
					}
				}
				c.MustDo(t, q, nil, &m)
				for _, ed := range m.Members.Edges {
					if ed.Node.User.Name == "Nina Newhire" && ed.Node.LastSignInAt != nil {
						hireSeen = true
					}
				}
				return
			}
			if !seen(olivia) || seen(e.As("steve", "acme")) {
				t.Fatal("lastSignInAt must show to org admins only")
			}

			// Bad tokens are 401.
			bad := map[string]string{}
			c := hire
			c.Audience = "another-app"
			bad["wrong audience"] = idp.Sign(t, c)
			c = hire
			c.Audience, c.Expiry = "okrgraph", time.Now().Add(-time.Hour)
			bad["expired"] = idp.Sign(t, c)
			c = hire
			c.Audience, c.Expiry = "okrgraph", exp
			bad["unknown kid"] = idp.SignWithUnpublishedKey(t, c)
			bad["unconfigured issuer"] = idptest.New(t).Sign(t, c)
			hs := jwtv5.NewWithClaims(jwtv5.SigningMethodHS256, jwtv5.MapClaims{"iss": idp.URL(), "sub": "hire-1", "aud": "okrgraph", "exp": exp.Unix()})
			hs.Header["kid"] = idp.KeyID()
			bad["alg confusion"], _ = hs.SignedString(idp.PublicKeyPEM(t))
			for name, raw := range bad {
				r := e.WithToken(raw, "acme").Do(t, `{ okrs { totalCount } }`, nil)
				if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
					t.Errorf("%s: %d %+v", name, r.Status, r.Errors)
				}
			}
			if r := e.WithToken(bad["expired"], "acme").Do(t, `{ okrs { totalCount } }`, nil); !strings.Contains(r.Errors[0].Message, "expired") {
				t.Errorf("expired: %q", r.Errors[0].Message)
			}

			// Key rotation: the new key's tokens work at once.
			idp.Rotate(t, true)
			time.Sleep(5 * time.Millisecond) // past the test's 1ms refetch floor
			as(hire, "acme").MustDo(t, `{ okrs { totalCount } }`, nil, &struct{}{})

			// The provider goes down: cached keys keep working; an instance
			// that never fetched them answers a clear 401.
			idp.Down(true)
			as(hire, "acme").MustDo(t, `{ okrs { totalCount } }`, nil, &struct{}{})
			cold := oidcEnv(t, b, idp, e.URL)
			r = cold.WithToken(idp.Sign(t, hire), "acme").Do(t, `{ okrs { totalCount } }`, nil)
			if r.Status != http.StatusUnauthorized || !strings.Contains(r.Errors[0].Message, "identity provider") {
				t.Fatalf("provider down, nothing cached: %d %+v", r.Status, r.Errors)
			}
		})
	}
}

// TestLegacyUsersMigrate: users made by HS256 tokens before identities
// carried an issuer become ("local", subject) and keep signing in.
func TestLegacyUsersMigrate(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		_, err := e.App.DB.SQL.ExecContext(ctx, `UPDATE users SET subject = sub, issuer = NULL, sub = NULL WHERE email = 'steve@acme.example'`)
		testenv.Must(t, err)
		testenv.Must(t, e.App.DB.Migrate(ctx))
		u, err := e.App.DB.Client.User.Query().Where(user.Email("steve@acme.example")).Only(scope.System(ctx))
		testenv.Must(t, err)
		if u.Issuer == nil || *u.Issuer != "local" || u.Sub == nil || *u.Sub != "steve@acme.example" || u.LegacySubject != nil {
			t.Fatalf("migrated user %+v", u)
		}
		var out struct {
			Viewer struct{ User struct{ ID string } }
		}
		e.As("steve", "acme").MustDo(t, `{ viewer { user { id } } }`, nil, &out)
		if out.Viewer.User.ID != fmt.Sprint(u.ID) {
			t.Fatal("a migrated user signs in as someone else")
		}
	})
}

// TestRemovedMemberRefusedNextRequest: membership is checked on every
// request, so a member removed from the org (removeMember deletes the
// membership row) is NOT_FOUND for it from the next request on, with the
// very token that worked a moment before.
func TestRemovedMemberRefusedNextRequest(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		var added struct {
			AddMember struct{ Membership struct{ ID string } } `json:"addMember"`
		}
		e.As("olivia", "acme").MustDo(t, `mutation { addMember(input: {email: "leaver@acme.example"}) { membership { id } } }`, nil, &added)
		leaver := e.As("leaver@acme.example", "acme")
		leaver.MustDo(t, `{ okrs { totalCount } }`, nil, &struct{}{})
		var id int
		_, err := fmt.Sscan(added.AddMember.Membership.ID, &id)
		testenv.Must(t, err)
		testenv.Must(t, e.App.DB.Client.Membership.DeleteOneID(id).Exec(ctx))
		wantStatus(t, leaver.Do(t, `{ okrs { totalCount } }`, nil), http.StatusNotFound, "NOT_FOUND")
	})
}

// TestOIDCAdoptLocalUsers: moving a deployment from development tokens to
// an IdP, an issuer configured to adopt local users takes over the local
// user with the same verified email (memberships and items included);
// without the setting, or without a verified email, nothing is taken over.
func TestOIDCAdoptLocalUsers(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			idp := idptest.New(t)
			e := testenv.New(t, b, testenv.Config{Demo: true, Tweak: func(c *app.Config) {
				c.OIDC = []identity.Issuer{{Issuer: idp.URL(), Audience: "okrgraph", AdoptLocal: true}}
			}})
			steveID := e.UserID(t, "steve")
			exp := time.Now().Add(time.Hour)
			unverified := idp.Sign(t, idptest.Claims{Subject: "s-1", Audience: "okrgraph", Email: "steve@acme.example", Expiry: exp})
			wantStatus(t, e.WithToken(unverified, "acme").Do(t, `{ okrs { totalCount } }`, nil), http.StatusNotFound, "NOT_FOUND")
			verified := idp.Sign(t, idptest.Claims{Subject: "s-2", Audience: "okrgraph", Email: "steve@acme.example", EmailVerified: true, Expiry: exp})
			var out struct {
				Viewer struct {
					User       struct{ ID string }
					Membership struct{ Role string }
				}
			}
			e.WithToken(verified, "acme").MustDo(t, `{ viewer { user { id } membership { role } } }`, nil, &out)
			if out.Viewer.User.ID != steveID || out.Viewer.Membership.Role != "MEMBER" {
				t.Fatalf("adopted user %+v, want steve %s", out, steveID)
			}
		})
	}
}

// BenchmarkAuthenticatedRequest: `{ viewer { user { id } } }` through the
// handler on SQLite, authenticated by each kind of token.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	idp := idptest.New(b)
	e := testenv.New(b, "sqlite", testenv.Config{Demo: true, Tweak: func(c *app.Config) {
		c.OIDC = []identity.Issuer{{Issuer: idp.URL(), Audience: "okrgraph"}}
	}})
	var tok struct {
		CreateAPIToken struct{ Secret string } `json:"createApiToken"`
	}
	e.As("olivia", "acme").MustDo(b, `mutation { createApiToken(input: {name: "bench"}) { secret } }`, nil, &tok)
	clients := map[string]*testenv.Client{
		"hs256":    e.As("steve", "acme"),
		"oidc":     e.WithToken(idp.Sign(b, idptest.Claims{Subject: "bench", Audience: "okrgraph", Expiry: time.Now().Add(time.Hour)}), ""),
		"apitoken": e.WithToken(tok.CreateAPIToken.Secret, "acme"),
	}
	for _, name := range []string{"hs256", "oidc", "apitoken"} {
		c := clients[name]
		b.Run(name, func(b *testing.B) {
			var out struct {
				Viewer struct{ User struct{ ID string } }
			}
			c.MustDo(b, `{ viewer { user { id } } }`, nil, &out)
			b.ReportAllocs()
			for b.Loop() {
				c.MustDo(b, `{ viewer { user { id } } }`, nil, &out)
			}
		})
	}
}

// TestEmailSquatting is the regression test of the reported attack: a new
// user set someone else's email with updateProfile, the admin's addMember
// for that email then attached the squatter (as ADMIN) and the real hire
// got 401; updateProfile also answered CONFLICT for a registered email.
// The email is no longer editable, so the invitation waits for the real
// hire, and nothing answers whether an email is registered.
func TestEmailSquatting(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		squatter := e.As("squatter@evil.example", "")
		for _, email := range []string{"newhire@acme.example", "steve@acme.example"} {
			r := squatter.Do(t, `mutation($e: String!) { updateProfile(input: {email: $e}) { user { email } } }`, map[string]any{"e": email})
			if len(r.Errors) == 0 || r.Code() == "CONFLICT" || strings.Contains(r.Errors[0].Message, "belongs") {
				t.Fatalf("updateProfile(email: %s): %+v", email, r.Errors)
			}
		}
		var me struct {
			Viewer struct{ User struct{ Email string } }
		}
		squatter.MustDo(t, `{ viewer { user { email } } }`, nil, &me)
		if me.Viewer.User.Email != "squatter@evil.example" {
			t.Fatalf("squatter's email changed to %q", me.Viewer.User.Email)
		}

		var added struct {
			AddMember struct {
				Membership struct{ User struct{ ID string } }
			} `json:"addMember"`
		}
		e.As("olivia", "acme").MustDo(t, `mutation { addMember(input: {email: "newhire@acme.example", role: ADMIN}) { membership { user { id } } } }`, nil, &added)
		if added.AddMember.Membership.User.ID == e.UserID(t, "squatter@evil.example") {
			t.Fatal("the invitation went to the squatter")
		}
		wantStatus(t, e.As("squatter@evil.example", "acme").Do(t, `{ okrs { totalCount } }`, nil), http.StatusNotFound, "NOT_FOUND")

		var hire struct {
			Viewer struct {
				User       struct{ ID string }
				Membership struct{ Role string }
			}
		}
		e.As("newhire@acme.example", "acme").MustDo(t, `{ viewer { user { id } membership { role } } }`, nil, &hire)
		if hire.Viewer.User.ID != added.AddMember.Membership.User.ID || hire.Viewer.Membership.Role != "ADMIN" {
			t.Fatalf("the real hire %+v did not get the invitation %+v", hire, added)
		}
		if n, _ := e.App.DB.Client.User.Query().Where(user.Email("newhire@acme.example")).Count(ctx); n != 1 {
			t.Fatalf("%d users hold the email", n)
		}
	})
}
