package graph_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"okrgraph/ent/migrate"
	"okrgraph/graph"
	"okrgraph/internal/apperr"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
	"okrgraph/internal/textcheck"
)

// Bad text in any string the API takes is BAD_USER_INPUT naming the field,
// and writes nothing. The cases are generated from the published schema:
// every String argument and input field of every mutation (at any depth of
// input objects and lists), and every String field of every where filter.

// stringSlot is one place a mutation takes a string: the argument values
// that reach it (other required arguments filled with valid values) and
// the field the error must name.
type stringSlot struct {
	field    string // the mutation
	args     map[string]any
	argTypes map[string]*ast.Type
	path     []string // where the bad string goes, from the argument
	name     string   // the input field's name
	sel      string
}

func publishedSchema(t testing.TB) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "published.graphql", Input: graph.PublishedSDL()})
	if err != nil {
		t.Fatalf("load the published schema: %v", err)
	}
	return s
}

// sample is a valid value of t (required fields only), or nil.
func sample(s *ast.Schema, t *ast.Type, depth int) any {
	if t.Elem != nil {
		return []any{sample(s, t.Elem, depth)}
	}
	def := s.Types[t.NamedType]
	switch {
	case t.NamedType == "ID":
		return "1"
	case t.NamedType == "String":
		return "fine"
	case t.NamedType == "Int":
		return 1
	case t.NamedType == "Float":
		return 1.0
	case t.NamedType == "Boolean":
		return false
	case t.NamedType == "Time":
		return "2027-01-01T00:00:00Z"
	case def != nil && def.Kind == ast.Enum:
		return def.EnumValues[0].Name
	case def != nil && def.Kind == ast.InputObject:
		obj := map[string]any{}
		if depth > 4 {
			return obj
		}
		for _, f := range def.Fields {
			if f.Type.NonNull && f.DefaultValue == nil {
				obj[f.Name] = sample(s, f.Type, depth+1)
			}
		}
		return obj
	}
	return nil
}

// stringPaths lists the paths to String fields inside a value of type t.
func stringPaths(s *ast.Schema, t *ast.Type, depth int) [][]string {
	if t.Elem != nil {
		var out [][]string
		for _, p := range stringPaths(s, t.Elem, depth) {
			out = append(out, append([]string{"0"}, p...))
		}
		return out
	}
	if t.NamedType == "String" {
		return [][]string{nil}
	}
	def := s.Types[t.NamedType]
	if def == nil || def.Kind != ast.InputObject || depth > 4 {
		return nil
	}
	var out [][]string
	for _, f := range def.Fields {
		for _, p := range stringPaths(s, f.Type, depth+1) {
			out = append(out, append([]string{f.Name}, p...))
		}
	}
	return out
}

// place returns a copy of v (a sample of t) with bad at path.
func place(s *ast.Schema, t *ast.Type, v any, path []string, bad string) any {
	if len(path) == 0 {
		return bad
	}
	if t.Elem != nil {
		return []any{place(s, t.Elem, sample(s, t.Elem, 0), path[1:], bad)}
	}
	obj := map[string]any{}
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			obj[k] = x
		}
	}
	f := s.Types[t.NamedType].Fields.ForName(path[0])
	cur := obj[path[0]]
	if cur == nil {
		cur = sample(s, f.Type, 0)
	}
	obj[path[0]] = place(s, f.Type, cur, path[1:], bad)
	return obj
}

func selectionFor(s *ast.Schema, t *ast.Type) string {
	if def := s.Types[t.Name()]; def != nil && (def.Kind == ast.Object || def.Kind == ast.Interface || def.Kind == ast.Union) {
		return "{ __typename }"
	}
	return ""
}

func mutationSlots(t testing.TB, s *ast.Schema) []stringSlot {
	var slots []stringSlot
	for _, f := range s.Mutation.Fields {
		for _, a := range f.Arguments {
			for _, p := range stringPaths(s, a.Type, 0) {
				args := map[string]any{}
				types := map[string]*ast.Type{}
				for _, o := range f.Arguments {
					types[o.Name] = o.Type
					if o.Name == a.Name {
						continue
					}
					if o.Type.NonNull {
						args[o.Name] = sample(s, o.Type, 0)
					}
				}
				name := a.Name
				for _, seg := range p {
					if _, err := strconv.Atoi(seg); err != nil {
						name = seg
					}
				}
				slots = append(slots, stringSlot{field: f.Name, args: args, argTypes: types, path: append([]string{a.Name}, p...), name: name, sel: selectionFor(s, f.Type)})
			}
		}
	}
	return slots
}

