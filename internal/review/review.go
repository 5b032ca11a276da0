// Package review is the performance review service (spec §5): review
// cycles (configure, launch, close, share), the self and manager reviews
// they create (fill in, submit, approve, send back, share) and their
// progress. Every read and write of a review is decided by the policy
// (policies/review.rego); ent/schema/review.go filters lists in SQL with
// the same rule as review.read.
package review

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"okrgraph/ent"
	"okrgraph/ent/membership"
	"okrgraph/ent/reviewcycle"
	"okrgraph/ent/team"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/review/rubric"
	"okrgraph/internal/scope"
	"okrgraph/internal/store"
)

// Limits on cycle and review fields.
const (
	MaxName                 = 200
	MaxCriteria             = 20
	MaxCriterionDescription = 2000
	MaxScaleSpan            = 100
	MaxLabel                = 100
	MaxTeams                = 100
	MaxExcluded             = 1000
	MaxLevels               = 10
	MaxComments             = 20000
	MaxRatingComment        = 5000
	MaxNote                 = 5000
)

// Service runs review use cases.
type Service struct {
	Client *ent.Client
	Guard  *access.Guard
}

// LabelInput names one value of a scale.
type LabelInput struct {
	Value int
	Label string
}

// ScaleInput is a rating scale.
type ScaleInput struct {
	Min, Max int
	Labels   []LabelInput
}

// CriterionInput is one evaluation criterion.
type CriterionInput struct {
	Key         *string
	Name        string
	Description *string
	Scale       ScaleInput
}

// CreateCycleInput is the input of createReviewCycle.
type CreateCycleInput struct {
	Name               string
	TimePeriodID       *int
	StartsAt           *time.Time
	EndsAt             *time.Time
	ParticipantScope   *reviewcycle.ParticipantScope
	ParticipantTeamIDs []int
	ExcludedUserIDs    []int
	Criteria           []CriterionInput
	ApprovalRequired   *bool
	ApproverRule       *reviewcycle.ApproverRule
	ApproverLevels     *int
	ApproverUserID     *int
}

// UpdateCycleInput is the input of updateReviewCycle: nil fields are left
// as they are; given lists replace the current ones.
type UpdateCycleInput struct {
	ID                 int
	Name               *string
	TimePeriodID       *int
	StartsAt           *time.Time
	EndsAt             *time.Time
	ParticipantScope   *reviewcycle.ParticipantScope
	ParticipantTeamIDs []int
	ExcludedUserIDs    []int
	Criteria           []CriterionInput
	ApprovalRequired   *bool
	ApproverRule       *reviewcycle.ApproverRule
	ApproverLevels     *int
	ApproverUserID     *int
}

// config is a cycle's complete configuration, validated as a whole.
type config struct {
	name             string
	timePeriodID     *int
	startsAt, endsAt time.Time
	scope            reviewcycle.ParticipantScope
	teamIDs          []int
	excludedIDs      []int
	criteria         []rubric.Criterion
	approvalRequired bool
	rule             reviewcycle.ApproverRule
	levels           int
	approverID       *int
}

// CreateCycle creates a DRAFT cycle; the caller is its creator.
func (s *Service) CreateCycle(ctx context.Context, in CreateCycleInput) (*ent.ReviewCycle, error) {
	cfg := config{
		scope:            reviewcycle.ParticipantScopeALL_MEMBERS,
		rule:             reviewcycle.ApproverRulePERFORMANCE_ADMINS,
		levels:           1,
		teamIDs:          in.ParticipantTeamIDs,
		excludedIDs:      in.ExcludedUserIDs,
		timePeriodID:     in.TimePeriodID,
		approverID:       in.ApproverUserID,
		approvalRequired: in.ApprovalRequired != nil && *in.ApprovalRequired,
	}
	if err := cfg.apply(in.Name, in.ParticipantScope, in.ApproverRule, in.ApproverLevels, in.Criteria); err != nil {
		return nil, err
	}
	if in.Criteria == nil {
		return nil, apperr.BadInput("criteria", "give at least one criterion")
	}
	if in.TimePeriodID == nil && (in.StartsAt == nil || in.EndsAt == nil) {
		return nil, apperr.BadInput("timePeriodId", "give the period under review: timePeriodId, or startsAt and endsAt")
	}
	cy, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.ReviewCycle, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return nil, err
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionReviewManageCycle, authz.Resource{Cycle: &authz.ReviewCycle{Status: "DRAFT"}})); err != nil {
			return nil, err
		}
		if err := cfg.period(ctx, c, in.StartsAt, in.EndsAt); err != nil {
			return nil, err
		}
		if err := cfg.check(ctx, c, a.OrgID); err != nil {
			return nil, err
		}
		return c.ReviewCycle.Create().
			SetName(cfg.name).
			SetCreatorID(a.UserID).
			SetStartsAt(cfg.startsAt).
			SetEndsAt(cfg.endsAt).
			SetNillableTimePeriodID(cfg.timePeriodID).
			SetParticipantScope(cfg.scope).
			SetTeamIds(nonNil(cfg.teamIDs)).
			SetExcludedUserIds(nonNil(cfg.excludedIDs)).
			SetCriteria(cfg.criteria).
			SetApprovalRequired(cfg.approvalRequired).
			SetApproverRule(cfg.rule).
			SetApproverLevels(cfg.levels).
			SetNillableApproverUserID(cfg.approverID).
			Save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.ReviewCycle.Get(ctx, cy.ID)
}

