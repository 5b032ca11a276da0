// Package org is the organization service: organizations and their
// settings, members and reporting lines, teams and team members, time
// periods, and provisioning users from verified identities.
package org

import (
	"context"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"

	"okrgraph/ent"
	"okrgraph/ent/membership"
	"okrgraph/ent/organization"
	"okrgraph/ent/schema"
	"okrgraph/ent/team"
	"okrgraph/ent/teammembership"
	"okrgraph/ent/user"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
	"okrgraph/internal/store"
)

// Service runs organization use cases.
type Service struct {
	Client *ent.Client
	Guard  *access.Guard
	// MayCreateOrg decides who may create organizations: nil lets any
	// authenticated user; a deployment may restrict it to platform admins.
	MayCreateOrg func(email string) bool
}

// Identity is a verified caller: a user is the pair (Issuer, Subject).
type Identity struct {
	Issuer, Subject string
	// Email is the identity provider's verified email, or empty.
	Email string
	Name  string
	SSO   bool
	// AdoptLocal: this identity may take over the user of the "local"
	// (HS256 development) issuer holding the same verified email.
	AdoptLocal bool
}

// Provision returns the user of a verified identity, creating it on first
// sign-in. A user is (issuer, subject); the email comes only from the
// provider's verified claim. The first sign-in with a verified email binds
// the invitation (addMember by email) waiting for it: a user with that
// email who never signed in. An email already held by another identity is
// not taken over: the new user simply has none.
func (s *Service) Provision(ctx context.Context, id Identity) (*ent.User, error) {
	ctx = scope.System(ctx)
	if id.Subject == "" {
		return nil, apperr.Unauthenticated("token has no subject")
	}
	if id.Issuer == "" {
		return nil, apperr.Unauthenticated("token has no issuer")
	}
	find := func(c *ent.Client) (*ent.User, error) {
		return c.User.Query().Where(user.Issuer(id.Issuer), user.Sub(id.Subject), user.KindEQ(user.KindUSER)).Only(ctx)
	}
	u, err := find(s.Client)
	if err == nil {
		return u, nil
	}
	if !ent.IsNotFound(err) {
		return nil, err
	}
	email := strings.ToLower(strings.TrimSpace(id.Email))
	name := strings.TrimSpace(id.Name)
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	u, err = store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.User, error) {
		if email != "" {
			held, err := c.User.Query().Where(user.Email(email)).Only(ctx)
			switch {
			case err == nil && held.Issuer == nil && held.Kind == user.KindUSER:
				// The invitation waiting for this verified email, bound
				// only if still unbound (two first sign-ins racing for it:
				// one wins, the other gets a user of its own).
				upd := c.User.Update().Where(user.ID(held.ID), user.IssuerIsNil()).
					SetIssuer(id.Issuer).SetSub(id.Subject).SetSSO(id.SSO)
				if name != "" && held.Name == email {
					upd.SetName(name)
				}
				n, err := upd.Save(ctx)
				if err != nil {
					return nil, err
				}
				if n == 1 {
					return c.User.Get(ctx, held.ID)
				}
				email = ""
			case err == nil && id.AdoptLocal && held.Kind == user.KindUSER && held.Issuer != nil && *held.Issuer == LocalIssuer && id.Issuer != LocalIssuer:
				// Migration from development tokens to an IdP, when the
				// issuer is configured to adopt local users.
				return held.Update().SetIssuer(id.Issuer).SetSub(id.Subject).SetSSO(id.SSO).Save(ctx)
			case err == nil:
				email = "" // held by another identity: not taken over
			case !ent.IsNotFound(err):
				return nil, err
			}
		}
		if name == "" {
			name = email
		}
		if name == "" {
			name = "user " + id.Subject
			if utf8.RuneCountInString(name) > 200 {
				name = string([]rune(name)[:200])
			}
		}
		create := c.User.Create().SetIssuer(id.Issuer).SetSub(id.Subject).SetName(name).SetSSO(id.SSO)
		if email != "" {
			create.SetEmail(email)
		}
		return create.Save(ctx)
	})
	if ae, ok := apperr.As(err); ok && ae.Code == apperr.CodeConflict {
		// A concurrent first request of the same identity won.
		return find(s.Client)
	}
	return u, err
}

