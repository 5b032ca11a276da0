package authz

import (
	"context"
	"testing"
	"time"
)

// FuzzTenantPolicy: whatever a tenant writes, validation answers, and a
// policy that validates decides (or fails closed) within its deadline,
// without crashing the process.
func FuzzTenantPolicy(f *testing.F) {
	for _, seed := range []string{
		"deny contains \"x\" if {\n\tx := bits.lsh(1, 8796093022208)\n\tx < 0\n}\n",
		"deny contains \"x\" if {\n\tgraphql.is_valid(\"{ a }\", \"type Query { a: Int }\")\n}\n",
		"deny contains \"x\" if {\n\tcount([n | some n in numbers.range(1, 1000000000)]) > 0\n}\n",
		"deny contains \"x\" if {\n\tinput.action == \"okr.checkin\"\n\tbits.lsh(1, 30000000) > 0\n}\n",
		"deny contains \"x\" if {\n\tinput.org.id != \"1\"\n}\n",
		"deny contains \"x\" if {\n\txs := numbers.range(1, 9999)\n\tcount([[a, b] | some a in xs; some b in xs]) > 0\n}\n",
		"deny contains \"x\" if {\n\ts := concat(\"\", [\"0123456789\" | some _ in numbers.range(1, 5000)])\n\tcount(s) > 0\n}\n",
		"deny contains \"x\" if {\n\tsprintf(\"%099999999d\", [1]) != \"\"\n}\n",
		"deny contains \"x\" if {\n\tx := 1e18 * 1e18\n\tx * x > 0\n}\n",
		"deny contains msg if {\n\tinput.action == \"okr.update\"\n\tnot input.subject.id in input.resource.owners\n\tmsg := sprintf(\"only owners of %s may edit it\", [input.resource.id])\n}\n",
		"allow contains \"x\" if {\n\tregex.match(\"^[a-z]+$\", input.resource.kind)\n}\n",
	} {
		f.Add(seed)
	}
	gate := NewGate(2, 2, time.Second, 64<<20)
	f.Fuzz(func(t *testing.T, body string) {
		mods := []Module{{Name: "p.rego", Source: "package okrgraph.tenant.fuzz\n\n" + body}}
		if problems := ValidateTenant(mods); len(problems) > 0 {
			return
		}
		e, err := NewTenantEngine(mods, WithGate(gate), WithTimeout(200*time.Millisecond))
		if err != nil {
			t.Fatalf("validated but does not compile: %v", err)
		}
		start := time.Now()
		d, err := e.Decide(context.Background(), updateInput())
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("the decision took %v", el)
		}
		if err != nil && d.Allow {
			t.Fatalf("a failed decision allowed: %v", err)
		}
	})
}
