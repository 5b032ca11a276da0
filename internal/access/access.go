// Package access is the single place where domain services ask the policy
// whether the acting member may do something. It gathers the facts the
// policy needs from the database (inside the caller's transaction) and
// turns a denial into a FORBIDDEN error carrying the policy's reasons.
package access

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
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
// organization using client c (usually a transaction's).
func LoadActor(ctx context.Context, c *ent.Client) (*Actor, error) {
	s, err := OrgScope(ctx)
	if err != nil {
		return nil, err
	}
	if s.Service {
		return loadService(ctx, c, s)
	}
	return loadMember(ctx, c, s)
}

// memberQuery reads the acting membership and its organization's settings
// in one statement; no row means the user is not (or no longer) a member.
const memberQuery = `SELECT m.id, m.role, m.observer, m.performance_admin, m.manager_id, o.okr_creation, o.team_creation
FROM memberships m JOIN organizations o ON o.id = m.org_id
WHERE m.user_id = $1 AND m.org_id = $2`

// actorListsQuery reads every list fact of an actor in one statement, one
// tagged row per value: 'r' the reports down the reporting line of
// membership $3 (n: the depth of the nearest path, 1 for direct reports),
// 'c' the org's listed OKR creators (those still members, as the users'
// tenant filter has it), 't' the actor's team roles in the org.
const actorListsQuery = `WITH RECURSIVE r(id, user_id, depth) AS (
  SELECT id, user_id, 1 FROM memberships WHERE manager_id = $3
  UNION ALL
  SELECT m.id, m.user_id, r.depth + 1 FROM memberships m JOIN r ON m.manager_id = r.id WHERE r.depth < $4
)
SELECT 'r', user_id, MIN(depth), '' FROM r GROUP BY user_id
UNION ALL
SELECT 'c', c.user_id, 0, '' FROM organization_okr_creators c
  WHERE c.organization_id = $2 AND (c.user_id = $1 OR c.user_id IN (SELECT user_id FROM memberships WHERE org_id = $2))
UNION ALL
SELECT 't', tm.team_id, 0, tm.role FROM team_memberships tm WHERE tm.user_id = $1 AND tm.org_id = $2
ORDER BY 1, 2`

// loadMember gathers a member's facts in two statements (memberQuery,
// actorListsQuery), read afresh on every call: removing a member or
// changing their role applies to the very next request.
func loadMember(ctx context.Context, c *ent.Client, s scope.Scope) (*Actor, error) {
	var (
		m           ent.Membership
		role        string
		manager     sql.NullInt64
		okrCreation string
		teamCreate  string
		found       bool
	)
	rows, err := c.QueryContext(ctx, memberQuery, s.UserID, s.OrgID)
	if err != nil {
		return nil, fmt.Errorf("actor: %w", err)
	}
	for rows.Next() {
		if err := rows.Scan(&m.ID, &role, &m.Observer, &m.PerformanceAdmin, &manager, &okrCreation, &teamCreate); err != nil {
			rows.Close()
			return nil, fmt.Errorf("actor: %w", err)
		}
		found = true
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, apperr.NotFound("organization", s.OrgID)
	}
	m.OrgID, m.UserID, m.Role = s.OrgID, s.UserID, membership.Role(role)
	if manager.Valid {
		mid := int(manager.Int64)
		m.ManagerID = &mid
	}
	var direct, all, listed []int
	teamRoles := map[string]string{}
	rows, err = c.QueryContext(ctx, actorListsQuery, s.UserID, s.OrgID, m.ID, maxChain)
	if err != nil {
		return nil, fmt.Errorf("actor: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			tag, text string
			id, n     int
		)
		if err := rows.Scan(&tag, &id, &n, &text); err != nil {
			return nil, fmt.Errorf("actor: %w", err)
		}
		switch tag {
		case "r":
			if n == 1 {
				direct = append(direct, id)
			}
			all = append(all, id)
		case "c":
			listed = append(listed, id)
		case "t":
			teamRoles[ID(id)] = text
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return &Actor{
		UserID:     s.UserID,
		OrgID:      s.OrgID,
		Membership: &m,
		Subject: authz.Subject{
			Type:             authz.SubjectUser,
			UserID:           ID(s.UserID),
			Role:             role,
			Observer:         m.Observer,
			PerformanceAdmin: m.PerformanceAdmin,
			TeamRoles:        teamRoles,
			DirectReports:    IDs(direct),
			Reports:          IDs(all),
		},
		Org: authz.Org{
			ID:                ID(s.OrgID),
			OKRCreation:       okrCreation,
			OKRCreationListed: IDs(listed),
			TeamCreation:      teamCreate,
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
