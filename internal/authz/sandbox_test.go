package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

func tenantModule(body string) []Module {
	return []Module{{Name: "p.rego", Source: "package okrgraph.tenant.x\n\n" + body}}
}

// TestAllowListIsKnown: every allowed name is a built-in of this OPA
// version, and the trusted capabilities still offer each one.
func TestAllowListIsKnown(t *testing.T) {
	t.Parallel()
	caps := map[string]bool{}
	for _, b := range Capabilities().Builtins {
		caps[b.Name] = true
	}
	for _, n := range TenantBuiltins() {
		if _, ok := ast.BuiltinMap[n]; !ok || !caps[n] {
			t.Errorf("%s is allowed but not a built-in of the capabilities", n)
		}
	}
}

// TestSandboxRefusesEveryOtherBuiltin: each capability built-in off the
// allow-list is refused by name, at the line of its call (one module
// calling them all, one rule each).
func TestSandboxRefusesEveryOtherBuiltin(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("package okrgraph.tenant.x\n")
	line := map[string]int{}
	n := 1
	for _, bi := range Capabilities().Builtins {
		if tenantBuiltins[bi.Name] || bi.Infix != "" || strings.HasPrefix(bi.Name, "internal.") || bi.Decl == nil ||
			bi.Deprecated || // strict mode refuses them, before the sandbox check
			bi.Name == "print" || strings.HasPrefix(bi.Name, "rego.metadata.") { // compiled away
			continue
		}
		args := make([]string, len(bi.Decl.FuncArgs().Args))
		for i := range args {
			args[i] = "input.resource.id"
		}
		call := bi.Name + "(" + strings.Join(args, ", ") + ")"
		if bi.Decl.Result() == nil {
			fmt.Fprintf(&b, "\ndeny contains \"x\" if {\n\t%s\n}\n", call)
		} else {
			fmt.Fprintf(&b, "\ndeny contains x if {\n\tx := %s\n}\n", call)
		}
		line[bi.Name] = n + 3
		n += 4
	}
	problems := ValidateTenant([]Module{{Name: "p.rego", Source: b.String()}})
	for name, l := range line {
		found := false
		for _, p := range problems {
			if p.Line == l && p.Column > 0 && strings.Contains(p.Message, "built-in "+name+" is not available") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s (line %d) is not refused", name, l)
		}
	}
	if len(line) < 90 {
		t.Errorf("only %d built-ins checked", len(line))
	}
}

// TestBoundedBuiltinsHalt: kept built-ins refuse arguments that would make
// them expensive, and the decision fails closed naming the limit.
func TestBoundedBuiltinsHalt(t *testing.T) {
	t.Parallel()
	for name, expr := range map[string]string{
		"numbers.range":     "count(numbers.range(1, 1000000000)) > 0",
		"concat":            `count(concat("", ["0123456789" | some _ in numbers.range(1, 5000)])) > 0`,
		"sprintf width":     `sprintf("%099999999d", [1]) != ""`,
		"sprintf size":      `sprintf("%v", [[x | some x in numbers.range(1, 9000)]]) != ""`,
		"mul":               "x := 1000000000000 * 1000000000000; x * x > 0",
		"array.concat":      "a := [x | some x in numbers.range(1, 9000)]; b := array.concat(a, a); c := array.concat(b, b); d := array.concat(c, c); e := array.concat(d, d); f := array.concat(e, e); g := array.concat(f, f); h := array.concat(g, g); count(h) > 0",
		"replace":           `count(replace("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a", concat("", ["0123456789" | some _ in numbers.range(1, 1000)]))) > 0`,
		"regex.match large": `regex.match(concat("", ["a" | some _ in numbers.range(1, 300)]), "a")`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mods := tenantModule("deny contains \"x\" if {\n\t" + strings.ReplaceAll(expr, "; ", "\n\t") + "\n}\n")
			e, err := NewTenantEngine(mods, WithGate(NewGate(4, 4, time.Second, 0)), WithTimeout(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			d, err := e.Decide(context.Background(), updateInput())
			if err == nil || d.Allow || !errors.Is(err, errSandbox) {
				t.Fatalf("decision %+v, err %v", d, err)
			}
		})
	}
}

// TestGateHeapWatchdog: an evaluation that grows the heap beyond the
// gate's budget is cancelled and denies.
func TestGateHeapWatchdog(t *testing.T) {
	t.Parallel()
	mods := tenantModule("deny contains \"x\" if {\n\txs := numbers.range(1, 9999)\n\tcount([[a, b] | some a in xs; some b in xs]) > 0\n}\n")
	e, err := NewTenantEngine(mods, WithGate(NewGate(1, 1, time.Second, 4<<20)), WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	d, err := e.Decide(context.Background(), updateInput())
	if !errors.Is(err, ErrTenantMemory) || d.Allow {
		t.Fatalf("decision %+v, err %v", d, err)
	}
	t.Logf("cancelled after %v", time.Since(start))
}

// TestGateBoundsPerOrg: with its slot taken, an org's next evaluation waits
// and is refused; another org's is served.
func TestGateBoundsPerOrg(t *testing.T) {
	t.Parallel()
	g := NewGate(1, 2, 20*time.Millisecond, 0)
	r, err := g.enter(context.Background(), "a", func() {})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.enter(context.Background(), "a", func() {}); !errors.Is(err, ErrTenantBusy) {
		t.Fatalf("second evaluation of org a: %v", err)
	}
	r2, err := g.enter(context.Background(), "b", func() {})
	if err != nil {
		t.Fatalf("org b: %v", err)
	}
	r2.leave()
	r.leave()
	if len(g.orgs) != 0 {
		t.Errorf("%d orgs remembered", len(g.orgs))
	}
}

// TestSafetySuiteUsesTheOrgsFacts: a policy denying in every org but "1"
// passed the old suite (org "1"); with the real org's facts it fails.
func TestSafetySuiteUsesTheOrgsFacts(t *testing.T) {
	t.Parallel()
	mods := tenantModule("deny contains \"locked\" if {\n\tinput.org.id != \"1\"\n}\n")
	facts := SafetyFacts{Org: Org{ID: "42", OKRCreation: "EVERYONE", TeamCreation: "ADMINS"}, Subject: Subject{UserID: "7", Role: "ADMIN"}}
	results, problems := RunTenantTests(context.Background(), mods, facts)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	failed := 0
	for _, r := range results {
		if r.Safety && !r.Passed {
			failed++
		}
	}
	if failed == 0 {
		t.Fatalf("the lock-out passed the safety suite: %+v", results)
	}
}