// TouchEvery is how stale a member's recorded sign-in
// (Membership.lastSignInAt) may get before a request writes it again.
const TouchEvery = time.Minute

// Touch records the member's sign-in to the org (Membership.lastSignInAt);
// Identify tells when it is due (the time it read is older than
// TouchEvery): most requests send no statement at all, and the UPDATE
// itself only matches a row whose time is still older (concurrent
// requests and several instances write at most about once per
// TouchEvery).
func (s *Service) Touch(ctx context.Context, userID, orgID int) error {
	now := time.Now()
	_, err := s.Client.Membership.Update().
		Where(membership.UserID(userID), membership.OrgID(orgID),
			membership.Or(membership.LastSeenAtIsNil(), membership.LastSeenAtLT(now.Add(-TouchEvery)))).
		SetLastSeenAt(now).
		Save(scope.System(ctx))
	return err
}

// Identify returns the user of a verified identity (provisioned on first
// sign-in, as Provision) and, when orgRef (an X-Org value: slug or id) is
// set, the user's membership of that org with the actor's facts: one
// statement for a user who signed in before (access.LoadCaller), which
// also tells whether the member's sign-in is due to be recorded (Touch).
// Unknown orgs and orgs the user is not a member of are NOT_FOUND alike.
func (s *Service) Identify(ctx context.Context, id Identity, orgRef string) (*access.Caller, error) {
	if id.Subject == "" {
		return nil, apperr.Unauthenticated("token has no subject")
	}
	if id.Issuer == "" {
		return nil, apperr.Unauthenticated("token has no issuer")
	}
	touchBefore := time.Now().Add(-TouchEvery)
	caller, err := access.LoadCaller(ctx, s.Client, id.Issuer, id.Subject, orgRef, touchBefore)
	if ent.IsNotFound(err) {
		// First sign-in: provision the user, then read again.
		if _, err = s.Provision(ctx, id); err != nil {
			return nil, err
		}
		caller, err = access.LoadCaller(ctx, s.Client, id.Issuer, id.Subject, orgRef, touchBefore)
	}
	if err != nil {
		return nil, err
	}
	if orgRef != "" && caller.OrgID == 0 {
		return nil, apperr.NotFound("organization", orgRef)
	}
	return caller, nil
}

// LocalIssuer is the issuer of HS256 development tokens' users.
const LocalIssuer = "local"

// CheckServiceOrg checks that an X-Org value (slug or id) names an API
// token's own organization (orgID, slug); any other is NOT_FOUND.
func CheckServiceOrg(orgID int, slug, ref string) error {
	if id, err := strconv.Atoi(ref); err == nil {
		if id == orgID {
			return nil
		}
	} else if strings.ToLower(ref) == slug {
		return nil
	}
	return apperr.NotFound("organization", ref)
}

// CreateOrganizationInput is the input of createOrganization.
type CreateOrganizationInput struct {
	Name string
	Slug string
}

