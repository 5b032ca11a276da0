// Package scope carries who is asking, and in which organization, through a
// request's context. The ent schema reads it to confine every query to the
// caller's tenant; it imports nothing of the project so anything may use it.
package scope

import "context"

type key struct{}

// Scope is the identity a request runs under.
type Scope struct {
	UserID int // authenticated user; 0 for none
	OrgID  int // selected organization; 0 for none
	// Service marks the service identity of an API token: UserID is the
	// token's service user (never a member of anything), OrgID its
	// organization, fixed by the token.
	Service bool
	// Privileged lifts tenant confinement. Only trusted code paths (startup,
	// migrations, demo seeding, user provisioning) set it.
	Privileged bool
}

// With returns ctx carrying s.
func With(ctx context.Context, s Scope) context.Context {
	return context.WithValue(ctx, key{}, s)
}

// From returns the scope in ctx (the zero Scope when none: sees nothing).
func From(ctx context.Context) Scope {
	s, _ := ctx.Value(key{}).(Scope)
	return s
}

// System returns ctx with a privileged scope, for trusted internal work.
func System(ctx context.Context) context.Context {
	s := From(ctx)
	s.Privileged = true
	return With(ctx, s)
}
