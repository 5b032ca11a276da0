package graph

// Nested `children` under Query.okrs in three statements.
//
// When a page of okrs selects `children` (possibly several levels deep)
// and, at every level, only leaf fields, `owners { leaf fields }` and the
// next `children`, the page is read without ent's per-level eager loading
// and okr.Service.LoadSubtree reads all the levels and their owners at once
// (internal/okr/subtree.go). Anything else (aliases, filters, orderings or
// cursors on children, other edges) takes ent's usual path: same answers,
// more statements.

import (
	"context"
	"slices"
	"strings"
	"unicode"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"okrgraph/ent"
	"okrgraph/ent/okritem"
	"okrgraph/internal/okr"
)

var (
	connectionTypes = []string{"OKRItemConnection"}
	edgeTypes       = []string{"OKRItemEdge"}
	itemTypes       = []string{"OKRItem", "Node"}
	userTypes       = []string{"User", "Node"}
)

// nestedPlan is how a connection of OKR items is read with its subtree.
type nestedPlan struct {
	// pageCtx reads the page itself: its field context selects the
	// connection's own fields but no node fields, so that ent neither
	// eager-loads edges nor narrows the columns.
	pageCtx context.Context
	opts    okr.SubtreeOptions
}

// planNested returns the plan for the OKRItemConnection field being
// resolved, or false when it does not select children or selects
// something the subtree loader does not serve.
func planNested(ctx context.Context) (nestedPlan, bool) {
	fc, oc := graphql.GetFieldContext(ctx), graphql.GetOperationContext(ctx)
	if fc == nil || oc == nil {
		return nestedPlan{}, false
	}
	var (
		page    ast.SelectionSet
		nodeSel ast.SelectionSet
		found   bool
	)
	for _, f := range graphql.CollectFields(oc, fc.Field.Selections, connectionTypes) {
		if f.Name != "edges" {
			page = append(page, f.Field)
			continue
		}
		sel, hasNode, ok := edgesNode(oc, f)
		if !ok {
			return nestedPlan{}, false
		}
		if hasNode {
			nodeSel, found = sel, true
		}
		page = append(page, &ast.Field{Alias: f.Alias, Name: f.Name, Definition: f.Definition, ObjectDefinition: f.ObjectDefinition, Position: f.Position})
	}
	if !found {
		return nestedPlan{}, false
	}
	opts := okr.SubtreeOptions{ChildrenName: "children", OwnersName: "owners"}
	sel := nodeSel
	cols := &columnSet{}
	for depth := 0; ; depth++ {
		owners, children, ok := planItem(oc, sel, cols)
		if !ok {
			return nestedPlan{}, false
		}
		if depth == 0 {
			opts.RootOwners = owners
		} else {
			opts.Levels[depth-1].Owners = owners
		}
		if children == nil {
			break
		}
		if len(opts.Levels) >= okr.MaxDepth {
			return nestedPlan{}, false
		}
		level, next, ok := planChildren(oc, children)
		if !ok {
			return nestedPlan{}, false
		}
		opts.Levels = append(opts.Levels, level)
		if next == nil {
			break // children { pageInfo } only
		}
		sel = next
	}
	if len(opts.Levels) == 0 {
		return nestedPlan{}, false
	}
	if !cols.all {
		opts.Columns = cols.names
	}
	pfc := *fc
	pfc.Field.Field = &ast.Field{Alias: fc.Field.Alias, Name: fc.Field.Name, Arguments: fc.Field.Arguments,
		Definition: fc.Field.Definition, ObjectDefinition: fc.Field.ObjectDefinition, SelectionSet: page, Position: fc.Field.Position}
	pfc.Field.Selections = page
	return nestedPlan{pageCtx: graphql.WithFieldContext(ctx, &pfc), opts: opts}, true
}