// CreateOrganization creates an org whose owner is the caller.
func (s *Service) CreateOrganization(ctx context.Context, in CreateOrganizationInput) (*ent.Organization, error) {
	sc := scope.From(ctx)
	if sc.UserID == 0 {
		return nil, apperr.Unauthenticated("authentication required")
	}
	if sc.Service {
		return nil, apperr.Forbidden("create organizations", []string{"API tokens are read-only: they may read OKRs but never change anything"})
	}
	name := strings.TrimSpace(in.Name)
	if err := checkName("name", name, 100); err != nil {
		return nil, err
	}
	slug := strings.ToLower(strings.TrimSpace(in.Slug))
	if !schema.SlugPattern.MatchString(slug) {
		return nil, apperr.BadInput("slug", "slug must be 2 to 63 lowercase letters, digits or dashes, starting with a letter or digit")
	}
	sys := scope.System(ctx)
	if s.MayCreateOrg != nil {
		u, err := s.Client.User.Get(sys, sc.UserID)
		if err != nil {
			return nil, err
		}
		if u.Email == nil || !s.MayCreateOrg(*u.Email) {
			return nil, apperr.Forbidden("create organizations", []string{"only platform administrators may create organizations on this deployment"})
		}
	}
	o, err := store.InTx(sys, s.Client, func(c *ent.Client) (*ent.Organization, error) {
		if ok, err := c.Organization.Query().Where(organization.Slug(slug)).Exist(sys); err != nil {
			return nil, err
		} else if ok {
			return nil, apperr.Conflict("slug %q is taken", slug)
		}
		o, err := c.Organization.Create().SetName(name).SetSlug(slug).Save(sys)
		if err != nil {
			return nil, err
		}
		if _, err := c.Membership.Create().SetOrgID(o.ID).SetUserID(sc.UserID).SetRole(membership.RoleOWNER).Save(sys); err != nil {
			return nil, err
		}
		return o, nil
	})
	if err != nil {
		return nil, err
	}
	return s.Client.Organization.Get(ctx, o.ID)
}

// UpdateOrganizationInput is the input of updateOrganization.
type UpdateOrganizationInput struct {
	Name               *string
	OkrCreation        *organization.OkrCreation
	TeamCreation       *organization.TeamCreation
	CheckinCadenceDays *int
	// OkrCreationListedUserIDs replaces the LISTED creators when given.
	OkrCreationListedUserIDs []int
}

// UpdateOrganization changes the selected org's name and settings.
func (s *Service) UpdateOrganization(ctx context.Context, in UpdateOrganizationInput) (*ent.Organization, error) {
	o, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.Organization, error) {
		a, err := s.require(ctx, c, authz.ActionOrgManage, authz.Resource{})
		if err != nil {
			return nil, err
		}
		upd := c.Organization.UpdateOneID(a.OrgID)
		if in.Name != nil {
			name := strings.TrimSpace(*in.Name)
			if err := checkName("name", name, 100); err != nil {
				return nil, err
			}
			upd.SetName(name)
		}
		if in.OkrCreation != nil {
			if err := organization.OkrCreationValidator(*in.OkrCreation); err != nil {
				return nil, apperr.BadInput("okrCreation", "invalid okrCreation")
			}
			upd.SetOkrCreation(*in.OkrCreation)
		}
		if in.TeamCreation != nil {
			if err := organization.TeamCreationValidator(*in.TeamCreation); err != nil {
				return nil, apperr.BadInput("teamCreation", "invalid teamCreation")
			}
			upd.SetTeamCreation(*in.TeamCreation)
		}
		if in.CheckinCadenceDays != nil {
			if d := *in.CheckinCadenceDays; d < 1 || d > 365 {
				return nil, apperr.BadInput("checkinCadenceDays", "checkinCadenceDays must be between 1 and 365")
			}
			upd.SetCheckinCadenceDays(*in.CheckinCadenceDays)
		}
		if in.OkrCreationListedUserIDs != nil {
			if err := access.CheckMembers(ctx, c, a.OrgID, "okrCreationListedUserIds", in.OkrCreationListedUserIDs); err != nil {
				return nil, err
			}
			upd.ClearOkrCreators().AddOkrCreatorIDs(in.OkrCreationListedUserIDs...)
		}
		return upd.Save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.Organization.Get(ctx, o.ID)
}