// UpdateCycle changes a DRAFT cycle.
func (s *Service) UpdateCycle(ctx context.Context, in UpdateCycleInput) (*ent.ReviewCycle, error) {
	cy, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.ReviewCycle, error) {
		a, cy, err := s.manageCycle(ctx, c, in.ID)
		if err != nil {
			return nil, err
		}
		if cy.Status != reviewcycle.StatusDRAFT {
			return nil, apperr.Conflict("only a draft review cycle can be changed; this one is %s", cy.Status)
		}
		cfg := config{
			name:             cy.Name,
			timePeriodID:     cy.TimePeriodID,
			startsAt:         cy.StartsAt,
			endsAt:           cy.EndsAt,
			scope:            cy.ParticipantScope,
			teamIDs:          cy.TeamIds,
			excludedIDs:      cy.ExcludedUserIds,
			criteria:         cy.Criteria,
			approvalRequired: cy.ApprovalRequired,
			rule:             cy.ApproverRule,
			levels:           cy.ApproverLevels,
			approverID:       cy.ApproverUserID,
		}
		name := cy.Name
		if in.Name != nil {
			name = *in.Name
		}
		if err := cfg.apply(name, in.ParticipantScope, in.ApproverRule, in.ApproverLevels, in.Criteria); err != nil {
			return nil, err
		}
		if in.ParticipantTeamIDs != nil {
			cfg.teamIDs = in.ParticipantTeamIDs
		} else if cfg.scope == reviewcycle.ParticipantScopeALL_MEMBERS {
			cfg.teamIDs = nil // leaving TEAMS drops its teams
		}
		if in.ExcludedUserIDs != nil {
			cfg.excludedIDs = in.ExcludedUserIDs
		}
		if in.ApprovalRequired != nil {
			cfg.approvalRequired = *in.ApprovalRequired
		}
		if in.ApproverUserID != nil {
			cfg.approverID = in.ApproverUserID
		}
		if in.ApproverRule != nil && *in.ApproverRule != reviewcycle.ApproverRuleNAMED_USER && in.ApproverUserID == nil {
			cfg.approverID = nil
		}
		if in.TimePeriodID != nil {
			cfg.timePeriodID = in.TimePeriodID
		} else if in.StartsAt != nil || in.EndsAt != nil {
			cfg.timePeriodID = nil // explicit dates replace the time period
		}
		if err := cfg.period(ctx, c, in.StartsAt, in.EndsAt); err != nil {
			return nil, err
		}
		if err := cfg.check(ctx, c, a.OrgID); err != nil {
			return nil, err
		}
		upd := c.ReviewCycle.UpdateOneID(cy.ID).
			Where(reviewcycle.StatusEQ(reviewcycle.StatusDRAFT)).
			SetName(cfg.name).
			SetStartsAt(cfg.startsAt).
			SetEndsAt(cfg.endsAt).
			SetParticipantScope(cfg.scope).
			SetTeamIds(nonNil(cfg.teamIDs)).
			SetExcludedUserIds(nonNil(cfg.excludedIDs)).
			SetCriteria(cfg.criteria).
			SetApprovalRequired(cfg.approvalRequired).
			SetApproverRule(cfg.rule).
			SetApproverLevels(cfg.levels)
		if cfg.timePeriodID != nil {
			upd.SetTimePeriodID(*cfg.timePeriodID)
		} else {
			upd.ClearTimePeriodID()
		}
		if cfg.approverID != nil {
			upd.SetApproverUserID(*cfg.approverID)
		} else {
			upd.ClearApproverUserID()
		}
		return upd.Save(ctx)
	})
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, apperr.Conflict("the review cycle changed meanwhile; try again")
		}
		return nil, err
	}
	return s.Client.ReviewCycle.Get(ctx, cy.ID)
}

