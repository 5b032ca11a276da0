package graph

import (
	"context"
	"strconv"

	"entgo.io/contrib/entgql"

	"okrgraph/ent"
	"okrgraph/graph/model"
	"okrgraph/internal/policy"
	"okrgraph/internal/policy/module"
	"okrgraph/internal/scope"
)

// modulesOf copies GraphQL module inputs; nil stays nil (not given).
func modulesOf(in []*module.Module) []module.Module {
	if in == nil {
		return nil
	}
	out := make([]module.Module, 0, len(in))
	for _, m := range in {
		if m != nil {
			out = append(out, *m)
		}
	}
	return out
}

// policyUser loads the author of a policy version or the actor of an audit
// entry. Only org admins reach these fields, and the log must name people
// who have left the organization since: the row is read with a privileged
// scope (null when the user no longer exists).
func policyUser(ctx context.Context, c *ent.Client, id int) (*ent.User, error) {
	u, err := c.User.Get(scope.System(ctx), id)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

// decisionUser is the member of a decision log subject (nil for other
// kinds of subjects and users that no longer exist).
func decisionUser(ctx context.Context, c *ent.Client, subjectType, subjectID string) (*ent.User, error) {
	if subjectType != "user" {
		return nil, nil
	}
	id, err := strconv.Atoi(subjectID)
	if err != nil || id <= 0 {
		return nil, nil
	}
	return policyUser(ctx, c, id)
}

// decisionConnection turns a page of the decision log into its connection.
func decisionConnection(page *policy.DecisionPage) *model.PolicyDecisionConnection {
	conn := &model.PolicyDecisionConnection{
		Edges:      make([]*model.PolicyDecisionEdge, len(page.Decisions)),
		TotalCount: page.TotalCount,
	}
	for i, d := range page.Decisions {
		conn.Edges[i] = &model.PolicyDecisionEdge{Cursor: entgql.Cursor[int]{ID: d.ID}, Node: d}
	}
	conn.PageInfo = &entgql.PageInfo[int]{HasNextPage: page.HasNext}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn
}
