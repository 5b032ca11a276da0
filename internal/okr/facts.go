package okr

import (
	"context"

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
	r := authz.Resource{
		ID:                  access.ID(it.ID),
		Kind:                it.Kind.String(),
		Level:               it.Level.String(),
		Owners:              access.IDs(it.OwnerOrder),
		Creator:             access.ID(it.CreatorID),
		Delegate:            delegate(it),
		Private:             it.Private,
		Closed:              it.Status == okritem.StatusCLOSED,
		AlignmentRestricted: it.AlignmentRestricted,
	}
	if it.CheckinOwnerID != nil {
		r.CheckInOwner = access.ID(*it.CheckinOwnerID)
	}
	teams, err := it.QueryTeams().All(ctx)
	if err != nil {
		return r, err
	}
	if r.Teams, err = TeamFacts(ctx, c, teams); err != nil {
		return r, err
	}
	viewers, err := it.QueryViewers().IDs(ctx)
	if err != nil {
		return r, err
	}
	r.Viewers = access.IDs(viewers)
	grants, err := c.Grant.Query().Where(grant.ItemID(it.ID)).All(ctx)
	if err != nil {
		return r, err
	}
	r.Grants = GrantFacts(grants)
	managers, err := c.Membership.Query().
		Where(membership.UserIDIn(it.OwnerOrder...), membership.OrgID(it.OrgID)).
		QueryManager().
		Select(membership.FieldUserID).
		Ints(ctx)
	if err != nil {
		return r, err
	}
	r.OwnerManagers = access.IDs(managers)
	if it.ParentID != nil {
		// The parent's facts are needed even when the parent itself is
		// private and hidden from the actor.
		sys := scope.System(ctx)
		parent, err := c.OKRItem.Get(sys, *it.ParentID)
		if err != nil {
			return r, err
		}
		if r.Parent, err = ParentFacts(ctx, c, parent); err != nil {
			return r, err
		}
		// A key result inherits its objective's privacy: whoever may see
		// the objective may see the key result.
		if it.Kind == okritem.KindKEY_RESULT && parent.Private {
			pv, err := parent.QueryViewers().IDs(sys)
			if err != nil {
				return r, err
			}
			r.Viewers = append(r.Viewers, access.IDs(pv)...)
			r.Viewers = append(r.Viewers, access.IDs(parent.OwnerOrder)...)
			r.Viewers = append(r.Viewers, access.ID(parent.CreatorID))
			if parent.DelegateID != nil {
				r.Viewers = append(r.Viewers, access.ID(*parent.DelegateID))
			}
			if parent.CheckinOwnerID != nil {
				r.Viewers = append(r.Viewers, access.ID(*parent.CheckinOwnerID))
			}
		}
	}
	return r, nil
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

// ParentFacts describes the item a resource sits under.
func ParentFacts(ctx context.Context, c *ent.Client, p *ent.OKRItem) (*authz.Parent, error) {
	align, err := c.Grant.Query().
		Where(grant.ItemID(p.ID), grant.KindEQ(grant.KindALIGN)).
		Select(grant.FieldUserID).
		Ints(scope.System(ctx))
	if err != nil {
		return nil, err
	}
	return &authz.Parent{
		AlignGrant: access.IDs(align),
		ID:         access.ID(p.ID),
		Kind:       p.Kind.String(),
		Owners:     access.IDs(p.OwnerOrder),
		Delegate:   delegate(p),
		Restricted: p.AlignmentRestricted,
	}, nil
}

// TeamFacts describes teams with their creation settings.
func TeamFacts(ctx context.Context, _ *ent.Client, teams []*ent.Team) ([]authz.Team, error) {
	out := make([]authz.Team, 0, len(teams))
	for _, t := range teams {
		ft := authz.Team{ID: access.ID(t.ID), OKRCreation: t.OkrCreation.String()}
		if t.OkrCreation == team.OkrCreationLISTED {
			listed, err := t.QueryOkrCreators().IDs(ctx)
			if err != nil {
				return nil, err
			}
			ft.Listed = access.IDs(listed)
		}
		out = append(out, ft)
	}
	return out, nil
}

func delegate(it *ent.OKRItem) *authz.Delegate {
	if it.DelegateID == nil {
		return nil
	}
	return &authz.Delegate{UserID: access.ID(*it.DelegateID), DelegateKeyResults: it.DelegateKeyResults, NotifyOwner: it.NotifyOwner}
}
