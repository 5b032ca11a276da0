package graph_test

import (
	"fmt"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"okrgraph/internal/app"
	"okrgraph/internal/authz"
	"okrgraph/internal/server"
	"okrgraph/internal/testenv"
)

// Containment (issue 10): no request and no tenant policy takes the server
// down or slows other organizations. Every attack below is answered with a
// clear code within a generous bound, by the same process, with the heap
// under heapBound.

// heapBound is the most the heap may hold while an attack runs (before
// containment the attacks took 1.4 to 2.2 GB, or all memory). Other tests
// of the package run alongside, so it is generous.
const heapBound = 768 << 20

// answerBound is how long an attack may take to be answered (typically
// milliseconds; generous for a loaded 2-core CI).
const answerBound = 10 * time.Second

// heapSampler records the peak of the heap while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(h.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// end stops sampling and checks the peak.
func (h *heapSampler) end(t *testing.T, what string) {
	t.Helper()
	close(h.stop)
	<-h.done
	peak := h.peak.Load()
	t.Logf("%s: heap peak %d MiB", what, peak>>20)
	if peak > heapBound {
		t.Errorf("%s: heap peaked at %d MiB; the bound is %d MiB", what, peak>>20, heapBound>>20)
	}
}

// productConfig restores the product's concurrency bounds, which testenv
// relaxes for tests that are not about them.
func productConfig(c *app.Config) {
	c.Concurrency = server.Concurrency{}
	c.TenantGate = nil
	c.RequestTimeout = 0
}

// productBounds is testenv.Run with the product's concurrency bounds.
func productBounds(t *testing.T, fn func(t *testing.T, e *testenv.Env)) {
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			fn(t, testenv.New(t, b, testenv.Config{Demo: true, Tweak: productConfig}))
		})
	}
}

func timed(t *testing.T, what string, f func()) time.Duration {
	t.Helper()
	start := time.Now()
	f()
	d := time.Since(start)
	t.Logf("%s answered in %v", what, d.Round(time.Millisecond))
	if d > answerBound {
		t.Errorf("%s took %v", what, d)
	}
	return d
}

// TestContainmentSandboxRefusesBuiltins: built-ins off the allow-list are
// refused at validation (and so at save), naming the built-in and its
// place: among them the ones that crashed the server.
func TestContainmentSandboxRefusesBuiltins(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam := e.As("adam", "acme")
		h := sampleHeap()
		for _, c := range []struct{ name, body string }{
			{"bits.lsh", "deny contains \"x\" if {\n\tx := bits.lsh(1, 8796093022208)\n\tx < 0\n}\n"},
			{"graphql.is_valid", "deny contains \"x\" if {\n\tgraphql.is_valid(concat(\"\", [\"{ a }\" | some _ in numbers.range(1, 9000)]), \"type Query { a: Int }\")\n}\n"},
			{"yaml.unmarshal", "deny contains \"x\" if {\n\tyaml.unmarshal(input.resource.id) == 1\n}\n"},
			{"json.unmarshal", "deny contains \"x\" if {\n\tjson.unmarshal(input.resource.id) == 1\n}\n"},
			{"glob.match", "deny contains \"x\" if {\n\tglob.match(\"*a*a*a*a*\", [], input.resource.id)\n}\n"},
			{"product", "deny contains \"x\" if {\n\tproduct([9, 9]) > 80\n}\n"},
			{"walk", "deny contains \"x\" if {\n\tsome p, v in walk(input)\n\tv == p\n}\n"},
		} {
			timed(t, "validate "+c.name, func() { refused(t, adam, rego("x", c.body), "built-in "+c.name+" is not available", 0) })
		}
		// A number literal beyond the arithmetic bound is refused too.
		refused(t, adam, rego("x", "deny contains \"x\" if {\n\tinput.subject.id == 1e300\n}\n"), "beyond the sandbox limit", 4)
		h.end(t, "refused built-ins")
	})
}

