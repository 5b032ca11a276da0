package okr

import (
	"context"
	"slices"

	"okrgraph/ent"
	"okrgraph/ent/grant"
	"okrgraph/ent/membership"
	"okrgraph/ent/okritem"
	"okrgraph/ent/team"
	"okrgraph/internal/access"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
)

// Facts describes an existing item for the policy.
func Facts(ctx context.Context, c *ent.Client, it *ent.OKRItem) (authz.Resource, error) {
	all, err := FactsBatch(ctx, c, []*ent.OKRItem{it})
	if err != nil {
		return authz.Resource{}, err
	}
	return all[it.ID], nil
}

// FactsBatch describes many items for the policy with a fixed number of
// queries, whatever the number of items: teams, viewers, grants, parents,
// the parents' align grants and viewers, and the owners' managers are each
// loaded once for the whole batch. Facts are read with a privileged scope:
// the policy must see a private parent even when the actor cannot.
func FactsBatch(ctx context.Context, c *ent.Client, items []*ent.OKRItem) (map[int]authz.Resource, error) {
	sys := scope.System(ctx)
	ids := make([]int, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	loaded, err := c.OKRItem.Query().
		Where(okritem.IDIn(ids...)).
		Select(okritem.FieldID, okritem.FieldParentID).
		WithTeams(func(q *ent.TeamQuery) { q.WithOkrCreators(func(q *ent.UserQuery) { q.Select("id") }) }).
		WithViewers(func(q *ent.UserQuery) { q.Select("id") }).
		WithGrants().
		All(sys)
	if err != nil {
		return nil, err
	}
	byID := make(map[int]*ent.OKRItem, len(loaded))
	var parentIDs, owners []int
	for _, it := range loaded {
		byID[it.ID] = it
	}
	for _, it := range items {
		if it.ParentID != nil {
			parentIDs = append(parentIDs, *it.ParentID)
		}
		owners = append(owners, it.OwnerOrder...)
	}
	parents := map[int]*ent.OKRItem{}
	if len(parentIDs) > 0 {
		ps, err := c.OKRItem.Query().
			Where(okritem.IDIn(parentIDs...)).
			WithGrants(func(q *ent.GrantQuery) { q.Where(grant.KindEQ(grant.KindALIGN)) }).
			WithViewers(func(q *ent.UserQuery) { q.Select("id") }).
			All(sys)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			parents[p.ID] = p
		}
	}
	managerOf, err := managers(sys, c, items, owners)
	if err != nil {
		return nil, err
	}
	out := make(map[int]authz.Resource, len(items))
	for _, it := range items {
		r := authz.Resource{
			ID:                  access.ID(it.ID),
			Kind:                it.Kind.String(),
			Level:               it.Level.String(),
			Owners:              access.IDs(it.OwnerOrder),
			Creator:             access.ID(it.CreatorID),
			Delegate:            delegate(it),
			Private:             it.Private,
			Closed:              it.Status == okritem.StatusCLOSED,
			HasMetric:           it.MetricStart != nil && it.MetricTarget != nil,
			Milestone:           it.Milestone,
			AlignmentRestricted: it.AlignmentRestricted,
		}
		if it.CheckinOwnerID != nil {
			r.CheckInOwner = access.ID(*it.CheckinOwnerID)
		}
		var mgrs []int
		for _, o := range it.OwnerOrder {
			if m, ok := managerOf[key{it.OrgID, o}]; ok && !slices.Contains(mgrs, m) {
				mgrs = append(mgrs, m)
			}
		}
		r.OwnerManagers = access.IDs(mgrs)
		if l := byID[it.ID]; l != nil {
			r.Teams = TeamFacts(l.Edges.Teams)
			r.Viewers = userIDs(l.Edges.Viewers)
			r.Grants = GrantFacts(l.Edges.Grants)
		}
		if it.ParentID != nil {
			if p := parents[*it.ParentID]; p != nil {
				r.Parent = parentFacts(p)
				// A key result inherits its objective's privacy: whoever may
				// see the objective may see the key result.
				if it.Kind == okritem.KindKEY_RESULT && p.Private {
					r.Viewers = append(r.Viewers, people(p)...)
				}
			}
		}
		out[it.ID] = r
	}
	return out, nil
}

