package okr

// The nested `children` form in a fixed number of statements.
//
// A request that walks `children` connections under a page of items would
// make ent load one level per statement, each with one bind parameter per
// parent (beyond the databases' parameter limits on a big level). Instead
// LoadSubtree reads every level at once: one statement for the items (the
// recursive walk of the flat tree, visibleWalk, anchored at the page's
// ids passed as one JSON parameter) and one for their owners, and hands
// them to the GraphQL layer as ent's named eager-loaded edges. The items
// are read through ent, so the private-item interceptor still filters
// them: the walk only decides which subtree to read. The owners' ids come
// with the items (a correlated aggregate of okr_item_owners), the users
// in one more statement.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"okrgraph/ent"
	"okrgraph/ent/okritem"
	"okrgraph/ent/user"
	"okrgraph/internal/apperr"
	"okrgraph/internal/scope"
)

// SubtreeLevel is what one level of nested `children` asks for.
type SubtreeLevel struct {
	// First keeps the first n children of each parent (in id order, the
	// connection's default order); nil keeps all of them.
	First *int
	// Owners: the level's items select their owners.
	Owners bool
}

// SubtreeOptions describe a nested read below a page of items.
type SubtreeOptions struct {
	// ChildrenName and OwnersName are the names the edges are stored under
	// (the GraphQL aliases: "children", "owners").
	ChildrenName, OwnersName string
	// RootOwners: the page's items select their owners.
	RootOwners bool
	// Levels are the children levels under the page, outermost first.
	Levels []SubtreeLevel
	// Columns the selected fields read (nil: all); the loader adds what
	// it needs itself.
	Columns []string
}

