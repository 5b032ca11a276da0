package graph_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"okrgraph/internal/access"
	"okrgraph/internal/app"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// TestDecisionCacheSeesPolicyChangesAtOnce: the same request, repeated
// (so its decisions come from the cache), answers under each new policy
// from the very next request on — activating a tenant policy, activating
// another, rolling back, deactivating — and an engine replaced holds no
// cached decision any more.
func TestDecisionCacheSeesPolicyChangesAtOnce(t *testing.T) {
	cfg := testenv.Config{Demo: true, Tweak: func(c *app.Config) { c.TenantPolicyTimeout = time.Minute }}
	testenv.RunWith(t, cfg, func(t *testing.T, e *testenv.Env) {
		adam := e.As("adam", "acme")
		ctx := scope.System(context.Background())
		orgID := access.ID(mustOrg(t, e))
		router := e.App.Router

		const q = `{ okrs(first: 50) { edges { node { id viewerCan { update delete comment }
			del: viewerDecision(action: DELETE) { allowed reasons } } } } }`
		ask := func() cacheAnswer {
			var a cacheAnswer
			adam.MustDo(t, q, nil, &a)
			if len(a.Okrs.Edges) == 0 {
				t.Fatal("adam sees no items")
			}
			return a
		}
		// hits runs f and returns the cache hits of the org's engine during it.
		hits := func(f func()) uint64 {
			eng, _, err := router.Engine(ctx, orgID)
			testenv.Must(t, err)
			before := eng.CacheStats().Hits
			f()
			return eng.CacheStats().Hits - before
		}
		// each checks every item of a against want (flag name -> value).
		each := func(label string, a cacheAnswer, want func(flag string) (bool, bool)) {
			t.Helper()
			for _, ed := range a.Okrs.Edges {
				n := ed.Node
				for f, v := range n.ViewerCan {
					if w, ok := want(f); ok && v != w {
						t.Fatalf("%s: item %s viewerCan.%s = %v, want %v", label, n.ID, f, v, w)
					}
				}
				if n.Del.Allowed != n.ViewerCan["delete"] {
					t.Fatalf("%s: item %s: delete flag %v, decision %+v", label, n.ID, n.ViewerCan["delete"], n.Del)
				}
			}
		}

		// The default policy: the second request is answered from the cache,
		// identically.
		first := ask()
		var again cacheAnswer
		if h := hits(func() { again = ask() }); h < uint64(len(first.Okrs.Edges)) {
			t.Fatalf("%d cache hits for %d items asked again", h, len(first.Okrs.Edges))
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatal("the cached cacheAnswer differs")
		}
		deletes := countFlag(first, "delete")
		if deletes == 0 {
			t.Fatal("adam may delete nothing under the default policy: not a test of a change")
		}

		// A tenant policy denying deletes applies to the very next request.
		v1 := savePolicy(t, adam, rego("nodelete", `deny contains "no deleting here" if input.action == "okr.delete"`), "v1")
		mustActivate(t, adam, "activatePolicy", v1.ID)
		e1, n1, err := router.Engine(ctx, orgID)
		testenv.Must(t, err)
		if n1 != 1 {
			t.Fatalf("engine of version %d", n1)
		}
		noDelete := func(f string) (bool, bool) { return false, f == "delete" }
		each("v1", ask(), noDelete)
		each("v1 again", ask(), noDelete)
		if e1.CacheStats().Hits == 0 {
			t.Error("version 1's engine answered nothing from its cache")
		}

		// Another version denying comments instead.
		v2 := savePolicy(t, adam, rego("nocomment", `deny contains "no comments" if input.action == "okr.comment"`), "v2")
		mustActivate(t, adam, "activatePolicy", v2.ID)
		a2 := ask()
		each("v2", a2, func(f string) (bool, bool) { return false, f == "comment" })
		if deletes2 := countFlag(a2, "delete"); deletes2 != deletes {
			t.Fatalf("v2: %d deletes allowed, default %d", deletes2, deletes)
		}
		if st := e1.CacheStats(); st.Entries != 0 || st.Bytes != 0 {
			t.Errorf("replaced engine of version 1 still holds %+v", st)
		}

		// Rolling back to version 1: deletes denied again at once.
		mustActivate(t, adam, "rollbackPolicy", v1.ID)
		each("rolled back", ask(), noDelete)

		// Deactivating: the default policy's answers, from its cache.
		var de map[string]any
		adam.MustDo(t, `mutation { deactivatePolicy { deactivated { number } } }`, nil, &de)
		var back cacheAnswer
		if h := hits(func() { back = ask() }); h == 0 {
			t.Error("the default engine's cached decisions were not used after deactivation")
		}
		if !reflect.DeepEqual(back, first) {
			t.Fatal("after deactivation the answers differ from the default policy's")
		}
	})
}

type cacheAnswer struct {
	Okrs struct {
		Edges []struct {
			Node struct {
				ID        string
				ViewerCan map[string]bool
				Del       struct {
					Allowed bool
					Reasons []string
				}
			}
		}
	}
}

func countFlag(a cacheAnswer, flag string) int {
	n := 0
	for _, ed := range a.Okrs.Edges {
		if ed.Node.ViewerCan[flag] {
			n++
		}
	}
	return n
}
