package okr

import (
	"context"
	"fmt"

	"okrgraph/ent"
	"okrgraph/ent/grant"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/store"
)

// GrantInput is the input of grantAccess and revokeAccess.
type GrantInput struct {
	ItemID int
	UserID int
	Kind   grant.Kind
}

// Grant gives a member EDIT, CHECKIN or ALIGN access to an item
// (okr.manage_grants). Granting twice returns the existing grant.
func (s *Service) Grant(ctx context.Context, in GrantInput) (*ent.Grant, error) {
	if err := grant.KindValidator(in.Kind); err != nil {
		return nil, apperr.BadInput("kind", "invalid kind %q", in.Kind)
	}
	g, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.Grant, error) {
		a, it, err := s.manageGrants(ctx, c, in.ItemID)
		if err != nil {
			return nil, err
		}
		if err := checkUsers(ctx, c, a.OrgID, "userId", []int{in.UserID}); err != nil {
			return nil, err
		}
		g, err := c.Grant.Query().Where(grant.ItemID(it.ID), grant.UserID(in.UserID), grant.KindEQ(in.Kind)).Only(ctx)
		if !ent.IsNotFound(err) {
			return g, err
		}
		return c.Grant.Create().SetItemID(it.ID).SetUserID(in.UserID).SetKind(in.Kind).Save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.Grant.Get(ctx, g.ID)
}

// Revoke takes a grant back and returns its id.
func (s *Service) Revoke(ctx context.Context, in GrantInput) (int, error) {
	if err := grant.KindValidator(in.Kind); err != nil {
		return 0, apperr.BadInput("kind", "invalid kind %q", in.Kind)
	}
	return store.InTx(ctx, s.Client, func(c *ent.Client) (int, error) {
		_, it, err := s.manageGrants(ctx, c, in.ItemID)
		if err != nil {
			return 0, err
		}
		g, err := c.Grant.Query().Where(grant.ItemID(it.ID), grant.UserID(in.UserID), grant.KindEQ(in.Kind)).Only(ctx)
		if ent.IsNotFound(err) {
			return 0, &apperr.Error{Code: apperr.CodeNotFound, Field: "userId", Message: fmt.Sprintf("user %d has no %s grant on item %d", in.UserID, in.Kind, it.ID)}
		}
		if err != nil {
			return 0, err
		}
		return g.ID, c.Grant.DeleteOneID(g.ID).Exec(ctx)
	})
}

func (s *Service) manageGrants(ctx context.Context, c *ent.Client, itemID int) (*access.Actor, *ent.OKRItem, error) {
	a, err := access.LoadActor(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	it, err := loadItem(ctx, c, itemID, "itemId")
	if err != nil {
		return nil, nil, err
	}
	r, err := Facts(ctx, c, it)
	if err != nil {
		return nil, nil, err
	}
	return a, it, s.Guard.Require(ctx, a.Input(authz.ActionOKRManageGrants, r))
}

// SetAlignmentRestrictedInput is the input of setAlignmentRestricted.
type SetAlignmentRestrictedInput struct {
	ID         int
	Restricted bool
}

// SetAlignmentRestricted restricts (or opens) alignment under an item; it
// is managed with the grants (okr.manage_grants).
func (s *Service) SetAlignmentRestricted(ctx context.Context, in SetAlignmentRestrictedInput) (*ent.OKRItem, error) {
	return s.updateItem(ctx, in.ID, "id", authz.ActionOKRManageGrants, func(_ *ent.Client, _ *access.Actor, it *ent.OKRItem) (*ent.OKRItemUpdateOne, error) {
		return it.Update().SetAlignmentRestricted(in.Restricted), nil
	}, nil)
}
