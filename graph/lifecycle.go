package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"okrgraph/ent"
	"okrgraph/graph/model"
)

// Helpers of lifecycle.resolvers.go (gqlgen keeps only resolvers there).

// itemPayload wraps a service's item result.
func itemPayload(it *ent.OKRItem, err error) (*model.OKRItemPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.OKRItemPayload{Item: it}, nil
}

// users turns a nil list into an empty one.
func users(us []*ent.User) []*ent.User {
	if us == nil {
		return []*ent.User{}
	}
	return us
}

// checkInPageOf returns the check-ins resolved together with the current
// check-in field (the connection or list it belongs to), like pageOf.
func checkInPageOf(ctx context.Context) []*ent.CheckIn {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		switch res := fc.Result.(type) {
		case *ent.CheckInConnection:
			cis := make([]*ent.CheckIn, 0, len(res.Edges))
			for _, e := range res.Edges {
				cis = append(cis, e.Node)
			}
			return cis
		case []*ent.CheckIn:
			return res
		}
	}
	return nil
}
