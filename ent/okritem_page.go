// This file is written by hand, not generated: it extends the generated
// OKRItem pager (gql_pagination.go) and is kept when ent regenerates.

package ent

import (
	"context"
	"fmt"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqlgraph"
)

// PageTotalColumn names the column FirstPage adds to the page statement:
// the number of items the filter matches, before the limit.
const PageTotalColumn = "page_total"

// FirstPage answers what Paginate(ctx, nil, &first, nil, nil, opts...)
// answers when totalCount is selected. On PostgreSQL it takes one
// statement instead of two: the total comes with the page's rows as a
// window count (COUNT(*) OVER (), evaluated before LIMIT; PostgreSQL
// computes the other added columns for the page's rows only). SQLite would
// materialize every matching row, with every column, for the window (33 ms
// instead of 5 for 9,850 matches), so there the total is counted apart, as
// Paginate counts it. The filter, order, limit, cursors and the
// interceptors (the private-item rule) are the generated pager's own, and
// so is the connection it builds. Columns the caller adds with Modify
// before come with each node (OKRItem.Value), scanned into what scan
// returns for them (nil, or a nil scan: as text). first must be positive.
func (_m *OKRItemQuery) FirstPage(ctx context.Context, first int, scan func(column string) any, opts ...OKRItemPaginateOption) (*OKRItemConnection, error) {
	if first <= 0 {
		return nil, fmt.Errorf("ent: FirstPage needs a positive first, not %d", first)
	}
	pager, err := newOKRItemPager(opts, false)
	if err != nil {
		return nil, err
	}
	if _m, err = pager.applyFilter(_m); err != nil {
		return nil, err
	}
	total := -1
	if _m.driver.Dialect() == dialect.SQLite {
		c := _m.Clone()
		c.ctx.Fields, c.modifiers = nil, nil
		if total, err = c.Count(ctx); err != nil {
			return nil, err
		}
	} else {
		_m.modifiers = append(_m.modifiers, func(s *sql.Selector) {
			s.AppendSelectExprAs(sql.Raw("COUNT(*) OVER ()"), PageTotalColumn)
		})
	}
	_m.Limit(first + 1)
	_m = pager.applyOrder(_m)
	// All, but scanning the added columns into typed values: ent would ask
	// the driver for every column's type on every row to scan them.
	ctx = setContextOp(ctx, _m.ctx, ent.OpQueryAll)
	if err := _m.prepareQuery(ctx); err != nil {
		return nil, err
	}
	qr := QuerierFunc(func(ctx context.Context, q Query) (Value, error) {
		query, ok := q.(*OKRItemQuery)
		if !ok {
			return nil, fmt.Errorf("ent: unexpected query type %T", q)
		}
		return query.sqlAll(ctx, typedExtraColumns(scan))
	})
	nodes, err := withInterceptors[[]*OKRItem](ctx, _m, qr, _m.inters)
	if err != nil {
		return nil, err
	}
	conn := &OKRItemConnection{Edges: []*OKRItemEdge{}}
	if total >= 0 {
		conn.TotalCount = total
	} else if len(nodes) > 0 {
		v, err := nodes[0].Value(PageTotalColumn)
		if err != nil {
			return nil, err
		}
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("ent: page total is %T, not int64", v)
		}
		conn.TotalCount = int(n)
	}
	conn.build(nodes, pager, nil, &first, nil, nil)
	return conn, nil
}

// typedExtraColumns scans the columns an OKRItem does not have into what
// scan returns for them, as text when it returns nil (the page total as an
// integer).
func typedExtraColumns(scan func(string) any) func(context.Context, *sqlgraph.QuerySpec) {
	return func(_ context.Context, spec *sqlgraph.QuerySpec) {
		values := spec.ScanValues
		spec.ScanValues = func(columns []string) ([]any, error) {
			out, err := values(columns)
			if err != nil {
				return nil, err
			}
			for i, v := range out {
				if _, ok := v.(*sql.UnknownType); !ok {
					continue
				}
				switch {
				case columns[i] == PageTotalColumn:
					out[i] = new(sql.NullInt64)
				case scan != nil && scan(columns[i]) != nil:
					out[i] = scan(columns[i])
				default:
					out[i] = new(sql.NullString)
				}
			}
			return out, nil
		}
	}
}