// apply validates and sets the scalar settings and criteria given.
func (cfg *config) apply(name string, sc *reviewcycle.ParticipantScope, rule *reviewcycle.ApproverRule, levels *int, criteria []CriterionInput) error {
	cfg.name = strings.TrimSpace(name)
	if cfg.name == "" {
		return apperr.BadInput("name", "name must not be empty")
	}
	if n := utf8.RuneCountInString(cfg.name); n > MaxName {
		return apperr.BadInput("name", "name is %d characters long; the limit is %d", n, MaxName)
	}
	if sc != nil {
		if err := reviewcycle.ParticipantScopeValidator(*sc); err != nil {
			return apperr.BadInput("participantScope", "invalid participantScope %q", *sc)
		}
		cfg.scope = *sc
	}
	if rule != nil {
		if err := reviewcycle.ApproverRuleValidator(*rule); err != nil {
			return apperr.BadInput("approverRule", "invalid approverRule %q", *rule)
		}
		cfg.rule = *rule
	}
	if levels != nil {
		if *levels < 1 || *levels > MaxLevels {
			return apperr.BadInput("approverLevels", "approverLevels must be between 1 and %d", MaxLevels)
		}
		cfg.levels = *levels
	}
	if criteria != nil {
		cs, err := checkCriteria(criteria)
		if err != nil {
			return err
		}
		cfg.criteria = cs
	}
	return nil
}

var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// checkCriteria validates criteria and their scales and assigns the
// missing keys (c1, c2… by position).
func checkCriteria(in []CriterionInput) ([]rubric.Criterion, error) {
	if len(in) == 0 {
		return nil, apperr.BadInput("criteria", "give at least one criterion")
	}
	if len(in) > MaxCriteria {
		return nil, apperr.BadInput("criteria", "at most %d criteria", MaxCriteria)
	}
	out := make([]rubric.Criterion, len(in))
	keys := map[string]bool{}
	for i, c := range in {
		field := func(f string) string { return fmt.Sprintf("criteria[%d].%s", i, f) }
		cr := rubric.Criterion{Key: fmt.Sprintf("c%d", i+1), Name: strings.TrimSpace(c.Name)}
		if c.Key != nil {
			cr.Key = *c.Key
			if !keyPattern.MatchString(cr.Key) {
				return nil, apperr.BadInput(field("key"), "a criterion key is 1 to 40 lowercase letters, digits, - or _")
			}
		}
		if keys[cr.Key] {
			return nil, apperr.BadInput(field("key"), "criterion key %q is used twice", cr.Key)
		}
		keys[cr.Key] = true
		if cr.Name == "" {
			return nil, apperr.BadInput(field("name"), "a criterion needs a name")
		}
		if utf8.RuneCountInString(cr.Name) > MaxName {
			return nil, apperr.BadInput(field("name"), "a criterion name is at most %d characters", MaxName)
		}
		if c.Description != nil {
			cr.Description = strings.TrimSpace(*c.Description)
			if utf8.RuneCountInString(cr.Description) > MaxCriterionDescription {
				return nil, apperr.BadInput(field("description"), "a criterion description is at most %d characters", MaxCriterionDescription)
			}
		}
		sc := c.Scale
		if sc.Min >= sc.Max {
			return nil, apperr.BadInput(field("scale"), "the scale's min (%d) must be below its max (%d)", sc.Min, sc.Max)
		}
		if sc.Max-sc.Min > MaxScaleSpan || sc.Min < -MaxScaleSpan*10 || sc.Max > MaxScaleSpan*10 {
			return nil, apperr.BadInput(field("scale"), "a scale spans at most %d values between -1000 and 1000", MaxScaleSpan+1)
		}
		cr.Scale = rubric.Scale{Min: sc.Min, Max: sc.Max}
		seen := map[int]bool{}
		for _, l := range sc.Labels {
			label := strings.TrimSpace(l.Label)
			switch {
			case !cr.Scale.Contains(l.Value):
				return nil, apperr.BadInput(field("scale.labels"), "label %q names %d, which is not on the scale %d to %d", label, l.Value, sc.Min, sc.Max)
			case seen[l.Value]:
				return nil, apperr.BadInput(field("scale.labels"), "value %d is labelled twice", l.Value)
			case label == "" || utf8.RuneCountInString(label) > MaxLabel:
				return nil, apperr.BadInput(field("scale.labels"), "a label is 1 to %d characters", MaxLabel)
			}
			seen[l.Value] = true
			cr.Scale.Labels = append(cr.Scale.Labels, rubric.Label{Value: l.Value, Label: label})
		}
		slices.SortFunc(cr.Scale.Labels, func(a, b rubric.Label) int { return a.Value - b.Value })
		out[i] = cr
	}
	return out, nil
}