// LoadSubtree loads the levels of children under roots (items the viewer
// sees, all of the selected organization) and, where asked, the owners of
// the roots and of those children, in two statements, and stores them as
// named edges of the items. More items than the tree bound fail with
// BAD_USER_INPUT.
func (s *Service) LoadSubtree(ctx context.Context, roots []*ent.OKRItem, opts SubtreeOptions) error {
	sc := scope.From(ctx)
	if len(roots) == 0 || len(opts.Levels) == 0 {
		return nil
	}
	if sc.UserID == 0 || sc.OrgID == 0 {
		return apperr.Unauthenticated("authentication required")
	}
	limit, err := s.maxTreeItems(TreeOptions{})
	if err != nil {
		return err
	}
	ids := make([]int, len(roots))
	for i, r := range roots {
		ids[i] = r.ID
	}
	walk := func(minDepth int, n int) func(*sql.Builder) {
		anchor := inIDs(s.dialect(), "i.id", "{roots}")
		q := visibleWalk(anchor, "") + fmt.Sprintf(" SELECT id FROM t WHERE depth >= %d LIMIT %d", minDepth, n)
		args := map[string]any{"org": sc.OrgID, "viewer": sc.UserID, "depth": len(opts.Levels), "roots": idList(s.dialect(), ids)}
		return func(b *sql.Builder) { writeSQL(b, q, args) }
	}

	owned := opts.RootOwners
	for _, l := range opts.Levels {
		owned = owned || l.Owners
	}
	const ownersCol = "okrgraph_owner_ids"
	agg := "group_concat(o.user_id)"
	if s.dialect() == dialect.Postgres {
		agg = "string_agg(CAST(o.user_id AS TEXT), ',')"
	}
	minDepth := 1
	if opts.RootOwners {
		minDepth = 0 // the roots' owner ids come with the walk
	}
	q := s.Client.OKRItem.Query()
	if opts.Columns != nil {
		cols := []string{okritem.FieldID, okritem.FieldOrgID, okritem.FieldParentID, okritem.FieldOwnerOrder}
		for _, c := range opts.Columns {
			if !slices.Contains(cols, c) {
				cols = append(cols, c)
			}
		}
		q.Select(cols...)
	}
	items, err := q.Modify(func(sel *sql.Selector) {
		sel.Where(sql.P(func(b *sql.Builder) {
			b.WriteString(sel.C(okritem.FieldID)).WriteString(" IN (")
			walk(minDepth, limit+len(roots)+1)(b)
			b.WriteString(")")
		}))
		if owned {
			sel.AppendSelectExprAs(sql.Expr("(SELECT "+agg+" FROM okr_item_owners o WHERE o.okr_item_id = "+sel.C(okritem.FieldID)+")"), ownersCol)
		}
	}).All(ctx)
	if err != nil {
		return fmt.Errorf("subtree: %w", err)
	}
	isRoot := make(map[int]bool, len(roots))
	for _, id := range ids {
		isRoot[id] = true
	}
	byID := make(map[int]*ent.OKRItem, len(items))
	byParent := make(map[int][]*ent.OKRItem)
	n := 0
	for _, it := range items {
		byID[it.ID] = it
		if !isRoot[it.ID] {
			n++
		}
		// A root may also be a child of another root (a page of okrs
		// that nest): it is that root's child as well.
		if it.ParentID != nil {
			byParent[*it.ParentID] = append(byParent[*it.ParentID], it)
		}
	}
	if n > limit {
		return apperr.BadInput("children", "the tree has more than %d items: ask for fewer levels of children or use first", limit)
	}

	// Attach level by level from the roots, keeping each connection's first.
	level := roots
	var kept []*ent.OKRItem // every item whose owners are asked for
	if opts.RootOwners {
		kept = append(kept, roots...)
	}
	for _, l := range opts.Levels {
		var next []*ent.OKRItem
		for _, p := range level {
			cs := byParent[p.ID]
			slices.SortFunc(cs, func(a, b *ent.OKRItem) int { return a.ID - b.ID })
			if l.First != nil && len(cs) > *l.First+1 {
				// One more than asked: ent's connection builder tells
				// hasNextPage by it and drops it.
				cs = cs[:*l.First+1]
			}
			p.SetNamedChildren(opts.ChildrenName, cs)
			next = append(next, cs...)
		}
		if l.Owners {
			kept = append(kept, next...)
		}
		level = next
	}
	if len(kept) == 0 {
		return nil
	}

	// The owners: the users owning items of the organization, in one
	// statement (their own interceptors apply, as to any read of owners),
	// matched to the items by the owner ids read with them.
	users, err := s.Client.User.Query().Where(func(sel *sql.Selector) {
		sel.Where(sql.P(func(b *sql.Builder) {
			b.WriteString(sel.C(user.FieldID)).WriteString(" IN (SELECT o.user_id FROM okr_item_owners o JOIN okr_items i ON i.id = o.okr_item_id WHERE i.org_id = ")
			b.Arg(sc.OrgID)
			b.WriteString(")")
		}))
	}).All(ctx)
	if err != nil {
		return fmt.Errorf("subtree owners: %w", err)
	}
	userByID := make(map[int]*ent.User, len(users))
	for _, u := range users {
		userByID[u.ID] = u
	}
	for _, it := range kept {
		src := byID[it.ID]
		if src == nil {
			return fmt.Errorf("subtree: item %d not read", it.ID)
		}
		v, err := src.Value(ownersCol)
		if err != nil {
			return fmt.Errorf("subtree owners: %w", err)
		}
		var us []*ent.User
		for part := range strings.SplitSeq(asString(v), ",") {
			if part == "" {
				continue
			}
			id, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return fmt.Errorf("subtree owners of %d: %w", it.ID, err)
			}
			if u := userByID[id]; u != nil {
				us = append(us, u)
			}
		}
		slices.SortFunc(us, func(a, b *ent.User) int { return a.ID - b.ID })
		it.SetNamedOwners(opts.OwnersName, us)
	}
	return nil
}

// asString reads an aggregated text column as scanned by ent.
func asString(v any) string {
	switch x := v.(type) {
	case *sql.UnknownType:
		return asString(any(*x))
	case *any:
		return asString(*x)
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

// writeSQL writes q into b, each {name} token as a bind parameter of
// args[name] (numbered for the dialect by b).
func writeSQL(b *sql.Builder, q string, args map[string]any) {
	for {
		i := strings.IndexByte(q, '{')
		if i < 0 {
			b.WriteString(q)
			return
		}
		j := strings.IndexByte(q[i:], '}')
		if j < 0 {
			b.WriteString(q)
			return
		}
		v, ok := args[q[i+1:i+j]]
		if !ok {
			b.WriteString(q[:i+j+1])
			q = q[i+j+1:]
			continue
		}
		b.WriteString(q[:i])
		b.Arg(v)
		q = q[i+j+1:]
	}
}
