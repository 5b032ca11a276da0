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
	"strings"
	"time"

	"okrgraph/ent"
	"okrgraph/ent/apitoken"
	"okrgraph/ent/membership"
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
	UserID int
	OrgID  int
	// Membership is the member's membership: id, org, user, role,
	// observer, performance admin and manager (its times are not read).
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
// organization using client c (usually a transaction's). The request's
// first call is answered by the actor read with its identity (WithCache).
func LoadActor(ctx context.Context, c *ent.Client) (*Actor, error) {
	s, err := OrgScope(ctx)
	if err != nil {
		return nil, err
	}
	if a := takeFirst(ctx, s); a != nil {
		return a, nil
	}
	if s.Service {
		return loadService(ctx, c, s)
	}
	return loadMember(ctx, c, s)
}

// memberQuery reads the acting membership, its organization's settings
// and the actor's list facts in one statement (memberColumns); no row
// means the user is not (or no longer) a member.
var memberQuery = func() string {
	cols := make([]string, len(memberColumns))
	for i, c := range memberColumns {
		cols[i] = c.expr + " AS " + c.as
	}
	return "SELECT " + strings.Join(cols, ", ") +
		" FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = $1 AND m.org_id = $2"
}()

// loadMember gathers a member's facts in one statement (memberQuery),
// read afresh on every call: removing a member or changing their role
// applies to the very next request.
func loadMember(ctx context.Context, c *ent.Client, s scope.Scope) (*Actor, error) {
	rows, err := c.QueryContext(ctx, memberQuery, s.UserID, s.OrgID)
	if err != nil {
		return nil, fmt.Errorf("actor: %w", err)
	}
	defer rows.Close()
	var a *Actor
	if rows.Next() {
		vals := make([]any, len(memberColumns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("actor: %w", err)
		}
		a, err = memberActor(s.UserID, func(name string) any {
			for i, c := range memberColumns {
				if c.as == name {
					return vals[i]
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if a == nil {
		return nil, apperr.NotFound("organization", s.OrgID)
	}
	return a, nil
}

// loadService gathers the facts about an API token's service identity in
// one statement (serviceToken): no membership, no teams, no reports; the
// token's scopes. A revoked or expired token (checked again here, inside
// the caller's transaction) is UNAUTHENTICATED.
func loadService(ctx context.Context, c *ent.Client, s scope.Scope) (*Actor, error) {
	sc, err := serviceToken(ctx, c, apitoken.ServiceUserID(s.UserID), apitoken.OrgID(s.OrgID))
	if ent.IsNotFound(err) {
		return nil, apperr.Unauthenticated("this API token does not exist or was revoked")
	}
	if err != nil {
		return nil, err
	}
	if err := sc.Live(time.Now()); err != nil {
		return nil, err
	}
	return sc.Actor, nil
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
