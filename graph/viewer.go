package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"okrgraph/ent"
)

type viewerUserKey struct{}

// WithViewerUser returns ctx carrying the caller's user row as the
// request's identification read it, so that viewer { user } costs no
// statement of its own.
func WithViewerUser(ctx context.Context, u *ent.User) context.Context {
	return context.WithValue(ctx, viewerUserKey{}, u)
}

// viewerUser returns the identification's user row when it is id's and
// the operation is a query: a mutation may have changed the user (its
// name, say) since, so there viewer { user } reads the row again.
func viewerUser(ctx context.Context, id int) *ent.User {
	u, _ := ctx.Value(viewerUserKey{}).(*ent.User)
	if u == nil || u.ID != id || !graphql.HasOperationContext(ctx) {
		return nil
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != ast.Query {
		return nil
	}
	return u
}
