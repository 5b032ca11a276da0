// Package access is the single place where domain services ask the policy
// whether the acting member may do something. It gathers the facts the
// policy needs from the database (inside the caller's transaction) and
// turns a denial into a FORBIDDEN error carrying the policy's reasons.
package access

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"okrgraph/ent"
	"okrgraph/ent/apitoken"
	"okrgraph/ent/membership"
	"okrgraph/ent/teammembership"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
)

// Decider evaluates a policy decision (internal/authz's engine).
type Decider interface {
	Decide(ctx context.Context, in *authz.Input) (authz.Decision, error)
}

// Guard asks the Decider on behalf of domain services.
type Guard struct {
	Decider Decider
	Log     *slog.Logger
}

// Actor is who acts: a member (with their membership) or the service
// identity of an API token (Membership nil, Subject.Type "service"), with
// their policy subject and their organization's settings.
type Actor struct {
	UserID     int
	OrgID      int
	Membership *ent.Membership
	Subject    authz.Subject
	Org        authz.Org
}

// ID renders an ent id as the policy sees it.
func ID(id int) string { return strconv.Itoa(id) }

// IDs renders ids as the policy sees them.
func IDs(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.Itoa(id)
	}
	return out
}

// OrgScope returns the user and organization of the request, or an error
// when no organization is selected.
func OrgScope(ctx context.Context) (scope.Scope, error) {
	s := scope.From(ctx)
	if s.UserID == 0 {
		return s, apperr.Unauthenticated("authentication required")
	}
	if s.OrgID == 0 {
		return s, apperr.BadInput("X-Org", "select an organization with the X-Org header")
	}
	return s, nil
}

// LoadActor gathers the facts about the acting member of the selected
// organization using client c (usually a transaction's).
func LoadActor(ctx context.Context, c *ent.Client) (*Actor, error) {
	s, err := OrgScope(ctx)
	if err != nil {
		return nil, err
	}
	if s.Service {
		return loadService(ctx, c, s)
	}
	m, err := c.Membership.Query().
		Where(membership.UserID(s.UserID), membership.OrgID(s.OrgID)).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound("organization", s.OrgID)
	}
	if err != nil {
		return nil, err
	}
	org, err := c.Organization.Get(ctx, s.OrgID)
	if err != nil {
		return nil, err
	}
	listed, err := org.QueryOkrCreators().IDs(ctx)
	if err != nil {
		return nil, err
	}
	tms, err := c.TeamMembership.Query().
		Where(teammembership.UserID(s.UserID)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	teamRoles := make(map[string]string, len(tms))
	for _, tm := range tms {
		teamRoles[ID(tm.TeamID)] = tm.Role.String()
	}
	direct, all, err := Reports(ctx, c, m.ID)
	if err != nil {
		return nil, err
	}
	return &Actor{
		UserID:     s.UserID,
		OrgID:      s.OrgID,
		Membership: m,
		Subject: authz.Subject{
			Type:             authz.SubjectUser,
			UserID:           ID(s.UserID),
			Role:             m.Role.String(),
			Observer:         m.Observer,
			PerformanceAdmin: m.PerformanceAdmin,
			TeamRoles:        teamRoles,
			DirectReports:    IDs(direct),
			Reports:          IDs(all),
		},
		Org: authz.Org{
			ID:                ID(org.ID),
			OKRCreation:       org.OkrCreation.String(),
			OKRCreationListed: IDs(listed),
			TeamCreation:      org.TeamCreation.String(),
		},
	}, nil
}

// loadService gathers the facts about an API token's service identity: no
// membership, no teams, no reports; the token's scopes. A revoked or
// expired token (checked again here, inside the caller's transaction) is
// UNAUTHENTICATED.
func loadService(ctx context.Context, c *ent.Client, s scope.Scope) (*Actor, error) {
	tok, err := c.APIToken.Query().
		Where(apitoken.ServiceUserID(s.UserID), apitoken.OrgID(s.OrgID)).
		Only(scope.System(ctx))
	if ent.IsNotFound(err) {
		return nil, apperr.Unauthenticated("this API token does not exist or was revoked")
	}
	if err != nil {
		return nil, err
	}
	if tok.RevokedAt != nil {
		return nil, apperr.Unauthenticated("this API token was revoked")
	}
	if tok.ExpiresAt != nil && !time.Now().Before(*tok.ExpiresAt) {
		return nil, apperr.Unauthenticated("this API token has expired")
	}
	org, err := c.Organization.Get(ctx, s.OrgID)
	if err != nil {
		return nil, err
	}
	listed, err := org.QueryOkrCreators().IDs(ctx)
	if err != nil {
		return nil, err
	}
	return &Actor{
		UserID: s.UserID,
		OrgID:  s.OrgID,
		Subject: authz.Subject{
			Type:   authz.SubjectService,
			UserID: ID(s.UserID),
			Scopes: slices.Clone(tok.Scopes),
		},
		Org: authz.Org{
			ID:                ID(org.ID),
			OKRCreation:       org.OkrCreation.String(),
			OKRCreationListed: IDs(listed),
			TeamCreation:      org.TeamCreation.String(),
		},
	}, nil
}

