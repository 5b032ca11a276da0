// This file is written by hand, not generated: it extends the generated
// OKRItem pager (gql_pagination.go) and is kept when ent regenerates.

package ent

import (
	"context"
	"errors"
	"fmt"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqlgraph"
)

// PageTotalColumn names the column FirstPageStatements adds to the page statement:
// the number of items the filter matches, before the limit.
const PageTotalColumn = "page_total"

// PageStatements are the SQL statements of a first page: the page and, on
// SQLite, the count (Count empty on PostgreSQL).
type PageStatements struct {
	Page, Count         string
	PageArgs, CountArgs []any
}

// errCaptured stops a query at its driver once its statement is captured.
var errCaptured = errors.New("ent: statement captured")

// captureDriver records the statement a query sends instead of sending it.
type captureDriver struct {
	dialect string
	query   string
	args    []any
}

func (d *captureDriver) Exec(context.Context, string, any, any) error { return errCaptured }
func (d *captureDriver) Query(_ context.Context, query string, args, _ any) error {
	d.query = query
	d.args, _ = args.([]any)
	return errCaptured
}
func (d *captureDriver) Tx(context.Context) (dialect.Tx, error) { return nil, errCaptured }
func (d *captureDriver) Close() error                           { return nil }
func (d *captureDriver) Dialect() string                        { return d.dialect }

// FirstPageStatements and RunFirstPage answer together what
// Paginate(ctx, nil, &first, nil, nil, opts...) answers when totalCount is
// selected; a caller that runs the same page for many requests builds its
// statements once and runs them with each request's arguments. On
// PostgreSQL a page takes one statement instead of two: the total comes
// with the page's rows as a window count (COUNT(*) OVER (), evaluated
// before LIMIT; PostgreSQL computes the other added columns for the page's
// rows only). SQLite would materialize every matching row, with every
// column, for the window (33 ms instead of 5 for 9,850 matches), so there
// the total is counted apart, as Paginate counts it. The filter, order,
// limit, cursors and the interceptors (the private-item rule) are the
// generated pager's own, and so is the connection RunFirstPage builds.
// Columns the caller adds with Modify before come with each node
// (OKRItem.Value), scanned into what scan returns for them (nil, or a nil
// scan: as text). first must be positive.
//
// FirstPageStatements builds the statements exactly as the generated pager
// and ent's graph builder write them (through a driver that records them
// instead of sending them), without running them.
func (_m *OKRItemQuery) FirstPageStatements(ctx context.Context, first int, opts ...OKRItemPaginateOption) (*PageStatements, error) {
	if first <= 0 {
		return nil, fmt.Errorf("ent: a first page needs a positive first, not %d", first)
	}
	pager, err := newOKRItemPager(opts, false)
	if err != nil {
		return nil, err
	}
	if _m, err = pager.applyFilter(_m); err != nil {
		return nil, err
	}
	capture := &captureDriver{dialect: _m.driver.Dialect()}
	st := &PageStatements{}
	if capture.dialect == dialect.SQLite {
		c := _m.Clone()
		c.ctx.Fields, c.modifiers = nil, nil
		c.driver = capture
		if _, err := c.Count(ctx); !errors.Is(err, errCaptured) {
			return nil, fmt.Errorf("ent: capturing the page count: %w", err)
		}
		st.Count, st.CountArgs = capture.query, capture.args
	} else {
		_m.modifiers = append(_m.modifiers, func(s *sql.Selector) {
			s.AppendSelectExprAs(sql.Raw("COUNT(*) OVER ()"), PageTotalColumn)
		})
	}
	_m.Limit(first + 1)
	_m = pager.applyOrder(_m)
	if err := _m.prepareQuery(setContextOp(ctx, _m.ctx, ent.OpQueryAll)); err != nil {
		return nil, err
	}
	_m.driver = capture
	if _, err := _m.sqlAll(ctx); !errors.Is(err, errCaptured) {
		return nil, fmt.Errorf("ent: capturing the page: %w", err)
	}
	st.Page, st.PageArgs = capture.query, capture.args
	return st, nil
}

// RunFirstPage runs statements FirstPageStatements built (with the
// arguments of this request) and builds the connection from their rows,
// ordered and with cursors as opts say. _m gives the driver and the
// interceptors that wrap a query's execution; its predicates are those
// the statements were built with, not _m's.
func (_m *OKRItemQuery) RunFirstPage(ctx context.Context, st *PageStatements, first int, scan func(column string) any, opts ...OKRItemPaginateOption) (*OKRItemConnection, error) {
	if first <= 0 {
		return nil, fmt.Errorf("ent: a first page needs a positive first, not %d", first)
	}
	pager, err := newOKRItemPager(opts, false)
	if err != nil {
		return nil, err
	}
	total := -1
	if st.Count != "" {
		qc := QuerierFunc(func(ctx context.Context, _ Query) (Value, error) {
			rows := &sql.Rows{}
			if err := _m.driver.Query(ctx, st.Count, st.CountArgs, rows); err != nil {
				return nil, err
			}
			defer rows.Close()
			return sql.ScanInt(rows)
		})
		cctx := setContextOp(ctx, _m.ctx, ent.OpQueryCount)
		if total, err = withInterceptors[int](cctx, _m, qc, _m.inters); err != nil {
			return nil, err
		}
	}
	ctx = setContextOp(ctx, _m.ctx, ent.OpQueryAll)
	qr := QuerierFunc(func(ctx context.Context, q Query) (Value, error) {
		query, ok := q.(*OKRItemQuery)
		if !ok {
			return nil, fmt.Errorf("ent: unexpected query type %T", q)
		}
		return query.pageNodes(ctx, st, scan)
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

// pageNodes runs the page statement and scans its rows into nodes as
// sqlAll would (ent's graph builder reads rows the same way), the columns
// an OKRItem does not have typed by typedExtraColumns.
func (_m *OKRItemQuery) pageNodes(ctx context.Context, st *PageStatements, scan func(string) any) ([]*OKRItem, error) {
	rows := &sql.Rows{}
	if err := _m.driver.Query(ctx, st.Page, st.PageArgs, rows); err != nil {
		return nil, err
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	spec := &sqlgraph.QuerySpec{ScanValues: func(columns []string) ([]any, error) {
		return (*OKRItem).scanValues(nil, columns)
	}}
	typedExtraColumns(scan)(ctx, spec)
	nodes := []*OKRItem{}
	for rows.Next() {
		values, err := spec.ScanValues(columns)
		if err != nil {
			return nil, err
		}
		if err := rows.Scan(values...); err != nil {
			return nil, err
		}
		node := &OKRItem{config: _m.config}
		if err := node.assignValues(columns, values); err != nil {
			return nil, err
		}
		nodes = append(nodes, node)
	}
	return nodes, rows.Err()
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
