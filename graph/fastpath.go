package graph

// The whole-tree read path outside gqlgen's per-field execution.
//
// A BI tool pulling the whole tree in one request makes gqlgen resolve and
// marshal ~10k objects field by field (a closure, a marshaler and a field
// context per value), which costs far more than the SQL. FastPath serves
// the queries whose every root field is
//
//   - okrs(where: {hasParent: false}) selecting, at every level, leaf
//     fields of OKRItem it knows (fastItemCols), owners { id __typename },
//     __typename and one children { edges { node { ... } } } without
//     arguments (any depth, __typename anywhere), or
//   - okrTree(rootId, maxItems) with leaf fields of OKRTreeRow,
//
// (and Query.__typename; pages of okrs and viewer { user }: fastpage.go)
// by writing the `data` JSON itself from one
// recursive statement per root field (okr.Service.Forest / Tree), which
// applies the visibility rule in SQL. Fields are collected with gqlgen's
// own graphql.CollectFields, so fragments, inline fragments, @skip and
// @include with variables, aliases and merged fields select exactly what
// gqlgen would, in the same order, and the values are written as gqlgen's
// marshalers write them (graph/model IDs, %g floats, enum and string
// quoting). Anything else, and any error on the way, leaves the operation
// to gqlgen, untouched: the answer is the same, only slower
// (TestFastPathDifferential compares them byte for byte).
//
// It is a response interceptor registered inside the metrics one: parsing,
// validation, the cost and read-only guards, the complexity limit and the
// input checks have run (they are operation parameter or context
// mutators), the request's deadline is in the context, and its statements
// are the request's.

import (
	"context"
	"math"
	"slices"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"okrgraph/graph/model"
	"okrgraph/internal/okr"
	"okrgraph/internal/scope"
)

// FastPath is the gqlgen handler extension that answers whole-tree reads
// and the dashboard's page (fastpage.go) without gqlgen's per-field
// execution.
type FastPath struct {
	OKRs *okr.Service
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = FastPath{}

// ExtensionName names the extension.
func (FastPath) ExtensionName() string { return "FastPath" }

// Validate accepts any schema.
func (FastPath) Validate(graphql.ExecutableSchema) error { return nil }

const fastPathServed = "FastPath"

// InterceptResponse answers the operation itself when it can, else passes
// it on to gqlgen.
func (f FastPath) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if f.OKRs == nil || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return next(ctx)
	}
	if oc.Stats.GetExtension(fastPathServed) != nil {
		return nil // one response only: the stream ends
	}
	sc := scope.From(ctx)
	if sc.UserID == 0 || sc.OrgID == 0 || sc.Privileged {
		return next(ctx)
	}
	plan, ok := planFast(oc)
	if !ok {
		return next(ctx)
	}
	data, ok := f.run(ctx, plan)
	if !ok {
		return next(ctx)
	}
	oc.Stats.SetExtension(fastPathServed, true)
	return &graphql.Response{Data: data, Errors: graphql.GetErrors(ctx), Extensions: graphql.GetExtensions(ctx)}
}

// run writes the data object; false when gqlgen must answer instead.
func (f FastPath) run(ctx context.Context, plan []fastRoot) (out []byte, ok bool) {
	defer func() {
		if recover() != nil {
			out, ok = nil, false
		}
	}()
	b := make([]byte, 0, 4096)
	b = append(b, '{')
	for _, r := range plan {
		b = append(b, r.key...)
		switch {
		case r.forest != nil:
			b = append(b, r.forest.open...)
			if r.forest.edges {
				w := forestWriter{b: b, root: r.forest, start: len(b)}
				err := f.OKRs.Forest(ctx, okr.ForestOptions{Depth: r.depth, Owners: r.owners, First: r.first, Columns: r.columns, Rows: w.rows}, w.row)
				if err != nil || w.bad {
					return nil, false
				}
				b = w.finish()
			}
			b = append(b, r.forest.close...)
		case r.tree != nil:
			b = append(b, '[')
			n := 0
			bad := false
			err := f.OKRs.Tree(ctx, r.treeOpts, func(row *okr.TreeRow) error {
				if n > 0 {
					b = append(b, ',')
				}
				n++
				b = append(b, '{')
				b, bad = appendLeaves(b, r.tree, row, bad)
				b = append(b, '}')
				return nil
			})
			if err != nil || bad {
				return nil, false
			}
			b = append(b, ']')
		case r.page != nil:
			if b, ok = f.writePage(ctx, b, r.page); !ok {
				return nil, false
			}
		case r.viewer != nil:
			if b, ok = writeViewer(ctx, b, r.viewer); !ok {
				return nil, false
			}
		default:
			b = append(b, `"Query"`...)
		}
	}
	return append(b, '}'), true
}