// require loads the actor and asks the policy.
func (s *Service) require(ctx context.Context, c *ent.Client, action string, r authz.Resource) (*access.Actor, error) {
	a, err := access.LoadActor(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.Guard.Require(ctx, a.Input(action, r)); err != nil {
		return nil, err
	}
	return a, nil
}

// AddMemberInput is the input of addMember.
type AddMemberInput struct {
	Email            string
	Name             *string
	Role             *membership.Role
	PerformanceAdmin *bool
	Observer         *bool
	ManagerID        *int
}

// AddMember adds a user, found or invited by email, to the selected org.
func (s *Service) AddMember(ctx context.Context, in AddMemberInput) (*ent.Membership, error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		return nil, apperr.BadInput("email", "email %q is not a valid address", in.Email)
	}
	if in.Role != nil {
		if err := membership.RoleValidator(*in.Role); err != nil {
			return nil, apperr.BadInput("role", "invalid role")
		}
	}
	m, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.Membership, error) {
		a, err := s.require(ctx, c, authz.ActionOrgManageMember, authz.Resource{})
		if err != nil {
			return nil, err
		}
		sys := scope.System(ctx)
		// A person who signed in with this verified email, or an
		// invitation: the first identity that signs in with it binds it.
		u, err := c.User.Query().Where(user.Email(email), user.KindEQ(user.KindUSER)).Only(sys)
		if ent.IsNotFound(err) {
			name := email
			if in.Name != nil && strings.TrimSpace(*in.Name) != "" {
				name = strings.TrimSpace(*in.Name)
				if err := checkName("name", name, 200); err != nil {
					return nil, err
				}
			}
			u, err = c.User.Create().SetEmail(email).SetName(name).Save(sys)
		}
		if err != nil {
			return nil, err
		}
		if ok, err := c.Membership.Query().Where(membership.OrgID(a.OrgID), membership.UserID(u.ID)).Exist(ctx); err != nil {
			return nil, err
		} else if ok {
			return nil, apperr.Conflict("%s is already a member", email)
		}
		create := c.Membership.Create().SetOrgID(a.OrgID).SetUserID(u.ID)
		if in.Role != nil {
			create.SetRole(*in.Role)
		}
		if in.PerformanceAdmin != nil {
			create.SetPerformanceAdmin(*in.PerformanceAdmin)
		}
		if in.Observer != nil {
			create.SetObserver(*in.Observer)
		}
		if in.ManagerID != nil {
			if err := memberExists(ctx, c, a.OrgID, *in.ManagerID, "managerId"); err != nil {
				return nil, err
			}
			create.SetManagerID(*in.ManagerID)
		}
		return create.Save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.Membership.Get(ctx, m.ID)
}

// UpdateMemberInput is the input of updateMember.
type UpdateMemberInput struct {
	ID               int
	Role             *membership.Role
	PerformanceAdmin *bool
	Observer         *bool
	ManagerID        graphql.Omittable[*int]
}

// UpdateMember changes a member's role, flags or manager. The reporting
// line stays free of cycles, and an org always keeps an owner.
func (s *Service) UpdateMember(ctx context.Context, in UpdateMemberInput) (*ent.Membership, error) {
	if in.Role != nil {
		if err := membership.RoleValidator(*in.Role); err != nil {
			return nil, apperr.BadInput("role", "invalid role")
		}
	}
	m, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.Membership, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return nil, err
		}
		m, err := c.Membership.Query().Where(membership.ID(in.ID), membership.OrgID(a.OrgID)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, apperr.NotFound("member", in.ID)
		}
		if err != nil {
			return nil, err
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionOrgManageMember, authz.Resource{ID: access.ID(m.ID), User: access.ID(m.UserID)})); err != nil {
			return nil, err
		}
		upd := m.Update()
		if in.Role != nil {
			if m.Role == membership.RoleOWNER && *in.Role != membership.RoleOWNER {
				owners, err := c.Membership.Query().Where(membership.OrgID(a.OrgID), membership.RoleEQ(membership.RoleOWNER)).Count(ctx)
				if err != nil {
					return nil, err
				}
				if owners <= 1 {
					return nil, apperr.Conflict("an organization must keep at least one owner")
				}
			}
			upd.SetRole(*in.Role)
		}
		if in.PerformanceAdmin != nil {
			upd.SetPerformanceAdmin(*in.PerformanceAdmin)
		}
		if in.Observer != nil {
			upd.SetObserver(*in.Observer)
		}
		if in.ManagerID.IsSet() {
			if in.ManagerID.Value() == nil {
				upd.ClearManagerID()
			} else {
				mgr := *in.ManagerID.Value()
				if err := memberExists(ctx, c, a.OrgID, mgr, "managerId"); err != nil {
					return nil, err
				}
				cycle, err := access.ManagesChain(ctx, c, m.ID, mgr)
				if err != nil {
					return nil, err
				}
				if cycle {
					return nil, apperr.BadInput("managerId", "this manager would make a cycle in the reporting line")
				}
				upd.SetManagerID(mgr)
			}
		}
		return upd.Save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.Membership.Get(ctx, m.ID)
}

