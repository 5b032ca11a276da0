package graph_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"okrgraph/internal/app"
	"okrgraph/internal/testenv"
)

// The decision log, impact analysis and metrics through the real handler.

type loggedDecision struct {
	ID          string
	Action      string
	SubjectType string
	SubjectID   string `json:"subjectId"`
	User        *struct{ Email string }
	ResourceID  string `json:"resourceId"`
	Allowed     bool
	Reasons     []string
	DecidedBy   string
	Version     *int
	Failed      bool
	Facts       string
}

type decisionPage struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage bool
		EndCursor   *string
	}
	Edges []struct {
		Cursor string
		Node   loggedDecision
	}
}

const decisionFields = `id action subjectType subjectId user { email } resourceId allowed reasons decidedBy version failed facts`

func flushLog(t *testing.T, e *testenv.Env) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	testenv.Must(t, e.App.Decisions.Flush(ctx))
}

func decisions(t *testing.T, c *testenv.Client, first int, after *string, filter map[string]any) decisionPage {
	t.Helper()
	var out struct {
		PolicyDecisions decisionPage `json:"policyDecisions"`
	}
	c.MustDo(t, `query($f: Int, $a: Cursor, $filter: PolicyDecisionFilter) {
		policyDecisions(first: $f, after: $a, filter: $filter) {
			totalCount pageInfo { hasNextPage endCursor } edges { cursor node { `+decisionFields+` } } } }`,
		map[string]any{"f": first, "a": after, "filter": filter}, &out)
	return out.PolicyDecisions
}

type impactCount struct {
	Key         string
	SubjectType string
	User        *struct{ Email string }
	AllowToDeny int
	DenyToAllow int
}

type policyImpact struct {
	Version     int
	Replayed    int
	Skipped     int
	Failures    int
	Truncated   bool
	AllowToDeny int
	DenyToAllow int
	ByAction    []impactCount
	BySubject   []impactCount
	Examples    []struct {
		Decision   loggedDecision
		NowAllowed bool
		NowReasons []string
	}
}

func impact(t *testing.T, c *testenv.Client, versionID string, since time.Time) *testenv.Response {
	t.Helper()
	return c.Do(t, `query($v: ID!, $s: Time!) { policyImpact(versionId: $v, since: $s) {
		version replayed skipped failures truncated allowToDeny denyToAllow
		byAction { key subjectType allowToDeny denyToAllow }
		bySubject { key subjectType user { email } allowToDeny denyToAllow }
		examples { decision { `+decisionFields+` } nowAllowed nowReasons } } }`,
		map[string]any{"v": versionID, "s": since.UTC().Format(time.RFC3339Nano)})
}