// fastRoot is one root field of the operation.
type fastRoot struct {
	key []byte // `"alias":`, with a leading comma after the first
	// forest: okrs(where: {hasParent: false}); depth: levels of children
	// read; owners: some level selects owners.
	forest *fastConn
	depth  int
	owners bool
	first  int
	// columns the forest's fields read.
	columns []string
	// page: an okrs page (fastpage.go); viewer: the viewer object's
	// selection.
	page   *fastPage
	viewer []pageField
	// tree: okrTree's row fields.
	tree     []fastLeaf
	treeOpts okr.TreeOptions
}

// fastConn is an OKRItemConnection's selection: open is the object up to
// and including `"edges":[` (the whole object when edges is false), close
// the rest; an edge is edgeOpen, the node (when node is set), edgeClose.
type fastConn struct {
	open, close         []byte
	edges               bool
	edgeOpen, edgeClose []byte
	node                *fastItem
}

// fastItem is an OKRItem's selection: the fields before children, the
// children connection (its key in childrenKey), the fields after it.
type fastItem struct {
	before, after []fastLeaf
	childrenKey   []byte
	children      *fastConn
}

// fastLeaf is a leaf field: key is `"alias":` (with its leading comma when
// not first), col what it writes; users the selection of owners.
type fastLeaf struct {
	key   []byte
	col   fastCol
	users []fastLeaf
}

type fastCol int

const (
	colItemTypename fastCol = iota
	colTreeTypename
	colID
	colKind
	colLevel
	colTitle
	colStatus
	colProgress
	colProgressMode
	colWeight
	colMetricStart
	colMetricTarget
	colMetricCurrent
	colUnit
	colPrivate
	colOwners
	colParentID
	colDepth
	colOrdinal
	colPath
	colTimePeriodID
	colOwnerIDs
	colUserID
	colUserTypename
)

// fastItemCols are the OKRItem fields served, all columns of okr_items.
var fastItemCols = map[string]fastCol{
	"__typename": colItemTypename, "id": colID, "kind": colKind, "level": colLevel, "title": colTitle,
	"status": colStatus, "progress": colProgress, "progressMode": colProgressMode, "weight": colWeight,
	"metricStart": colMetricStart, "metricTarget": colMetricTarget, "metricCurrent": colMetricCurrent,
	"unit": colUnit, "private": colPrivate,
}

// fastColumns are the okr_items columns the OKRItem fields read.
var fastColumns = map[fastCol]string{
	colKind: "kind", colLevel: "level", colTitle: "title", colStatus: "status", colProgress: "progress",
	colProgressMode: "progress_mode", colWeight: "weight", colMetricStart: "metric_start",
	colMetricTarget: "metric_target", colMetricCurrent: "metric_current", colUnit: "unit", colPrivate: "private",
}

// fastTreeCols are the OKRTreeRow fields (all of them).
var fastTreeCols = map[string]fastCol{
	"__typename": colTreeTypename, "id": colID, "parentId": colParentID, "depth": colDepth, "ordinal": colOrdinal,
	"path": colPath, "kind": colKind, "level": colLevel, "title": colTitle, "status": colStatus,
	"progress": colProgress, "progressMode": colProgressMode, "weight": colWeight,
	"metricStart": colMetricStart, "metricTarget": colMetricTarget, "metricCurrent": colMetricCurrent,
	"unit": colUnit, "private": colPrivate, "timePeriodId": colTimePeriodID, "ownerIds": colOwnerIDs,
}

var (
	queryTypes = []string{"Query"}
	treeTypes  = []string{"OKRTreeRow"}
)

