package okr

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"okrgraph/ent"
	"okrgraph/internal/apperr"
	"okrgraph/internal/scope"
)

// Owner is an item's owner as a page of items shows it.
type Owner struct {
	ID   int
	Name string
}

// pageOwnersColumn names the column Page adds to the page statement.
const pageOwnersColumn = "page_owners"

// Page reads the first items of the okrs connection (filter and order in
// opts, as the connection's resolver passes them) with its totalCount and
// every item's owners in one statement: the connection the resolver would
// answer, and for each of its edges the owners Service.Owners would
// return (the users the viewer may see: themselves and the members of the
// organization, in the assigned order, then by id), with their names.
func (s *Service) Page(ctx context.Context, first int, opts ...ent.OKRItemPaginateOption) (*ent.OKRItemConnection, [][]Owner, error) {
	sc := scope.From(ctx)
	if sc.UserID == 0 || sc.OrgID == 0 || sc.Privileged {
		return nil, nil, apperr.Unauthenticated("authentication required")
	}
	// SQLite may hold a name that is not UTF-8, which JSON would not carry
	// byte for byte: it comes as hex there.
	agg := "json_group_array(json_array(u.id, hex(u.name)))"
	hexNames := true
	if s.dialect() == dialect.Postgres {
		hexNames = false
		agg = "json_agg(json_build_array(u.id, u.name))"
	}
	q := s.Client.OKRItem.Query()
	q.Modify(func(sel *sql.Selector) {
		sel.AppendSelectExprAs(sql.P(func(b *sql.Builder) {
			b.WriteString("(SELECT " + agg + " FROM okr_item_owners o JOIN users u ON u.id = o.user_id WHERE o.okr_item_id = ").
				Ident(sel.C("id")).
				WriteString(" AND (o.user_id = ").Arg(sc.UserID).
				WriteString(" OR o.user_id IN (SELECT m.user_id FROM memberships m WHERE m.org_id = ").Arg(sc.OrgID).
				WriteString(")))")
		}), pageOwnersColumn)
	})
	conn, err := q.FirstPage(ctx, first, opts...)
	if err != nil {
		return nil, nil, err
	}
	owners := make([][]Owner, len(conn.Edges))
	for i, e := range conn.Edges {
		if owners[i], err = pageOwners(e.Node, hexNames); err != nil {
			return nil, nil, fmt.Errorf("page: item %d owners: %w", e.Node.ID, err)
		}
	}
	return conn, owners, nil
}

// pageOwners decodes an item's owners column ([[id, name], ...]) and puts
// them in Service.Owners' order; hexNames: the names are in hex.
func pageOwners(it *ent.OKRItem, hexNames bool) ([]Owner, error) {
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
	var pairs [][2]json.RawMessage
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, err
	}
	out := make([]Owner, len(pairs))
	for i, p := range pairs {
		if err := json.Unmarshal(p[0], &out[i].ID); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(p[1], &out[i].Name); err != nil {
			return nil, err
		}
		if hexNames {
			name, err := hex.DecodeString(out[i].Name)
			if err != nil {
				return nil, err
			}
			out[i].Name = string(name)
		}
	}
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
	slices.SortFunc(out, func(a, b Owner) int { return cmp.Or(rank(a)-rank(b), a.ID-b.ID) })
	return out, nil
}