// TestDecisionLogAndImpact is the admin's story: members create
// organization objectives under the default policy; the admin reads the
// log, asks what a draft restricting them to owners would change — exactly
// the members whose creates were allowed — activates it, and sees a
// member's create denied by the tenant policy in the log. Nobody else reads
// the log, and it never crosses organizations.
func TestDecisionLogAndImpact(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		since := time.Now().Add(-time.Minute)
		adam := e.As("adam", "acme") // org admin
		steve, martha, sam, olivia, oscar := e.As("steve", "acme"), e.As("martha", "acme"), e.As("sam", "acme"), e.As("olivia", "acme"), e.As("oscar", "acme")
		ids := map[string]string{}
		for _, who := range []string{"steve", "martha", "sam", "olivia", "oscar"} {
			ids[who] = e.UserID(t, who)
		}

		testenv.Must(t, createdErr(createObjective(t, steve, "ORGANIZATION", "Steve's company goal")))
		testenv.Must(t, createdErr(createObjective(t, martha, "ORGANIZATION", "Martha's company goal")))
		testenv.Must(t, createdErr(createObjective(t, olivia, "ORGANIZATION", "The owner's company goal")))
		testenv.Must(t, createdErr(createObjective(t, sam, "INDIVIDUAL", "Sam's own goal")))
		if r := createObjective(t, oscar, "ORGANIZATION", "An observer may not"); r.Code() != "FORBIDDEN" {
			t.Fatalf("observer create: %q", r.Code())
		}
		flushLog(t, e)

		creates := decisions(t, adam, 50, nil, map[string]any{"action": "okr.create"})
		if creates.TotalCount != 5 || len(creates.Edges) != 5 {
			t.Fatalf("logged creates = %d (%d edges), want 5", creates.TotalCount, len(creates.Edges))
		}
		for _, ed := range creates.Edges {
			d := ed.Node
			if d.SubjectType != "user" || d.DecidedBy != "DEFAULT" || d.Version != nil || d.Failed || d.User == nil {
				t.Errorf("decision %+v", d)
			}
			var facts struct {
				Action  string
				Subject struct{ ID string }
			}
			testenv.Must(t, json.Unmarshal([]byte(d.Facts), &facts))
			if facts.Action != "okr.create" || facts.Subject.ID != d.SubjectID {
				t.Errorf("facts %s of decision %s", d.Facts, d.ID)
			}
		}
		denied := decisions(t, adam, 50, nil, map[string]any{"allowed": false})
		if denied.TotalCount != 1 || denied.Edges[0].Node.SubjectID != ids["oscar"] || len(denied.Edges[0].Node.Reasons) == 0 {
			t.Fatalf("denials = %+v, want oscar's create only", denied)
		}

		// Pages: newest first, no entry twice.
		p1 := decisions(t, adam, 2, nil, map[string]any{"action": "okr.create"})
		p2 := decisions(t, adam, 10, p1.PageInfo.EndCursor, map[string]any{"action": "okr.create"})
		if !p1.PageInfo.HasNextPage || len(p1.Edges) != 2 || len(p2.Edges) != 3 || p2.PageInfo.HasNextPage {
			t.Fatalf("pages: %d (next %v) then %d (next %v)", len(p1.Edges), p1.PageInfo.HasNextPage, len(p2.Edges), p2.PageInfo.HasNextPage)
		}
		if p1.Edges[0].Node.SubjectID != ids["oscar"] {
			t.Errorf("newest first: got %s", p1.Edges[0].Node.SubjectID)
		}

		// viewerCan hints are not logged.
		before := decisions(t, adam, 1, nil, nil).TotalCount
		var items struct {
			Okrs struct{ TotalCount int }
		}
		steve.MustDo(t, `{ okrs(first: 50) { totalCount edges { node { viewerCan { update delete checkIn } } } } }`, nil, &items)
		flushLog(t, e)
		if after := decisions(t, adam, 1, nil, nil).TotalCount; after != before || items.Okrs.TotalCount == 0 {
			t.Fatalf("viewerCan over %d items logged %d decisions", items.Okrs.TotalCount, after-before)
		}

		// Only org admins read the log.
		for _, c := range []*testenv.Client{steve, oscar} {
			if r := c.Do(t, `{ policyDecisions { totalCount } }`, nil); r.Code() != "FORBIDDEN" {
				t.Errorf("a member reads the decision log: %q", r.Code())
			}
		}

		// The impact of a draft restricting org-level objectives to owners:
		// exactly the members whose creates were allowed lose the right.
		draft := savePolicy(t, adam, example(t, "org-objectives-owners-only"), "owners only")
		var imp struct {
			PolicyImpact policyImpact `json:"policyImpact"`
		}
		impact(t, adam, draft.ID, since).Decode(t, &imp)
		got := imp.PolicyImpact
		if got.AllowToDeny != 2 || got.DenyToAllow != 0 || got.Version != draft.Number || got.Truncated || got.Skipped != 0 || got.Failures != 0 {
			t.Fatalf("impact = %+v", got)
		}
		if got.Replayed < 5 {
			t.Errorf("replayed %d decisions, want at least the 5 creates", got.Replayed)
		}
		var who []string
		for _, s := range got.BySubject {
			if s.AllowToDeny != 1 || s.SubjectType != "user" || s.User == nil {
				t.Errorf("subject %+v", s)
			}
			who = append(who, s.Key)
		}
		slices.Sort(who)
		want := []string{ids["steve"], ids["martha"]}
		slices.Sort(want)
		if !slices.Equal(who, want) {
			t.Fatalf("subjects who lose the right = %v, want steve and martha %v", who, want)
		}
		if len(got.ByAction) != 1 || got.ByAction[0].Key != "okr.create" || got.ByAction[0].AllowToDeny != 2 {
			t.Errorf("by action = %+v", got.ByAction)
		}
		if len(got.Examples) != 2 {
			t.Fatalf("examples = %+v", got.Examples)
		}
		for _, x := range got.Examples {
			if x.NowAllowed || !x.Decision.Allowed || !slices.ContainsFunc(x.NowReasons, func(s string) bool { return strings.Contains(s, ownersOnlyReason) }) {
				t.Errorf("example %+v", x)
			}
		}
		// Members cannot run it.
		if r := impact(t, steve, draft.ID, since); r.Code() != "FORBIDDEN" {
			t.Errorf("a member runs an impact analysis: %q", r.Code())
		}

		// Activated, the member's create is denied by the tenant policy,
		// and the log says so (written although the mutation rolled back).
		mustActivate(t, adam, "activatePolicy", draft.ID)
		forbidden(t, createObjective(t, steve, "ORGANIZATION", "Not any more"), ownersOnlyReason)
		flushLog(t, e)
		tenantDenied := decisions(t, adam, 10, nil, map[string]any{"allowed": false, "subjectId": ids["steve"], "version": draft.Number})
		if tenantDenied.TotalCount != 1 {
			t.Fatalf("steve's denial under version %d: %+v", draft.Number, tenantDenied)
		}
		d := tenantDenied.Edges[0].Node
		if d.DecidedBy != "TENANT" || d.Version == nil || *d.Version != draft.Number || d.User == nil || d.User.Email != "steve@acme.example" ||
			!slices.ContainsFunc(d.Reasons, func(s string) bool { return strings.Contains(s, ownersOnlyReason) }) {
			t.Fatalf("tenant denial = %+v", d)
		}
		if n := decisions(t, adam, 1, nil, map[string]any{"decidedBy": "TENANT"}).TotalCount; n != 1 {
			t.Errorf("decidedBy TENANT: %d entries, want 1", n)
		}

		// Another organization sees none of it, nor acme's versions.
		founder := e.As("zed@globex.example", "")
		founder.MustDo(t, `mutation { createOrganization(input: {name: "Globex", slug: "globex"}) { organization { id } } }`, nil, &struct{}{})
		zed := e.As("zed@globex.example", "globex")
		if n := decisions(t, zed, 50, nil, nil).TotalCount; n != 0 {
			t.Fatalf("another org reads %d of acme's decisions", n)
		}
		if r := impact(t, zed, draft.ID, since); r.Code() != "NOT_FOUND" {
			t.Errorf("another org replays acme's version: %q", r.Code())
		}
	})
}