// TestContainmentBoundedBuiltins: kept built-ins are bounded by their
// arguments; concurrent test runs building huge comprehensions end within
// the bound, limited per org, and the heap stays bounded.
func TestContainmentBoundedBuiltins(t *testing.T) {
	productBounds(t, func(t *testing.T, e *testenv.Env) {
		adam := e.As("adam", "acme")
		huge := rego("huge", "deny contains \"x\" if {\n\tinput.action == \"okr.none\"\n}\n")
		huge = append(huge, regoFile{"huge_test.rego", `package okrgraph.tenant.huge_test

test_range if {
	count([n | some n in numbers.range(1, 1000000000)]) > 0
}

test_pairs if {
	xs := numbers.range(1, 9999)
	count([[a, b] | some a in xs; some b in xs]) > 0
}

test_concat if {
	s := concat("", ["0123456789" | some _ in numbers.range(1, 9999)])
	count(s) > 0
}
`})
		h := sampleHeap()
		var wg sync.WaitGroup
		runs := make([]*testRun, 4)
		var busy atomic.Int64
		timed(t, "4 concurrent testPolicy with huge comprehensions", func() {
			for i := range runs {
				wg.Go(func() {
					r := adam.Do(t, `mutation($m: [PolicyModuleInput!]) { testPolicy(modules: $m) { passed results { package name passed message safety } problems { message } } }`,
						map[string]any{"m": huge})
					if r.Status == 429 && r.Code() == server.CodeTooManyRequests {
						busy.Add(1) // the per-user bound refused it
						return
					}
					var out struct {
						TestPolicy testRun `json:"testPolicy"`
					}
					r.Decode(t, &out)
					runs[i] = &out.TestPolicy
				})
			}
			wg.Wait()
		})
		h.end(t, "huge comprehensions")
		t.Logf("%d runs refused with TOO_MANY_REQUESTS", busy.Load())
		for i, r := range runs {
			if r == nil {
				continue
			}
			if r.Passed {
				t.Errorf("run %d passed: %+v", i, r)
			}
			msgs := fmt.Sprint(r.Problems, r.Results)
			if !strings.Contains(msgs, "numbers.range") && !strings.Contains(msgs, "memory budget") &&
				!strings.Contains(msgs, "deadline") && !strings.Contains(msgs, "too many policy evaluations") {
				t.Errorf("run %d does not say why it stopped: %s", i, msgs)
			}
			t.Logf("run %d: %.300s", i, msgs)
		}
	})
}

// TestContainmentSafetySuiteUsesTheRealOrg: a policy keyed on the org id
// cannot pass the safety suite by being tested with another org's.
func TestContainmentSafetySuiteUsesTheRealOrg(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		e.As("zoe@other.example", "").MustDo(t, `mutation { createOrganization(input: {name: "Other", slug: "other"}) { organization { id } } }`, nil, &struct{}{})
		zoe := e.As("zoe@other.example", "other")
		var org struct {
			Viewer struct {
				Membership struct{ Organization struct{ ID string } }
			}
		}
		zoe.MustDo(t, `{ viewer { membership { organization { id } } } }`, nil, &org)
		// The old suite used org "1": this lock-out passed it in any other org.
		lock := rego("lock", fmt.Sprintf("deny contains \"locked\" if {\n\tinput.org.id != %q\n}\n", "1"))
		if org.Viewer.Membership.Organization.ID == "1" {
			lock = rego("lock", "deny contains \"locked\" if {\n\tinput.org.id == \"1\"\n}\n")
		}
		v := savePolicy(t, zoe, lock, "locks the org out")
		r := activatePolicy(t, zoe, "activatePolicy", v.ID)
		code(t, r, "BAD_USER_INPUT", "okrgraph.safety.test_owner_edits_own_objective")
		if a := activePolicy(t, zoe); a != nil {
			t.Fatalf("activated: %+v", a)
		}
	})
}