// RemoveMember offboards a member (org admins): their membership, team
// memberships and reporting lines in the org go; their OKRs, check-ins,
// comments and reviews stay, for an admin to reassign. Access ends with
// their next request (every request loads the membership). The last owner
// cannot be removed. It returns the removed membership's id.
func (s *Service) RemoveMember(ctx context.Context, id int) (int, error) {
	return store.InTx(ctx, s.Client, func(c *ent.Client) (int, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return 0, err
		}
		m, err := c.Membership.Query().Where(membership.ID(id), membership.OrgID(a.OrgID)).Only(ctx)
		if ent.IsNotFound(err) {
			return 0, apperr.NotFound("member", id)
		}
		if err != nil {
			return 0, err
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionOrgManageMember, authz.Resource{ID: access.ID(m.ID), User: access.ID(m.UserID)})); err != nil {
			return 0, err
		}
		return m.ID, removeMembership(ctx, c, m)
	})
}

// LeaveOrganization ends the caller's own membership in the selected
// organization, as RemoveMember does; the last owner cannot leave.
func (s *Service) LeaveOrganization(ctx context.Context) (int, error) {
	return store.InTx(ctx, s.Client, func(c *ent.Client) (int, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return 0, err
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionOrgLeave, authz.Resource{User: access.ID(a.UserID)})); err != nil {
			return 0, err
		}
		m, err := c.Membership.Query().Where(membership.OrgID(a.OrgID), membership.UserID(a.UserID)).Only(ctx)
		if err != nil {
			return 0, err
		}
		return m.ID, removeMembership(ctx, c, m)
	})
}

// removeMembership deletes m with what hangs on it in the org, keeping an
// owner.
func removeMembership(ctx context.Context, c *ent.Client, m *ent.Membership) error {
	if m.Role == membership.RoleOWNER {
		owners, err := c.Membership.Query().Where(membership.OrgID(m.OrgID), membership.RoleEQ(membership.RoleOWNER)).Count(ctx)
		if err != nil {
			return err
		}
		if owners <= 1 {
			return apperr.Conflict("an organization must keep at least one owner")
		}
	}
	if err := c.Membership.Update().Where(membership.OrgID(m.OrgID), membership.ManagerID(m.ID)).ClearManagerID().Exec(ctx); err != nil {
		return err
	}
	if _, err := c.TeamMembership.Delete().Where(teammembership.UserID(m.UserID)).Exec(ctx); err != nil {
		return err
	}
	return c.Membership.DeleteOne(m).Exec(ctx)
}

// DeleteTeam deletes a team (team owners, org admins) with its team
// memberships; OKRs of the team keep existing without it.
func (s *Service) DeleteTeam(ctx context.Context, id int) (int, error) {
	return store.InTx(ctx, s.Client, func(c *ent.Client) (int, error) {
		t, err := loadTeam(ctx, c, id, "id")
		if err != nil {
			return 0, err
		}
		if _, err := s.require(ctx, c, authz.ActionTeamDelete, TeamResource(t, nil)); err != nil {
			return 0, err
		}
		if _, err := c.TeamMembership.Delete().Where(teammembership.TeamID(t.ID)).Exec(ctx); err != nil {
			return 0, err
		}
		if err := t.Update().ClearOkrItems().ClearOkrCreators().Exec(ctx); err != nil {
			return 0, err
		}
		return t.ID, c.Team.DeleteOne(t).Exec(ctx)
	})
}