// period sets the cycle's dates from its time period unless given, and
// checks them.
func (cfg *config) period(ctx context.Context, c *ent.Client, startsAt, endsAt *time.Time) error {
	if cfg.timePeriodID != nil {
		tp, err := c.TimePeriod.Get(ctx, *cfg.timePeriodID)
		if ent.IsNotFound(err) {
			return &apperr.Error{Code: apperr.CodeNotFound, Field: "timePeriodId", Message: fmt.Sprintf("time period %d not found", *cfg.timePeriodID)}
		}
		if err != nil {
			return err
		}
		cfg.startsAt, cfg.endsAt = tp.StartsAt, tp.EndsAt
	}
	if startsAt != nil {
		cfg.startsAt = *startsAt
	}
	if endsAt != nil {
		cfg.endsAt = *endsAt
	}
	if !cfg.endsAt.After(cfg.startsAt) {
		return apperr.BadInput("endsAt", "the period must end after it starts")
	}
	return nil
}

// check validates the configuration as a whole against the organization:
// teams, excluded users and the approver exist, and the approval settings
// fit together.
func (cfg *config) check(ctx context.Context, c *ent.Client, orgID int) error {
	switch {
	case cfg.scope == reviewcycle.ParticipantScopeTEAMS && len(cfg.teamIDs) == 0:
		return apperr.BadInput("participantTeamIds", "participantScope TEAMS needs at least one team")
	case cfg.scope != reviewcycle.ParticipantScopeTEAMS && len(cfg.teamIDs) > 0:
		return apperr.BadInput("participantTeamIds", "participant teams apply to participantScope TEAMS only")
	case len(cfg.teamIDs) > MaxTeams:
		return apperr.BadInput("participantTeamIds", "at most %d teams", MaxTeams)
	case len(cfg.excludedIDs) > MaxExcluded:
		return apperr.BadInput("excludedUserIds", "at most %d excluded users", MaxExcluded)
	case cfg.rule == reviewcycle.ApproverRuleNAMED_USER && cfg.approverID == nil:
		return apperr.BadInput("approverUserId", "approverRule NAMED_USER needs approverUserId")
	case cfg.rule != reviewcycle.ApproverRuleNAMED_USER && cfg.approverID != nil:
		return apperr.BadInput("approverUserId", "approverUserId applies to approverRule NAMED_USER only")
	}
	if len(cfg.teamIDs) > 0 {
		if hasDup(cfg.teamIDs) {
			return apperr.BadInput("participantTeamIds", "a team is listed twice")
		}
		n, err := c.Team.Query().Where(team.IDIn(cfg.teamIDs...)).Count(ctx)
		if err != nil {
			return err
		}
		if n != len(cfg.teamIDs) {
			return &apperr.Error{Code: apperr.CodeNotFound, Field: "participantTeamIds", Message: "a listed team does not exist"}
		}
	}
	if err := access.CheckMembers(ctx, c, orgID, "excludedUserIds", cfg.excludedIDs); err != nil {
		return err
	}
	if cfg.approverID != nil {
		m, err := c.Membership.Query().Where(membership.OrgID(orgID), membership.UserID(*cfg.approverID)).Only(ctx)
		if ent.IsNotFound(err) {
			return &apperr.Error{Code: apperr.CodeNotFound, Field: "approverUserId", Message: fmt.Sprintf("member %d not found", *cfg.approverID)}
		}
		if err != nil {
			return err
		}
		if m.Observer {
			return apperr.BadInput("approverUserId", "an observer cannot approve reviews")
		}
	}
	return nil
}

func hasDup(ids []int) bool {
	seen := make(map[int]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return true
		}
		seen[id] = true
	}
	return false
}

func nonNil(ids []int) []int {
	if ids == nil {
		return []int{}
	}
	return ids
}

// CycleFacts describes a cycle for the policy.
func CycleFacts(cy *ent.ReviewCycle) *authz.ReviewCycle {
	return &authz.ReviewCycle{
		ID:               access.ID(cy.ID),
		Status:           cy.Status.String(),
		ApprovalRequired: cy.ApprovalRequired,
		ApproverRule:     cy.ApproverRule.String(),
	}
}