func TestDecisionLogBadInput(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam := e.As("adam", "acme")
		now := time.Now().UTC()
		for name, r := range map[string]*testenv.Response{
			"first too large": adam.Do(t, `{ policyDecisions(first: 501) { totalCount } }`, nil),
			"negative first":  adam.Do(t, `{ policyDecisions(first: -1) { totalCount } }`, nil),
			"until before since": adam.Do(t, `query($s: Time, $u: Time) { policyDecisions(filter: {since: $s, until: $u}) { totalCount } }`,
				map[string]any{"s": now.Format(time.RFC3339), "u": now.Add(-time.Hour).Format(time.RFC3339)}),
			"negative version": adam.Do(t, `{ policyDecisions(filter: {version: -1}) { totalCount } }`, nil),
			"bad time":         adam.Do(t, `{ policyDecisions(filter: {since: "yesterday"}) { totalCount } }`, nil),
		} {
			if r.Code() != "BAD_USER_INPUT" {
				t.Errorf("%s: %q %+v", name, r.Code(), r.Errors)
			}
		}
		draft := savePolicy(t, adam, example(t, "org-objectives-owners-only"), "")
		if r := impact(t, adam, draft.ID, now.Add(time.Hour)); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("impact since the future: %q", r.Code())
		}
		if r := impact(t, adam, "999999", now.Add(-time.Hour)); r.Code() != "NOT_FOUND" {
			t.Errorf("impact of a missing version: %q", r.Code())
		}
	})
}