// Input starts a policy input for action by this actor.
func (a *Actor) Input(action string, r authz.Resource) *authz.Input {
	return &authz.Input{Action: action, Subject: a.Subject, Resource: r, Org: a.Org}
}

// Require asks the policy and returns FORBIDDEN with the policy's reasons
// when the action is denied. A failing policy denies. The decision is
// marked as enforced (authz.Enforcing): the decision log keeps it.
func (g *Guard) Require(ctx context.Context, in *authz.Input) error {
	d, err := g.Decide(authz.Enforcing(ctx), in)
	if err != nil {
		return apperr.Forbidden(in.Action, d.Reasons)
	}
	if !d.Allow {
		return apperr.Forbidden(in.Action, d.Reasons)
	}
	return nil
}

// Decide evaluates in; an evaluation error is logged and denies.
func (g *Guard) Decide(ctx context.Context, in *authz.Input) (authz.Decision, error) {
	d, err := g.Decider.Decide(ctx, in)
	if err != nil {
		if g.Log != nil {
			g.Log.ErrorContext(ctx, "policy evaluation failed", "action", in.Action, "err", err)
		}
		if len(d.Reasons) == 0 {
			d.Reasons = []string{"the policy could not be evaluated"}
		}
		d.Allow = false
	}
	return d, err
}

// MultiDecider decides several actions on the same facts, building the
// input once (internal/authz's Engine and Router).
type MultiDecider interface {
	DecideAll(ctx context.Context, in *authz.Input, actions []string) ([]authz.Decision, error)
}

// DecideAll evaluates in for each action of actions (in.Action is
// ignored), through the Decider's DecideAll when it has one; an
// evaluation error is logged and denies.
func (g *Guard) DecideAll(ctx context.Context, in *authz.Input, actions []string) ([]authz.Decision, error) {
	md, ok := g.Decider.(MultiDecider)
	if !ok {
		ds := make([]authz.Decision, len(actions))
		var first error
		for i, a := range actions {
			one := *in
			one.Action = a
			d, err := g.Decide(ctx, &one)
			ds[i] = d
			if first == nil {
				first = err
			}
		}
		return ds, first
	}
	ds, err := md.DecideAll(ctx, in, actions)
	if err != nil {
		if g.Log != nil {
			g.Log.ErrorContext(ctx, "policy evaluation failed", "actions", actions, "err", err)
		}
		for i := range ds {
			if len(ds[i].Reasons) == 0 {
				ds[i].Reasons = []string{"the policy could not be evaluated"}
			}
			ds[i].Allow = false
		}
	}
	return ds, err
}

// CheckMembers verifies that ids are distinct users who are members of the
// org: a repeated id is BAD_USER_INPUT, a non-member NOT_FOUND, both naming
// field.
func CheckMembers(ctx context.Context, c *ent.Client, orgID int, field string, ids []int) error {
	if len(ids) == 0 {
		return nil
	}
	seen := make(map[int]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return apperr.BadInput(field, "user %d is listed twice", id)
		}
		seen[id] = true
	}
	found, err := c.Membership.Query().
		Where(membership.OrgID(orgID), membership.UserIDIn(ids...)).
		Select(membership.FieldUserID).
		Ints(ctx)
	if err != nil {
		return err
	}
	if len(found) == len(ids) {
		return nil
	}
	for _, id := range ids {
		if !slices.Contains(found, id) {
			return &apperr.Error{Code: apperr.CodeNotFound, Field: field, Message: fmt.Sprintf("member %d not found", id)}
		}
	}
	return nil
}