// TestContainmentQueryCost: costly documents are refused before they are
// validated or run, with QUERY_TOO_COSTLY (400), quickly.
func TestContainmentQueryCost(t *testing.T) {
	doubled := func(levels int) string {
		var b strings.Builder
		b.WriteString("query { viewer { ...F0 } }\n")
		for i := range levels {
			fmt.Fprintf(&b, "fragment F%d on Viewer { ...F%d ...F%d }\n", i, i+1, i+1)
		}
		fmt.Fprintf(&b, "fragment F%d on Viewer { user { id } }\n", levels)
		return b.String()
	}
	aliases := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " a%d: okrs(first: 1000) { edges { node { viewerCan { update delete comment } } } }", i)
		}
		b.WriteString(" }")
		return b.String()
	}
	ids := make([]string, 60000)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	cases := []struct {
		name, query string
		vars        map[string]any
		want        string
	}{
		{"nested connections", `{ okrs(first:1000){edges{node{id parent{children(first:1000){edges{node{id parent{children(first:1000){edges{node{id}}}}}}}}}}} }`, nil, "could resolve"},
		{"a connection under every item of a whole-tree walk", `{ okrs(where: {hasParent: false}) { edges { node { id children { edges { node { id children { edges { node { id comments(first: 100) { edges { node { id body } } } } } } } } } } } } }`, nil, "down children"},
		{"a whole-tree walk under each of a page of items that may nest", `{ okrs(first: 1000) { edges { node { id title owners { id name } children { edges { node { id title owners { id name } children { edges { node { id title owners { id name } children { edges { node { id title owners { id name } children { edges { node { id title owners { id name } } } } } } } } } } } } } } } } }`, nil, "down children"},
		{"25 levels of doubled fragments", doubled(25), nil, "fragments expanded"},
		{"8000 repeated selections", "{" + strings.Repeat(" viewer { user { id } }", 8000) + " }", nil, "bytes"},
		{"200 aliases", aliases(200), nil, "fields"},
		{"60 aliases", aliases(60), nil, "could resolve"},
		{"first: 1000000", `{ okrs(first: 1000000) { edges { node { id } } } }`, nil, "first must be between 0 and 1000"},
		{"first by variable", `query($n: Int) { okrs(first: $n) { edges { node { id } } } }`, map[string]any{"n": 5000000}, "first must be between"},
		{"nodes with 60000 ids", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids}, "nodes: 60000 ids"},
		{"deep", "{ viewer {" + strings.Repeat(" organization { members(first: 1) { edges { node { user { id", 4) + strings.Repeat(" } } } } }", 4) + " } }", nil, "levels deep"},
	}
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		steve := e.As("steve", "acme")
		h := sampleHeap()
		for _, c := range cases {
			var r *testenv.Response
			timed(t, c.name, func() { r = steve.Do(t, c.query, c.vars) })
			if r.Status != 400 || r.Code() != server.CodeQueryTooCostly || len(r.Data) > 0 && string(r.Data) != "null" {
				t.Errorf("%s: status %d, errors %.300v", c.name, r.Status, r.Errors)
				continue
			}
			if !strings.Contains(r.Errors[0].Message, c.want) {
				t.Errorf("%s: %q does not say %q", c.name, r.Errors[0].Message, c.want)
			}
		}
		h.end(t, "costly queries")
		// An ordinary dashboard query passes.
		var out struct{ Okrs struct{ Edges []any } }
		steve.MustDo(t, `{ okrs(first: 20) { totalCount edges { node { id title owners { id } viewerCan { update delete checkIn } } } } }`, nil, &out)
		if len(out.Okrs.Edges) == 0 {
			t.Fatal("no OKRs")
		}
	})
}