func memberExists(ctx context.Context, c *ent.Client, orgID, id int, field string) error {
	ok, err := c.Membership.Query().Where(membership.ID(id), membership.OrgID(orgID)).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return &apperr.Error{Code: apperr.CodeNotFound, Field: field, Message: fmt.Sprintf("member %d not found", id)}
	}
	return nil
}

// checkName validates a trimmed display name.
func checkName(field, v string, max int) error {
	if v == "" {
		return apperr.BadInput(field, "%s must not be empty", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return apperr.BadInput(field, "%s is %d characters long; the limit is %d", field, n, max)
	}
	return nil
}

// CreateTeamInput is the input of createTeam.
type CreateTeamInput struct {
	Name        string
	Description *string
	OkrCreation *team.OkrCreation
}

// CreateTeam creates a team; its creator becomes its owner.
func (s *Service) CreateTeam(ctx context.Context, in CreateTeamInput) (*ent.Team, error) {
	name := strings.TrimSpace(in.Name)
	if err := checkName("name", name, 100); err != nil {
		return nil, err
	}
	t, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.Team, error) {
		a, err := s.require(ctx, c, authz.ActionOrgCreateTeam, authz.Resource{})
		if err != nil {
			return nil, err
		}
		if ok, err := c.Team.Query().Where(team.Name(name)).Exist(ctx); err != nil {
			return nil, err
		} else if ok {
			return nil, apperr.Conflict("a team named %q exists", name)
		}
		create := c.Team.Create().SetName(name)
		if in.Description != nil {
			if err := checkLen("description", *in.Description, 2000); err != nil {
				return nil, err
			}
			create.SetDescription(*in.Description)
		}
		if in.OkrCreation != nil {
			if err := team.OkrCreationValidator(*in.OkrCreation); err != nil {
				return nil, apperr.BadInput("okrCreation", "invalid okrCreation")
			}
			create.SetOkrCreation(*in.OkrCreation)
		}
		t, err := create.Save(ctx)
		if err != nil {
			return nil, err
		}
		_, err = c.TeamMembership.Create().SetTeamID(t.ID).SetUserID(a.UserID).SetRole(teammembership.RoleOWNER).Save(ctx)
		return t, err
	})
	if err != nil {
		return nil, err
	}
	return s.Client.Team.Get(ctx, t.ID)
}

func checkLen(field, v string, max int) error {
	if n := utf8.RuneCountInString(v); n > max {
		return apperr.BadInput(field, "%s is %d characters long; the limit is %d", field, n, max)
	}
	return nil
}

// UpdateTeamInput is the input of updateTeam.
type UpdateTeamInput struct {
	ID          int
	Name        *string
	Description *string
	OkrCreation *team.OkrCreation
	// OkrCreationListedUserIDs replaces the LISTED creators when given.
	OkrCreationListedUserIDs []int
}

