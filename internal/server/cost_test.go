package server

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// realGuard is a cost guard over the product's schema, loaded from its
// SDL (not from graph/generated, which would make the fuzz build
// instrument ent and every resolver).
func realGuard() *costGuard {
	files, _ := filepath.Glob("../../graph/*.graphqls")
	var sources []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		sources = append(sources, &ast.Source{Name: f, Input: string(b)})
	}
	schema, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		panic(err)
	}
	return &costGuard{limits: Limits{}.withDefaults(), schema: schema, docs: lru.New[*ast.QueryDocument](costDocCacheSize)}
}

// TestCostGuardKeptDocuments: answering from a kept document changes no
// verdict: each query, costed twice by a guard that keeps documents,
// gets what a guard that parses every time answers (the rewritten text,
// the error, the variables given the default page), whatever its
// variables are the second time.
func TestCostGuardKeptDocuments(t *testing.T) {
	t.Parallel()
	kept := realGuard()
	fresh := realGuard()
	fresh.docs = nil
	for _, c := range []struct {
		query string
		vars  []map[string]any
	}{
		{`{ okrs { edges { node { id children { totalCount } } } } }`, []map[string]any{nil, nil}},
		{`{ okrs(first: null) { totalCount } }`, []map[string]any{nil, nil}},
		{`query($n: Int) { okrs(first: $n) { edges { node { id } } } }`, []map[string]any{{}, {"n": 5}, {"n": 1000000}, {"n": nil}}},
		{`query($n: Int) { okrs(first: $n) { edges { node { id children(first: 50) { edges { node { id } } } } } } }`, []map[string]any{{"n": 10}, {"n": 1000}, {"n": 10}}},
		{`query($l: Int) { okrs(last: $l) { totalCount } }`, []map[string]any{{}, {"l": 3}}},
		{`{ okrs(first: 1000) { edges { node { id children(first: 50) { edges { node { id } } } } } } }`, []map[string]any{nil, nil}},
		{`{ okrs(first: 5) { totalCount } }`, []map[string]any{nil, nil}},
	} {
		for i, vars := range c.vars {
			kv, fv := maps.Clone(vars), maps.Clone(vars)
			kq, kerr := kept.check(c.query, kv)
			fq, ferr := fresh.check(c.query, fv)
			if kq != fq || fmt.Sprint(kerr) != fmt.Sprint(ferr) || fmt.Sprint(kv) != fmt.Sprint(fv) {
				t.Errorf("%s, request %d (%v): kept %q %v %v, fresh %q %v %v", c.query, i+1, vars, kq, kerr, kv, fq, ferr, fv)
			}
		}
	}
	if _, ok := kept.docs.Get(context.Background(), `{ okrs(first: 5) { totalCount } }`); !ok {
		t.Errorf("a document costed without a rewrite was not kept")
	}
	if _, ok := kept.docs.Get(context.Background(), `{ okrs { edges { node { id children { totalCount } } } } }`); ok {
		t.Errorf("a document the guard rewrote was kept")
	}
}

func TestCostGuardDefaultPage(t *testing.T) {
	t.Parallel()
	g := realGuard()
	q, err := g.check(`{ okrs { edges { node { id children { totalCount } } } } }`, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	// okrs gets the default page; children, bounded by the tree, all.
	if strings.Count(q, "first: 100") != 1 {
		t.Fatalf("rewritten: %s", q)
	}
	vars := map[string]any{}
	q, err = g.check(`query($n: Int) { okrs(first: $n) { edges { node { id } } } }`, vars)
	if err != nil || q != "" || fmt.Sprint(vars["n"]) != "100" {
		t.Fatalf("query %q, vars %v, err %v", q, vars, err)
	}
	if q, err = g.check(`{ okrs(first: 5) { totalCount } }`, nil); err != nil || q != "" {
		t.Fatalf("query %q, err %v", q, err)
	}
}

func TestCostGuardCountsPages(t *testing.T) {
	t.Parallel()
	g := realGuard()
	// 1000 items x 50 children: over 50,000.
	if _, err := g.check(`{ okrs(first: 1000) { edges { node { id children(first: 50) { edges { node { id } } } } } } }`, nil); err == nil || err.Extensions["code"] != CodeQueryTooCostly {
		t.Fatalf("err %v", err)
	}
	if _, err := g.check(`{ okrs(first: 100) { edges { node { id children(first: 10) { edges { node { id } } } } } } }`, nil); err != nil {
		t.Fatalf("err %v", err)
	}
}

// FuzzQueryCost: whatever the document, the guard answers quickly, and a
// document it accepts is cheap for gqlgen to validate.
func FuzzQueryCost(f *testing.F) {
	g := realGuard()
	schema := g.schema
	doubled := "query { viewer { ...F0 } }\n"
	for i := range 25 {
		doubled += fmt.Sprintf("fragment F%d on Viewer { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	doubled += "fragment F25 on Viewer { user { id } }\n"
	for _, seed := range []string{
		`{ okrs(first:1000){edges{node{id parent{children(first:1000){edges{node{id parent{children(first:1000){edges{node{id}}}}}}}}}}} }`,
		doubled,
		"{" + strings.Repeat(" viewer { user { id } }", 1200) + " }",
		`{ a: okrs(first: 1000) { edges { node { viewerCan { update } } } } b: okrs(first: 1000) { totalCount } }`,
		`{ okrs(first: 1000000) { edges { node { id } } } }`,
		`{ nodes(ids: ["1", "2"]) { id } }`,
		`fragment A on Viewer { ...B } fragment B on Viewer { ...A } { viewer { ...A } }`,
		`{ okrs { edges { node { children { edges { node { children { totalCount } } } } } } } }`,
		`{ viewer { membership { organization { members { edges { node { user { id } } } } } } } }`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		start := time.Now()
		q, gerr := g.check(query, map[string]any{})
		if d := time.Since(start); d > time.Second {
			t.Fatalf("the guard took %v", d)
		}
		if gerr != nil {
			if gerr.Extensions["code"] == nil {
				t.Fatalf("uncoded refusal %v", gerr)
			}
			return
		}
		if q == "" {
			q = query
		}
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			return
		}
		start = time.Now()
		validator.Validate(schema, doc)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("validating an accepted document took %v", d)
		}
	})
}

