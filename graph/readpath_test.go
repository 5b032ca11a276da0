package graph_test

import (
	"math"
	"testing"

	"okrgraph/internal/testenv"
)

// maxDashboardStatements bounds the SQL statements of the SPA dashboard
// read (benchDashboard: viewer, the first 20 owned OKRs with totalCount,
// owners, progress status and every viewerCan flag) once the member's
// sign-in is recorded. It counts statements, not time: the identity (the
// user, org, membership and actor facts in one; viewer { user } is its
// row), the page with its count, owners and periods (one: the fast
// path's okr.Service.Page; SQLite reads the count and the owners apart,
// two more) and the viewerCan facts of the page (one: the parents' facts
// with every list fact). A change that adds a statement per item, or per
// request, fails here on both databases.
func maxDashboardStatements(backend string) int64 {
	if backend == "sqlite" {
		return 5
	}
	return 3
}

func TestDashboardStatementCount(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		sam := e.UserID(t, "sam")
		c := e.As("sam", "acme")
		// Objectives and key results of sam's own, one private: the page
		// has parents, private items and several owners to gather facts of.
		for i := range 3 {
			o := lcCreate(t, c, map[string]any{"kind": "OBJECTIVE", "title": "Count " + string(rune('A'+i)), "private": i == 0})
			for range 2 {
				lcCreate(t, c, map[string]any{"kind": "KEY_RESULT", "title": "Count KR", "parentId": o, "metricTarget": 10})
			}
		}
		vars := map[string]any{"me": sam}
		var first struct {
			Okrs struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
		c.MustDo(t, benchDashboard, vars, &first) // records the sign-in
		if first.Okrs.TotalCount < 10 || len(first.Okrs.Edges) < 10 {
			t.Fatalf("sam owns no OKRs in the demo org: %+v", first)
		}
		n := e.CountQueries(func() { c.MustDo(t, benchDashboard, vars, &struct{}{}) })
		t.Logf("%s: %d statements for %d items", e.Backend, n, len(first.Okrs.Edges))
		if n > maxDashboardStatements(e.Backend) {
			t.Fatalf("dashboard made %d SQL statements, want at most %d", n, maxDashboardStatements(e.Backend))
		}
	})
}

// maxCheckInStatements bounds the SQL statements of one check-in request
// (lcCheckInMutation on a key result under an objective) once the
// member's sign-in is recorded, counted as the bench counts them
// (BEGIN and COMMIT included): the identity with the actor (one), the
// item and its facts (two), then in one transaction BEGIN, the rollup
// chain's lock, the children's read, the insert, one UPDATE and COMMIT.
// (The goal is at most 10; the bound holds what is reached.)
const maxCheckInStatements = 9

func TestCheckInStatementCount(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		c := e.As("olivia", "acme")
		o := lcCreate(t, c, map[string]any{"kind": "OBJECTIVE", "title": "Counted"})
		kr := lcCreate(t, c, map[string]any{"kind": "KEY_RESULT", "title": "Counted KR", "parentId": o, "metricTarget": 100})
		lcCreate(t, c, map[string]any{"kind": "KEY_RESULT", "title": "Sibling KR", "parentId": o, "metricTarget": 10})
		lcCheckIn(t, c, map[string]any{"itemId": kr, "value": 10.0}) // records the sign-in
		n := e.CountQueries(func() { lcCheckIn(t, c, map[string]any{"itemId": kr, "value": 40.0}) })
		t.Logf("%s: %d statements per check-in", e.Backend, n)
		if n > maxCheckInStatements {
			t.Fatalf("a check-in made %d SQL statements, want at most %d", n, maxCheckInStatements)
		}
		var out struct {
			Node struct{ Progress float64 }
		}
		c.MustDo(t, `query($id: ID!) { node(id: $id) { ... on OKRItem { progress } } }`, map[string]any{"id": o}, &out)
		if math.Abs(out.Node.Progress-0.2) > 1e-9 {
			t.Fatalf("objective progress %v after the counted check-in, want 0.2", out.Node.Progress)
		}
	})
}
