package graph_test

import (
	"testing"

	"okrgraph/internal/testenv"
)

// maxDashboardStatements bounds the SQL statements of the SPA dashboard
// read (benchDashboard: viewer, the first 20 owned OKRs with totalCount,
// owners, progress status and every viewerCan flag) once the member's
// sign-in is recorded. It counts statements, not time: identity (user,
// org and membership), the actor (two), the page and its count, owners,
// periods and the viewerCan facts of the page. A change that adds a
// statement per item, or per request, fails here on both databases.
const maxDashboardStatements = 11

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
		if n > maxDashboardStatements {
			t.Fatalf("dashboard made %d SQL statements, want at most %d", n, maxDashboardStatements)
		}
	})
}