// planItem checks one level's OKRItem selection: leaf fields, owners with
// leaf fields, and at most one children field (returned).
func planItem(oc *graphql.OperationContext, sel ast.SelectionSet, cols *columnSet) (owners bool, children *graphql.CollectedField, ok bool) {
	for _, f := range graphql.CollectFields(oc, sel, itemTypes) {
		switch {
		case len(f.Selections) == 0:
			cols.add(f.Name)
		case f.Name == "children":
			if f.Alias != f.Name {
				return false, nil, false
			}
			children = &f
		case f.Name == "owners":
			if f.Alias != f.Name || len(f.Arguments) > 0 {
				return false, nil, false
			}
			for _, u := range graphql.CollectFields(oc, f.Selections, userTypes) {
				if len(u.Selections) > 0 {
					return false, nil, false
				}
			}
			owners = true
		default:
			return false, nil, false // another edge or object: ent's path
		}
	}
	return owners, children, true
}

// planChildren checks a children connection: no argument but first (not
// 0), edges with node and cursor, pageInfo; it returns the node selection
// (nil when there is none).
func planChildren(oc *graphql.OperationContext, f *graphql.CollectedField) (okr.SubtreeLevel, ast.SelectionSet, bool) {
	var level okr.SubtreeLevel
	for _, a := range f.Arguments {
		if a.Name != "first" {
			return level, nil, false
		}
	}
	if v, ok := f.ArgumentMap(oc.Variables)["first"]; ok && v != nil {
		n, err := graphql.UnmarshalInt(v)
		if err != nil || n <= 0 {
			return level, nil, false
		}
		level.First = &n
	}
	var node ast.SelectionSet
	for _, c := range graphql.CollectFields(oc, f.Selections, connectionTypes) {
		switch c.Name {
		case "pageInfo", "__typename":
		case "edges":
			sel, hasNode, ok := edgesNode(oc, c)
			if !ok {
				return level, nil, false
			}
			if hasNode {
				node = sel
			}
		default:
			return level, nil, false // totalCount: ent's path counts
		}
	}
	return level, node, true
}

// edgesNode checks an unaliased edges field selecting only node (not
// aliased), cursor and __typename, and returns node's selection (hasNode
// false when node is not selected).
func edgesNode(oc *graphql.OperationContext, edges graphql.CollectedField) (node ast.SelectionSet, hasNode, ok bool) {
	if edges.Alias != edges.Name {
		return nil, false, false
	}
	for _, e := range graphql.CollectFields(oc, edges.Selections, edgeTypes) {
		switch {
		case e.Name == "node" && e.Alias == e.Name:
			node, hasNode = e.Selections, true
		case e.Name == "cursor" || e.Name == "__typename":
		default:
			return nil, false, false
		}
	}
	return node, hasNode, true
}

// columnSet gathers the columns the selected leaf fields read: a field of
// okr_items of the same name (snake_case), or all columns when a field is
// not one (a resolver may need any).
type columnSet struct {
	all   bool
	names []string
}

func (c *columnSet) add(field string) {
	if c.all || field == "__typename" {
		return
	}
	var b strings.Builder
	for i, r := range field {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	col := b.String()
	if !okritem.ValidColumn(col) {
		c.all = true
		return
	}
	if !slices.Contains(c.names, col) {
		c.names = append(c.names, col)
	}
}

// okrsNested reads a page of okrs with the subtree it selects.
func (r *queryResolver) okrsNested(ctx context.Context, plan nestedPlan, q func(context.Context) (*ent.OKRItemConnection, error)) (*ent.OKRItemConnection, error) {
	conn, err := q(plan.pageCtx)
	if err != nil {
		return nil, err
	}
	roots := make([]*ent.OKRItem, 0, len(conn.Edges))
	for _, e := range conn.Edges {
		roots = append(roots, e.Node)
	}
	if err := r.OKRs.LoadSubtree(ctx, roots, plan.opts); err != nil {
		return nil, err
	}
	return conn, nil
}
