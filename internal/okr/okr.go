// Package okr is the OKR service: creating, changing and deleting
// objectives and key results, with every write decided by the policy.
package okr

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"

	"okrgraph/ent"
	"okrgraph/ent/activity"
	"okrgraph/ent/checkin"
	"okrgraph/ent/comment"
	"okrgraph/ent/grant"
	"okrgraph/ent/okritem"
	"okrgraph/ent/team"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
	"okrgraph/internal/store"
)

// Limits on item fields.
const (
	MaxTitle       = 200
	MaxDescription = 10000
	MaxUnit        = 32
	MaxWeight      = 1000
	MaxOwners      = 50
	// MaxDepth bounds the alignment tree; it also bounds cycle checks.
	MaxDepth = 64
)

// Service runs OKR use cases.
type Service struct {
	Client *ent.Client
	Guard  *access.Guard
	// Dialect is the database's (entgo.io/ent/dialect); the tree statement
	// differs slightly between PostgreSQL and SQLite.
	Dialect string
	// MaxTreeItems bounds one tree read or export (default
	// DefaultMaxTreeItems).
	MaxTreeItems int

	pages pageMemo // the page statements built (Page)
}

func (s *Service) dialect() string { return s.Dialect }

// CreateInput is the input of createOKRItem.
type CreateInput struct {
	Kind          okritem.Kind
	Level         okritem.Level
	Title         string
	Description   *string
	OwnerIDs      []int
	TeamIDs       []int
	ParentID      *int
	TimePeriodID  *int
	Weight        *float64
	MetricStart   *float64
	MetricTarget  *float64
	MetricCurrent *float64
	Unit          *string
	Private       *bool
	ViewerIDs     []int
	Milestone     *bool
	ProgressMode  *okritem.ProgressMode
}

// Create makes an objective or key result; the caller is its creator.
func (s *Service) Create(ctx context.Context, in CreateInput) (*ent.OKRItem, error) {
	if err := okritem.KindValidator(in.Kind); err != nil {
		return nil, apperr.BadInput("kind", "invalid kind %q", in.Kind)
	}
	if err := okritem.LevelValidator(in.Level); err != nil {
		return nil, apperr.BadInput("level", "invalid level %q", in.Level)
	}
	title, err := checkTitle(in.Title)
	if err != nil {
		return nil, err
	}
	if err := checkCommon(in.Description, in.Unit, in.Weight, in.MetricStart, in.MetricTarget, in.MetricCurrent); err != nil {
		return nil, err
	}
	if err := checkProgressShape(in.Kind, in.Milestone, in.ProgressMode, in.MetricStart, in.MetricTarget, in.MetricCurrent); err != nil {
		return nil, err
	}
	if in.Kind == okritem.KindKEY_RESULT && in.ParentID == nil {
		return nil, apperr.BadInput("parentId", "a key result must sit under an objective: give parentId")
	}
	if err := checkTeamsForLevel(in.Level, in.TeamIDs); err != nil {
		return nil, err
	}
	item, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.OKRItem, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return nil, err
		}
		pc, err := CreateFacts(ctx, c, a, in)
		if err != nil {
			return nil, err
		}
		r, owners, parent := pc.Resource, pc.Owners, pc.Parent
		periodID := in.TimePeriodID
		if in.Kind == okritem.KindKEY_RESULT && parent != nil {
			// A key result takes its objective's time period (and privacy:
			// CreateFacts).
			if periodID != nil && (parent.TimePeriodID == nil || *periodID != *parent.TimePeriodID) {
				return nil, apperr.BadInput("timePeriodId", "a key result takes its objective's time period")
			}
			periodID = parent.TimePeriodID
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRCreate, r)); err != nil {
			return nil, err
		}
		t, err := s.lockParent(ctx, c, a.OrgID, parent, in.Weight)
		if err != nil {
			return nil, err
		}
		create := c.OKRItem.Create().
			SetKind(in.Kind).
			SetLevel(in.Level).
			SetTitle(title).
			SetCreatorID(a.UserID).
			SetOwnerOrder(owners).
			AddOwnerIDs(owners...).
			SetCheckinOwnerID(owners[0]).
			AddTeamIDs(in.TeamIDs...).
			AddViewerIDs(in.ViewerIDs...).
			SetPrivate(r.Private).
			SetNillableParentID(in.ParentID).
			SetNillableTimePeriodID(periodID).
			SetNillableWeight(in.Weight).
			SetNillableMetricStart(in.MetricStart).
			SetNillableMetricTarget(in.MetricTarget).
			SetNillableMetricCurrent(in.MetricCurrent).
			SetNillableDescription(in.Description).
			SetNillableUnit(in.Unit).
			SetNillableMilestone(in.Milestone).
			SetNillableProgressMode(in.ProgressMode).
			SetProgress(KeyResultProgress(in.Milestone != nil && *in.Milestone, in.MetricStart, in.MetricTarget, in.MetricCurrent))
		it, err := create.Save(ctx)
		if err != nil {
			return nil, err
		}
		return it, rollup(ctx, c, t, in.ParentID)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.OKRItem.Get(ctx, item.ID)
}

