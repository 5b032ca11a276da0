package authz

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// typicalTenant is a tenant policy of the usual kind: two of the shipped
// examples together (a denial and a grant).
func typicalTenant(b testing.TB) []Module {
	var out []Module
	for _, ex := range []string{"org-objectives-owners-only", "supervisor-chain-edits"} {
		for _, m := range loadExample(b, "../../examples/tenant-policies/"+ex) {
			if !m.IsTest() {
				m.Name = ex + ".rego"
				out = append(out, m)
			}
		}
	}
	return out
}

// BenchmarkTenantDecision compares decisions with the default policy only
// and with a typical tenant policy active, side by side: evaluations (the
// decision cache is off).
func BenchmarkTenantDecision(b *testing.B) {
	def, err := NewEngine(WithDecisionCache(-1, 0))
	if err != nil {
		b.Fatal(err)
	}
	ten, err := NewTenantEngine(typicalTenant(b), WithDecisionCache(-1, 0))
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range []struct {
		name  string
		input *Input
	}{{"create", createInput()}, {"update", updateInput()}} {
		for _, e := range []struct {
			name   string
			engine *Engine
		}{{"default", def}, {"tenant", ten}} {
			b.Run(in.name+"/"+e.name, func(b *testing.B) {
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := e.engine.Decide(ctx, in.input); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// policy200 is a 200-line tenant policy: many small deny rules.
func policy200() []Module {
	var sb strings.Builder
	sb.WriteString("package okrgraph.tenant.big\n\n")
	for i := 0; sb.Len() == 0 || strings.Count(sb.String(), "\n") < 200; i++ {
		fmt.Fprintf(&sb, "deny contains \"rule %d\" if {\n\tinput.action == \"okr.create\"\n\tinput.resource.level == \"TEAM\"\n\tsome team in input.resource.teams\n\tteam.name == \"team-%d\"\n}\n\n", i, i)
	}
	return []Module{{Name: "big.rego", Source: sb.String()}}
}

// BenchmarkActivation measures what activating a 200-line policy costs a
// server: validate, compile and build the engine that replaces the old.
func BenchmarkActivation(b *testing.B) {
	mods := policy200()
	b.ReportAllocs()
	for b.Loop() {
		if p := ValidateTenant(mods); len(p) > 0 {
			b.Fatal(p)
		}
		if _, err := NewTenantEngine(mods); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTenantMemory builds 1,000 tenant engines, each with its own
// active policy, and reports the heap held per tenant.
func BenchmarkTenantMemory(b *testing.B) {
	const tenants = 1000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		engines := make([]*Engine, tenants)
		for i := range engines {
			mods := []Module{{Name: "p.rego", Source: fmt.Sprintf("package okrgraph.tenant.t%d\n\ndeny contains \"tenant %d: no org objectives\" if {\n\tinput.action == \"okr.create\"\n\tinput.resource.level == \"ORGANIZATION\"\n\tinput.subject.role != \"OWNER\"\n}\n", i, i)}}
			e, err := NewTenantEngine(mods)
			if err != nil {
				b.Fatal(err)
			}
			engines[i] = e
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/tenants, "heap-bytes/tenant")
		runtime.KeepAlive(engines)
	}
}
