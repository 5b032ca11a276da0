package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// CodeQueryTooCostly refuses a request whose document or estimated cost is
// beyond the Limits, before anything is validated or executed (HTTP 400).
const CodeQueryTooCostly = "QUERY_TOO_COSTLY"

// Limits bound what one request may ask for (docs/limits.md). Zero
// values take the defaults of DefaultLimits.
type Limits struct {
	// MaxQueryBytes bounds the query text.
	MaxQueryBytes int
	// MaxTokens bounds the lexer tokens of the query (gqlgen's parser
	// token limit).
	MaxTokens int
	// MaxFields bounds field selections with every fragment spread
	// expanded (validation is quadratic in them: this keeps it cheap).
	MaxFields int
	// MaxAliases bounds aliased fields, expanded as MaxFields.
	MaxAliases int
	// MaxDepth bounds the nesting of field selections.
	MaxDepth int
	// MaxCost bounds the estimated number of values a request resolves:
	// each field counts 1, times the page size of every connection above
	// it (first/last, DefaultPage when neither is given), times ListFactor
	// for other lists (or the number of ids of nodes(ids:)).
	MaxCost int
	// DefaultPage is the page size of a connection asked without first
	// or last; MaxPage is the largest first/last accepted.
	DefaultPage int
	MaxPage     int
	// ListFactor is the size assumed for lists that are not connections.
	ListFactor int
	// MaxNodeIDs bounds the ids of one nodes(ids:) field.
	MaxNodeIDs int
	// MaxTreeItems is the most items one walk down `children`
	// connections returns (each item has one parent, so a chain of them
	// under one item or under a page of roots cannot return more items
	// than the tree holds; the nested read refuses a bigger tree at run
	// time). Keep it equal to the server's tree bound
	// (OKRGRAPH_TREE_MAX_ITEMS).
	MaxTreeItems int
	// MaxTreeCost bounds the values of such walks when the tree bound,
	// not the page sizes, bounds them: MaxTreeItems times the values
	// asked per item (a whole tree with about 40 values per item at the
	// default bound).
	MaxTreeCost int
}

// DefaultLimits are the limits used for zero fields of Limits.
var DefaultLimits = Limits{
	MaxQueryBytes: 32 << 10,
	MaxTokens:     10_000,
	MaxFields:     1_000,
	MaxAliases:    100,
	MaxDepth:      20,
	MaxCost:       50_000,
	DefaultPage:   100,
	MaxPage:       1_000,
	ListFactor:    10,
	MaxNodeIDs:    1_000,
	MaxTreeItems:  250_000,
	MaxTreeCost:   10_000_000,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.MaxQueryBytes, d.MaxQueryBytes)
	pick(&l.MaxTokens, d.MaxTokens)
	pick(&l.MaxFields, d.MaxFields)
	pick(&l.MaxAliases, d.MaxAliases)
	pick(&l.MaxDepth, d.MaxDepth)
	pick(&l.MaxCost, d.MaxCost)
	pick(&l.DefaultPage, d.DefaultPage)
	pick(&l.MaxPage, d.MaxPage)
	pick(&l.ListFactor, d.ListFactor)
	pick(&l.MaxNodeIDs, d.MaxNodeIDs)
	pick(&l.MaxTreeItems, d.MaxTreeItems)
	pick(&l.MaxTreeCost, d.MaxTreeCost)
	return l
}

// costGuard checks each request's document against the Limits before
// gqlgen validates it (gqlgen's validation of a huge or fragment-heavy
// document is itself the attack): the text's size, a parse with a token
// limit, then one pass over the document computing expanded field count,
// aliases, depth and cost, each fragment once (memoized), so the work is
// linear in the document whatever its fragments expand to. Connections
// asked without first/last get first: DefaultPage written into the
// document, so that no connection — eager-loaded or not — reads more than
// a page.
type costGuard struct {
	limits Limits
	schema *ast.Schema
	// docs keeps the parsed documents of the queries costed lately
	// (nil: none), as gqlgen's query cache does for execution: an SPA
	// sends the same few queries over and over, and parsing was most of
	// the guard's time. A document the guard rewrites (a default page
	// written into it) is not kept: the rewrite changes it, and it
	// depends on the text alone, so every request of that text parses
	// anew. Nothing else in the guard changes a document.
	docs *lru.LRU[*ast.QueryDocument]
}