// TestContainmentDefaultPage: a connection asked without first or last
// reads DefaultPage items; children, bounded by the tree rather than by a
// page, read all of an item's children (whether ent or the subtree
// loader serves them).
func TestContainmentDefaultPage(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			e := testenv.New(t, b, testenv.Config{Demo: true, Tweak: func(c *app.Config) { c.Limits.DefaultPage = 2 }})
			steve := e.As("steve", "acme")
			type conn struct {
				TotalCount int
				PageInfo   struct{ HasNextPage bool }
				Edges      []struct {
					Node struct {
						ID       string
						Children *conn
					}
				}
			}
			var out struct{ Okrs conn }
			steve.MustDo(t, `query($n: Int) { okrs(last: $n) { totalCount edges { node { children { totalCount edges { node { id } } } } } } }`, nil, &out)
			if out.Okrs.TotalCount <= 2 || len(out.Okrs.Edges) != 2 {
				t.Fatalf("total %d, %d edges; want 2 of more", out.Okrs.TotalCount, len(out.Okrs.Edges))
			}
			// ent's path (totalCount) and the subtree loader's: every child.
			var viaEnt, viaLoader struct{ Okrs conn }
			steve.MustDo(t, `{ okrs(first: 50) { edges { node { id children { totalCount edges { node { id } } } } } } }`, nil, &viaEnt)
			steve.MustDo(t, `{ okrs(first: 50) { edges { node { id children { edges { node { id } } } } } } }`, nil, &viaLoader)
			total := map[string]int{}
			more := false
			for _, n := range viaEnt.Okrs.Edges {
				kids := n.Node.Children
				if len(kids.Edges) != kids.TotalCount {
					t.Fatalf("%s: %d of %d children", n.Node.ID, len(kids.Edges), kids.TotalCount)
				}
				total[n.Node.ID] = kids.TotalCount
				more = more || kids.TotalCount > 2
			}
			for _, n := range viaLoader.Okrs.Edges {
				if got, want := len(n.Node.Children.Edges), total[n.Node.ID]; got != want {
					t.Fatalf("%s: the subtree loader gives %d children, ent %d", n.Node.ID, got, want)
				}
			}
			if !more {
				t.Fatal("no item has more than 2 children in the demo: the default page is not shown not to apply")
			}
			// first on children: that many, and hasNextPage.
			var capped struct{ Okrs conn }
			steve.MustDo(t, `{ okrs(first: 50) { edges { node { id children(first: 2) { pageInfo { hasNextPage } edges { node { id } } } } } } }`, nil, &capped)
			for _, n := range capped.Okrs.Edges {
				all := total[n.Node.ID]
				if got := n.Node.Children; len(got.Edges) != min(all, 2) || got.PageInfo.HasNextPage != (all > 2) {
					t.Fatalf("children(first: 2) of %s: %d edges, hasNextPage %v; %d children", n.Node.ID, len(got.Edges), got.PageInfo.HasNextPage, all)
				}
			}
		})
	}
}

// TestContainmentRequestDeadline: past its execution deadline a request is
// answered QUERY_TIMEOUT (503), not INTERNAL.
func TestContainmentRequestDeadline(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			e := testenv.New(t, b, testenv.Config{Demo: true, Tweak: func(c *app.Config) { c.RequestTimeout = time.Nanosecond }})
			r := e.As("steve", "acme").Do(t, `{ okrs(first: 10) { edges { node { id } } } }`, nil)
			if r.Status != 503 || r.Code() != server.CodeTimeout || len(r.Errors) != 1 {
				t.Fatalf("status %d, errors %+v", r.Status, r.Errors)
			}
		})
	}
}

// slowPolicy denies okr.delete after a comprehension that would run for
// hours: every delete decision runs until the tenant deadline.
var slowPolicy = rego("slow", `deny contains "never" if {
	input.action == "okr.delete"
	count([1 | some i in numbers.range(1, 9999); some j in numbers.range(1, 9999); some k in numbers.range(1, 9999); i == j + k + 20000]) > 0
}
`)

// TestContainmentConcurrencyPerOrg: while a request of one org holds its
// slot, more of that org's are refused with TOO_MANY_REQUESTS (429) and
// another org's are served.
func TestContainmentConcurrencyPerOrg(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			e := testenv.New(t, b, testenv.Config{Demo: true, Tweak: func(c *app.Config) {
				c.TenantPolicyTimeout = time.Second
				c.Concurrency = server.Concurrency{PerOrg: 1, PerUser: 1, Wait: 10 * time.Millisecond}
				// The slow decision must hold its slot for its whole
				// second: the heap watchdog measures the process, which
				// parallel tests grow by more than the default budget, and
				// would cut it short (the flake this test had under load).
				c.TenantGate = authz.NewGate(0, 0, time.Minute, 1<<40)
			}})
			adam, steve := e.As("adam", "acme"), e.As("steve", "acme")
			mine := createdID(t, createObjective(t, steve, "INDIVIDUAL", "Steve's"))
			v := savePolicy(t, adam, slowPolicy, "slow deletes")
			mustActivate(t, adam, "activatePolicy", v.ID)
			e.As("zoe@other.example", "").MustDo(t, `mutation { createOrganization(input: {name: "Other", slug: "other"}) { organization { id } } }`, nil, &struct{}{})
			zoe := e.As("zoe@other.example", "other")

			// attempt holds the org's slot with the slow delete and probes
			// both orgs until it is answered. A machine so loaded that one
			// probe outlasts the slow request sees no refusal: then the
			// attempt is repeated, as a loaded CI must not flip the result.
			attempt := func() (busy, served int) {
				done := make(chan *testenv.Response)
				go func() {
					done <- steve.Do(t, `mutation($id: ID!) { deleteOKRItem(id: $id) { deletedId } }`, map[string]any{"id": mine})
				}()
				for slow := (*testenv.Response)(nil); slow == nil; {
					select {
					case slow = <-done:
						forbidden(t, slow, "failed")
					default:
						if busy > 0 && served > 0 {
							slow = <-done // seen: wait for the slow request
							forbidden(t, slow, "failed")
							break
						}
						r := adam.Do(t, `{ viewer { user { id } } }`, nil)
						switch {
						case r.Status == 429 && r.Code() == server.CodeTooManyRequests:
							busy++
						case r.Code() == "":
						default:
							t.Fatalf("status %d %+v", r.Status, r.Errors)
						}
						zoe.MustDo(t, `{ viewer { user { id } } }`, nil, &struct{}{})
						served++
						time.Sleep(20 * time.Millisecond)
					}
				}
				return busy, served
			}
			busy, served := 0, 0
			for range 3 {
				if busy, served = attempt(); busy > 0 {
					break
				}
			}
			t.Logf("while the slow request ran: %d requests of its org refused, %d of another org served", busy, served)
			if busy == 0 {
				t.Error("no request of the busy org was refused")
			}
		})
	}
}

