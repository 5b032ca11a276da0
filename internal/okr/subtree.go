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
// them: the walk only decides which subtree to read.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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
	rootsJSON, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	walk := func(minDepth int, n int) func(*sql.Builder) {
		anchor := "i.id IN (SELECT value FROM json_each({roots}))"
		if s.dialect() == dialect.Postgres {
			anchor = "i.id IN (SELECT CAST(r AS BIGINT) FROM json_array_elements_text(CAST({roots} AS json)) AS r)"
		}
		q := visibleWalk(anchor, "") + fmt.Sprintf(" SELECT id FROM t WHERE depth >= %d LIMIT %d", minDepth, n)
		args := map[string]any{"org": sc.OrgID, "viewer": sc.UserID, "depth": len(opts.Levels), "roots": string(rootsJSON)}
		return func(b *sql.Builder) { writeSQL(b, q, args) }
	}

	items, err := s.Client.OKRItem.Query().Where(func(sel *sql.Selector) {
		sel.Where(sql.P(func(b *sql.Builder) {
			b.WriteString(sel.C(okritem.FieldID)).WriteString(" IN (")
			walk(1, limit+1)(b)
			b.WriteString(")")
		}))
	}).All(ctx)
	if err != nil {
		return fmt.Errorf("subtree: %w", err)
	}
	if len(items) > limit {
		return apperr.BadInput("children", "the tree has more than %d items: ask for fewer levels of children or use first", limit)
	}
	byParent := make(map[int][]*ent.OKRItem)
	for _, it := range items {
		if it.ParentID != nil {
			byParent[*it.ParentID] = append(byParent[*it.ParentID], it)
		}
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

	// Owners of the whole walk (roots included) in one statement; the
	// user's own interceptors apply as to any owners read.
	const ownedCol = "okrgraph_owned_item"
	users, err := s.Client.User.Query().Modify(func(sel *sql.Selector) {
		t := sql.Table("okr_item_owners")
		sel.Join(t).On(sel.C(user.FieldID), t.C("user_id"))
		sel.Where(sql.P(func(b *sql.Builder) {
			b.WriteString(t.C("okr_item_id")).WriteString(" IN (")
			walk(0, limit+len(roots)+1)(b)
			b.WriteString(")")
		}))
		sel.AppendSelectAs(t.C("okr_item_id"), ownedCol)
	}).All(ctx)
	if err != nil {
		return fmt.Errorf("subtree owners: %w", err)
	}
	owners := make(map[int][]*ent.User)
	shared := make(map[int]*ent.User)
	for _, u := range users {
		v, err := u.Value(ownedCol)
		if err != nil {
			return fmt.Errorf("subtree owners: %w", err)
		}
		item, ok := asInt(v)
		if !ok {
			return fmt.Errorf("subtree owners: item id %T", v)
		}
		if prev, ok := shared[u.ID]; ok {
			u = prev
		} else {
			shared[u.ID] = u
		}
		owners[item] = append(owners[item], u)
	}
	for _, it := range kept {
		us := owners[it.ID]
		slices.SortFunc(us, func(a, b *ent.User) int { return a.ID - b.ID })
		it.SetNamedOwners(opts.OwnersName, us)
	}
	return nil
}

func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		return int(x), true
	case int:
		return x, true
	case *sql.UnknownType:
		return asInt(any(*x))
	case *any:
		return asInt(*x)
	case *sql.NullInt64:
		return int(x.Int64), x.Valid
	case []byte:
		var n int
		_, err := fmt.Sscan(string(x), &n)
		return n, err == nil
	}
	return 0, false
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