// UpdateTeam changes a team's name, description or creation setting.
func (s *Service) UpdateTeam(ctx context.Context, in UpdateTeamInput) (*ent.Team, error) {
	t, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.Team, error) {
		t, err := loadTeam(ctx, c, in.ID, "id")
		if err != nil {
			return nil, err
		}
		a, err := s.require(ctx, c, authz.ActionTeamManageSettings, TeamResource(t, nil))
		if err != nil {
			return nil, err
		}
		upd := t.Update()
		if in.OkrCreationListedUserIDs != nil {
			if err := access.CheckMembers(ctx, c, a.OrgID, "okrCreationListedUserIds", in.OkrCreationListedUserIDs); err != nil {
				return nil, err
			}
			upd.ClearOkrCreators().AddOkrCreatorIDs(in.OkrCreationListedUserIDs...)
		}
		if in.Name != nil {
			name := strings.TrimSpace(*in.Name)
			if err := checkName("name", name, 100); err != nil {
				return nil, err
			}
			if ok, err := c.Team.Query().Where(team.Name(name), team.IDNEQ(t.ID)).Exist(ctx); err != nil {
				return nil, err
			} else if ok {
				return nil, apperr.Conflict("a team named %q exists", name)
			}
			upd.SetName(name)
		}
		if in.Description != nil {
			if err := checkLen("description", *in.Description, 2000); err != nil {
				return nil, err
			}
			upd.SetDescription(*in.Description)
		}
		if in.OkrCreation != nil {
			if err := team.OkrCreationValidator(*in.OkrCreation); err != nil {
				return nil, apperr.BadInput("okrCreation", "invalid okrCreation")
			}
			upd.SetOkrCreation(*in.OkrCreation)
		}
		return upd.Save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.Team.Get(ctx, t.ID)
}

func loadTeam(ctx context.Context, c *ent.Client, id int, field string) (*ent.Team, error) {
	t, err := c.Team.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, &apperr.Error{Code: apperr.CodeNotFound, Field: field, Message: fmt.Sprintf("team %d not found", id)}
	}
	return t, err
}

// TeamResource describes a team for the policy.
func TeamResource(t *ent.Team, listed []int) authz.Resource {
	return authz.Resource{
		ID:    access.ID(t.ID),
		Teams: []authz.Team{{ID: access.ID(t.ID), Name: t.Name, OKRCreation: t.OkrCreation.String(), Listed: access.IDs(listed)}},
	}
}

// SetTeamMemberInput is the input of setTeamMember.
type SetTeamMemberInput struct {
	TeamID int
	UserID int
	Role   *teammembership.Role
}

// SetTeamMember adds an org member to a team or changes their team role.
func (s *Service) SetTeamMember(ctx context.Context, in SetTeamMemberInput) (*ent.TeamMembership, error) {
	role := teammembership.RoleMEMBER
	if in.Role != nil {
		if err := teammembership.RoleValidator(*in.Role); err != nil {
			return nil, apperr.BadInput("role", "invalid role")
		}
		role = *in.Role
	}
	tm, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.TeamMembership, error) {
		t, err := loadTeam(ctx, c, in.TeamID, "teamId")
		if err != nil {
			return nil, err
		}
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return nil, err
		}
		existing, err := c.TeamMembership.Query().Where(teammembership.TeamID(t.ID), teammembership.UserID(in.UserID)).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		r := TeamResource(t, nil)
		r.TeamMember = &authz.TeamMember{User: access.ID(in.UserID), NewRole: role.String()}
		if existing != nil {
			r.TeamMember.Role = existing.Role.String()
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionTeamManageMembers, r)); err != nil {
			return nil, err
		}
		if ok, err := c.Membership.Query().Where(membership.OrgID(a.OrgID), membership.UserID(in.UserID)).Exist(ctx); err != nil {
			return nil, err
		} else if !ok {
			return nil, &apperr.Error{Code: apperr.CodeNotFound, Field: "userId", Message: fmt.Sprintf("member %d not found", in.UserID)}
		}
		switch {
		case existing != nil:
			return existing.Update().SetRole(role).Save(ctx)
		default:
			return c.TeamMembership.Create().SetTeamID(t.ID).SetUserID(in.UserID).SetRole(role).Save(ctx)
		}
	})
	if err != nil {
		return nil, err
	}
	return s.Client.TeamMembership.Get(ctx, tm.ID)
}

// RemoveTeamMemberInput is the input of removeTeamMember.
type RemoveTeamMemberInput struct {
	TeamID int
	UserID int
}

