package graph

import (
	"context"

	"okrgraph/ent"
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
