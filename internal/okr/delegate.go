package okr

import (
	"context"
	"slices"

	"okrgraph/ent"
	"okrgraph/ent/okritem"
	"okrgraph/ent/user"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
	"okrgraph/internal/store"
)

// SetDelegateInput is the input of setDelegate.
type SetDelegateInput struct {
	ID                 int
	DelegateID         *int
	DelegateKeyResults *bool
	NotifyOwner        *bool
}

// SetDelegate sets or removes (DelegateID nil) the delegate of an
// objective. The delegate must be a member of the organization and not one
// of the objective's owners. Omitted options are off.
func (s *Service) SetDelegate(ctx context.Context, in SetDelegateInput) (*ent.OKRItem, error) {
	return s.updateItem(ctx, in.ID, "id", authz.ActionOKRSetDelegate, func(c *ent.Client, a *access.Actor, it *ent.OKRItem) (*ent.OKRItemUpdateOne, error) {
		upd := it.Update()
		if in.DelegateID == nil {
			return upd.ClearDelegateID().SetDelegateKeyResults(false).SetNotifyOwner(false), nil
		}
		if err := checkUsers(ctx, c, a.OrgID, "delegateId", []int{*in.DelegateID}); err != nil {
			return nil, err
		}
		if slices.Contains(it.OwnerOrder, *in.DelegateID) {
			return nil, apperr.BadInput("delegateId", "an owner of the objective cannot be its delegate")
		}
		return upd.SetDelegateID(*in.DelegateID).
			SetDelegateKeyResults(in.DelegateKeyResults != nil && *in.DelegateKeyResults).
			SetNotifyOwner(in.NotifyOwner != nil && *in.NotifyOwner), nil
	}, func(it *ent.OKRItem) error {
		if it.Kind != okritem.KindOBJECTIVE {
			return apperr.BadInput("id", "only objectives have a delegate; a key result is covered by its objective's delegation")
		}
		return nil
	})
}

// SetCheckinOwnerInput is the input of setCheckinOwner.
type SetCheckinOwnerInput struct {
	ID     int
	UserID *int
}

// SetCheckinOwner makes any member of the organization the item's check-in
// owner; nil returns to the first owner.
func (s *Service) SetCheckinOwner(ctx context.Context, in SetCheckinOwnerInput) (*ent.OKRItem, error) {
	return s.updateItem(ctx, in.ID, "id", authz.ActionOKRSetCheckInOwner, func(c *ent.Client, a *access.Actor, it *ent.OKRItem) (*ent.OKRItemUpdateOne, error) {
		if in.UserID == nil {
			if len(it.OwnerOrder) == 0 {
				return it.Update().ClearCheckinOwnerID(), nil
			}
			return it.Update().SetCheckinOwnerID(it.OwnerOrder[0]), nil
		}
		if err := checkUsers(ctx, c, a.OrgID, "userId", []int{*in.UserID}); err != nil {
			return nil, err
		}
		return it.Update().SetCheckinOwnerID(*in.UserID), nil
	}, nil)
}

