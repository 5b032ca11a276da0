package authz

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSource serves tenant policies from memory.
type fakeSource struct {
	mu       sync.Mutex
	active   map[string]int
	versions map[string]map[int][]Module
	reads    int
}

func (f *fakeSource) ActiveVersion(_ context.Context, org string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.active[org], nil
}

func (f *fakeSource) Modules(_ context.Context, org string, v int) ([]Module, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.versions[org][v], nil
}

func (f *fakeSource) set(org string, v int, src string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.versions[org] == nil {
		f.versions[org] = map[int][]Module{}
	}
	f.versions[org][v] = []Module{{Name: "p.rego", Source: src}}
	f.active[org] = v
}

const denyCreate = "package okrgraph.tenant.x\n\ndeny contains \"tenant says no\" if input.action == \"okr.create\"\n"

func orgInput(org string) *Input {
	in := createInput()
	in.Org.ID = org
	in.Subject.Role = "OWNER"
	return in
}

func TestRouterRoutesPerOrgAndNoticesActivations(t *testing.T) {
	t.Parallel()
	def, err := NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{active: map[string]int{}, versions: map[string]map[int][]Module{}}
	r := &Router{Default: def, Source: src, CheckEvery: time.Hour}
	ctx := context.Background()
	if d, _ := r.Decide(ctx, orgInput("a")); !d.Allow {
		t.Fatalf("default policy should allow: %+v", d)
	}
	src.set("a", 1, denyCreate)
	if d, _ := r.Decide(ctx, orgInput("a")); !d.Allow {
		t.Fatal("within CheckEvery the old version still decides")
	}
	r.Invalidate("a")
	d, err := r.Decide(ctx, orgInput("a"))
	if err != nil || d.Allow || d.By != "tenant" || d.Reasons[0] != "tenant says no" {
		t.Fatalf("after invalidate: %+v %v", d, err)
	}
	if d, _ := r.Decide(ctx, orgInput("b")); !d.Allow {
		t.Fatalf("another org is unaffected: %+v", d)
	}
	// Polling: a short CheckEvery notices the change without Invalidate.
	r.CheckEvery = time.Millisecond
	src.set("a", 2, "package okrgraph.tenant.x\n\nallow contains \"fine\" if false\n")
	time.Sleep(2 * time.Millisecond)
	if d, _ := r.Decide(ctx, orgInput("a")); !d.Allow {
		t.Fatalf("version 2 allows: %+v", d)
	}
}

func TestRouterFailsClosedNamingTheTenantPolicy(t *testing.T) {
	t.Parallel()
	def, err := NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{active: map[string]int{}, versions: map[string]map[int][]Module{}}
	src.set("slow", 3, "package okrgraph.tenant.x\n\nr := numbers.range(1, 300)\n\ndeny contains \"never\" if {\n\tcount([1 | some a in r; some b in r; some c in r]) < 0\n}\n")
	r := &Router{Default: def, Source: src, Options: []Option{WithTimeout(20 * time.Millisecond), WithLogger(quietLogger())}, Log: quietLogger()}
	start := time.Now()
	d, err := r.Decide(context.Background(), orgInput("slow"))
	if err == nil || d.Allow || !strings.Contains(d.Reasons[0], "version 3") {
		t.Fatalf("a runaway tenant policy must deny naming its version: %+v %v", d, err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v", took)
	}
	if d, err := r.Decide(context.Background(), orgInput("calm")); err != nil || !d.Allow {
		t.Fatalf("other orgs are unaffected: %+v %v", d, err)
	}
}

func TestRouterBoundsCompiledTenants(t *testing.T) {
	t.Parallel()
	def, err := NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{active: map[string]int{}, versions: map[string]map[int][]Module{}}
	r := &Router{Default: def, Source: src, MaxTenants: 3, CheckEvery: time.Hour}
	for i := range 6 {
		org := fmt.Sprint("o", i)
		src.set(org, 1, denyCreate)
		if d, _ := r.Decide(context.Background(), orgInput(org)); d.Allow {
			t.Fatalf("%s: tenant rule ignored", org)
		}
	}
	if n := r.Tenants(); n > 3 {
		t.Fatalf("%d tenant engines kept, want at most 3", n)
	}
	// An evicted org compiles again and still gets its own policy.
	if d, _ := r.Decide(context.Background(), orgInput("o0")); d.Allow {
		t.Fatal("evicted org lost its policy")
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// brokenSource names a version whose modules cannot be loaded.
type brokenSource struct{}

func (brokenSource) ActiveVersion(context.Context, string) (int, error) { return 4, nil }
func (brokenSource) Modules(context.Context, string, int) ([]Module, error) {
	return nil, fmt.Errorf("version 4 is gone")
}

func TestRouterKeepsOrgAdministrationWhenTheTenantPolicyIsUnavailable(t *testing.T) {
	t.Parallel()
	def, err := NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	r := &Router{Default: def, Source: brokenSource{}, Log: quietLogger()}
	admin := &Input{Action: ActionOrgManagePolicy, Subject: Subject{UserID: "1", Role: "ADMIN"}, Org: Org{ID: "x"}}
	if d, err := r.Decide(context.Background(), admin); err != nil || !d.Allow {
		t.Fatalf("admins must still manage the policy: %+v %v", d, err)
	}
	if d, err := r.Decide(context.Background(), orgInput("x")); err == nil || d.Allow {
		t.Fatalf("OKR actions deny while the policy is unavailable: %+v %v", d, err)
	}
}

type recorder struct {
	mu  sync.Mutex
	got []Observation
}

func (r *recorder) ObserveDecision(_ context.Context, o *Observation) {
	r.mu.Lock()
	c := *o // observers keep nothing of o: copy the input too
	if o.Input != nil {
		in := *o.Input
		c.Input = &in
	}
	r.got = append(r.got, c)
	r.mu.Unlock()
}

// The Router tells its observer of each decision: the tenant version that
// decided and whether the caller enforces it.
func TestRouterObserver(t *testing.T) {
	t.Parallel()
	def, err := NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{active: map[string]int{}, versions: map[string]map[int][]Module{}}
	src.set("b", 4, denyCreate)
	rec := &recorder{}
	r := &Router{Default: def, Source: src, Observer: Observers{rec}}
	ctx := context.Background()
	if d, _ := r.Decide(ctx, orgInput("a")); !d.Allow {
		t.Fatal("org a denied")
	}
	if d, _ := r.Decide(Enforcing(ctx), orgInput("b")); d.Allow {
		t.Fatal("org b allowed")
	}
	if len(rec.got) != 2 {
		t.Fatalf("%d observations", len(rec.got))
	}
	a, b := rec.got[0], rec.got[1]
	if a.Version != 0 || a.Enforced || !a.Decision.Allow || a.Input.Org.ID != "a" {
		t.Errorf("org a: %+v", a)
	}
	if b.Version != 4 || !b.Enforced || b.Decision.Allow || b.Decision.By != "tenant" || b.Elapsed <= 0 {
		t.Errorf("org b: %+v", b)
	}
}
