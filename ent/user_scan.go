// This file is written by hand, not generated: it extends the generated
// User query and is kept when ent regenerates.

package ent

import (
	"context"
	"fmt"

	"entgo.io/ent"

	"okrgraph/ent/user"
)

// OnlyScanning is Only, with the columns a User does not have (added with
// Modify; read with User.Value) scanned into what scan returns for them
// (nil: as text). Only asks the driver for the type of each such column
// of each row, which for the identity read of every request was a fifth
// of its allocations.
func (_q *UserQuery) OnlyScanning(ctx context.Context, scan func(column string) any) (*User, error) {
	ctx = setContextOp(ctx, _q.ctx, ent.OpQueryOnly)
	_q.Limit(2)
	if err := _q.prepareQuery(ctx); err != nil {
		return nil, err
	}
	qr := QuerierFunc(func(ctx context.Context, q Query) (Value, error) {
		query, ok := q.(*UserQuery)
		if !ok {
			return nil, fmt.Errorf("ent: unexpected query type %T", q)
		}
		return query.sqlAll(ctx, typedExtraColumns(scan))
	})
	nodes, err := withInterceptors[[]*User](ctx, _q, qr, _q.inters)
	if err != nil {
		return nil, err
	}
	switch len(nodes) {
	case 1:
		return nodes[0], nil
	case 0:
		return nil, &NotFoundError{user.Label}
	default:
		return nil, &NotSingularError{user.Label}
	}
}