// updateItem runs one item change in a transaction: load the item (field
// names the id input), check its shape, ask the policy for action, apply
// change and return the item as committed.
func (s *Service) updateItem(ctx context.Context, id int, field, action string,
	change func(c *ent.Client, a *access.Actor, it *ent.OKRItem) (*ent.OKRItemUpdateOne, error),
	shape func(it *ent.OKRItem) error,
) (*ent.OKRItem, error) {
	_, err := store.InTx(ctx, s.Client, func(c *ent.Client) (struct{}, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return struct{}{}, err
		}
		it, err := loadItem(ctx, c, id, field)
		if err != nil {
			return struct{}{}, err
		}
		if shape != nil {
			if err := shape(it); err != nil {
				return struct{}{}, err
			}
		}
		r, err := Facts(ctx, c, it)
		if err != nil {
			return struct{}{}, err
		}
		if err := s.Guard.Require(ctx, a.Input(action, r)); err != nil {
			return struct{}{}, err
		}
		upd, err := change(c, a, it)
		if err != nil || upd == nil {
			return struct{}{}, err
		}
		saved, err := upd.Save(ctx)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, recordItemChange(ctx, c, a, it, saved)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.OKRItem.Get(ctx, id)
}

// ReminderRecipients returns who gets the item's check-in reminder (see
// Recipients). page lists the items resolved alongside it: the recipients
// of the whole page are loaded together on first use.
func (s *Service) ReminderRecipients(ctx context.Context, it *ent.OKRItem, page []*ent.OKRItem) ([]*ent.User, error) {
	return forPage(ctx, recipientsKey{}, it, page, func(items []*ent.OKRItem) (map[int][]*ent.User, error) {
		return Recipients(ctx, s.Client, items)
	})
}

type recipientsKey struct{}

// Recipients returns, by item id, who gets each item's check-in reminder.
// The reminder is the check-in owner's (the first owner when none is set).
// When a delegation covers the item — an objective's own delegate, or for
// a key result owned by an owner of its objective, the objective's
// delegate with delegateKeyResults — and that reminder would go to an
// owner of the delegated objective, the delegate receives it instead, "as
// if they were the owner", and the owner keeps it only with notifyOwner.
// A check-in owner set to someone else keeps receiving it. Never every
// owner; no one twice. A fixed number of queries for any number of items.
func Recipients(ctx context.Context, c *ent.Client, items []*ent.OKRItem) (map[int][]*ent.User, error) {
	sys := scope.System(ctx)
	var parentIDs []int
	for _, it := range items {
		if it.Kind == okritem.KindKEY_RESULT && it.ParentID != nil {
			parentIDs = append(parentIDs, *it.ParentID)
		}
	}
	parents := map[int]*ent.OKRItem{}
	if len(parentIDs) > 0 {
		ps, err := c.OKRItem.Query().
			Where(okritem.IDIn(parentIDs...), okritem.DelegateIDNotNil()).
			Select(okritem.FieldID, okritem.FieldOwnerOrder, okritem.FieldDelegateID, okritem.FieldDelegateKeyResults, okritem.FieldNotifyOwner).
			All(sys)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			parents[p.ID] = p
		}
	}
	ids := make(map[int][]int, len(items))
	var all []int
	for _, it := range items {
		var rs []int
		add := func(us ...int) {
			for _, u := range us {
				if !slices.Contains(rs, u) {
					rs = append(rs, u)
				}
			}
		}
		base := 0
		switch {
		case it.CheckinOwnerID != nil:
			base = *it.CheckinOwnerID
		case len(it.OwnerOrder) > 0:
			base = it.OwnerOrder[0]
		}
		// The delegation covering the item: its delegate, the owners who
		// delegated and whether they keep their reminders.
		var delegate *int
		var delegators []int
		notifyOwner := false
		switch {
		case it.Kind == okritem.KindOBJECTIVE && it.DelegateID != nil:
			delegate, delegators, notifyOwner = it.DelegateID, it.OwnerOrder, it.NotifyOwner
		case it.Kind == okritem.KindKEY_RESULT && it.ParentID != nil:
			if p := parents[*it.ParentID]; p != nil && p.DelegateKeyResults &&
				slices.ContainsFunc(it.OwnerOrder, func(o int) bool { return slices.Contains(p.OwnerOrder, o) }) {
				delegate, delegators, notifyOwner = p.DelegateID, p.OwnerOrder, p.NotifyOwner
			}
		}
		switch {
		case base == 0:
		case delegate != nil && slices.Contains(delegators, base):
			add(*delegate)
			if notifyOwner {
				add(base)
			}
		default:
			add(base)
		}
		ids[it.ID] = rs
		all = append(all, rs...)
	}
	users := map[int]*ent.User{}
	if len(all) > 0 {
		us, err := c.User.Query().Where(user.IDIn(all...)).All(sys)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			users[u.ID] = u
		}
	}
	out := make(map[int][]*ent.User, len(items))
	for _, it := range items {
		list := make([]*ent.User, 0, len(ids[it.ID]))
		for _, id := range ids[it.ID] {
			if u := users[id]; u != nil {
				list = append(list, u)
			}
		}
		out[it.ID] = list
	}
	return out, nil
}

// DelegatedItems lists the objectives delegated to userID.
func (s *Service) DelegatedItems(userID int) *ent.OKRItemQuery {
	return s.Client.OKRItem.Query().Where(okritem.DelegateID(userID))
}

// FollowedItems lists the items userID follows.
func (s *Service) FollowedItems(userID int) *ent.OKRItemQuery {
	return s.Client.OKRItem.Query().Where(okritem.HasFollowersWith(user.ID(userID)))
}
