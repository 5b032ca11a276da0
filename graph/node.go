package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"okrgraph/ent"
	"okrgraph/ent/policyaudit"
	"okrgraph/ent/policyversion"
)

// node resolves a global id: policy versions and audit entries through the
// policy service (org admins only), everything else through ent's Noder
// (tenant mixin and privacy interceptors applied).
func (r *queryResolver) node(ctx context.Context, id int) (ent.Noder, error) {
	switch ent.NodeTable(id) {
	case policyversion.Table:
		v, err := r.Policies.Version(ctx, id)
		if err != nil {
			return nil, err
		}
		return v, nil
	case policyaudit.Table:
		e, err := r.Policies.AuditEntry(ctx, id)
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	return r.Client.Noder(ctx, id)
}

// nodes resolves global ids in order; each id that cannot be resolved is
// null with its own error at its index, like ent's Noders.
func (r *queryResolver) nodes(ctx context.Context, ids []int) ([]ent.Noder, error) {
	policyIDs := false
	for _, id := range ids {
		switch ent.NodeTable(id) {
		case policyversion.Table, policyaudit.Table:
			policyIDs = true
		}
	}
	if !policyIDs {
		return r.Client.Noders(ctx, ids)
	}
	out := make([]ent.Noder, len(ids))
	for i, id := range ids {
		n, err := r.node(ctx, id)
		if err != nil {
			graphql.AddError(graphql.WithPathContext(ctx, graphql.NewPathWithIndex(i)), err)
			continue
		}
		out[i] = n
	}
	return out, nil
}
