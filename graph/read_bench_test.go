package graph_test

import (
	"fmt"
	"testing"

	"okrgraph/internal/app"
	"okrgraph/internal/testenv"
)

// The read and check-in paths through the real handler, on every backend
// (PostgreSQL when OKRGRAPH_TEST_POSTGRES_URL is set), each reporting SQL
// statements per operation next to ns/op and allocations:
//
//	go test ./graph -run '^$' -bench 'Tree|Dashboard|CheckIn$' -benchmem
//
// The tree is the demo org plus 10 roots, 100 objectives under them and
// 9,700 leaves (bigTree), close to the 9,850 items of the peer comparison.

func benchBackends(b *testing.B, fn func(b *testing.B, e *testenv.Env)) {
	for _, backend := range testenv.Backends() {
		b.Run(backend, func(b *testing.B) {
			fn(b, testenv.New(b, backend, testenv.Config{Demo: true}))
		})
	}
}

func benchDo(b *testing.B, e *testenv.Env, c *testenv.Client, query string, vars func(i int) map[string]any) {
	b.ReportAllocs()
	var queries int64
	i := 0
	for b.Loop() {
		i++
		queries += e.CountQueries(func() {
			if r := c.Do(b, query, vars(i)); len(r.Errors) > 0 {
				b.Fatal(r.Errors)
			}
		})
	}
	b.ReportMetric(float64(queries)/float64(b.N), "sql/op")
}

func noVars(int) map[string]any { return nil }

// BenchmarkTree pulls the whole tree as a member: nested (children four
// levels deep, as BI tools ask PostGraphile; served by graph.FastPath),
// the same through gqlgen's execution (nested-gqlgen), flat
// (Query.okrTree) and as the NDJSON export.
func BenchmarkTree(b *testing.B) {
	benchBackends(b, func(b *testing.B, e *testenv.Env) {
		items, _ := bigTree(b, e, 97, atoi(b, e.UserID(b, "sam")))
		b.Logf("%s: %d items added", e.Backend, items)
		c := e.As("steve", "acme")
		sel := "id kind title weight progress owners { id }"
		for range 4 {
			sel = "id kind title weight progress owners { id } children { edges { node { " + sel + " } } }"
		}
		b.Run("nested", func(b *testing.B) {
			benchDo(b, e, c, "{ okrs(where: {hasParent: false}) { edges { node { "+sel+" } } } }", noVars)
		})
		b.Run("nested-gqlgen", func(b *testing.B) {
			// The same request answered field by field by gqlgen (an app
			// on the same database without graph.FastPath).
			slow := testenv.New(b, e.Backend, testenv.Config{DatabaseURL: e.URL, Tweak: func(c *app.Config) { c.NoFastPath = true }})
			benchDo(b, slow, slow.As("steve", "acme"), "{ okrs(where: {hasParent: false}) { edges { node { "+sel+" } } } }", noVars)
		})
		b.Run("flat", func(b *testing.B) {
			benchDo(b, e, c, "{ okrTree { id parentId depth path kind title weight progress ownerIds } }", noVars)
		})
		b.Run("ndjson", func(b *testing.B) {
			b.ReportAllocs()
			var queries int64
			for b.Loop() {
				queries += e.CountQueries(func() {
					if r := c.Get("/export/tree.ndjson"); r.Code != 200 {
						b.Fatal(r.Code)
					}
				})
			}
			b.ReportMetric(float64(queries)/float64(b.N), "sql/op")
		})
	})
}

const benchDashboard = `query($me: ID!) {
  viewer { user { id name } }
  okrs(first: 20, where: { hasOwnersWith: [{ id: $me }] }, orderBy: [{ field: UPDATED_AT, direction: DESC }]) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id kind level title status progress progressStatus
      owners { id name }
      viewerCan { update delete changeOwners setDelegate setCheckInOwner checkIn align comment clone manageGrants }
    } }
  }
}`

// BenchmarkDashboard is the SPA's dashboard read: the viewer's first 20
// OKRs with owners, progress status and every viewerCan flag, on the
// demo org plus the bulk tree.
func BenchmarkDashboard(b *testing.B) {
	benchBackends(b, func(b *testing.B, e *testenv.Env) {
		sam := e.UserID(b, "sam")
		bigTree(b, e, 97, atoi(b, sam))
		c := e.As("sam", "acme")
		benchDo(b, e, c, benchDashboard, func(int) map[string]any { return map[string]any{"me": sam} })
	})
}

// BenchmarkDashboardUncached is BenchmarkDashboard with the decision
// cache off, so that every viewerCan flag is evaluated (the dashboard of a
// viewer not seen recently); BenchmarkDashboard repeats one viewer's, so
// its flags come from the cache after the first request.
func BenchmarkDashboardUncached(b *testing.B) {
	for _, backend := range testenv.Backends() {
		b.Run(backend, func(b *testing.B) {
			e := testenv.New(b, backend, testenv.Config{Demo: true, Tweak: func(c *app.Config) { c.DecisionCache = -1 }})
			sam := e.UserID(b, "sam")
			bigTree(b, e, 97, atoi(b, sam))
			c := e.As("sam", "acme")
			benchDo(b, e, c, benchDashboard, func(int) map[string]any { return map[string]any{"me": sam} })
		})
	}
}

// BenchmarkCheckIn checks in on a demo key result, rolling up to its
// objectives.
func BenchmarkCheckIn(b *testing.B) {
	benchBackends(b, func(b *testing.B, e *testenv.Env) {
		c := e.As("olivia", "acme")
		o := lcCreateB(b, c, map[string]any{"kind": "OBJECTIVE", "title": "Bench"})
		kr := lcCreateB(b, c, map[string]any{"kind": "KEY_RESULT", "title": "Bench KR", "parentId": o, "metricTarget": 100})
		benchDo(b, e, c, lcCheckInMutation, func(i int) map[string]any {
			return map[string]any{"in": map[string]any{"itemId": kr, "value": float64(i % 100)}}
		})
	})
}

func lcCreateB(b *testing.B, c *testenv.Client, in map[string]any) string {
	in["level"] = "INDIVIDUAL"
	var out struct {
		CreateOKRItem struct{ Item struct{ ID string } } `json:"createOKRItem"`
	}
	c.MustDo(b, `mutation($in: CreateOKRItemInput!) { createOKRItem(input: $in) { item { id } } }`, map[string]any{"in": in}, &out)
	if out.CreateOKRItem.Item.ID == "" {
		b.Fatal(fmt.Sprint("no id: ", in))
	}
	return out.CreateOKRItem.Item.ID
}
