package graph

// The page read path outside gqlgen's per-field execution: the SPA's
// dashboard, `okrs(first: n, where: {hasOwnersWith: [{id: $me}]},
// orderBy: [...])` with totalCount, pageInfo, cursors, the items' fields,
// owners { id name }, progressStatus and viewerCan, next to
// `viewer { user { id name } }`.
//
// gqlgen resolves such a page field by field, with a goroutine per item
// for owners, progressStatus and viewerCan, and ent reads it in three
// statements (the page, its count, the owners) and one more for the time
// periods. FastPath answers it with one: okr.Service.Page reads the page
// through the connection's own pager (filter, order, cursors, the
// private-item rule) with the count, each item's owners and its period as
// columns of the page's rows. viewerCan comes from the service its
// resolver calls, for the whole page at once (okr.Service.ViewerCan
// evaluates the page's flags in one pass, from the decision cache when it
// can). The planner accepts the
// selections below and nothing else; the rest is gqlgen's, as for the
// tree (fastpath.go), and TestFastPathDifferential compares both answers
// byte for byte.

import (
	"bytes"
	"context"
	"slices"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"okrgraph/ent"
	"okrgraph/graph/model"
	"okrgraph/internal/okr"
	"okrgraph/internal/scope"
)

// fastPage is an okrs page: its arguments and its connection's selection.
type fastPage struct {
	query  okr.PageQuery
	fields []pageField
	flags  bool // some node selects viewerCan
}

// pageField is a field of the page's selection: key is `"alias":` (with
// its leading comma when not first); lit the value of a __typename; sub
// the selection of an object.
type pageField struct {
	key  []byte
	kind pageKind
	lit  string
	col  fastCol // pkLeaf
	flag int     // pkFlag: the index in viewerFlags
	sub  []pageField
}

type pageKind int

const (
	pkTypename pageKind = iota
	pkTotalCount
	pkPageInfo
	pkHasNext
	pkHasPrevious
	pkStartCursor
	pkEndCursor
	pkEdges
	pkCursor
	pkNode
	pkLeaf
	pkOwners
	pkOwnerID
	pkOwnerName
	pkStatus
	pkViewerCan
	pkFlag
	pkUser
)

// viewerFlags are OKRItemPermissions' fields, in okr.Permissions' field
// order (okr.Permissions.Flag).
var viewerFlags = []string{"update", "delete", "changeOwners", "setDelegate", "setCheckInOwner", "checkIn", "align", "comment", "clone", "manageGrants"}

// pageRule is how a field of an object the page path serves is planned:
// its kind and, for an object, the object's type name (pageObjects); col
// and flag for item leaves and viewerCan flags.
type pageRule struct {
	kind pageKind
	obj  string
	col  fastCol
	flag int
}

// pageObject is an object type the page path serves: the type conditions
// its fragments may name and its fields (besides __typename).
type pageObject struct {
	types  []string
	fields map[string]pageRule
}

// pageObjects are the objects of a page and of viewer, by type name.
var pageObjects = func() map[string]pageObject {
	item := map[string]pageRule{
		"owners":         {kind: pkOwners, obj: "User"},
		"progressStatus": {kind: pkStatus},
		"viewerCan":      {kind: pkViewerCan, obj: "OKRItemPermissions"},
	}
	for name, col := range fastItemCols {
		if col != colItemTypename {
			item[name] = pageRule{kind: pkLeaf, col: col}
		}
	}
	flags := map[string]pageRule{}
	for i, name := range viewerFlags {
		flags[name] = pageRule{kind: pkFlag, flag: i}
	}
	return map[string]pageObject{
		"OKRItemConnection": {connectionTypes, map[string]pageRule{
			"totalCount": {kind: pkTotalCount}, "pageInfo": {kind: pkPageInfo, obj: "PageInfo"}, "edges": {kind: pkEdges, obj: "OKRItemEdge"},
		}},
		"PageInfo": {[]string{"PageInfo"}, map[string]pageRule{
			"hasNextPage": {kind: pkHasNext}, "hasPreviousPage": {kind: pkHasPrevious},
			"startCursor": {kind: pkStartCursor}, "endCursor": {kind: pkEndCursor},
		}},
		"OKRItemEdge":        {edgeTypes, map[string]pageRule{"cursor": {kind: pkCursor}, "node": {kind: pkNode, obj: "OKRItem"}}},
		"OKRItem":            {itemTypes, item},
		"User":               {userTypes, map[string]pageRule{"id": {kind: pkOwnerID}, "name": {kind: pkOwnerName}}},
		"OKRItemPermissions": {[]string{"OKRItemPermissions"}, flags},
		"Viewer":             {[]string{"Viewer"}, map[string]pageRule{"user": {kind: pkUser, obj: "User"}}},
	}
}()