// ProposedItem is what okr.create is asked about: the policy facts of the
// proposed item and the rows they came from.
type ProposedItem struct {
	Resource authz.Resource
	Owners   []int        // in order; the creator when none was given
	Parent   *ent.OKRItem // nil without parentId
	// TimePeriodID is the item's period: a key result's is its
	// objective's, whatever the input said.
	TimePeriodID *int
}

// CreateFacts checks the references of a proposed item (owners and viewers
// are members, teams, parent and time period exist in the org, a key result
// sits under an objective) and describes it for the policy. Create and the
// policy service's explain share it, so explain answers what create does.
func CreateFacts(ctx context.Context, c *ent.Client, a *access.Actor, in CreateInput) (*ProposedItem, error) {
	owners := in.OwnerIDs
	if len(owners) == 0 {
		owners = []int{a.UserID}
	}
	if err := checkUsers(ctx, c, a.OrgID, "ownerIds", owners); err != nil {
		return nil, err
	}
	if err := checkUsers(ctx, c, a.OrgID, "viewerIds", in.ViewerIDs); err != nil {
		return nil, err
	}
	teams, err := loadTeams(ctx, c, in.TeamIDs)
	if err != nil {
		return nil, err
	}
	var parent *ent.OKRItem
	if in.ParentID != nil {
		if parent, err = loadItem(ctx, c, *in.ParentID, "parentId"); err != nil {
			return nil, err
		}
		if in.Kind == okritem.KindKEY_RESULT && parent.Kind != okritem.KindOBJECTIVE {
			return nil, apperr.BadInput("parentId", "a key result must sit under an objective, not under a key result")
		}
	}
	// A key result takes its objective's privacy and time period.
	if in.Kind == okritem.KindKEY_RESULT && parent != nil {
		in.TimePeriodID = parent.TimePeriodID
	}
	periodClosed := false
	if in.TimePeriodID != nil {
		tp, err := loadPeriod(ctx, c, *in.TimePeriodID)
		if err != nil {
			return nil, err
		}
		periodClosed = tp.Closed
	}
	private := in.Private != nil && *in.Private
	if in.Kind == okritem.KindKEY_RESULT && parent != nil {
		private = parent.Private
	}
	r := authz.Resource{
		Kind:             in.Kind.String(),
		Level:            in.Level.String(),
		Teams:            TeamFacts(teams),
		Owners:           access.IDs(owners),
		Creator:          access.ID(a.UserID),
		Private:          private,
		TimePeriodClosed: periodClosed,
		HasMetric:        in.MetricStart != nil && in.MetricTarget != nil,
		Milestone:        in.Milestone != nil && *in.Milestone,
	}
	if parent != nil {
		if r.Parent, err = ParentFacts(ctx, c, parent); err != nil {
			return nil, err
		}
	}
	return &ProposedItem{Resource: r, Owners: owners, Parent: parent, TimePeriodID: in.TimePeriodID}, nil
}

// UpdateInput is the input of updateOKRItem.
type UpdateInput struct {
	ID            int
	Title         *string
	Description   *string
	Level         *okritem.Level
	OwnerIDs      []int
	TeamIDs       []int
	ParentID      graphql.Omittable[*int]
	TimePeriodID  graphql.Omittable[*int]
	Weight        graphql.Omittable[*float64]
	MetricStart   graphql.Omittable[*float64]
	MetricTarget  graphql.Omittable[*float64]
	MetricCurrent graphql.Omittable[*float64]
	Unit          *string
	Status        *okritem.Status
	Private       *bool
	ViewerIDs     []int
	Milestone     *bool
	ProgressMode  *okritem.ProgressMode
}