// costDocCacheSize bounds the documents the guard keeps.
const costDocCacheSize = 128

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*costGuard)(nil)

func (*costGuard) ExtensionName() string { return "CostGuard" }

func (g *costGuard) Validate(s graphql.ExecutableSchema) error {
	g.schema = s.Schema()
	return nil
}

func tooCostly(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": CodeQueryTooCostly}}
}

func (g *costGuard) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Variables == nil {
		p.Variables = map[string]any{}
	}
	rewritten, err := g.check(p.Query, p.Variables)
	if err != nil {
		return err
	}
	if rewritten != "" {
		p.Query = rewritten
	}
	return nil
}

// check returns the query to run ("" when unchanged) or the refusal.
func (g *costGuard) check(query string, vars map[string]any) (string, *gqlerror.Error) {
	l := g.limits
	if len(query) > l.MaxQueryBytes {
		return "", tooCostly("the query is %d bytes; the limit is %d", len(query), l.MaxQueryBytes)
	}
	var doc *ast.QueryDocument
	cached := false
	if g.docs != nil {
		doc, cached = g.docs.Get(context.Background(), query)
	}
	if !cached {
		var err error
		doc, err = parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, l.MaxTokens)
		if err != nil {
			if ge, ok := err.(*gqlerror.Error); ok && strings.Contains(ge.Message, "token limit") {
				return "", tooCostly("the query has more than %d tokens", l.MaxTokens)
			}
			return "", nil // gqlgen reports the syntax error
		}
	}
	c := &coster{g: g, vars: vars, frags: map[string]*fragCost{}, byName: map[string]*ast.FragmentDefinition{}}
	for _, f := range doc.Fragments {
		c.byName[f.Name] = f
	}
	var total cost
	for _, op := range doc.Operations {
		var root *ast.Definition
		if g.schema != nil {
			switch op.Operation {
			case ast.Mutation:
				root = g.schema.Mutation
			case ast.Subscription:
				root = g.schema.Subscription
			default:
				root = g.schema.Query
			}
		}
		total = total.add(c.settle(c.selections(op.SelectionSet, root), 1, false, false, false))
		if c.err != nil {
			return "", c.err
		}
	}
	switch {
	case total.fields > float64(l.MaxFields):
		return "", tooCostly("the query selects %s fields with its fragments expanded; the limit is %d", num(total.fields), l.MaxFields)
	case total.aliases > float64(l.MaxAliases):
		return "", tooCostly("the query has %s aliased fields; the limit is %d", num(total.aliases), l.MaxAliases)
	case total.depth > l.MaxDepth:
		return "", tooCostly("the query nests %d levels deep; the limit is %d", total.depth, l.MaxDepth)
	case total.cost > float64(l.MaxCost):
		return "", tooCostly("the query could resolve about %s values; the limit is %d: ask for smaller pages (first/last) or fewer nested lists", num(total.cost), l.MaxCost)
	case total.tree > float64(l.MaxTreeCost):
		return "", tooCostly("the query could resolve about %s values down children connections (up to %d items each walk); the limit is %d: ask for fewer values per item, start at the roots (where: {hasParent: false}) or one item, or give first", num(total.tree), l.MaxTreeItems, l.MaxTreeCost)
	}
	if !c.rewrite {
		if !cached && g.docs != nil {
			g.docs.Add(context.Background(), query, doc)
		}
		return "", nil
	}
	if cached {
		// Not reached: a kept document was costed without a rewrite,
		// and the rewrite depends on the text alone.
		return "", tooCostly("the query could not be costed")
	}
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithCompacted()).FormatQueryDocument(doc)
	return b.String(), nil
}

