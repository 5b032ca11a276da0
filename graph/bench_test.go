package graph_test

import (
	"testing"

	"okrgraph/internal/app"
	"okrgraph/internal/authz"
	"okrgraph/internal/testenv"
)

// BenchmarkCreateObjective creates objectives through the HTTP handler on
// SQLite, with the default policy deciding and with a no-op authorizer,
// side by side: the difference is what the policy check costs a mutation.
func BenchmarkCreateObjective(b *testing.B) {
	for _, name := range []string{"policy", "noop"} {
		b.Run(name, func(b *testing.B) {
			e := testenv.New(b, "sqlite", testenv.Config{Demo: true, Tweak: func(c *app.Config) {
				if name == "noop" {
					c.Decider = authz.NoopAuthorizer{}
				}
			}})
			c := e.As("steve", "acme")
			vars := map[string]any{"in": map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Benchmark objective"}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if r := c.Do(b, createItem, vars); len(r.Errors) > 0 {
					b.Fatal(r.Errors)
				}
			}
		})
	}
}

// BenchmarkDashboardOwnedFilter runs the SPA dashboard query (the viewer's
// own items, newest first) on SQLite through the handler: the owners edge
// filter now carries the users' confinement (ent/edgefilter).
func BenchmarkDashboardOwnedFilter(b *testing.B) {
	e := testenv.New(b, "sqlite", testenv.Config{Demo: true})
	c := e.As("steve", "acme")
	for range 200 {
		if r := c.Do(b, createItem, map[string]any{"in": map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Mine"}}); len(r.Errors) > 0 {
			b.Fatal(r.Errors)
		}
	}
	vars := map[string]any{"me": e.UserID(b, "steve")}
	const q = `query($me: ID!) { okrs(first: 20, where: {hasOwnersWith: [{id: $me}]}, orderBy: [{field: UPDATED_AT, direction: DESC}]) { totalCount edges { node { id title } } } }`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r := c.Do(b, q, vars); len(r.Errors) > 0 {
			b.Fatal(r.Errors)
		}
	}
}