// Update changes an item. Changing owners needs the change-owners right on
// top of the edit right; moving it needs the align right on the new parent.
func (s *Service) Update(ctx context.Context, in UpdateInput) (*ent.OKRItem, error) {
	var title string
	if in.Title != nil {
		t, err := checkTitle(*in.Title)
		if err != nil {
			return nil, err
		}
		title = t
	}
	if in.Level != nil {
		if err := okritem.LevelValidator(*in.Level); err != nil {
			return nil, apperr.BadInput("level", "invalid level %q", *in.Level)
		}
	}
	if in.Status != nil {
		if err := okritem.StatusValidator(*in.Status); err != nil {
			return nil, apperr.BadInput("status", "invalid status %q", *in.Status)
		}
		if *in.Status == okritem.StatusCLOSED {
			return nil, apperr.BadInput("status", "close an item with closeOKRItem, which records its score")
		}
	}
	if err := checkCommon(in.Description, in.Unit, in.Weight.Value(), in.MetricStart.Value(), in.MetricTarget.Value(), in.MetricCurrent.Value()); err != nil {
		return nil, err
	}
	item, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.OKRItem, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return nil, err
		}
		it, err := loadItem(ctx, c, in.ID, "id")
		if err != nil {
			return nil, err
		}
		if err := checkUpdateShape(it, in); err != nil {
			return nil, err
		}
		r, err := Facts(ctx, c, it)
		if err != nil {
			return nil, err
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRUpdate, r)); err != nil {
			return nil, err
		}
		if err := s.requireLevelChange(ctx, c, a, it, r, in); err != nil {
			return nil, err
		}
		t, err := s.lockForUpdate(ctx, c, a.OrgID, it, in)
		if err != nil {
			return nil, err
		}
		upd := it.Update()
		if in.Title != nil {
			upd.SetTitle(title)
		}
		if in.Description != nil {
			upd.SetDescription(*in.Description)
		}
		level := it.Level
		if in.Level != nil {
			level = *in.Level
			upd.SetLevel(level)
		}
		teamIDs := in.TeamIDs
		if in.TeamIDs == nil {
			if teamIDs, err = it.QueryTeams().IDs(ctx); err != nil {
				return nil, err
			}
		}
		if in.Level != nil || in.TeamIDs != nil {
			if err := checkTeamsForLevel(level, teamIDs); err != nil {
				return nil, err
			}
		}
		if in.TeamIDs != nil {
			if _, err := loadTeams(ctx, c, in.TeamIDs); err != nil {
				return nil, err
			}
			upd.ClearTeams().AddTeamIDs(in.TeamIDs...)
		}
		if in.OwnerIDs != nil {
			if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRChangeOwners, r)); err != nil {
				return nil, err
			}
			if len(in.OwnerIDs) == 0 {
				return nil, apperr.BadInput("ownerIds", "an item needs at least one owner")
			}
			if err := checkUsers(ctx, c, a.OrgID, "ownerIds", in.OwnerIDs); err != nil {
				return nil, err
			}
			upd.ClearOwners().AddOwnerIDs(in.OwnerIDs...).SetOwnerOrder(in.OwnerIDs)
			// A check-in owner who was the default (first owner) and is no
			// longer an owner moves to the new first owner.
			if it.CheckinOwnerID == nil || (len(it.OwnerOrder) > 0 && *it.CheckinOwnerID == it.OwnerOrder[0] && !slices.Contains(in.OwnerIDs, *it.CheckinOwnerID)) {
				upd.SetCheckinOwnerID(in.OwnerIDs[0])
			}
		}
		if in.ParentID.IsSet() {
			if err := s.reparent(ctx, c, a, it, in.ParentID.Value(), upd); err != nil {
				return nil, err
			}
		}
		if in.TimePeriodID.IsSet() {
			if it.Kind == okritem.KindKEY_RESULT {
				return nil, apperr.BadInput("timePeriodId", "a key result takes its objective's time period")
			}
			if p := in.TimePeriodID.Value(); p == nil {
				upd.ClearTimePeriodID()
			} else {
				if err := periodExists(ctx, c, *p); err != nil {
					return nil, err
				}
				upd.SetTimePeriodID(*p)
			}
		}
		setFloat(in.Weight, upd.SetWeight, upd.ClearWeight)
		setFloat(in.MetricStart, upd.SetMetricStart, upd.ClearMetricStart)
		setFloat(in.MetricTarget, upd.SetMetricTarget, upd.ClearMetricTarget)
		setFloat(in.MetricCurrent, upd.SetMetricCurrent, upd.ClearMetricCurrent)
		if in.Unit != nil {
			upd.SetUnit(*in.Unit)
		}
		if in.Status != nil {
			upd.SetStatus(*in.Status)
		}
		if in.ViewerIDs != nil {
			if err := checkUsers(ctx, c, a.OrgID, "viewerIds", in.ViewerIDs); err != nil {
				return nil, err
			}
			upd.ClearViewers().AddViewerIDs(in.ViewerIDs...)
		}
		if in.Private != nil {
			if it.Kind == okritem.KindKEY_RESULT {
				return nil, apperr.BadInput("private", "a key result takes its objective's privacy")
			}
			upd.SetPrivate(*in.Private)
			// Key results carry their objective's privacy.
			if err := c.OKRItem.Update().
				Where(okritem.ParentID(it.ID), okritem.KindEQ(okritem.KindKEY_RESULT)).
				SetPrivate(*in.Private).Exec(ctx); err != nil {
				return nil, err
			}
		}
		if in.TimePeriodID.IsSet() && it.Kind == okritem.KindOBJECTIVE {
			// ... and its time period.
			kr := c.OKRItem.Update().Where(okritem.ParentID(it.ID), okritem.KindEQ(okritem.KindKEY_RESULT))
			if p := in.TimePeriodID.Value(); p == nil {
				kr.ClearTimePeriodID()
			} else {
				kr.SetTimePeriodID(*p)
			}
			if err := kr.Exec(ctx); err != nil {
				return nil, err
			}
		}
		upd.SetNillableMilestone(in.Milestone).SetNillableProgressMode(in.ProgressMode)
		saved, err := upd.Save(ctx)
		if err != nil {
			return nil, err
		}
		if err := recordItemChange(ctx, c, a, it, saved); err != nil {
			return nil, err
		}
		return saved, settle(ctx, c, t, saved, it.ParentID)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.OKRItem.Get(ctx, item.ID)
}