func num(f float64) string {
	if f >= 1e15 {
		return fmt.Sprintf("%.3g", f)
	}
	return strconv.FormatFloat(f, 'f', 0, 64)
}

// cost is the estimate of a selection set. Values are floats: they
// saturate instead of overflowing on absurd documents.
//
// A walk down `children` connections is bounded twice: by the product of
// its page sizes (no first on children: unbounded), and by the tree —
// each item has one parent, so under one item, or under one page of
// distinct items, each level of the walk holds at most MaxTreeItems items,
// and under one item or a page of roots all levels together do. While a
// walk is costed bottom-up, chainT[d] is the values asked per item d+1
// levels below the selection's item and chainP[d] the product estimate of
// that level for one item; the field that starts the walk settles them
// into cost (the product bound is the smaller) or tree (the tree bound
// is).
type cost struct {
	cost, tree, fields, aliases float64
	depth                       int
	chainT, chainP              []float64
}

func (a cost) add(b cost) cost {
	out := cost{a.cost + b.cost, a.tree + b.tree, a.fields + b.fields, a.aliases + b.aliases, max(a.depth, b.depth), nil, nil}
	out.chainT = addChains(a.chainT, b.chainT)
	out.chainP = addChains(a.chainP, b.chainP)
	return out
}

func addChains(a, b []float64) []float64 {
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(b) == 0 {
		return a
	}
	out := slices.Clone(a)
	for i, v := range b {
		out[i] += v
	}
	return out
}

// settle turns the walks below one instance of a field's value into
// values: m is how many values the field returns (its page or list
// size); list: several values, distinct: a connection's (no repeats),
// roots: of tree roots. The walk is bounded by m times its product
// estimate or by the tree.
func (c *coster) settle(sub cost, m float64, list, distinct, roots bool) cost {
	if len(sub.chainT) == 0 {
		return sub
	}
	var sumP, sumT, maxT float64
	for i := range sub.chainT {
		sumP += sub.chainP[i]
		sumT += sub.chainT[i]
		maxT = max(maxT, sub.chainT[i])
	}
	byPages := m * sumP
	T := float64(c.g.limits.MaxTreeItems)
	byTree := T * maxT
	switch {
	case roots:
		byTree = T * maxT // a page of roots: disjoint subtrees
	case distinct:
		// A page of distinct items that may nest: each level of the
		// walk holds each item at most once (under its one ancestor
		// that many levels up).
		byTree = T * sumT
	case list:
		byTree = m * T * sumT // values may repeat (nodes(ids:))
	}
	// The values are per instance of sub; the caller multiplies by m.
	if byPages <= byTree {
		sub.cost += byPages / max(m, 1)
	} else {
		sub.tree += byTree / max(m, 1)
	}
	sub.chainT, sub.chainP = nil, nil
	return sub
}

type fragCost struct {
	done bool
	c    cost
}

type coster struct {
	g       *costGuard
	vars    map[string]any
	byName  map[string]*ast.FragmentDefinition
	frags   map[string]*fragCost
	err     *gqlerror.Error
	rewrite bool
}

func (c *coster) selections(set ast.SelectionSet, typ *ast.Definition) cost {
	var out cost
	for _, sel := range set {
		if c.err != nil {
			return out
		}
		switch s := sel.(type) {
		case *ast.Field:
			out = out.add(c.field(s, typ))
		case *ast.InlineFragment:
			t := typ
			if s.TypeCondition != "" {
				t = c.typeNamed(s.TypeCondition)
			}
			out = out.add(c.selections(s.SelectionSet, t))
		case *ast.FragmentSpread:
			out = out.add(c.fragment(s.Name))
		}
	}
	return out
}