// loadCycle reads a cycle of the organization whatever its visibility.
func loadCycle(ctx context.Context, c *ent.Client, orgID, id int) (*ent.ReviewCycle, error) {
	cy, err := c.ReviewCycle.Query().
		Where(reviewcycle.ID(id), reviewcycle.OrgID(orgID)).
		Only(scope.System(ctx))
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound("review cycle", id)
	}
	return cy, err
}

// manageCycle loads the actor and the cycle and requires
// review.manage_cycle; a cycle the actor may not see is NOT_FOUND.
func (s *Service) manageCycle(ctx context.Context, c *ent.Client, id int) (*access.Actor, *ent.ReviewCycle, error) {
	a, err := access.LoadActor(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	cy, err := loadCycle(ctx, c, a.OrgID, id)
	if err != nil {
		return nil, nil, err
	}
	r := authz.Resource{ID: access.ID(cy.ID), Cycle: CycleFacts(cy)}
	if d, _ := s.Guard.Decide(ctx, a.Input(authz.ActionReviewViewCycle, r)); !d.Allow {
		return nil, nil, apperr.NotFound("review cycle", id)
	}
	if err := s.Guard.Require(ctx, a.Input(authz.ActionReviewManageCycle, r)); err != nil {
		return nil, nil, err
	}
	return a, cy, nil
}

// Cycle returns a cycle when the policy lets the caller see it
// (review.view_cycle); NOT_FOUND otherwise.
func (s *Service) Cycle(ctx context.Context, id int) (*ent.ReviewCycle, error) {
	a, err := access.ReadActor(ctx, s.Client)
	if err != nil {
		return nil, err
	}
	cy, err := loadCycle(ctx, s.Client, a.OrgID, id)
	if err != nil {
		return nil, err
	}
	if d, _ := s.Guard.Decide(ctx, a.Input(authz.ActionReviewViewCycle, authz.Resource{ID: access.ID(cy.ID), Cycle: CycleFacts(cy)})); !d.Allow {
		return nil, apperr.NotFound("review cycle", id)
	}
	return cy, nil
}

// CloseCycle closes an ACTIVE cycle.
func (s *Service) CloseCycle(ctx context.Context, id int) (*ent.ReviewCycle, error) {
	cy, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.ReviewCycle, error) {
		_, cy, err := s.manageCycle(ctx, c, id)
		if err != nil {
			return nil, err
		}
		if cy.Status != reviewcycle.StatusACTIVE {
			return nil, apperr.Conflict("only an active review cycle can be closed; this one is %s", cy.Status)
		}
		n, err := c.ReviewCycle.Update().
			Where(reviewcycle.ID(cy.ID), reviewcycle.StatusEQ(reviewcycle.StatusACTIVE)).
			SetStatus(reviewcycle.StatusCLOSED).
			SetClosedAt(time.Now()).
			Save(ctx)
		if err != nil {
			return nil, err
		}
		if n != 1 {
			return nil, apperr.Conflict("the review cycle changed meanwhile; try again")
		}
		return cy, nil
	})
	if err != nil {
		return nil, err
	}
	return s.Client.ReviewCycle.Get(ctx, cy.ID)
}

// Teams returns the participant teams of a cycle (performance admins).
func (s *Service) Teams(ctx context.Context, cy *ent.ReviewCycle) ([]*ent.Team, error) {
	if err := s.requireManageRead(ctx, cy); err != nil {
		return nil, err
	}
	if len(cy.TeamIds) == 0 {
		return []*ent.Team{}, nil
	}
	return s.Client.Team.Query().Where(team.IDIn(cy.TeamIds...)).Order(ent.Asc(team.FieldID)).All(ctx)
}

// ExcludedUsers returns the users left out of a cycle (performance admins).
func (s *Service) ExcludedUsers(ctx context.Context, cy *ent.ReviewCycle) ([]*ent.User, error) {
	if err := s.requireManageRead(ctx, cy); err != nil {
		return nil, err
	}
	return usersByID(ctx, s.Client, cy.ExcludedUserIds)
}

func (s *Service) requireManageRead(ctx context.Context, cy *ent.ReviewCycle) error {
	a, err := access.ReadActor(ctx, s.Client)
	if err != nil {
		return err
	}
	return s.Guard.Require(ctx, a.Input(authz.ActionReviewManageCycle, authz.Resource{ID: access.ID(cy.ID), Cycle: CycleFacts(cy)}))
}