func setFloat(o graphql.Omittable[*float64], set func(float64) *ent.OKRItemUpdateOne, clear func() *ent.OKRItemUpdateOne) {
	if !o.IsSet() {
		return
	}
	if v := o.Value(); v != nil {
		set(*v)
		return
	}
	clear()
}

// reparent moves it under parentID (nil detaches), refusing cycles and
// asking the align right on the new parent.
func (s *Service) reparent(ctx context.Context, c *ent.Client, a *access.Actor, it *ent.OKRItem, parentID *int, upd *ent.OKRItemUpdateOne) error {
	if parentID == nil {
		if it.Kind == okritem.KindKEY_RESULT {
			return apperr.BadInput("parentId", "a key result must sit under an objective")
		}
		upd.ClearParentID()
		return nil
	}
	parent, err := loadItem(ctx, c, *parentID, "parentId")
	if err != nil {
		return err
	}
	if it.Kind == okritem.KindKEY_RESULT && parent.Kind != okritem.KindOBJECTIVE {
		return apperr.BadInput("parentId", "a key result must sit under an objective, not under a key result")
	}
	// Walk up from the new parent: meeting the item means a cycle.
	cur := parent
	for depth := 0; ; depth++ {
		if cur.ID == it.ID {
			return apperr.BadInput("parentId", "item %d cannot be aligned under its own descendant %d", it.ID, parent.ID)
		}
		if cur.ParentID == nil {
			break
		}
		if depth >= MaxDepth {
			return apperr.BadInput("parentId", "the alignment tree would be deeper than %d levels", MaxDepth)
		}
		if cur, err = c.OKRItem.Get(ctx, *cur.ParentID); err != nil {
			return err
		}
	}
	pr, err := Facts(ctx, c, parent)
	if err != nil {
		return err
	}
	if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRAlign, pr)); err != nil {
		return err
	}
	upd.SetParentID(parent.ID)
	if it.Kind == okritem.KindKEY_RESULT {
		// A key result takes its new objective's privacy and time period.
		upd.SetPrivate(parent.Private).SetNillableTimePeriodID(parent.TimePeriodID)
		if parent.TimePeriodID == nil {
			upd.ClearTimePeriodID()
		}
	}
	return nil
}