// planFast plans the operation; false when gqlgen must answer it.
func planFast(oc *graphql.OperationContext) ([]fastRoot, bool) {
	var plan []fastRoot
	served := false
	for i, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, queryTypes) {
		if len(f.Deferrables) > 0 {
			return nil, false
		}
		r := fastRoot{key: fieldKey(i, f.Alias)}
		switch f.Name {
		case "__typename":
		case "okrs":
			first, ok := forestArgs(oc, f)
			if !ok {
				if r.page, ok = planPage(oc, f); !ok {
					return nil, false
				}
				served = true
				break
			}
			p := &fastPlanner{oc: oc}
			conn, ok := p.conn(f, 0)
			if !ok {
				return nil, false
			}
			r.forest, r.depth, r.owners, r.first = conn, p.depth, p.owners, first
			r.columns = append([]string{}, p.columns...)
			served = true
		case "viewer":
			fields, ok := planViewer(oc, f)
			if !ok {
				return nil, false
			}
			r.viewer = fields
		case "okrTree":
			opts, ok := treeArgs(oc, f)
			if !ok || len(f.Selections) == 0 {
				return nil, false
			}
			leaves, ok := planLeaves(oc, f.Selections, treeTypes, fastTreeCols, "OKRTreeRow")
			if !ok {
				return nil, false
			}
			r.tree, r.treeOpts = leaves, opts
			served = true
		default:
			return nil, false
		}
		plan = append(plan, r)
	}
	return plan, served
}

// forestArgs accepts okrs(where: {hasParent: false}) with first (the
// cost guard writes first: its default page into a connection asked
// without first or last) and nothing else; it returns first.
func forestArgs(oc *graphql.OperationContext, f graphql.CollectedField) (int, bool) {
	args := f.ArgumentMap(oc.Variables)
	first := 0
	for name, v := range args {
		switch name {
		case "where":
		case "first":
			n, err := graphql.UnmarshalInt(v)
			if v == nil || err != nil || n <= 0 {
				return 0, false
			}
			first = n
		default:
			if v != nil {
				return 0, false
			}
		}
	}
	where, ok := args["where"].(map[string]any)
	if !ok || len(where) != 1 {
		return 0, false
	}
	v, ok := where["hasParent"].(bool)
	return first, ok && !v
}

// treeArgs reads okrTree's arguments as its resolver gets them.
func treeArgs(oc *graphql.OperationContext, f graphql.CollectedField) (okr.TreeOptions, bool) {
	var opts okr.TreeOptions
	for name, v := range f.ArgumentMap(oc.Variables) {
		if v == nil {
			continue
		}
		switch name {
		case "rootId":
			id, err := model.UnmarshalIntID(v)
			if err != nil {
				return opts, false
			}
			opts.RootID = &id
		case "maxItems":
			n, err := graphql.UnmarshalInt(v)
			if err != nil {
				return opts, false
			}
			opts.MaxItems = n
		default:
			return opts, false
		}
	}
	return opts, true
}

// fastPlanner plans one okrs field.
type fastPlanner struct {
	oc      *graphql.OperationContext
	depth   int
	owners  bool
	columns []string
}

// conn plans a connection whose items are at depth.
func (p *fastPlanner) conn(f graphql.CollectedField, depth int) (*fastConn, bool) {
	if depth > okr.MaxDepth {
		return nil, false
	}
	c := &fastConn{}
	// Anything but __typename and one edges (totalCount, pageInfo, a
	// second edges) is gqlgen's.
	pre, post, edges, ok := p.wrapper(f.Selections, connectionTypes, "OKRItemConnection", "edges", func(e graphql.CollectedField) bool {
		p.depth = max(p.depth, depth)
		return p.edge(c, e, depth)
	})
	if !ok {
		return nil, false
	}
	c.edges, c.open, c.close = edges, pre, post
	if edges {
		c.open = append(c.open, '[')
		c.close = append([]byte{']'}, post...)
	}
	return c, true
}

// edge plans the edges of c: __typename and one node (a cursor is
// gqlgen's).
func (p *fastPlanner) edge(c *fastConn, f graphql.CollectedField, depth int) bool {
	pre, post, _, ok := p.wrapper(f.Selections, edgeTypes, "OKRItemEdge", "node", func(e graphql.CollectedField) bool {
		it, ok := p.item(e.Selections, depth)
		c.node = it
		return ok
	})
	c.edgeOpen, c.edgeClose = pre, post
	return ok
}

// wrapper plans an object that selects only __typename (written as
// typename) and at most one field named inner, which plan plans. It
// returns the object's bytes before inner's value (`{`, the fields before
// it and its key) and after it (the fields after it and `}`), and whether
// inner is selected; ok is false for any other field.
func (p *fastPlanner) wrapper(sel ast.SelectionSet, types []string, typename, inner string, plan func(graphql.CollectedField) bool) (pre, post []byte, found, ok bool) {
	pre = []byte{'{'}
	for n, e := range graphql.CollectFields(p.oc, sel, types) {
		if len(e.Deferrables) > 0 {
			return nil, nil, false, false
		}
		key := fieldKey(n, e.Alias)
		switch {
		case e.Name == "__typename":
			kv := append(append(append(key, '"'), typename...), '"')
			if found {
				post = append(post, kv...)
			} else {
				pre = append(pre, kv...)
			}
		case e.Name == inner && !found:
			found = true
			pre = append(pre, key...)
			if !plan(e) {
				return nil, nil, false, false
			}
		default:
			return nil, nil, false, false
		}
	}
	return pre, append(post, '}'), found, true
}

