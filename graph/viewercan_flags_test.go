package graph_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"okrgraph/internal/access"
	"okrgraph/internal/app"
	"okrgraph/internal/demo"
	"okrgraph/internal/testenv"
)

// TestViewerCanFlagsEqualSingleDecisions: every viewerCan flag (answered by
// Guard.DecideAll, the input built once per item) equals viewerDecision on the same action
// (one evaluation per action), for every demo user on every item they
// see, under the default policy and under an active tenant policy that
// denies some actions and grants others. The pairs of flag and action come
// from the schema (OKRItemPermissions fields, OKRAction values).
func TestViewerCanFlagsEqualSingleDecisions(t *testing.T) {
	// A generous tenant deadline: this checks agreement, not speed, and a
	// loaded machine must not time one side out.
	cfg := testenv.Config{Demo: true, Tweak: func(c *app.Config) { c.TenantPolicyTimeout = time.Minute }}
	testenv.RunWith(t, cfg, func(t *testing.T, e *testenv.Env) {
		adam := e.As("adam", "acme")
		var schema struct {
			Perms struct{ Fields []struct{ Name string } }     `json:"perms"`
			Acts  struct{ EnumValues []struct{ Name string } } `json:"acts"`
		}
		adam.MustDo(t, `{ perms: __type(name: "OKRItemPermissions") { fields { name } } acts: __type(name: "OKRAction") { enumValues { name } } }`, nil, &schema)
		norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
		enum := map[string]string{}
		for _, v := range schema.Acts.EnumValues {
			enum[norm(v.Name)] = v.Name
		}
		var sel strings.Builder
		flags := map[string]string{} // viewerCan field -> alias of its viewerDecision
		for _, f := range schema.Perms.Fields {
			v, ok := enum[norm(f.Name)]
			if !ok {
				t.Fatalf("viewerCan.%s has no OKRAction", f.Name)
			}
			flags[f.Name] = "d_" + f.Name
			fmt.Fprintf(&sel, " d_%s: viewerDecision(action: %s) { allowed }", f.Name, v)
		}
		if len(flags) < 10 {
			t.Fatalf("only %d viewerCan flags", len(flags))
		}
		var names []string
		for f := range flags {
			names = append(names, f)
		}
		q := `{ okrs(first: 1000) { edges { node { id viewerCan { ` + strings.Join(names, " ") + ` }` + sel.String() + ` } } } }`

		// check returns every flag of every (user, item) pair, after
		// checking it equals the single decision.
		check := func(label string) map[string]bool {
			got := map[string]bool{}
			allows := 0
			for _, p := range demo.People {
				var out struct {
					Okrs struct {
						Edges []struct{ Node map[string]any } `json:"edges"`
					} `json:"okrs"`
				}
				e.As(p.Key, "acme").MustDo(t, q, nil, &out)
				if len(out.Okrs.Edges) == 0 {
					t.Fatalf("%s: %s sees no items", label, p.Key)
				}
				for _, ed := range out.Okrs.Edges {
					n := ed.Node
					can := n["viewerCan"].(map[string]any)
					for f, alias := range flags {
						flag := can[f].(bool)
						single := n[alias].(map[string]any)["allowed"].(bool)
						if flag != single {
							t.Errorf("%s: %s on item %v: viewerCan.%s = %v, viewerDecision = %v", label, p.Key, n["id"], f, flag, single)
						}
						got[fmt.Sprintf("%s/%v/%s", p.Key, n["id"], f)] = flag
						if flag {
							allows++
						}
					}
				}
			}
			if allows == 0 || allows == len(got) {
				t.Errorf("%s: %d of %d flags allow: not a test of both answers", label, allows, len(got))
			}
			return got
		}
		def := check("default policy")
		// Asked again, every decision comes from the engine's decision
		// cache: the same flags, still equal to the single decisions.
		ctx := context.Background()
		before := e.App.Router.Default.CacheStats()
		if again := check("default policy, cached"); !maps.Equal(again, def) {
			t.Error("the cached flags differ")
		}
		if st := e.App.Router.Default.CacheStats(); st.Hits-before.Hits < uint64(len(def)/len(flags)) || st.Misses != before.Misses {
			t.Errorf("asked again: %d hits, %d misses (before %+v)", st.Hits-before.Hits, st.Misses-before.Misses, before)
		}

		v := savePolicy(t, adam, []regoFile{{"flags.rego", `package okrgraph.tenant.flags

deny contains "no deleting here" if input.action == "okr.delete"

deny contains "no comments on private items" if {
	input.action == "okr.comment"
	input.resource.private
}

allow contains "members edit key results" if {
	input.action in {"okr.update", "okr.manage_grants"}
	input.resource.kind == "KEY_RESULT"
}
`}}, "viewerCan flags")
		mustActivate(t, adam, "activatePolicy", v.ID)
		tenant := check("tenant policy")
		if again := check("tenant policy, cached"); !maps.Equal(again, tenant) {
			t.Error("the cached tenant flags differ")
		}
		if eng, n, err := e.App.Router.Engine(ctx, access.ID(mustOrg(t, e))); err != nil || n == 0 || eng.CacheStats().Hits == 0 {
			t.Errorf("tenant engine (version %d, %v): %+v", n, err, eng.CacheStats())
		}
		changed := 0
		for k, flag := range tenant {
			if def[k] != flag {
				changed++
			}
		}
		if changed == 0 {
			t.Error("the tenant policy changed no flag")
		}
		t.Logf("%s: %d flags, %d changed by the tenant policy", e.Backend, len(tenant), changed)
	})
}