// requireLevelChange asks okr.create for the item at its new level and
// teams when an update changes them (spec §4: a level or team change needs
// the right to create the item there), with input.resource.previous
// describing it as it is, so default and tenant rules on creation cover
// changes too.
func (s *Service) requireLevelChange(ctx context.Context, c *ent.Client, a *access.Actor, it *ent.OKRItem, r authz.Resource, in UpdateInput) error {
	oldTeams := make([]string, 0, len(r.Teams))
	for _, t := range r.Teams {
		oldTeams = append(oldTeams, t.ID)
	}
	levelChanged := in.Level != nil && *in.Level != it.Level
	teamsChanged := false
	if in.TeamIDs != nil {
		newTeams := access.IDs(in.TeamIDs)
		slices.Sort(newTeams)
		old := slices.Clone(oldTeams)
		slices.Sort(old)
		teamsChanged = !slices.Equal(slices.Compact(newTeams), old)
	}
	if !levelChanged && !teamsChanged {
		return nil
	}
	proposed := r
	proposed.Previous = &authz.Previous{Level: it.Level.String(), Teams: oldTeams}
	if in.Level != nil {
		proposed.Level = in.Level.String()
	}
	if in.TeamIDs != nil {
		teams, err := loadTeams(ctx, c, in.TeamIDs)
		if err != nil {
			return err
		}
		proposed.Teams = TeamFacts(teams)
	}
	return s.Guard.Require(ctx, a.Input(authz.ActionOKRCreate, proposed))
}

// Delete removes an item with its key results; aligned objectives below it
// are detached, not deleted. It returns the deleted id.
func (s *Service) Delete(ctx context.Context, id int) (int, error) {
	return store.InTx(ctx, s.Client, func(c *ent.Client) (int, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return 0, err
		}
		it, err := loadItem(ctx, c, id, "id")
		if err != nil {
			return 0, err
		}
		r, err := Facts(ctx, c, it)
		if err != nil {
			return 0, err
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRDelete, r)); err != nil {
			return 0, err
		}
		t, err := lockTree(ctx, c, a.OrgID, true, it.ID)
		if err != nil {
			return 0, err
		}
		krs, err := c.OKRItem.Query().Where(okritem.ParentID(it.ID), okritem.KindEQ(okritem.KindKEY_RESULT)).IDs(scope.System(ctx))
		if err != nil {
			return 0, err
		}
		ids := append(krs, it.ID)
		// Objectives aligned under the deleted items are detached, not deleted.
		if err := c.OKRItem.Update().Where(okritem.ParentIDIn(ids...), okritem.IDNotIn(ids...)).ClearParentID().Exec(scope.System(ctx)); err != nil {
			return 0, err
		}
		if _, err := c.Comment.Delete().Where(comment.ItemIDIn(ids...)).Exec(ctx); err != nil {
			return 0, err
		}
		if _, err := c.Grant.Delete().Where(grant.ItemIDIn(ids...)).Exec(ctx); err != nil {
			return 0, err
		}
		if _, err := c.CheckIn.Delete().Where(checkin.ItemIDIn(ids...)).Exec(ctx); err != nil {
			return 0, err
		}
		if _, err := c.Activity.Delete().Where(activity.ItemIDIn(ids...)).Exec(ctx); err != nil {
			return 0, err
		}
		if _, err := c.OKRItem.Delete().Where(okritem.IDIn(krs...)).Exec(ctx); err != nil {
			return 0, err
		}
		if err := c.OKRItem.DeleteOneID(it.ID).Exec(ctx); err != nil {
			return 0, err
		}
		return it.ID, rollup(ctx, c, t, it.ParentID)
	})
}

func checkTitle(v string) (string, error) {
	t := strings.TrimSpace(v)
	if t == "" {
		return "", apperr.BadInput("title", "title must not be empty")
	}
	if n := utf8.RuneCountInString(t); n > MaxTitle {
		return "", apperr.BadInput("title", "title is %d characters long; the limit is %d", n, MaxTitle)
	}
	return t, nil
}