func (c *coster) fragment(name string) cost {
	if fc := c.frags[name]; fc != nil {
		if !fc.done {
			c.err = &gqlerror.Error{Message: fmt.Sprintf("fragment %s spreads itself", name),
				Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}
		}
		return fc.c
	}
	def := c.byName[name]
	if def == nil {
		return cost{} // gqlgen reports the unknown fragment
	}
	fc := &fragCost{}
	c.frags[name] = fc
	fc.c = c.selections(def.SelectionSet, c.typeNamed(def.TypeCondition))
	fc.done = true
	return fc.c
}

func (c *coster) typeNamed(name string) *ast.Definition {
	if c.g.schema == nil {
		return nil
	}
	return c.g.schema.Types[name]
}

func (c *coster) field(f *ast.Field, parent *ast.Definition) cost {
	var def *ast.FieldDefinition
	if parent != nil {
		def = parent.Fields.ForName(f.Name)
	}
	var child *ast.Definition
	if def != nil {
		child = c.typeNamed(def.Type.Name())
	}
	sub := c.selections(f.SelectionSet, child)
	mult := c.multiplier(f, def, parent, child)
	out := cost{
		fields: 1 + sub.fields,
		depth:  1 + sub.depth,
	}
	switch {
	case isChildren(f, parent, child):
		// One level of a walk: per item below, the connection's values.
		w := sub.cost + sub.tree
		out.cost = 1
		out.chainT = append([]float64{w}, sub.chainT...)
		out.chainP = append([]float64{mult * w}, sub.chainP...)
		for i := 1; i < len(out.chainP); i++ {
			out.chainP[i] *= mult
		}
	case isConnection(parent) || parent != nil && strings.HasSuffix(parent.Name, "Edge") && f.Name == "node":
		// edges of a connection, node of an edge: the walk passes through.
		out.cost, out.tree = 1+sub.cost, sub.tree
		out.chainT, out.chainP = sub.chainT, sub.chainP
	default:
		conn := isConnection(child)
		list := def != nil && (def.Type.Elem != nil || conn)
		sub = c.settle(sub, mult, list, conn, conn && c.rootsOnly(f))
		out.cost, out.tree = 1+mult*sub.cost, mult*sub.tree
	}
	out.aliases = sub.aliases
	if f.Alias != "" && f.Alias != f.Name {
		out.aliases++
	}
	return out
}

// multiplier is how many times the selections under f are resolved.
func (c *coster) multiplier(f *ast.Field, def *ast.FieldDefinition, parent, child *ast.Definition) float64 {
	if def == nil {
		return 1
	}
	l := c.g.limits
	if isConnection(child) {
		first, hasFirst := c.intArg(f, "first")
		last, hasLast := c.intArg(f, "last")
		if c.err != nil {
			return 1
		}
		for _, a := range []struct {
			name string
			v    int
			ok   bool
		}{{"first", first, hasFirst}, {"last", last, hasLast}} {
			if a.ok && a.v < 0 {
				c.err = &gqlerror.Error{Message: fmt.Sprintf("%s: %s must not be negative", f.Alias, a.name),
					Extensions: map[string]any{"code": CodeBadUserInput, "field": a.name}}
				return 1
			}
			if a.ok && a.v > l.MaxPage {
				c.err = tooCostly("%s: %s must be between 0 and %d", f.Alias, a.name, l.MaxPage)
				return 1
			}
		}
		switch {
		case hasFirst && hasLast:
			return float64(max(first, last))
		case hasFirst:
			return float64(first)
		case hasLast:
			return float64(last)
		}
		if isChildren(f, parent, child) {
			// All the children: the walk is bounded by the tree.
			return math.Inf(1)
		}
		if def.Arguments.ForName("first") != nil {
			c.setDefaultPage(f)
		}
		return float64(l.DefaultPage)
	}
	if def.Type.Elem == nil || isConnection(parent) {
		return 1 // a single value, or the edges of a connection (counted above)
	}
	if f.Name == "nodes" {
		if arg := f.Arguments.ForName("ids"); arg != nil {
			n := c.listLen(arg.Value)
			if n > l.MaxNodeIDs {
				c.err = tooCostly("nodes: %d ids; the limit is %d", n, l.MaxNodeIDs)
			}
			return float64(max(n, 1))
		}
	}
	if n, ok := c.intArg(f, "first"); ok && n >= 0 {
		return float64(min(n, l.MaxPage))
	}
	return float64(l.ListFactor)
}