type key struct{ org, user int }

// managers maps each owner (per org) to their direct manager's user id.
func managers(ctx context.Context, c *ent.Client, items []*ent.OKRItem, owners []int) (map[key]int, error) {
	out := map[key]int{}
	if len(owners) == 0 {
		return out, nil
	}
	orgs := make([]int, 0, 1)
	for _, it := range items {
		if !slices.Contains(orgs, it.OrgID) {
			orgs = append(orgs, it.OrgID)
		}
	}
	ms, err := c.Membership.Query().
		Where(membership.OrgIDIn(orgs...), membership.UserIDIn(owners...), membership.ManagerIDNotNil()).
		WithManager(func(q *ent.MembershipQuery) { q.Select(membership.FieldUserID) }).
		All(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Edges.Manager != nil {
			out[key{m.OrgID, m.UserID}] = m.Edges.Manager.UserID
		}
	}
	return out, nil
}

// people are the users who may view a private item besides org-wide
// viewers: owners, creator, delegate, check-in owner and listed viewers.
func people(it *ent.OKRItem) []string {
	out := access.IDs(it.OwnerOrder)
	out = append(out, access.ID(it.CreatorID))
	if it.DelegateID != nil {
		out = append(out, access.ID(*it.DelegateID))
	}
	if it.CheckinOwnerID != nil {
		out = append(out, access.ID(*it.CheckinOwnerID))
	}
	return append(out, userIDs(it.Edges.Viewers)...)
}

func userIDs(us []*ent.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = access.ID(u.ID)
	}
	return out
}

// GrantFacts sorts an item's grants by kind.
func GrantFacts(grants []*ent.Grant) authz.Grants {
	var g authz.Grants
	for _, gr := range grants {
		id := access.ID(gr.UserID)
		switch gr.Kind {
		case grant.KindEDIT:
			g.Edit = append(g.Edit, id)
		case grant.KindCHECKIN:
			g.CheckIn = append(g.CheckIn, id)
		case grant.KindALIGN:
			g.Align = append(g.Align, id)
		}
	}
	return g
}

// ParentFacts describes the item a new or moved item goes under.
func ParentFacts(ctx context.Context, c *ent.Client, p *ent.OKRItem) (*authz.Parent, error) {
	align, err := c.Grant.Query().
		Where(grant.ItemID(p.ID), grant.KindEQ(grant.KindALIGN)).
		All(scope.System(ctx))
	if err != nil {
		return nil, err
	}
	p.Edges.Grants = align
	return parentFacts(p), nil
}

// parentFacts describes a parent whose align grants are loaded.
func parentFacts(p *ent.OKRItem) *authz.Parent {
	return &authz.Parent{
		ID:         access.ID(p.ID),
		Kind:       p.Kind.String(),
		Owners:     access.IDs(p.OwnerOrder),
		Delegate:   delegate(p),
		Restricted: p.AlignmentRestricted,
		AlignGrant: GrantFacts(p.Edges.Grants).Align,
	}
}

// TeamFacts describes teams with their creation settings; the listed
// creators must be loaded for LISTED teams.
func TeamFacts(teams []*ent.Team) []authz.Team {
	out := make([]authz.Team, 0, len(teams))
	for _, t := range teams {
		ft := authz.Team{ID: access.ID(t.ID), Name: t.Name, OKRCreation: t.OkrCreation.String()}
		if t.OkrCreation == team.OkrCreationLISTED {
			ft.Listed = userIDs(t.Edges.OkrCreators)
		}
		out = append(out, ft)
	}
	return out
}

func delegate(it *ent.OKRItem) *authz.Delegate {
	if it.DelegateID == nil {
		return nil
	}
	return &authz.Delegate{UserID: access.ID(*it.DelegateID), DelegateKeyResults: it.DelegateKeyResults, NotifyOwner: it.NotifyOwner}
}