// introspectionQuery is GraphiQL's: it must stay within the limits.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

func TestCostGuardAllowsIntrospection(t *testing.T) {
	t.Parallel()
	if _, err := realGuard().check(introspectionQuery, nil); err != nil {
		t.Fatal(err)
	}
}

// nestedChildren is `children` levels deep under sel, sel at every level.
func nestedChildren(levels int, sel string) string {
	out := sel
	for range levels {
		out = sel + " children { edges { node { " + out + " } } }"
	}
	return out
}

// TestCostGuardTreeWalks: a walk down children is bounded by the tree, so
// a whole tree pull is within the limits, while what multiplies inside it
// (other connections and lists under each item, pages of items that may
// nest, repeated ids) is still counted and refused.
func TestCostGuardTreeWalks(t *testing.T) {
	t.Parallel()
	g := realGuard()
	item := "id kind title weight progress owners { id }"
	accepted := []string{
		// the BI pull: the roots, then four levels of all children
		`{ okrs(where: {hasParent: false}) { edges { node { ` + nestedChildren(4, item) + ` } } } }`,
		// from one item, five levels
		`query($id: ID!) { node(id: $id) { ... on OKRItem { ` + nestedChildren(5, "id title") + ` } } }`,
		// small pages multiply as before
		`{ okrs(first: 10) { edges { node { id comments(first: 10) { edges { node { id } } } children(first: 10) { edges { node { id comments(first: 10) { edges { node { id } } } } } } } } } }`,
	}
	for _, q := range accepted {
		rewritten, err := g.check(q, map[string]any{"id": "1"})
		if err != nil {
			t.Errorf("refused %.120s: %v", q, err)
		}
		if strings.Contains(rewritten, "children(first") {
			t.Errorf("children got a default page: %s", rewritten)
		}
	}
	vars := map[string]any{"w": map[string]any{"hasParent": false}}
	if _, err := g.check(`query($w: OKRItemWhereInput) { okrs(where: $w) { edges { node { `+nestedChildren(4, item)+` } } } }`, vars); err != nil {
		t.Errorf("roots by a variable: %v", err)
	}
	refused := []struct{ name, query, want string }{
		{"a connection under every item of the walk",
			`{ okrs(where: {hasParent: false}) { edges { node { ` + nestedChildren(3, "id comments(first: 100) { edges { node { id body } } }") + ` } } } }`, "down children"},
		{"a page that may nest, many levels",
			`{ okrs(first: 1000) { edges { node { ` + nestedChildren(5, item) + ` } } } }`, "down children"},
		{"repeated ids",
			`{ nodes(ids: ["1","1","1","1","1","1","1","1","1","1"]) { ... on OKRItem { ` + nestedChildren(3, item) + ` } } }`, "down children"},
		{"aliased walks",
			`{ a: okrs(where: {hasParent: false}) { edges { node { ` + nestedChildren(3, item) + ` } } } b: okrs(where: {hasParent: false}) { edges { node { ` + nestedChildren(3, item) + ` } } } c: okrs(where: {hasParent: false}) { edges { node { ` + nestedChildren(3, item) + ` } } } }`, "down children"},
		{"pages inside the walk",
			`{ okrs(first: 1000) { edges { node { id children(first: 1000) { edges { node { id checkins(first: 1000) { edges { node { id } } } } } } } } } }`, "could resolve"},
	}
	for _, c := range refused {
		_, err := g.check(c.query, map[string]any{})
		if err == nil || err.Extensions["code"] != CodeQueryTooCostly || !strings.Contains(err.Message, c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