// pageArgs accepts okrs with first (positive: the cost guard writes its
// default page into a connection asked without first or last), orderBy
// (fields and directions spelled out) and a where that is absent or
// {hasOwnersWith: [{id: X}]}; nothing else (no cursors, no last).
func pageArgs(oc *graphql.OperationContext, f graphql.CollectedField) (okr.PageQuery, bool) {
	var q okr.PageQuery
	for name, v := range f.ArgumentMap(oc.Variables) {
		if v == nil {
			continue // first stays 0: refused below
		}
		ok := true
		switch name {
		case "first":
			n, err := graphql.UnmarshalInt(v)
			q.First, ok = n, err == nil
		case "where":
			q.Owner, ok = ownedWhere(v)
		case "orderBy":
			q.Order, ok = pageOrder(v)
		default:
			ok = false
		}
		if !ok {
			return okr.PageQuery{}, false
		}
	}
	return q, q.First > 0
}

// ownedWhere reads X of {hasOwnersWith: [{id: X}]} as gqlgen would.
func ownedWhere(v any) (int, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return 0, false
	}
	list, ok := m["hasOwnersWith"].([]any)
	if !ok || len(list) != 1 {
		return 0, false
	}
	u, ok := list[0].(map[string]any)
	if !ok || len(u) != 1 || u["id"] == nil {
		return 0, false
	}
	id, err := model.UnmarshalIntID(u["id"])
	if err != nil || id == 0 {
		return 0, false
	}
	return id, true
}

// pageOrder reads a list of {field, direction} (or one, as input coercion
// allows) with both spelled out.
func pageOrder(v any) ([]*ent.OKRItemOrder, bool) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var out []*ent.OKRItemOrder
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok || len(m) != 2 || m["field"] == nil || m["direction"] == nil {
			return nil, false
		}
		o := &ent.OKRItemOrder{Field: new(ent.OKRItemOrderField)}
		if o.Field.UnmarshalGQL(m["field"]) != nil || o.Direction.UnmarshalGQL(m["direction"]) != nil {
			return nil, false
		}
		out = append(out, o)
	}
	return out, len(out) > 0
}

// planPage plans an okrs page; false when gqlgen must answer it.
func planPage(oc *graphql.OperationContext, f graphql.CollectedField) (*fastPage, bool) {
	q, ok := pageArgs(oc, f)
	if !ok {
		return nil, false
	}
	p := &fastPage{query: q}
	p.fields, ok = p.object(oc, f.Selections, "OKRItemConnection")
	return p, ok
}

// planViewer plans viewer { user { id name } } (and __typename).
func planViewer(oc *graphql.OperationContext, f graphql.CollectedField) ([]pageField, bool) {
	if len(f.Arguments) > 0 {
		return nil, false
	}
	var p fastPage
	return p.object(oc, f.Selections, "Viewer")
}

// object plans a selection of the object typename (pageObjects); false
// for a field it has no rule for, an argument or a deferred fragment.
func (p *fastPage) object(oc *graphql.OperationContext, sel ast.SelectionSet, typename string) ([]pageField, bool) {
	obj := pageObjects[typename]
	var out []pageField
	for i, f := range graphql.CollectFields(oc, sel, obj.types) {
		if len(f.Deferrables) > 0 || len(f.Arguments) > 0 {
			return nil, false
		}
		pf := pageField{key: fieldKey(i, f.Alias)}
		rule, known := obj.fields[f.Name]
		switch {
		case f.Name == "__typename":
			pf.kind, pf.lit = pkTypename, typename
		case !known:
			return nil, false
		case rule.obj == "":
			if len(f.Selections) > 0 {
				return nil, false
			}
			pf.kind, pf.col, pf.flag = rule.kind, rule.col, rule.flag
		default:
			var ok bool
			pf.kind = rule.kind
			if pf.sub, ok = p.object(oc, f.Selections, rule.obj); !ok {
				return nil, false
			}
		}
		p.flags = p.flags || pf.kind == pkViewerCan
		out = append(out, pf)
	}
	return out, len(out) > 0
}

// writeViewer writes the viewer object from the identification's user
// row; false when the request has none (gqlgen reads it).
func writeViewer(ctx context.Context, b []byte, fields []pageField) ([]byte, bool) {
	u := viewerUser(ctx, scope.From(ctx).UserID)
	if u == nil {
		return nil, false
	}
	var d pageData
	return d.write(b, fields, pagePos{owner: okr.Owner{ID: u.ID, Name: u.Name}}), true
}

