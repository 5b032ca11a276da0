package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"okrgraph/ent"
	"okrgraph/graph/model"
	"okrgraph/internal/authz"
)

// okrActions maps the GraphQL OKRAction enum to policy actions.
var okrActions = map[model.OKRAction]string{
	model.OKRActionView:            authz.ActionOKRView,
	model.OKRActionUpdate:          authz.ActionOKRUpdate,
	model.OKRActionDelete:          authz.ActionOKRDelete,
	model.OKRActionChangeOwners:    authz.ActionOKRChangeOwners,
	model.OKRActionSetDelegate:     authz.ActionOKRSetDelegate,
	model.OKRActionSetCheckinOwner: authz.ActionOKRSetCheckInOwner,
	model.OKRActionCheckIn:         authz.ActionOKRCheckIn,
	model.OKRActionAlign:           authz.ActionOKRAlign,
	model.OKRActionClone:           authz.ActionOKRClone,
	model.OKRActionComment:         authz.ActionOKRComment,
	model.OKRActionManageGrants:    authz.ActionOKRManageGrants,
}

// pageOf returns the items resolved together with the current OKR item
// field: the nodes of the connection or the list it belongs to, found by
// walking up the field contexts. Resolvers pass it to services that batch
// per-item work (facts for viewerCan) over the page.
func pageOf(ctx context.Context) []*ent.OKRItem {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		switch res := fc.Result.(type) {
		case *ent.OKRItemConnection:
			items := make([]*ent.OKRItem, 0, len(res.Edges))
			for _, e := range res.Edges {
				items = append(items, e.Node)
			}
			return items
		case []*ent.OKRItem:
			return res
		}
	}
	return nil
}
