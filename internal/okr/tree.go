package okr

// The whole alignment tree as flat rows, for BI tools and exports.
//
// One recursive statement walks the organization's tree from its roots (or
// from one item) and applies the viewing rule of the private-item
// interceptor (ent/schema/okritem.go) in SQL while it descends: a private
// item is visible to its owners, creator, delegate, check-in owner and
// listed viewers, and a key result also to whoever is involved in its
// objective. The subtree under an item the viewer may not see is not
// walked, exactly as the nested `children` form never reaches it. Nothing
// is passed as one parameter per id, so the size of the tree only meets
// the configured item bound.

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"

	"okrgraph/ent/okritem"
	"okrgraph/internal/apperr"
	"okrgraph/internal/scope"
)

// DefaultMaxTreeItems bounds how many rows one tree read or export
// returns unless Service.MaxTreeItems says otherwise.
const DefaultMaxTreeItems = 250_000

// TreeRow is one item of the flat tree: its place (parent, depth, path of
// ids from the root, depth-first ordinal) and its own fields.
type TreeRow struct {
	ID            int
	ParentID      *int
	Depth         int
	Ordinal       int
	Path          string
	Kind          okritem.Kind
	Level         okritem.Level
	Title         string
	Status        okritem.Status
	Progress      float64
	ProgressMode  okritem.ProgressMode
	Weight        *float64
	MetricStart   *float64
	MetricTarget  *float64
	MetricCurrent *float64
	Unit          string
	Private       bool
	TimePeriodID  *int
	OwnerIDs      []int
}

// TreeOptions select the part of the tree to read.
type TreeOptions struct {
	// RootID starts the walk at one item (which the viewer must see)
	// instead of at the organization's root items.
	RootID *int
	// MaxItems lowers the service's bound for this read (0: the bound).
	MaxItems int
}

// maxTreeItems is the bound of one read: the service's, lowered by opts.
func (s *Service) maxTreeItems(opts TreeOptions) (int, error) {
	limit := s.MaxTreeItems
	if limit <= 0 {
		limit = DefaultMaxTreeItems
	}
	switch {
	case opts.MaxItems < 0:
		return 0, apperr.BadInput("maxItems", "maxItems must not be negative")
	case opts.MaxItems > limit:
		return 0, apperr.BadInput("maxItems", "maxItems is at most %d", limit)
	case opts.MaxItems > 0:
		limit = opts.MaxItems
	}
	return limit, nil
}