// TestDecisionLogRetention: entries older than the retention period are
// pruned, younger ones kept.
func TestDecisionLogRetention(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam := e.As("adam", "acme")
		testenv.Must(t, createdErr(createObjective(t, e.As("steve", "acme"), "INDIVIDUAL", "Kept a while")))
		flushLog(t, e)
		n := decisions(t, adam, 1, nil, nil).TotalCount
		if n == 0 {
			t.Fatal("nothing logged")
		}
		ctx := context.Background()
		if deleted, err := e.App.Decisions.Prune(ctx, time.Now()); err != nil || deleted != 0 {
			t.Fatalf("prune now: %d, %v", deleted, err)
		}
		later := time.Now().Add(e.App.Decisions.Retention() + time.Minute)
		if deleted, err := e.App.Decisions.Prune(ctx, later); err != nil || deleted != n {
			t.Fatalf("prune after the retention period: %d of %d, %v", deleted, n, err)
		}
		if m := decisions(t, adam, 1, nil, nil).TotalCount; m != 0 {
			t.Fatalf("%d entries left", m)
		}
	})
}

// TestMetrics: /metrics is off the public listener unless a token is
// configured, then needs it; it counts requests by operation type,
// decisions and errors by code, and never names users.
func TestMetrics(t *testing.T) {
	t.Parallel()
	const token = "metrics-token-for-tests"
	plain := testenv.New(t, "sqlite", testenv.Config{Demo: true})
	get := func(h http.Handler, auth string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		return rec.Code, string(body)
	}
	if code, _ := get(plain.App.Handler(), ""); code != http.StatusNotFound {
		t.Fatalf("public /metrics without a token configured: %d", code)
	}
	e := testenv.New(t, "sqlite", testenv.Config{Demo: true, Tweak: func(c *app.Config) { c.MetricsToken = token }})
	for _, auth := range []string{"", "Bearer wrong", token} {
		if code, _ := get(e.App.Handler(), auth); code != http.StatusUnauthorized {
			t.Errorf("/metrics with %q: %d", auth, code)
		}
	}
	steve := e.As("steve", "acme")
	testenv.Must(t, createdErr(createObjective(t, steve, "INDIVIDUAL", "Measured")))
	if r := createObjective(t, e.As("oscar", "acme"), "INDIVIDUAL", "Refused"); r.Code() != "FORBIDDEN" {
		t.Fatalf("observer create: %q", r.Code())
	}
	steve.MustDo(t, `{ okrs(first: 5) { totalCount } }`, nil, &struct{}{})
	steve.Do(t, `{ nope }`, nil)
	code, body := get(e.App.Handler(), "Bearer "+token)
	if code != http.StatusOK {
		t.Fatalf("/metrics with the token: %d", code)
	}
	for _, want := range []string{
		`okrgraph_graphql_request_duration_seconds_count{operation="mutation"} 2`,
		`okrgraph_graphql_request_duration_seconds_count{operation="query"} 1`,
		`okrgraph_graphql_errors_total{code="FORBIDDEN"} 1`,
		`okrgraph_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"} 1`,
		`okrgraph_policy_decisions_total{decided_by="default",outcome="allow"}`,
		`okrgraph_policy_decisions_total{decided_by="default",outcome="deny"}`,
		`okrgraph_policy_decision_duration_seconds_count{policy="default"}`,
		`okrgraph_decision_log_dropped_total 0`,
		`okrgraph_graphql_rejected_too_costly_total 0`,
		`okrgraph_policy_decision_cache_hits_total`,
		`okrgraph_policy_decision_cache_misses_total`,
		`okrgraph_policy_decision_cache_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Every series of decisions exists from the start (at 0): those the
	// requests above made must have counted.
	for _, series := range []string{
		`okrgraph_policy_decisions_total{decided_by="default",outcome="allow"} `,
		`okrgraph_policy_decisions_total{decided_by="default",outcome="deny"} `,
		`okrgraph_policy_decision_duration_seconds_count{policy="default"} `,
	} {
		_, rest, _ := strings.Cut(body, series)
		if n, _, _ := strings.Cut(rest, "\n"); n == "" || n == "0" {
			t.Errorf("%s%q: the decisions made were not counted", series, n)
		}
	}
	for _, secret := range []string{"steve", e.UserID(t, "steve") + `"`, "acme"} {
		if strings.Contains(body, secret) {
			t.Errorf("metrics mention %q", secret)
		}
	}
	// The separate listener's handler needs no token.
	if code, body := get(e.App.MetricsHandler(), ""); code != http.StatusOK || !strings.Contains(body, "okrgraph_policy_decisions_total") {
		t.Errorf("metrics handler: %d", code)
	}
}
