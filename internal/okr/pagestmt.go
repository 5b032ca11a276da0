package okr

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"okrgraph/ent"
	"okrgraph/internal/scope"
)

// A page's statements are the same text for every request of one shape
// (page size, order, whether it filters by an owner) and differ only in
// the viewer, the organization and the owner filtered by. Building them
// with ent's builders took about a tenth of a dashboard request's CPU in
// Go, so Page builds them once per shape with stand-in values and binds
// each request's values in their places.

// The stand-ins. No id is negative, and the builders' other arguments
// (false, 'KEY_RESULT', ...) are not integers of this size, so an argument
// equal to one of them can only be the value it stands for: a template
// whose arguments say otherwise is refused (templateOf).
//
// Page builds its statements twice, with two sets of them, and keeps
// them only when both builds agree on everything but the stand-ins: no
// constant of the statement may depend on the viewer, the org or the
// owner.
var standIns = [2]standInSet{
	{viewer: -(1<<62 + 1), org: -(1<<62 + 2), owner: -(1<<62 + 3)},
	{viewer: -(1<<62 + 4), org: -(1<<62 + 5), owner: -(1<<62 + 6)},
}

// standInSet are the values a statement is built with in place of the
// request's viewer, organization and owner.
type standInSet struct{ viewer, org, owner int }

// maxPageShapes bounds the shapes kept: a client choosing page sizes and
// orders cannot grow the memo without bound (further shapes are built
// for each request, as before).
const maxPageShapes = 256

// pageShape is what a page's statement text depends on besides its
// values. The scope's flags are part of it, as the interceptors' rules
// read them.
type pageShape struct {
	first   int
	owner   bool
	order   string
	service bool
}

// argSlot says what a template argument is: a constant (slotConst) or the
// request's viewer, organization or owner.
type argSlot int8

const (
	slotConst argSlot = iota
	slotViewer
	slotOrg
	slotOwner
)

// stmtTemplate is a statement built with stand-ins.
type stmtTemplate struct {
	text  string
	args  []any
	slots []argSlot
}

// standInDigits are digits every stand-in is written with: those of
// 1<<62 but its last three (the stand-ins are it plus 1 to 6, negated).
var standInDigits = strconv.Itoa(1 << 62)[:16]

// templateOf finds the stand-ins among a statement's arguments. It fails
// when a stand-in is part of the text, or of an argument other than an
// int equal to it (a value derived from the viewer's id, say): binding
// could not replace it.
func templateOf(text string, args []any, in standInSet) (stmtTemplate, error) {
	if strings.Contains(text, standInDigits) {
		return stmtTemplate{}, fmt.Errorf("page statement: a stand-in is part of its text")
	}
	t := stmtTemplate{text: text, args: args, slots: make([]argSlot, len(args))}
	for i, a := range args {
		if v, ok := a.(int); ok {
			switch v {
			case in.viewer:
				t.slots[i] = slotViewer
			case in.org:
				t.slots[i] = slotOrg
			case in.owner:
				t.slots[i] = slotOwner
			}
		}
		if t.slots[i] == slotConst && strings.Contains(fmt.Sprint(a), standInDigits) {
			return stmtTemplate{}, fmt.Errorf("page statement: argument %d holds a stand-in as %T", i+1, a)
		}
	}
	return t, nil
}

// bind returns the template's arguments with the request's values.
func (t stmtTemplate) bind(viewer, org, owner int) []any {
	out := make([]any, len(t.args))
	for i, a := range t.args {
		switch t.slots[i] {
		case slotViewer:
			a = viewer
		case slotOrg:
			a = org
		case slotOwner:
			a = owner
		}
		out[i] = a
	}
	return out
}

// pageTemplates are the page statements of one shape.
type pageTemplates struct {
	page, count stmtTemplate
}

// pageMemo keeps the templates of the shapes met (Service.pages).
type pageMemo struct {
	m sync.Map // pageShape -> *pageTemplates
	n atomic.Int32
}

// statements returns the page's statements for this request: built once
// per shape with stand-ins (build), then bound to the request's values.
func (m *pageMemo) statements(ctx context.Context, shape pageShape, owner int, build func(ctx context.Context, owner int) (*ent.PageStatements, error)) (*ent.PageStatements, error) {
	sc := scope.From(ctx)
	v, ok := m.m.Load(shape)
	if !ok {
		if m.n.Load() >= maxPageShapes {
			return build(ctx, owner)
		}
		t, err := buildTemplates(ctx, shape.owner, build)
		if err != nil {
			return nil, err
		}
		if v, ok = m.m.LoadOrStore(shape, t); !ok {
			m.n.Add(1)
		}
	}
	t := v.(*pageTemplates)
	st := &ent.PageStatements{Page: t.page.text, PageArgs: t.page.bind(sc.UserID, sc.OrgID, owner)}
	if t.count.text != "" {
		st.Count, st.CountArgs = t.count.text, t.count.bind(sc.UserID, sc.OrgID, owner)
	}
	return st, nil
}

// buildTemplates builds a shape's statements with each set of stand-ins
// and returns their templates when the builds agree.
func buildTemplates(ctx context.Context, owned bool, build func(ctx context.Context, owner int) (*ent.PageStatements, error)) (*pageTemplates, error) {
	var ts [len(standIns)]pageTemplates
	for i, in := range standIns {
		sc := scope.From(ctx)
		sc.UserID, sc.OrgID = in.viewer, in.org
		owner := 0
		if owned {
			owner = in.owner
		}
		st, err := build(scope.With(ctx, sc), owner)
		if err != nil {
			return nil, err
		}
		if ts[i].page, err = templateOf(st.Page, st.PageArgs, in); err != nil {
			return nil, err
		}
		if ts[i].count, err = templateOf(st.Count, st.CountArgs, in); err != nil {
			return nil, err
		}
	}
	if !ts[0].page.same(ts[1].page) || !ts[0].count.same(ts[1].count) {
		return nil, fmt.Errorf("page statement: its text or constants depend on the viewer, org or owner")
	}
	return &ts[0], nil
}

// same reports whether t and u are one template: the same text, stand-ins
// in the same places, the same constants.
func (t stmtTemplate) same(u stmtTemplate) bool {
	if t.text != u.text || !slices.Equal(t.slots, u.slots) {
		return false
	}
	for i := range t.args {
		if t.slots[i] == slotConst && !reflect.DeepEqual(t.args[i], u.args[i]) {
			return false
		}
	}
	return true
}