// doc builds the operation for the slot with the bad string placed.
func (sl stringSlot) request(s *ast.Schema, bad string) (string, map[string]any, string) {
	vars := map[string]any{}
	for k, v := range sl.args {
		vars[k] = v
	}
	arg := sl.path[0]
	vars[arg] = place(s, sl.argTypes[arg], sample(s, sl.argTypes[arg], 0), sl.path[1:], bad)
	var decls, uses []string
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		decls = append(decls, fmt.Sprintf("$%s: %s", k, sl.argTypes[k].String()))
		uses = append(uses, fmt.Sprintf("%s: $%s", k, k))
	}
	q := fmt.Sprintf("mutation(%s) { %s(%s) %s }", strings.Join(decls, ", "), sl.field, strings.Join(uses, ", "), sl.sel)
	field := strings.Join(sl.path, ".")
	field = strings.TrimPrefix(field, "input.")
	return q, vars, field
}

// rowCounts counts the rows of every table.
func rowCounts(t *testing.T, e *testenv.Env) string {
	t.Helper()
	// The decision log writes earlier requests' decisions in the
	// background: flushed first, they cannot land between two counts.
	if e.App.Decisions != nil {
		testenv.Must(t, e.App.Decisions.Flush(context.Background()))
	}
	var b strings.Builder
	for _, tbl := range migrate.Tables {
		var n int
		testenv.Must(t, e.App.DB.SQL.QueryRow(`SELECT count(*) FROM `+tbl.Name).Scan(&n))
		fmt.Fprintf(&b, "%s=%d ", tbl.Name, n)
	}
	return b.String()
}

// badTexts are refused in every string; singleLineOnly only in titles and names.
var badTexts = []struct{ name, value string }{
	{"NUL", "a\x00b"},
	{"bell", "a\x07b"},
	{"escape", "a\x1b[31mb"},
	{"C1 control", "a\u0085b"},
	{"bidi override", "invoice \u202egnp.exe"},
	{"bidi isolate", "a\u2066b\u2069"},
	{"too long", strings.Repeat("x", textcheck.MaxText+1)},
}

func TestEveryMutationStringRefusesBadText(t *testing.T) {
	t.Parallel()
	s := publishedSchema(t)
	slots := mutationSlots(t, s)
	if len(slots) < 40 {
		t.Fatalf("only %d string slots found in the mutations: the generator is broken", len(slots))
	}
	t.Logf("%d string arguments and input fields of mutations", len(slots))
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		c := e.As("olivia", "acme")
		before := rowCounts(t, e)
		for _, sl := range slots {
			bads := badTexts
			if graphSingleLine(sl.name) {
				bads = append(bads[:len(bads):len(bads)], struct{ name, value string }{"newline", "two\nlines"}, struct{ name, value string }{"tab", "a\tb"})
			}
			for _, bad := range bads {
				q, vars, field := sl.request(s, bad.value)
				r := c.Do(t, q, vars)
				if r.Code() != "BAD_USER_INPUT" {
					t.Errorf("%s %s with %s: code %q (%+v)\n%s", sl.field, field, bad.name, r.Code(), r.Errors, q)
					continue
				}
				if f, _ := r.Errors[0].Extensions["field"].(string); f != field {
					t.Errorf("%s with %s: field %q, want %q", sl.field, bad.name, f, field)
				}
			}
		}
		if after := rowCounts(t, e); after != before {
			t.Errorf("refused input wrote:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// graphSingleLine mirrors graph.InputCheck's single-line field names.
func graphSingleLine(name string) bool {
	switch name {
	case "action", "criterion", "dataLink", "email", "key", "label", "name", "slug", "title", "unit":
		return true
	}
	return false
}

func TestEveryFilterStringIsBounded(t *testing.T) {
	t.Parallel()
	s := publishedSchema(t)
	type filterSlot struct{ query, field, arg string }
	var slots []filterSlot
	for _, f := range s.Query.Fields {
		w := f.Arguments.ForName("where")
		if w == nil {
			continue
		}
		for _, in := range s.Types[w.Type.Name()].Fields {
			if in.Type.NamedType == "String" {
				slots = append(slots, filterSlot{f.Name, in.Name, w.Type.Name()})
			}
		}
	}
	if len(slots) < 10 {
		t.Fatalf("only %d filter strings found", len(slots))
	}
	t.Logf("%d filter strings", len(slots))
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		c := e.As("olivia", "acme")
		long := strings.Repeat("x", 200<<10)
		for _, sl := range slots {
			sel := selectionFor(s, s.Query.Fields.ForName(sl.query).Type)
			if sel != "" {
				sel = "{ totalCount }"
			}
			q := fmt.Sprintf("query($w: %s) { %s(where: $w) %s }", sl.arg, sl.query, sel)
			for _, v := range []string{long, "a\x00b"} {
				r := c.Do(t, q, map[string]any{"w": map[string]any{sl.field: v}})
				if r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "where."+sl.field {
					t.Errorf("%s(where: {%s}) with %d bytes: %+v", sl.query, sl.field, len(v), r.Errors)
				}
			}
			// An ordinary filter still works.
			if r := c.Do(t, q, map[string]any{"w": map[string]any{sl.field: "x"}}); len(r.Errors) > 0 && r.Code() != "FORBIDDEN" {
				t.Errorf("%s(where: {%s: \"x\"}): %+v", sl.query, sl.field, r.Errors)
			}
		}
	})
}

// The cases reported in issue 12, as a client sends them.
func TestReportedBadInputs(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		c := e.As("olivia", "acme")
		before := rowCounts(t, e)
		rows := []struct {
			name, query string
			vars        map[string]any
			field       string
		}{
			{"lowercase enum in a variable", `mutation($k: OKRItemKind!) { createOKRItem(input: {kind: $k, level: INDIVIDUAL, title: "x"}) { item { id } } }`,
				map[string]any{"k": "objective"}, "kind"},
			{"lowercase enum nested in a variable", `mutation($in: CreateOKRItemInput!) { createOKRItem(input: $in) { item { id } } }`,
				map[string]any{"in": map[string]any{"kind": "OBJECTIVE", "level": "individual", "title": "x"}}, "level"},
			{"lone surrogate in review criteria", `mutation { createReviewCycle(input: {name: "C", startsAt: "2027-01-01T00:00:00Z", endsAt: "2027-06-01T00:00:00Z", criteria: [{name: "a\ud800b", scale: {min: 1, max: 5}}]}) { cycle { id } } }`,
				nil, "query"},
			{"trailing surrogate first", `mutation { createOKRItem(input: {kind: OBJECTIVE, level: INDIVIDUAL, title: "\udc00\ud800"}) { item { id } } }`, nil, "query"},
			{"year 1", `mutation { createTimePeriod(input: {name: "Year one", startsAt: "0001-01-01T00:00:00Z", endsAt: "2027-01-01T00:00:00Z"}) { timePeriod { id } } }`, nil, "startsAt"},
			{"year 10000 in a variable", `mutation($e: Time!) { createTimePeriod(input: {name: "Far", startsAt: "2027-01-01T00:00:00Z", endsAt: $e}) { timePeriod { id } } }`,
				map[string]any{"e": "+10000-01-01T00:00:00Z"}, ""},
			{"NUL in a title", `mutation($t: String!) { createOKRItem(input: {kind: OBJECTIVE, level: INDIVIDUAL, title: $t}) { item { id } } }`, map[string]any{"t": "a\x00b"}, "title"},
			{"NUL in review criteria", `mutation($n: String!) { createReviewCycle(input: {name: "C", startsAt: "2027-01-01T00:00:00Z", endsAt: "2027-06-01T00:00:00Z", criteria: [{name: $n, scale: {min: 1, max: 5}}]}) { cycle { id } } }`,
				map[string]any{"n": "a\x00b"}, "criteria.0.name"},
			{"bidi override in a literal title", `mutation { createOKRItem(input: {kind: OBJECTIVE, level: INDIVIDUAL, title: "Grow \u202Eeunever"}) { item { id } } }`, nil, "title"},
			{"control character in a literal title", `mutation { createOKRItem(input: {kind: OBJECTIVE, level: INDIVIDUAL, title: "Grow\u0007"}) { item { id } } }`, nil, "title"},
			{"200 KB titleContains", `query($s: String) { okrs(where: {titleContains: $s}) { totalCount } }`, map[string]any{"s": strings.Repeat("x", 200<<10)}, "where.titleContains"},
		}
		for _, row := range rows {
			r := c.Do(t, row.query, row.vars)
			if r.Code() != "BAD_USER_INPUT" {
				t.Errorf("%s: code %q: %+v", row.name, r.Code(), r.Errors)
				continue
			}
			if f, _ := r.Errors[0].Extensions["field"].(string); row.field != "" && f != row.field {
				t.Errorf("%s: field %q, want %q (%s)", row.name, f, row.field, r.Errors[0].Message)
			}
		}
		if after := rowCounts(t, e); after != before {
			t.Errorf("refused input wrote:\nbefore %s\nafter  %s", before, after)
		}
		// What is fine stays fine: newlines in a description, a right-to-left
		// title, the years at the bounds, periods still listed.
		c.MustDo(t, `mutation { createOKRItem(input: {kind: OBJECTIVE, level: INDIVIDUAL, title: "نمو المبيعات", description: "line one\nline two\ttabbed"}) { item { id } } }`, nil, &struct{}{})
		c.MustDo(t, `mutation { createTimePeriod(input: {name: "Long", startsAt: "1900-01-01T00:00:00Z", endsAt: "9999-12-31T00:00:00Z"}) { timePeriod { id } } }`, nil, &struct{}{})
		c.MustDo(t, `{ timePeriods { totalCount edges { node { name startsAt endsAt } } } }`, nil, &struct{}{})
	})
}

// Writes that do not come through GraphQL meet the store's guard.
func TestStoreRefusesUnstorableText(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		_, err := e.App.DB.Client.Organization.Create().SetName("a\x00b").SetSlug("nul-org").Save(ctx)
		if ae, ok := apperr.As(err); !ok || ae.Code != apperr.CodeBadUserInput || ae.Field != "name" {
			t.Errorf("NUL in an organization name: %v", err)
		}
	})
}
