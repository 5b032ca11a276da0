package okr

// The viewer's forest: what `okrs(where: {hasParent: false})` with nested
// `children` returns, in one statement.
//
// The roots are the items the viewer sees whose parent the viewer does not
// see (or that have none): an item under a private objective hidden from
// the viewer is a root for them, as the where-filter's hasParent (an edge
// predicate confined like a query of okr_items, ent/edgefilter) decides.
// Below them one recursive walk reads the visible children, depth first,
// each level in id order (the connections' default order). Visibility is
// written here exactly as the private-item interceptor's rule
// (ent/schema/okritem.go visibleTo): public, or the viewer is involved in
// the item, or it is a key result the viewer sees through its objective
// (viaObjective in tree.go).
// The owners come with each item, confined as a query of users is (the
// viewer and the members of the organization), in the owners' assigned
// order.

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent/dialect"

	"okrgraph/internal/apperr"
	"okrgraph/internal/scope"
)

// ForestOptions describe a read of the viewer's forest.
type ForestOptions struct {
	// Depth is how many levels of children are read under the roots.
	Depth int
	// First keeps the first roots (in id order) only; 0 keeps all.
	First int
	// Columns names the okr_items columns the caller reads (nil: all of
	// them); the others are read as their zero value (NULL, '', 0, false),
	// except parent_id, which ordering the rows needs.
	Columns []string
	// Owners reads each item's owners visible to the viewer into
	// TreeRow.OwnerIDs, in their assigned order (owner_order, then id).
	Owners bool
	// Rows, when set, is called with the number of rows read before the
	// first row is passed on (to size what the rows are written to).
	Rows func(n int)
}

// hiddenSQL selects the private items of the organization the viewer may
// not see: the interceptor's rule (public, or the viewer is involved in
// the item, or it is a key result the viewer sees through its objective:
// viaObjective)
// negated (NULL, as for a NULL delegate, is not visible), evaluated for
// the private items only. On PostgreSQL the inner
// OFFSET 0 keeps the planner from costing the correlated probes for every
// item of the organization (the estimate would switch on JIT compilation,
// seconds on a busy server).
func hiddenSQL(dia string) string {
	inv := func(x string) string {
		return strings.ReplaceAll(visibleInvolves, "i.", x+".")
	}
	fence := ""
	if dia == dialect.Postgres {
		fence = " OFFSET 0"
	}
	return `SELECT x.id FROM (SELECT p.id, p.parent_id, p.kind, p.creator_id, p.delegate_id, p.checkin_owner_id
 FROM okr_items p WHERE p.org_id = {org} AND p.private` + fence + `) x
WHERE NOT COALESCE(` + inv("x") + ` OR (x.kind = 'KEY_RESULT' AND EXISTS (SELECT 1 FROM okr_items vp WHERE vp.id = x.parent_id AND ` + viaObjective("vp") + `)), false)`
}

// forestQuery is the forest statement. Parameters: $1 org, $2 viewer, $3
// depth, $4 how many roots (when first). A root is a visible item without
// a parent, under a hidden one, or (never in practice) under an item of
// no organization the viewer is in.
func forestQuery(dia string, owners, first bool, columns []string) string {
	agg := "group_concat(o.user_id)"
	if dia == dialect.Postgres {
		agg = "string_agg(CAST(o.user_id AS TEXT), ',')"
	}
	ownerCols := "NULL, NULL"
	if owners {
		ownerCols = "(SELECT " + agg + " FROM okr_item_owners o WHERE o.okr_item_id = i.id AND (o.user_id = {viewer} OR o.user_id IN (SELECT m.user_id FROM memberships m WHERE m.org_id = {org}))), CAST(i.owner_order AS TEXT)"
	}
	roots := `SELECT i.id FROM okr_items i WHERE i.org_id = {org} AND i.id NOT IN (SELECT id FROM hidden)
 AND (i.parent_id IS NULL OR i.parent_id IN (SELECT id FROM hidden) OR i.parent_id NOT IN (SELECT q.id FROM okr_items q WHERE q.org_id = {org}))`
	if first {
		roots += " ORDER BY i.id LIMIT $4"
	}
	// No ORDER BY: sorting 10,000 rows by a text path of zero-padded ids
	// cost PostgreSQL more than the walk itself; Forest orders the rows.
	q := `WITH RECURSIVE hidden(id) AS (` + hiddenSQL(dia) + `),
t(id, depth) AS (
SELECT i.id, 0 FROM (` + roots + `) i
UNION ALL
SELECT i.id, t.depth + 1
FROM t JOIN okr_items i ON i.parent_id = t.id
WHERE i.org_id + 0 = {org} AND t.depth < {depth} AND i.id NOT IN (SELECT id FROM hidden)
)
SELECT i.id, ` + forestColumns(columns) + `, t.depth, ` + ownerCols + `
FROM t JOIN okr_items i ON i.id = t.id`
	return strings.NewReplacer("{org}", "$1", "{viewer}", "$2", "{depth}", "$3").Replace(q)
}

// forestCols are the columns Forest reads after the id, with the zero
// value read for a column not asked for.
var forestCols = []struct{ name, zero string }{
	{"parent_id", "NULL"}, {"kind", "''"}, {"level", "''"}, {"title", "''"}, {"status", "''"},
	{"progress", "0"}, {"progress_mode", "''"}, {"weight", "NULL"}, {"metric_start", "NULL"},
	{"metric_target", "NULL"}, {"metric_current", "NULL"}, {"unit", "''"}, {"private", "false"},
	{"time_period_id", "NULL"},
}