// RemoveTeamMember takes a user out of a team and returns the removed
// team membership's id.
func (s *Service) RemoveTeamMember(ctx context.Context, in RemoveTeamMemberInput) (int, error) {
	return store.InTx(ctx, s.Client, func(c *ent.Client) (int, error) {
		t, err := loadTeam(ctx, c, in.TeamID, "teamId")
		if err != nil {
			return 0, err
		}
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return 0, err
		}
		tm, err := c.TeamMembership.Query().Where(teammembership.TeamID(t.ID), teammembership.UserID(in.UserID)).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return 0, err
		}
		r := TeamResource(t, nil)
		r.TeamMember = &authz.TeamMember{User: access.ID(in.UserID)}
		if tm != nil {
			r.TeamMember.Role = tm.Role.String()
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionTeamManageMembers, r)); err != nil {
			return 0, err
		}
		if tm == nil {
			return 0, &apperr.Error{Code: apperr.CodeNotFound, Field: "userId", Message: fmt.Sprintf("user %d is not in team %d", in.UserID, t.ID)}
		}
		return tm.ID, c.TeamMembership.DeleteOne(tm).Exec(ctx)
	})
}

// CreateTimePeriodInput is the input of createTimePeriod.
type CreateTimePeriodInput struct {
	Name     string
	StartsAt time.Time
	EndsAt   time.Time
}

// CreateTimePeriod adds a time period to the selected org.
func (s *Service) CreateTimePeriod(ctx context.Context, in CreateTimePeriodInput) (*ent.TimePeriod, error) {
	name := strings.TrimSpace(in.Name)
	if err := checkName("name", name, 100); err != nil {
		return nil, err
	}
	if !in.EndsAt.After(in.StartsAt) {
		return nil, apperr.BadInput("endsAt", "endsAt must be after startsAt")
	}
	tp, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.TimePeriod, error) {
		if _, err := s.require(ctx, c, authz.ActionOrgManage, authz.Resource{}); err != nil {
			return nil, err
		}
		tp, err := c.TimePeriod.Create().SetName(name).SetStartsAt(in.StartsAt).SetEndsAt(in.EndsAt).Save(ctx)
		if ent.IsConstraintError(err) {
			return nil, apperr.Conflict("a time period named %q exists", name)
		}
		return tp, err
	})
	if err != nil {
		return nil, err
	}
	return s.Client.TimePeriod.Get(ctx, tp.ID)
}

// UpdateProfileInput is the input of updateProfile. The email is not
// editable: it comes from the identity provider's verified claim only.
type UpdateProfileInput struct {
	Name *string
}

// UpdateProfile edits the caller's own name, as the policy allows (users
// provisioned by SSO may not). Without a selected organization the
// profile rule is asked with the caller as the only fact.
func (s *Service) UpdateProfile(ctx context.Context, in UpdateProfileInput) (*ent.User, error) {
	sc := scope.From(ctx)
	if sc.UserID == 0 {
		return nil, apperr.Unauthenticated("authentication required")
	}
	var name string
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
		if err := checkName("name", name, 200); err != nil {
			return nil, err
		}
	}
	sys := scope.System(ctx)
	u, err := store.InTx(sys, s.Client, func(c *ent.Client) (*ent.User, error) {
		u, err := c.User.Get(sys, sc.UserID)
		if err != nil {
			return nil, err
		}
		sub := authz.Subject{Type: authz.SubjectUser, UserID: access.ID(u.ID), SSO: u.SSO}
		if sc.Service {
			sub.Type = authz.SubjectService
		}
		if sc.OrgID != 0 {
			a, err := access.LoadActor(ctx, c)
			if err != nil {
				return nil, err
			}
			sub = a.Subject
			sub.SSO = u.SSO
		}
		in := &authz.Input{Action: authz.ActionProfileUpdate, Subject: sub, Resource: authz.Resource{User: access.ID(u.ID)}}
		if err := s.Guard.Require(ctx, in); err != nil {
			return nil, err
		}
		upd := u.Update()
		if name != "" {
			upd.SetName(name)
		}
		return upd.Save(sys)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.User.Get(ctx, u.ID)
}