// pageData is what a page's writer needs besides the connection.
type pageData struct {
	conn  *ent.OKRItemConnection
	items []okr.PageItem
	flags []*okr.Permissions
	buf   bytes.Buffer
	bad   bool
}

// pagePos is where the writer is: the edge whose node (or its owners,
// flags) it writes, and the owner (or the viewer's user).
type pagePos struct {
	edge  int
	owner okr.Owner
}

// writePage reads the page and writes its connection object; false when
// gqlgen must answer instead.
func (f FastPath) writePage(ctx context.Context, b []byte, p *fastPage) ([]byte, bool) {
	conn, page, err := f.OKRs.Page(ctx, p.query)
	if err != nil {
		return nil, false
	}
	d := &pageData{conn: conn, items: page}
	// One growth for the edges instead of doubling from run's 4 KB (an
	// edge of the dashboard's selection is ~500 bytes).
	b = slices.Grow(b, 512*len(conn.Edges))
	items := make([]*ent.OKRItem, len(conn.Edges))
	for i, e := range conn.Edges {
		items[i] = e.Node
	}
	if p.flags {
		d.flags = make([]*okr.Permissions, len(items))
		for i, it := range items {
			if d.flags[i], err = f.OKRs.ViewerCan(ctx, it, items); err != nil || d.flags[i] == nil {
				return nil, false
			}
		}
	}
	b = d.write(b, p.fields, pagePos{})
	return b, !d.bad
}

// write writes an object of the page (the connection, its pageInfo, an
// edge, its node, an owner, the flags) or the viewer's.
func (d *pageData) write(b []byte, fields []pageField, at pagePos) []byte {
	b = append(b, '{')
	for _, f := range fields {
		b = append(b, f.key...)
		switch f.kind {
		case pkTypename:
			b = appendString(b, f.lit)
		case pkTotalCount:
			b = appendInt(b, d.conn.TotalCount)
		case pkPageInfo, pkNode, pkViewerCan, pkUser:
			b = d.write(b, f.sub, at)
		case pkHasNext:
			b = appendBool(b, d.conn.PageInfo.HasNextPage)
		case pkHasPrevious:
			b = appendBool(b, d.conn.PageInfo.HasPreviousPage)
		case pkStartCursor:
			b = d.cursor(b, d.conn.PageInfo.StartCursor)
		case pkEndCursor:
			b = d.cursor(b, d.conn.PageInfo.EndCursor)
		case pkEdges:
			b = append(b, '[')
			for j := range d.conn.Edges {
				if j > 0 {
					b = append(b, ',')
				}
				b = d.write(b, f.sub, pagePos{edge: j})
			}
			b = append(b, ']')
		case pkCursor:
			b = d.cursor(b, &d.conn.Edges[at.edge].Cursor)
		case pkLeaf:
			b, d.bad = appendLeaves(b, []fastLeaf{{col: f.col}}, itemRow(d.conn.Edges[at.edge].Node), d.bad)
		case pkOwners:
			b = append(b, '[')
			for j, o := range d.items[at.edge].Owners {
				if j > 0 {
					b = append(b, ',')
				}
				b = d.write(b, f.sub, pagePos{edge: at.edge, owner: o})
			}
			b = append(b, ']')
		case pkOwnerID:
			b = appendID(b, at.owner.ID)
		case pkOwnerName:
			b = appendString(b, at.owner.Name)
		case pkStatus:
			if s := d.items[at.edge].Status; s == nil {
				b = append(b, "null"...)
			} else {
				d.buf.Reset()
				s.MarshalGQL(&d.buf)
				b = append(b, d.buf.Bytes()...)
			}
		case pkFlag:
			b = appendBool(b, d.flags[at.edge].Flag(f.flag))
		}
	}
	return append(b, '}')
}

func (d *pageData) cursor(b []byte, c *ent.Cursor) []byte {
	if c == nil {
		return append(b, "null"...)
	}
	d.buf.Reset()
	c.MarshalGQL(&d.buf)
	return append(b, d.buf.Bytes()...)
}

// itemRow is the part of a tree row appendLeaves writes for an item.
func itemRow(it *ent.OKRItem) *okr.TreeRow {
	return &okr.TreeRow{
		ID: it.ID, Kind: it.Kind, Level: it.Level, Title: it.Title, Status: it.Status,
		Progress: it.Progress, ProgressMode: it.ProgressMode, Weight: it.Weight,
		MetricStart: it.MetricStart, MetricTarget: it.MetricTarget, MetricCurrent: it.MetricCurrent,
		Unit: it.Unit, Private: it.Private,
	}
}

func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

func appendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }
