package okr

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"okrgraph/ent"
	"okrgraph/ent/okritem"
	"okrgraph/ent/timeperiod"
	"okrgraph/internal/apperr"
	"okrgraph/internal/scope"
)

// Owner is an item's owner as a page of items shows it.
type Owner struct {
	ID   int    `json:"i"`
	Name string `json:"n"`
}

// PageItem is what Page reads with an item besides its own columns.
type PageItem struct {
	// Owners are what Service.Owners returns, with their names.
	Owners []Owner
	// Status is what Service.ProgressStatus returns.
	Status *ProgressStatus
}

// The columns Page adds to the page statement.
const (
	pageOwnersColumn      = "page_owners"
	pagePeriodStartColumn = "page_period_starts_at"
	pagePeriodEndColumn   = "page_period_ends_at"
)

// PageQuery is the okrs connection Page reads: its first items, in
// order, of those Owner owns (0: all).
type PageQuery struct {
	First int
	Owner int
	Order []*ent.OKRItemOrder
}

// Page reads the first items of the okrs connection (as its resolver
// would with where {hasOwnersWith: [{id: Owner}]} and orderBy) with its
// totalCount, every item's owners and its time period: the connection the
// resolver would answer and, for each of its edges, the owners
// Service.Owners would return (the users the viewer may see: themselves
// and the members of the organization, in the assigned order, then by id)
// with their names, and the progress status Service.ProgressStatus would
// (the period joined as a query of time periods sees it: of the selected
// organization).
//
// On PostgreSQL that is one statement: the owners are a column of the
// page's rows, which PostgreSQL computes for the rows the limit keeps.
// SQLite computes every column of every matching row before sorting, so
// there the count (ent.FirstPageStatements) and the owners of the page's items
// take a statement each. The statements are built once per shape of page
// (pageMemo).
func (s *Service) Page(ctx context.Context, pq PageQuery) (*ent.OKRItemConnection, []PageItem, error) {
	sc := scope.From(ctx)
	if sc.UserID == 0 || sc.OrgID == 0 || sc.Privileged {
		return nil, nil, apperr.Unauthenticated("authentication required")
	}
	if pq.First <= 0 {
		return nil, nil, apperr.BadInput("first", "first must be positive")
	}
	now := time.Now()
	pg := s.dialect() == dialect.Postgres
	// The order makes the cursors (RunFirstPage); the filter only goes
	// into the statements, which are built with a stand-in owner.
	var order []ent.OKRItemPaginateOption
	if pq.Order != nil {
		order = append(order, ent.WithOKRItemOrder(pq.Order))
	}
	opts := func(owner int) []ent.OKRItemPaginateOption {
		if pq.Owner == 0 {
			return order
		}
		where := &ent.OKRItemWhereInput{HasOwnersWith: []*ent.UserWhereInput{{ID: &owner}}}
		return append(slices.Clip(order), ent.WithOKRItemFilter(where.Filter))
	}
	shape := pageShape{first: pq.First, owner: pq.Owner != 0, service: sc.Service}
	for _, o := range pq.Order {
		if o == nil || o.Field == nil {
			return nil, nil, apperr.BadInput("orderBy", "an order needs its field")
		}
		shape.order += o.Field.String() + " " + o.Direction.String() + ","
	}
	st, err := s.pages.statements(ctx, shape, pq.Owner, func(ctx context.Context, owner int) (*ent.PageStatements, error) {
		return s.pageQuery(ctx, pg).FirstPageStatements(ctx, pq.First, opts(owner)...)
	})
	if err != nil {
		return nil, nil, err
	}
	conn, err := s.Client.OKRItem.Query().RunFirstPage(ctx, st, pq.First, func(column string) any {
		if column == pagePeriodStartColumn || column == pagePeriodEndColumn {
			return new(sql.NullTime)
		}
		return nil
	}, order...)
	if err != nil {
		return nil, nil, err
	}
	items := make([]PageItem, len(conn.Edges))
	var owners map[int][]Owner
	if !pg && len(conn.Edges) > 0 {
		if owners, err = s.pageOwnersOf(ctx, conn); err != nil {
			return nil, nil, err
		}
	}
	for i, e := range conn.Edges {
		if pg {
			items[i].Owners, err = pageOwners(e.Node)
		} else {
			items[i].Owners = owners[e.Node.ID]
		}
		if err != nil {
			return nil, nil, fmt.Errorf("page: item %d owners: %w", e.Node.ID, err)
		}
		sortPageOwners(e.Node, items[i].Owners)
		if items[i].Status, err = pageStatus(e.Node, now); err != nil {
			return nil, nil, fmt.Errorf("page: item %d period: %w", e.Node.ID, err)
		}
	}
	return conn, items, nil
}

// pageQuery is the query of items Page's statements are built from: the
// owners (PostgreSQL) and period bounds added to each row.
func (s *Service) pageQuery(ctx context.Context, pg bool) *ent.OKRItemQuery {
	sc := scope.From(ctx)
	q := s.Client.OKRItem.Query()
	q.Modify(func(sel *sql.Selector) {
		if pg {
			sel.AppendSelectExprAs(sql.P(func(b *sql.Builder) {
				b.WriteString("(SELECT json_agg(json_build_object('i', u.id, 'n', u.name)) FROM okr_item_owners o JOIN users u ON u.id = o.user_id WHERE o.okr_item_id = ").
					Ident(sel.C("id")).WriteString(" AND ")
				visibleOwner(b, sc)
				b.WriteString(")")
			}), pageOwnersColumn)
		}
		// Plain columns of a joined table: SQLite reports their declared
		// type, so its driver reads them as times, as ent's own reads do.
		tp := sql.Table(timeperiod.Table).As("page_period")
		sel.LeftJoin(tp).OnP(sql.And(
			sql.ColumnsEQ(tp.C(timeperiod.FieldID), sel.C(okritem.FieldTimePeriodID)),
			sql.EQ(tp.C(timeperiod.FieldOrgID), sc.OrgID),
		))
		sel.AppendSelectAs(tp.C(timeperiod.FieldStartsAt), pagePeriodStartColumn)
		sel.AppendSelectAs(tp.C(timeperiod.FieldEndsAt), pagePeriodEndColumn)
	})
	return q
}

// visibleOwner writes the condition "owner row o is a user the viewer may
// see" (the users query's rule: the viewer and the organization's
// members). The membership is one probe of its (org, user) index per
// owner: written as IN (the members of the org), PostgreSQL hashed all
// of the org's memberships for every page (500 of them took a fifth of
// the bench's page statement).
func visibleOwner(b *sql.Builder, sc scope.Scope) {
	b.WriteString("(o.user_id = ").Arg(sc.UserID).
		WriteString(" OR EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = ").Arg(sc.OrgID).
		WriteString(" AND m.user_id = o.user_id))")
}

// pageOwnersOf reads the owners of the page's items, with their names, in
// one statement (on SQLite: PostgreSQL reads them with the page).
func (s *Service) pageOwnersOf(ctx context.Context, conn *ent.OKRItemConnection) (map[int][]Owner, error) {
	sc := scope.From(ctx)
	b := sql.Dialect(s.dialect()).Select().
		AppendSelectExpr(sql.Raw("o.okr_item_id"), sql.Raw("u.id"), sql.Raw("u.name"))
	b.From(sql.Table("okr_item_owners").As("o")).
		Join(sql.Table("users").As("u")).OnP(sql.P(func(b *sql.Builder) { b.WriteString("u.id = o.user_id") }))
	ids := make([]int, len(conn.Edges))
	for i, e := range conn.Edges {
		ids[i] = e.Node.ID
	}
	b.Where(sql.P(func(b *sql.Builder) {
		// One text whatever the page's size (as factsQuery).
		b.Join(sql.ExprP(inIDs(dialect.SQLite, "o.okr_item_id", "?"), idList(dialect.SQLite, ids))).WriteString(" AND ")
		visibleOwner(b, sc)
	}))
	query, args := b.Query()
	rows, err := s.Client.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("page owners: %w", err)
	}
	defer rows.Close()
	out := make(map[int][]Owner, len(ids))
	for rows.Next() {
		var item int
		var o Owner
		if err := rows.Scan(&item, &o.ID, &o.Name); err != nil {
			return nil, fmt.Errorf("page owners: %w", err)
		}
		out[item] = append(out[item], o)
	}
	return out, rows.Err()
}

// pageStatus is the item's progress status from its period's columns.
func pageStatus(it *ent.OKRItem, now time.Time) (*ProgressStatus, error) {
	start, err := it.Value(pagePeriodStartColumn)
	if err != nil {
		return nil, err
	}
	end, err := it.Value(pagePeriodEndColumn)
	if err != nil {
		return nil, err
	}
	s, sok := start.(time.Time)
	e, eok := end.(time.Time)
	if !sok || !eok {
		if start != nil || end != nil {
			return nil, fmt.Errorf("period times are %T and %T", start, end)
		}
		return statusIn(it, nil, now), nil
	}
	return statusIn(it, &ent.TimePeriod{StartsAt: s, EndsAt: e}, now), nil
}

// pageOwners decodes an item's owners column ([{"i": id, "n": name},
// ...]).
func pageOwners(it *ent.OKRItem) ([]Owner, error) {
	v, err := it.Value(pageOwnersColumn)
	if err != nil {
		return nil, err
	}
	var raw []byte
	switch v := v.(type) {
	case nil:
		return []Owner{}, nil
	case []byte:
		raw = v
	case string:
		raw = []byte(v)
	default:
		return nil, fmt.Errorf("owners are %T", v)
	}
	var out []Owner
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	for i, o := range out {
		if o.ID == 0 {
			return nil, fmt.Errorf("owner %d has no id", i)
		}
	}
	return out, nil
}

// sortPageOwners puts an item's owners in Service.Owners' order.
func sortPageOwners(it *ent.OKRItem, owners []Owner) {
	pos := make(map[int]int, len(it.OwnerOrder))
	for i, id := range it.OwnerOrder {
		pos[id] = i
	}
	rank := func(o Owner) int {
		if p, ok := pos[o.ID]; ok {
			return p
		}
		return len(it.OwnerOrder)
	}
	slices.SortFunc(owners, func(a, b Owner) int { return cmp.Or(rank(a)-rank(b), a.ID-b.ID) })
}