func checkCommon(desc, unit *string, weight, start, target, current *float64) error {
	if desc != nil {
		if n := utf8.RuneCountInString(*desc); n > MaxDescription {
			return apperr.BadInput("description", "description is %d characters long; the limit is %d", n, MaxDescription)
		}
	}
	if unit != nil {
		if n := utf8.RuneCountInString(*unit); n > MaxUnit {
			return apperr.BadInput("unit", "unit is %d characters long; the limit is %d", n, MaxUnit)
		}
	}
	if weight != nil && (math.IsNaN(*weight) || *weight < 0 || *weight > MaxWeight) {
		return apperr.BadInput("weight", "weight must be between 0 and %d", MaxWeight)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"metricStart", start}, {"metricTarget", target}, {"metricCurrent", current}} {
		if f.v != nil && (math.IsNaN(*f.v) || math.IsInf(*f.v, 0)) {
			return apperr.BadInput(f.name, "%s must be a finite number", f.name)
		}
	}
	return nil
}

func checkTeamsForLevel(level okritem.Level, teamIDs []int) error {
	switch {
	case level == okritem.LevelTEAM && len(teamIDs) == 0:
		return apperr.BadInput("teamIds", "a TEAM-level item needs at least one team")
	case level != okritem.LevelTEAM && len(teamIDs) > 0:
		return apperr.BadInput("teamIds", "only TEAM-level items have teams")
	}
	return nil
}

// checkUsers verifies ids are at most MaxOwners distinct members of the org.
func checkUsers(ctx context.Context, c *ent.Client, orgID int, field string, ids []int) error {
	if len(ids) > MaxOwners {
		return apperr.BadInput(field, "at most %d users", MaxOwners)
	}
	return access.CheckMembers(ctx, c, orgID, field, ids)
}

func loadTeams(ctx context.Context, c *ent.Client, ids []int) ([]*ent.Team, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	teams, err := c.Team.Query().
		Where(team.IDIn(ids...)).
		WithOkrCreators(func(q *ent.UserQuery) { q.Select("id") }).
		All(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if !slices.ContainsFunc(teams, func(t *ent.Team) bool { return t.ID == id }) {
			return nil, &apperr.Error{Code: apperr.CodeNotFound, Field: "teamIds", Message: fmt.Sprintf("team %d not found", id)}
		}
	}
	if len(teams) != len(ids) {
		return nil, apperr.BadInput("teamIds", "a team is listed twice")
	}
	return teams, nil
}

func loadItem(ctx context.Context, c *ent.Client, id int, field string) (*ent.OKRItem, error) {
	it, err := c.OKRItem.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, &apperr.Error{Code: apperr.CodeNotFound, Field: field, Message: fmt.Sprintf("OKR item %d not found", id)}
	}
	return it, err
}

func periodExists(ctx context.Context, c *ent.Client, id int) error {
	_, err := loadPeriod(ctx, c, id)
	return err
}

func loadPeriod(ctx context.Context, c *ent.Client, id int) (*ent.TimePeriod, error) {
	tp, err := c.TimePeriod.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, &apperr.Error{Code: apperr.CodeNotFound, Field: "timePeriodId", Message: fmt.Sprintf("time period %d not found", id)}
	}
	return tp, err
}

// Owners returns an item's owners in their assigned order (owners the
// order does not list after those it does, by id, so the answer does not
// depend on the order the database returns rows in), from the eager-loaded
// edge when the GraphQL query collected it.
func (s *Service) Owners(ctx context.Context, it *ent.OKRItem) ([]*ent.User, error) {
	users, err := it.Owners(ctx)
	if err != nil {
		return nil, err
	}
	pos := make(map[int]int, len(it.OwnerOrder))
	for i, id := range it.OwnerOrder {
		pos[id] = i
	}
	rank := func(u *ent.User) int {
		if p, ok := pos[u.ID]; ok {
			return p
		}
		return len(it.OwnerOrder)
	}
	out := slices.Clone(users)
	slices.SortFunc(out, func(a, b *ent.User) int { return cmp.Or(rank(a)-rank(b), a.ID-b.ID) })
	return out, nil
}