// Tree reads the selected organization's alignment tree as the viewer may
// see it and calls each for every row, depth first (children in id
// order), as the rows arrive from the database. The row passed to each is
// reused: copy what must outlive the call. A tree with more rows than the
// bound fails with BAD_USER_INPUT after the first rows were passed.
func (s *Service) Tree(ctx context.Context, opts TreeOptions, each func(*TreeRow) error) error {
	sc := scope.From(ctx)
	if sc.UserID == 0 {
		return apperr.Unauthenticated("authentication required")
	}
	if sc.OrgID == 0 {
		return apperr.BadInput("X-Org", "select an organization (X-Org header)")
	}
	limit, err := s.maxTreeItems(opts)
	if err != nil {
		return err
	}
	args := []any{sc.OrgID, sc.UserID, MaxDepth, limit + 1}
	if opts.RootID != nil {
		// The root must be visible to the viewer: the interceptors decide.
		ok, err := s.Client.OKRItem.Query().Where(okritem.ID(*opts.RootID)).Exist(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.NotFound("item", *opts.RootID)
		}
		args = append(args, *opts.RootID)
	}
	rows, err := s.Client.QueryContext(ctx, treeQuery(s.dialect(), opts.RootID != nil), args...)
	if err != nil {
		return fmt.Errorf("tree: %w", err)
	}
	defer rows.Close()
	var (
		r           TreeRow
		item        itemScan
		key, owners string
		n           int
		pbuf        strings.Builder
	)
	dest := append(append([]any{&r.ID, &r.Depth, &key}, item.dest(&r)...), &owners)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("tree: %w", err)
		}
		if n++; n > limit {
			return apperr.BadInput("maxItems", "the tree has more than %d items: read a subtree (rootId)", limit)
		}
		r.Ordinal = n
		item.set(&r)
		r.Path = pathOf(&pbuf, key)
		if r.OwnerIDs, err = parseIDs(owners, r.OwnerIDs[:0]); err != nil {
			return fmt.Errorf("tree: item %d owners: %w", r.ID, err)
		}
		if err := each(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// itemScan receives the item columns the flat tree and the forest read
// alike, in this order: parent_id, kind, level, title, status, progress,
// progress_mode, weight, metric_start, metric_target, metric_current,
// unit, private, time_period_id; set moves them onto the row.
type itemScan struct {
	parent, period        sql.NullInt64
	weight, ms, mt, mc    sql.NullFloat64
	kind, level, st, mode string
}

// dest returns the scan destinations of the columns, for the row r.
func (s *itemScan) dest(r *TreeRow) []any {
	return []any{&s.parent, &s.kind, &s.level, &r.Title, &s.st, &r.Progress, &s.mode,
		&s.weight, &s.ms, &s.mt, &s.mc, &r.Unit, &r.Private, &s.period}
}

func (s *itemScan) set(r *TreeRow) {
	r.ParentID = nullInt(s.parent)
	r.TimePeriodID = nullInt(s.period)
	r.Weight, r.MetricStart, r.MetricTarget, r.MetricCurrent = nullFloat(s.weight), nullFloat(s.ms), nullFloat(s.mt), nullFloat(s.mc)
	r.Kind, r.Level, r.Status, r.ProgressMode = okritem.Kind(s.kind), okritem.Level(s.level), okritem.Status(s.st), okritem.ProgressMode(s.mode)
}

// TreeRows reads the tree (see Tree) into memory.
func (s *Service) TreeRows(ctx context.Context, opts TreeOptions) ([]*TreeRow, error) {
	var all []TreeRow
	err := s.Tree(ctx, opts, func(r *TreeRow) error {
		c := *r
		c.OwnerIDs = append([]int(nil), r.OwnerIDs...)
		all = append(all, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*TreeRow, len(all))
	for i := range all {
		out[i] = &all[i]
	}
	return out, nil
}

// keyWidth is the width of one id in the sort key: ids are zero-padded so
// the keys sort depth first, children in id order.
const keyWidth = 19

// visibleInvolves is the SQL condition "the viewer ({viewer}) is involved
// in item i": creator, delegate, check-in owner, an owner or a listed
// viewer (the private-item interceptor's rule, ent/schema/okritem.go).
const visibleInvolves = "(i.creator_id = {viewer} OR i.delegate_id = {viewer} OR i.checkin_owner_id = {viewer}" +
	" OR EXISTS (SELECT 1 FROM okr_item_owners o WHERE o.okr_item_id = i.id AND o.user_id = {viewer})" +
	" OR EXISTS (SELECT 1 FROM okr_item_viewers v WHERE v.okr_item_id = i.id AND v.user_id = {viewer}))"

// viaObjective is the SQL condition "the viewer sees a private key result
// through its objective x" (okr.view): the viewer owns x or is its
// delegate, or x is private too and the viewer is involved in it.
func viaObjective(x string) string {
	return "(" + x + ".delegate_id = {viewer} OR EXISTS (SELECT 1 FROM okr_item_owners vo WHERE vo.okr_item_id = " + x + ".id AND vo.user_id = {viewer})" +
		" OR (" + x + ".private AND " + strings.ReplaceAll(visibleInvolves, "i.", x+".") + "))"
}

// visibleWalk is the recursive CTE t(id, depth[, sort_key], inv) shared by
// the flat tree and the nested subtree loader: it starts at the items of
// anchor (a condition on okr_items i) and descends while the viewer may
// see the child, at most {depth} levels. A private key result is also
// visible to whoever is involved in its objective when that is private
// (inv carries that down one level) and to the objective's owners and
// delegate in any case (viaObjective). key, when not empty, is the expression of one id's
// sort key (the column sort_key concatenates them from the root). In the
// recursive step the org check (children share their parent's org; it is
// kept as a safeguard) is written so no planner walks the org index
// instead of parent_id's. Parameters are the tokens {org}, {viewer} and
// {depth}.
func visibleWalk(anchor, key string) string {
	inv := "CASE WHEN i.private THEN " + visibleInvolves + " ELSE false END"
	cols, first, step := "id, depth, inv", "i.id, 0, ", "i.id, t.depth + 1, "
	if key != "" {
		cols = "id, depth, sort_key, inv"
		first += "CAST(" + key + " AS TEXT), "
		step += "t.sort_key || " + key + ", "
	}
	return `WITH RECURSIVE t(` + cols + `) AS (
SELECT ` + first + inv + `
FROM okr_items i WHERE i.org_id = {org} AND ` + anchor + `
UNION ALL
SELECT ` + step + inv + `
FROM t JOIN okr_items i ON i.parent_id = t.id
WHERE i.org_id + 0 = {org} AND t.depth < {depth} AND CASE WHEN NOT i.private THEN true WHEN i.kind = 'KEY_RESULT' AND (t.inv OR EXISTS (SELECT 1 FROM okr_items vp WHERE vp.id = i.parent_id AND ` + viaObjective("vp") + `)) THEN true ELSE ` + visibleInvolves + ` END
)`
}

// treeQuery is the flat tree statement. Parameters: $1 org, $2 viewer, $3
// depth bound, $4 row limit, $5 root (when rooted).
func treeQuery(dia string, rooted bool) string {
	pad := "printf('%019d', i.id)"
	collate := ""
	if dia == dialect.Postgres {
		pad = "lpad(CAST(i.id AS TEXT), 19, '0')"
		collate = ` COLLATE "C"`
	}
	anchor := "i.parent_id IS NULL AND (NOT i.private OR " + visibleInvolves + ")"
	if rooted {
		anchor = "i.id = $5"
	}
	return strings.NewReplacer("{org}", "$1", "{viewer}", "$2", "{depth}", "$3").Replace(visibleWalk(anchor, pad) + `
SELECT i.id, t.depth, t.sort_key, i.parent_id, i.kind, i.level, i.title, i.status, i.progress, i.progress_mode,
 i.weight, i.metric_start, i.metric_target, i.metric_current, i.unit, i.private, i.time_period_id, CAST(i.owner_order AS TEXT)
FROM t JOIN okr_items i ON i.id = t.id
ORDER BY t.sort_key` + collate + `
LIMIT $4`)
}

// pathOf turns a sort key (zero-padded ids) into "id/id/id".
func pathOf(b *strings.Builder, key string) string {
	b.Reset()
	for i := 0; i+keyWidth <= len(key); i += keyWidth {
		if i > 0 {
			b.WriteByte('/')
		}
		part := strings.TrimLeft(key[i:i+keyWidth], "0")
		if part == "" {
			part = "0"
		}
		b.WriteString(part)
	}
	return b.String()
}

// parseIDs reads a JSON array of integers ("[1,2]") into dst.
func parseIDs(s string, dst []int) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return dst, nil
	}
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, fmt.Errorf("not an array: %q", s)
	}
	for part := range strings.SplitSeq(s[1:len(s)-1], ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		v, err := strconv.Atoi(part)
		if err != nil {
			return nil, err
		}
		dst = append(dst, v)
	}
	return dst, nil
}

func nullInt(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	i := int(v.Int64)
	return &i
}

func nullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	f := v.Float64
	return &f
}