func forestColumns(columns []string) string {
	var b strings.Builder
	for i, c := range forestCols {
		if i > 0 {
			b.WriteString(", ")
		}
		if columns == nil || c.name == "parent_id" || slices.Contains(columns, c.name) {
			b.WriteString("i." + c.name)
		} else {
			b.WriteString(c.zero + " AS " + c.name)
		}
	}
	return b.String()
}

// Forest reads the viewer's forest (see the file comment) in the selected
// organization and calls each for every row, depth first: roots in id
// order, each followed by its subtree, children in id order. Path and
// Ordinal are not set. The rows are read into memory first (the statement
// returns them in no order; Forest sorts them), then opts.Rows is told how
// many there are; the row passed to each stays valid until Forest
// returns. More than the tree bound of items below the roots fails with
// BAD_USER_INPUT, as the nested `children` read does, before any row is
// passed on.
func (s *Service) Forest(ctx context.Context, opts ForestOptions, each func(*TreeRow) error) error {
	sc := scope.From(ctx)
	if sc.UserID == 0 || sc.OrgID == 0 || sc.Privileged {
		return apperr.Unauthenticated("authentication required")
	}
	limit, err := s.maxTreeItems(TreeOptions{})
	if err != nil {
		return err
	}
	args := []any{sc.OrgID, sc.UserID, opts.Depth}
	if opts.First > 0 {
		args = append(args, opts.First)
	}
	rows, err := s.Client.QueryContext(ctx, forestQuery(s.dialect(), opts.Owners, opts.First > 0, opts.Columns), args...)
	if err != nil {
		return fmt.Errorf("forest: %w", err)
	}
	defer rows.Close()
	var (
		r             TreeRow
		item          itemScan
		owners, order sql.NullString
		n             int
		rank, ids     []int
		// The rows live in blocks so that growing the list does not copy
		// them; ownerAt[k] is where row k's owners start in ids.
		block   []TreeRow
		all     []*TreeRow
		ownerAt []int
	)
	dest := append(append([]any{&r.ID}, item.dest(&r)...), &r.Depth, &owners, &order)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("forest: %w", err)
		}
		if r.Depth > 0 {
			if n++; n > limit {
				return apperr.BadInput("children", "the tree has more than %d items: ask for fewer levels of children or use first", limit)
			}
		}
		item.set(&r)
		start := len(ids)
		if opts.Owners && owners.String != "" {
			if ids, err = parseIDs("["+owners.String+"]", ids); err != nil {
				return fmt.Errorf("forest: item %d owners: %w", r.ID, err)
			}
			if rank, err = parseIDs(order.String, rank[:0]); err != nil {
				return fmt.Errorf("forest: item %d owner order: %w", r.ID, err)
			}
			sortOwners(ids[start:], rank)
		}
		if len(block) == cap(block) {
			block = make([]TreeRow, 0, min(max(2*len(all), 64), 4096))
		}
		block = append(block, r)
		all = append(all, &block[len(block)-1])
		ownerAt = append(ownerAt, start)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("forest: %w", err)
	}
	for k, r := range all {
		end := len(ids)
		if k+1 < len(ownerAt) {
			end = ownerAt[k+1]
		}
		r.OwnerIDs = ids[ownerAt[k]:end:end]
	}
	if opts.Rows != nil {
		opts.Rows(len(all))
	}
	return eachDepthFirst(all, each)
}

// eachDepthFirst calls each for the rows of a forest read in any order:
// the roots (depth 0) in id order, each followed by its subtree, the
// children of a row (the rows one level deeper whose parent it is) in id
// order — the order of the forest's path of ids from the root.
func eachDepthFirst(all []*TreeRow, each func(*TreeRow) error) error {
	parentOf := func(r *TreeRow) int {
		if r.ParentID == nil {
			return 0
		}
		return *r.ParentID
	}
	// byParent orders the rows by depth, parent and id, so a row's
	// children are one run of it, found by binary search.
	byParent := slices.Clone(all)
	slices.SortFunc(byParent, func(x, y *TreeRow) int {
		return cmp.Or(cmp.Compare(x.Depth, y.Depth), cmp.Compare(parentOf(x), parentOf(y)), cmp.Compare(x.ID, y.ID))
	})
	// The roots come first; sorting them by id keeps them before the
	// deeper rows, all the search below needs of them.
	roots := byParent[:countDepth(all, 0)]
	slices.SortFunc(roots, func(x, y *TreeRow) int { return cmp.Compare(x.ID, y.ID) })
	var walk func(run []*TreeRow) error
	walk = func(run []*TreeRow) error {
		for _, r := range run {
			if err := each(r); err != nil {
				return err
			}
			lo, _ := slices.BinarySearchFunc(byParent, r, func(c, r *TreeRow) int {
				return cmp.Or(cmp.Compare(c.Depth, r.Depth+1), cmp.Compare(parentOf(c), r.ID))
			})
			hi := lo
			for hi < len(byParent) && byParent[hi].Depth == r.Depth+1 && parentOf(byParent[hi]) == r.ID {
				hi++
			}
			if err := walk(byParent[lo:hi]); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(roots)
}

// countDepth counts the rows at depth d.
func countDepth(all []*TreeRow, d int) int {
	n := 0
	for _, r := range all {
		if r.Depth == d {
			n++
		}
	}
	return n
}

// sortOwners orders owner ids as Service.Owners does: by their position in
// order (the assigned order), those not in it last, then by id.
func sortOwners(ids, order []int) {
	pos := func(id int) int {
		// The last position, as the map Owners builds keeps it.
		for i := len(order) - 1; i >= 0; i-- {
			if order[i] == id {
				return i
			}
		}
		return len(order)
	}
	slices.SortFunc(ids, func(a, b int) int { return cmp.Or(pos(a)-pos(b), a-b) })
}
