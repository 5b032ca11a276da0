package authz

import (
	"context"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func benchSrc(b *testing.B, src string, in *Input) {
	caps := Capabilities()
	m, err := parseModule("x.rego", src, caps)
	if err != nil {
		b.Fatal(err)
	}
	q, err := prepare(caps, append([]*ast.Module{}, m))
	if err != nil {
		b.Fatal(err)
	}
	_ = q
	e, err := newEngine(config{timeout: DefaultTimeout}, caps, []*ast.Module{m})
	if err != nil {
		b.Fatal(err)
	}
	d, err := e.Decide(context.Background(), in)
	if err != nil {
		b.Fatal(err, d)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Decide(context.Background(), in)
	}
}

func BenchmarkTrivial(b *testing.B) {
	benchSrc(b, `package okrgraph.main
decision := {"allow": true, "reasons": ["x"]}`, updateInput())
}

func BenchmarkOneRule(b *testing.B) {
	benchSrc(b, `package okrgraph.main
decision := {"allow": true, "reasons": [r]} if { r := reason }
reason := "owner" if { input.subject.id in input.resource.owners } else := "creator" if { input.subject.id == input.resource.creator } else := "mgr" if {input.subject.id in input.resource.owner_managers} else := "x"
`, updateInput())
}

func BenchmarkInputOnly(b *testing.B) {
	in := updateInput()
	b.ReportAllocs()
	for b.Loop() {
		inputValue(in, &inputMemo{})
	}
}

func BenchmarkHop(b *testing.B) {
	benchSrc(b, `package okrgraph.main
decision := d if { d := r1 }
r1 := {"allow": true, "reasons": ["x"]}`, updateInput())
}

func BenchmarkHop2(b *testing.B) {
	benchSrc(b, `package okrgraph.main
decision := d if { d := r1 }
r1 := d if { d := r2 }
r2 := {"allow": true, "reasons": ["x"]}`, updateInput())
}

func BenchmarkFail5(b *testing.B) {
	benchSrc(b, `package okrgraph.main
decision := {"allow": true, "reasons": ["1"]} if { input.subject.id == "a" }
else := {"allow": true, "reasons": ["2"]} if { input.subject.id == "b" }
else := {"allow": true, "reasons": ["3"]} if { input.subject.id == "c" }
else := {"allow": true, "reasons": ["4"]} if { input.subject.id == "d" }
else := {"allow": true, "reasons": ["5"]} if { input.subject.id == "e" }
else := {"allow": true, "reasons": ["x"]}`, updateInput())
}

func BenchmarkFail5In(b *testing.B) {
	benchSrc(b, `package okrgraph.main
decision := {"allow": true, "reasons": ["1"]} if { input.subject.id in input.resource.owners }
else := {"allow": true, "reasons": ["2"]} if { input.subject.id in input.resource.owners }
else := {"allow": true, "reasons": ["3"]} if { input.subject.id in input.resource.owners }
else := {"allow": true, "reasons": ["4"]} if { input.subject.id in input.resource.owners }
else := {"allow": true, "reasons": ["5"]} if { input.subject.id in input.resource.owners }
else := {"allow": true, "reasons": ["x"]}`, updateInput())
}

func BenchmarkNot(b *testing.B) {
	benchSrc(b, `package okrgraph.main
decision := {"allow": true, "reasons": ["1"]} if { not input.resource.private }`, updateInput())
}

func BenchmarkFail5Eq(b *testing.B) {
	benchSrc(b, `package okrgraph.main
decision := {"allow": true, "reasons": ["1"]} if { input.subject.id == input.resource.creator }
else := {"allow": true, "reasons": ["2"]} if { input.subject.id == input.resource.creator }
else := {"allow": true, "reasons": ["3"]} if { input.subject.id == input.resource.creator }
else := {"allow": true, "reasons": ["4"]} if { input.subject.id == input.resource.creator }
else := {"allow": true, "reasons": ["5"]} if { input.subject.id == input.resource.creator }
else := {"allow": true, "reasons": ["x"]}`, updateInput())
}

func BenchmarkFail5Iter(b *testing.B) {
	benchSrc(b, `package okrgraph.main
decision := {"allow": true, "reasons": ["1"]} if { input.resource.owners[_] == input.subject.id }
else := {"allow": true, "reasons": ["2"]} if { input.resource.owners[_] == input.subject.id }
else := {"allow": true, "reasons": ["3"]} if { input.resource.owners[_] == input.subject.id }
else := {"allow": true, "reasons": ["4"]} if { input.resource.owners[_] == input.subject.id }
else := {"allow": true, "reasons": ["5"]} if { input.resource.owners[_] == input.subject.id }
else := {"allow": true, "reasons": ["x"]}`, updateInput())
}

func BenchmarkFail5Missing(b *testing.B) {
	benchSrc(b, `package okrgraph.main
decision := {"allow": true, "reasons": ["1"]} if { input.subject.id in input.resource.viewers }
else := {"allow": true, "reasons": ["2"]} if { input.subject.id in input.resource.viewers }
else := {"allow": true, "reasons": ["3"]} if { input.subject.id in input.resource.viewers }
else := {"allow": true, "reasons": ["4"]} if { input.subject.id in input.resource.viewers }
else := {"allow": true, "reasons": ["5"]} if { input.subject.id in input.resource.viewers }
else := {"allow": true, "reasons": ["x"]}`, updateInput())
}