// isChildren: f is the children connection of an OKR item.
func isChildren(f *ast.Field, parent, child *ast.Definition) bool {
	return parent != nil && parent.Name == "OKRItem" && f.Name == "children" && isConnection(child)
}

// rootsOnly: f filters its items to roots of the tree (where: {hasParent:
// false}, literally or by a variable), whose subtrees are disjoint.
func (c *coster) rootsOnly(f *ast.Field) bool {
	arg := f.Arguments.ForName("where")
	if arg == nil || arg.Value == nil {
		return false
	}
	switch v := arg.Value; v.Kind {
	case ast.ObjectValue:
		hp := v.Children.ForName("hasParent")
		return hp != nil && hp.Kind == ast.BooleanValue && hp.Raw == "false"
	case ast.Variable:
		w, ok := c.vars[v.Raw].(map[string]any)
		return ok && w["hasParent"] == false
	}
	return false
}

func isConnection(t *ast.Definition) bool {
	return t != nil && strings.HasSuffix(t.Name, "Connection") && t.Fields.ForName("edges") != nil
}

// intArg reads an integer argument given literally or by a variable; ok is
// false when it is absent or null.
func (c *coster) intArg(f *ast.Field, name string) (int, bool) {
	arg := f.Arguments.ForName(name)
	if arg == nil || arg.Value == nil {
		return 0, false
	}
	v := arg.Value
	switch v.Kind {
	case ast.IntValue:
		n, err := strconv.Atoi(v.Raw)
		if err != nil {
			return math.MaxInt32, true
		}
		return n, true
	case ast.Variable:
		raw, ok := c.vars[v.Raw]
		if !ok || raw == nil {
			return 0, false
		}
		switch x := raw.(type) {
		case json.Number:
			n, err := strconv.Atoi(string(x))
			if err != nil {
				return math.MaxInt32, true
			}
			return n, true
		case float64:
			if x > math.MaxInt32 || x < math.MinInt32 {
				return math.MaxInt32, true
			}
			return int(x), true
		case int:
			return x, true
		case int64:
			return int(max(min(x, math.MaxInt32), math.MinInt32)), true
		}
		return 0, false // gqlgen reports the type error
	}
	return 0, false
}

// setDefaultPage writes first: DefaultPage into a connection field asked
// without first and last (a null variable is given the default instead).
func (c *coster) setDefaultPage(f *ast.Field) {
	for _, name := range []string{"first", "last"} {
		if arg := f.Arguments.ForName(name); arg != nil && arg.Value != nil && arg.Value.Kind == ast.Variable {
			if c.vars != nil {
				c.vars[arg.Value.Raw] = json.Number(strconv.Itoa(c.g.limits.DefaultPage))
			}
			if name == "first" {
				return
			}
		}
	}
	if f.Arguments.ForName("last") != nil {
		return // last: $v given the default above
	}
	if arg := f.Arguments.ForName("first"); arg != nil {
		arg.Value = &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(c.g.limits.DefaultPage)}
	} else {
		f.Arguments = append(f.Arguments, &ast.Argument{
			Name:  "first",
			Value: &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(c.g.limits.DefaultPage)},
		})
	}
	c.rewrite = true
}

// listLen is the number of elements of a list literal or variable.
func (c *coster) listLen(v *ast.Value) int {
	switch v.Kind {
	case ast.ListValue:
		return len(v.Children)
	case ast.Variable:
		if l, ok := c.vars[v.Raw].([]any); ok {
			return len(l)
		}
		return 1
	}
	return 1
}