// item plans an OKRItem selection at depth.
func (p *fastPlanner) item(sel ast.SelectionSet, depth int) (*fastItem, bool) {
	it := &fastItem{}
	for i, f := range graphql.CollectFields(p.oc, sel, itemTypes) {
		if len(f.Deferrables) > 0 || len(f.Arguments) > 0 {
			return nil, false
		}
		key := fieldKey(i, f.Alias)
		if f.Name == "children" {
			if it.childrenKey != nil {
				return nil, false
			}
			c, ok := p.conn(f, depth+1)
			if !ok {
				return nil, false
			}
			it.childrenKey, it.children = key, c
			continue
		}
		leaf := fastLeaf{key: key}
		if f.Name == "owners" {
			users, ok := planLeaves(p.oc, f.Selections, userTypes, fastUserCols, "User")
			if !ok {
				return nil, false
			}
			leaf.col, leaf.users = colOwners, users
			p.owners = true
		} else {
			col, ok := fastItemCols[f.Name]
			if !ok || len(f.Selections) > 0 {
				return nil, false
			}
			leaf.col = col
			if c := fastColumns[col]; c != "" && !slices.Contains(p.columns, c) {
				p.columns = append(p.columns, c)
			}
		}
		if it.childrenKey == nil {
			it.before = append(it.before, leaf)
		} else {
			it.after = append(it.after, leaf)
		}
	}
	return it, true
}

var fastUserCols = map[string]fastCol{"__typename": colUserTypename, "id": colUserID}

// planLeaves plans a selection of leaf fields among cols.
func planLeaves(oc *graphql.OperationContext, sel ast.SelectionSet, types []string, cols map[string]fastCol, typename string) ([]fastLeaf, bool) {
	var out []fastLeaf
	for i, f := range graphql.CollectFields(oc, sel, types) {
		col, ok := cols[f.Name]
		if !ok || len(f.Deferrables) > 0 || len(f.Arguments) > 0 || len(f.Selections) > 0 {
			return nil, false
		}
		out = append(out, fastLeaf{key: fieldKey(i, f.Alias), col: col})
	}
	return out, len(out) > 0
}

// fieldKey is `"alias":`, after a comma unless the field is the first.
func fieldKey(i int, alias string) []byte {
	var b []byte
	if i > 0 {
		b = append(b, ',')
	}
	b = appendString(b, alias)
	return append(b, ':')
}

// forestWriter nests the depth-first rows of a forest into the
// connection's JSON.
type forestWriter struct {
	b     []byte
	root  *fastConn
	roots int
	stack []openItem
	bad   bool
	// start is where the forest starts in b; total the rows Forest read,
	// written the rows written so far.
	start, total, written int
}

// openItem is an item whose subtree is being written.
type openItem struct {
	under    *fastConn // the connection it is an edge of
	children int       // children written
	row      *okr.TreeRow
}

// sampleRows is how many rows are written before the buffer is grown
// once to the size they predict for all rows.
const sampleRows = 32

func (w *forestWriter) rows(n int) { w.total = n }

func (w *forestWriter) row(r *okr.TreeRow) error {
	if w.written++; w.written == sampleRows && w.total > 2*sampleRows {
		per := (len(w.b) - w.start) / sampleRows
		w.b = slices.Grow(w.b, per*(w.total-sampleRows)*9/8)
	}
	for len(w.stack) > r.Depth {
		w.pop()
	}
	var under *fastConn
	switch {
	case r.Depth == 0:
		under = w.root
		if w.roots > 0 {
			w.b = append(w.b, ',')
		}
		w.roots++
	case len(w.stack) == r.Depth:
		parent := &w.stack[r.Depth-1]
		if parent.under.node == nil || parent.under.node.children == nil || !parent.under.node.children.edges {
			w.bad = true
			return errFastPath
		}
		under = parent.under.node.children
		if parent.children > 0 {
			w.b = append(w.b, ',')
		}
		parent.children++
	default:
		w.bad = true // a row below a level not read
		return errFastPath
	}
	w.b = append(w.b, under.edgeOpen...)
	w.stack = append(w.stack, openItem{under: under})
	top := &w.stack[len(w.stack)-1]
	it := under.node
	if it == nil {
		return nil
	}
	w.b = append(w.b, '{')
	w.b, w.bad = appendLeaves(w.b, it.before, r, w.bad)
	if it.children != nil {
		w.b = append(w.b, it.childrenKey...)
		w.b = append(w.b, it.children.open...)
	}
	top.row = r
	return nil
}