// TestContainmentOtherOrgLatency: while one org attacks (costly queries,
// fragment bombs, a slow tenant policy), another org's latency holds.
// The assertion compares medians over 30 requests, with slack for a CI
// whose cores are shared with other work (there the attacker's slow
// decisions, one core at most, compete with everything else): median
// during the attack <= 3x the baseline median + 100 ms. Before
// containment the other org's requests took seconds (3 ms -> 7 s).
func TestContainmentOtherOrgLatency(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			e := testenv.New(t, b, testenv.Config{Demo: true, Tweak: productConfig})
			adam, steve := e.As("adam", "acme"), e.As("steve", "acme")
			mine := createdID(t, createObjective(t, steve, "INDIVIDUAL", "Steve's"))
			v := savePolicy(t, adam, slowPolicy, "slow deletes")
			mustActivate(t, adam, "activatePolicy", v.ID)
			e.As("zoe@other.example", "").MustDo(t, `mutation { createOrganization(input: {name: "Other", slug: "other"}) { organization { id } } }`, nil, &struct{}{})
			zoe := e.As("zoe@other.example", "other")
			probe := func() time.Duration {
				start := time.Now()
				zoe.MustDo(t, `{ okrs(first: 20) { edges { node { id viewerCan { update } } } } viewer { user { id } } }`, nil, &struct{}{})
				return time.Since(start)
			}
			measure := func(n int) []time.Duration {
				ds := make([]time.Duration, n)
				for i := range ds {
					ds[i] = probe()
				}
				slices.Sort(ds)
				return ds
			}
			measure(5) // warm up
			base := measure(30)

			stop := make(chan struct{})
			var wg sync.WaitGroup
			var attacks atomic.Int64
			attack := func(f func()) {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
							f()
							attacks.Add(1)
						}
					}
				})
			}
			bomb := "query { viewer { ...F0 } }\n"
			for i := range 25 {
				bomb += fmt.Sprintf("fragment F%d on Viewer { ...F%d ...F%d }\n", i, i+1, i+1)
			}
			bomb += "fragment F25 on Viewer { user { id } }\n"
			attack(func() { steve.Do(t, bomb, nil) })
			attack(func() {
				steve.Do(t, `{ okrs(first:1000){edges{node{id parent{children(first:1000){edges{node{id}}}}}}} }`, nil)
			})
			attack(func() {
				steve.Do(t, `mutation($id: ID!) { deleteOKRItem(id: $id) { deletedId } }`, map[string]any{"id": mine})
			})
			h := sampleHeap()
			during := measure(30)
			close(stop)
			wg.Wait()
			h.end(t, "attack on another org")
			p := func(ds []time.Duration, q float64) time.Duration {
				return ds[int(q*float64(len(ds)-1))].Round(10 * time.Microsecond)
			}
			t.Logf("other org: baseline p50 %v p99 %v; during %d attack requests p50 %v p99 %v",
				p(base, .5), p(base, .99), attacks.Load(), p(during, .5), p(during, .99))
			if p(during, .5) > 3*p(base, .5)+100*time.Millisecond {
				t.Errorf("the other org's median went from %v to %v", p(base, .5), p(during, .5))
			}
		})
	}
}
