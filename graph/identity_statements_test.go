package graph_test

import (
	"context"
	"net/http"
	"testing"

	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// TestIdentityIsOneStatement: a request's whole identity (the user of the
// token, the org X-Org names, the membership, the org's settings and the
// actor's list facts) is one SQL statement, for user tokens with and
// without X-Org and for API tokens; viewer { user } adds none; the
// sign-in is recorded by one more statement, at most once a minute.
func TestIdentityIsOneStatement(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		sam := e.As("sam", "acme") // a manager: reports down two levels, a team
		var tn struct {
			Typename string `json:"__typename"`
		}
		sam.MustDo(t, `{ __typename }`, nil, &tn) // records the sign-in
		count := func(name string, c *testenv.Client, q string, want int64) {
			t.Helper()
			if n := e.CountQueries(func() { c.MustDo(t, q, nil, &struct{}{}) }); n != want {
				t.Fatalf("%s: %d statements, want %d", name, n, want)
			}
		}
		count("member, X-Org", sam, `{ __typename }`, 1)
		count("member, viewer { user }", sam, `{ viewer { user { id name email sso createdAt } } }`, 1)
		count("no X-Org", e.As("sam", ""), `{ viewer { user { id name } } }`, 1)
		// The actor was read with the identity: an org admin's decision
		// adds no statement, the list its one.
		olivia := e.As("olivia", "acme")
		olivia.MustDo(t, `{ __typename }`, nil, &tn)
		count("admin, apiTokens", olivia, `{ apiTokens { id } }`, 2)

		// The user row is the database's.
		var v struct {
			Viewer struct{ User struct{ ID, Name string } }
		}
		sam.MustDo(t, `{ viewer { user { id name } } }`, nil, &v)
		if v.Viewer.User.Name != "Sam Sales" || v.Viewer.User.ID != e.UserID(t, "sam") {
			t.Fatalf("viewer %+v", v)
		}

		// The sign-in: recorded by the first request once it is stale.
		_, err := e.App.DB.SQL.ExecContext(ctx, `UPDATE memberships SET last_seen_at = NULL`)
		testenv.Must(t, err)
		count("stale sign-in", sam, `{ __typename }`, 2)
		count("recorded sign-in", sam, `{ __typename }`, 1)

		_, secret := createToken(t, e.As("olivia", "acme"), "BI")
		svc := e.WithToken(secret, "acme")
		svc.MustDo(t, `{ __typename }`, nil, &tn) // records the last use
		count("API token", svc, `{ __typename }`, 1)
		count("API token, own org by id", e.WithToken(secret, ""), `{ __typename }`, 1)
	})
}

// TestIdentityPicksTheNamedOrg: a user in two orgs acts in the one X-Org
// names (by slug or id) with that org's role and nothing of the other's;
// an org they are not in, or an unknown one, is NOT_FOUND.
func TestIdentityPicksTheNamedOrg(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		var created struct {
			CreateOrganization struct{ Organization struct{ ID string } } `json:"createOrganization"`
		}
		e.As("steve", "acme").MustDo(t, `mutation { createOrganization(input: {name: "Globex", slug: "globex"}) { organization { id } } }`, nil, &created)
		globexID := created.CreateOrganization.Organization.ID
		role := func(c *testenv.Client) string {
			t.Helper()
			var v struct {
				Viewer struct{ Membership struct{ Role string } }
			}
			c.MustDo(t, `{ viewer { membership { role } } }`, nil, &v)
			return v.Viewer.Membership.Role
		}
		for _, ref := range []string{"globex", "GLOBEX", globexID} {
			c := e.As("steve", ref)
			if r := role(c); r != "OWNER" {
				t.Fatalf("steve in %s: role %s", ref, r)
			}
			// The owner of globex may manage it...
			c.MustDo(t, `{ apiTokens { id } }`, nil, &struct{}{})
		}
		// ...and stays a member of acme, its policy decisions included.
		acme := e.As("steve", "acme")
		if r := role(acme); r != "MEMBER" {
			t.Fatalf("steve in acme: role %s", r)
		}
		if r := acme.Do(t, `{ apiTokens { id } }`, nil); r.Code() != "FORBIDDEN" {
			t.Fatalf("a member of acme listed its API tokens: %+v", r.Errors)
		}
		// Olivia owns acme, not globex.
		wantStatus(t, e.As("olivia", "globex").Do(t, `{ __typename }`, nil), http.StatusNotFound, "NOT_FOUND")
		wantStatus(t, e.As("olivia", globexID).Do(t, `{ __typename }`, nil), http.StatusNotFound, "NOT_FOUND")
		wantStatus(t, e.As("olivia", "initech").Do(t, `{ __typename }`, nil), http.StatusNotFound, "NOT_FOUND")
		wantStatus(t, e.As("olivia", "999999").Do(t, `{ __typename }`, nil), http.StatusNotFound, "NOT_FOUND")
	})
}

// TestActorChangesApplyNextRead: the actor read with a request's identity
// answers only its first actor read. A role granted or taken between two
// requests applies to the second; within one request, a mutation after
// one that changed the actor (leaving the org) sees the change.
func TestActorChangesApplyNextRead(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia, steve := e.As("olivia", "acme"), e.As("steve", "acme")
		var m struct {
			Viewer struct{ Membership struct{ ID string } }
		}
		steve.MustDo(t, `{ viewer { membership { id } } }`, nil, &m)
		setRole := func(role string) {
			olivia.MustDo(t, `mutation($id: ID!, $r: MembershipRole) { updateMember(input: {id: $id, role: $r}) { membership { id } } }`,
				map[string]any{"id": m.Viewer.Membership.ID, "r": role}, &struct{}{})
		}
		if r := steve.Do(t, `{ apiTokens { id } }`, nil); r.Code() != "FORBIDDEN" {
			t.Fatalf("member: %+v", r.Errors)
		}
		setRole("ADMIN")
		steve.MustDo(t, `{ apiTokens { id } }`, nil, &struct{}{})
		setRole("MEMBER")
		if r := steve.Do(t, `{ apiTokens { id } }`, nil); r.Code() != "FORBIDDEN" {
			t.Fatalf("demoted: %+v", r.Errors)
		}

		// One request: leave, then create. The second mutation must not
		// act on the membership the request started with.
		r := steve.Do(t, `mutation {
  leaveOrganization { deletedId }
  createOKRItem(input: {kind: OBJECTIVE, level: INDIVIDUAL, title: "After leaving"}) { item { id } }
}`, nil)
		if len(r.Errors) != 1 || r.Code() != "NOT_FOUND" {
			t.Fatalf("create after leaving, same request: %s %+v", r.Data, r.Errors)
		}
		var titles []string
		rows, err := e.App.DB.SQL.QueryContext(context.Background(), `SELECT title FROM okr_items WHERE title = 'After leaving'`)
		testenv.Must(t, err)
		for rows.Next() {
			var s string
			testenv.Must(t, rows.Scan(&s))
			titles = append(titles, s)
		}
		testenv.Must(t, rows.Close())
		if len(titles) != 0 {
			t.Fatal("an item was created after its creator left the org")
		}
		// And the next request is refused outright.
		wantStatus(t, steve.Do(t, `{ __typename }`, nil), http.StatusNotFound, "NOT_FOUND")
	})
}