func (w *forestWriter) pop() {
	top := &w.stack[len(w.stack)-1]
	if it := top.under.node; it != nil {
		if it.children != nil {
			w.b = append(w.b, it.children.close...)
		}
		w.b, w.bad = appendLeaves(w.b, it.after, top.row, w.bad)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, top.under.edgeClose...)
	w.stack = w.stack[:len(w.stack)-1]
}

func (w *forestWriter) finish() []byte {
	for len(w.stack) > 0 {
		w.pop()
	}
	return w.b
}

type fastPathError struct{}

func (fastPathError) Error() string { return "fast path: unexpected row" }

var errFastPath error = fastPathError{}

// appendLeaves writes the leaf fields of r; bad turns true on a value
// gqlgen would not write (a float that is not finite).
func appendLeaves(b []byte, leaves []fastLeaf, r *okr.TreeRow, bad bool) ([]byte, bool) {
	for _, l := range leaves {
		b = append(b, l.key...)
		switch l.col {
		case colItemTypename:
			b = append(b, `"OKRItem"`...)
		case colTreeTypename:
			b = append(b, `"OKRTreeRow"`...)
		case colID:
			b = appendID(b, r.ID)
		case colKind:
			b = strconv.AppendQuote(b, string(r.Kind))
		case colLevel:
			b = strconv.AppendQuote(b, string(r.Level))
		case colTitle:
			b = appendString(b, r.Title)
		case colStatus:
			b = strconv.AppendQuote(b, string(r.Status))
		case colProgress:
			b, bad = appendFloat(b, r.Progress, bad)
		case colProgressMode:
			b = strconv.AppendQuote(b, string(r.ProgressMode))
		case colWeight:
			b, bad = appendOptFloat(b, r.Weight, bad)
		case colMetricStart:
			b, bad = appendOptFloat(b, r.MetricStart, bad)
		case colMetricTarget:
			b, bad = appendOptFloat(b, r.MetricTarget, bad)
		case colMetricCurrent:
			b, bad = appendOptFloat(b, r.MetricCurrent, bad)
		case colUnit:
			b = appendString(b, r.Unit)
		case colPrivate:
			b = strconv.AppendBool(b, r.Private)
		case colParentID:
			b = appendOptID(b, r.ParentID)
		case colDepth:
			b = strconv.AppendInt(b, int64(r.Depth), 10)
		case colOrdinal:
			b = strconv.AppendInt(b, int64(r.Ordinal), 10)
		case colPath:
			b = appendString(b, r.Path)
		case colTimePeriodID:
			b = appendOptID(b, r.TimePeriodID)
		case colOwnerIDs:
			b = append(b, '[')
			for i, id := range r.OwnerIDs {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendID(b, id)
			}
			b = append(b, ']')
		case colOwners:
			b = append(b, '[')
			for i, id := range r.OwnerIDs {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, '{')
				for _, u := range l.users {
					b = append(b, u.key...)
					if u.col == colUserID {
						b = appendID(b, id)
					} else {
						b = append(b, `"User"`...)
					}
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		}
	}
	return b, bad
}

// appendID writes an ID as model.MarshalIntID does.
func appendID(b []byte, id int) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(id), 10)
	return append(b, '"')
}

func appendOptID(b []byte, id *int) []byte {
	if id == nil {
		return append(b, "null"...)
	}
	return appendID(b, *id)
}

// appendFloat writes f as graphql.MarshalFloatContext does (%g, which for
// a finite float is strconv's shortest 'g' form); a float that is not
// finite is an error there: bad.
func appendFloat(b []byte, f float64, bad bool) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, "null"...), true
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64), bad
}

func appendOptFloat(b []byte, f *float64, bad bool) ([]byte, bool) {
	if f == nil {
		return append(b, "null"...), bad
	}
	return appendFloat(b, *f, bad)
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as graphql.MarshalString does: only control
// characters, `\` and `"` are escaped; everything else (U+2028, invalid
// UTF-8 included) is written as it is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		case '\n':
			b = append(b, `\n`...)
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
