package okr

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"okrgraph/ent"
	"okrgraph/ent/timeperiod"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
	"okrgraph/internal/store"
)

// MaxDataLink bounds data links.
const MaxDataLink = 2000

// SetDataLinkInput is the input of setDataLink.
type SetDataLinkInput struct {
	ID       int
	DataLink string
}

// SetDataLink sets where an item's value comes from, an http(s) URL ("" to
// clear it); it is a check-in right (okr.checkin).
func (s *Service) SetDataLink(ctx context.Context, in SetDataLinkInput) (*ent.OKRItem, error) {
	link := strings.TrimSpace(in.DataLink)
	if utf8.RuneCountInString(link) > MaxDataLink {
		return nil, apperr.BadInput("dataLink", "dataLink is longer than %d characters", MaxDataLink)
	}
	if link != "" {
		if u, err := url.Parse(link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, apperr.BadInput("dataLink", "dataLink must be an http or https URL")
		}
	}
	return s.updateItem(ctx, in.ID, "id", authz.ActionOKRCheckIn, func(_ *ent.Client, _ *access.Actor, it *ent.OKRItem) (*ent.OKRItemUpdateOne, error) {
		return it.Update().SetDataLink(link), nil
	}, nil)
}

// SetWeightsInput is the input of setWeights.
type SetWeightsInput struct {
	ParentID int
	Weights  []*ChildWeight
}

// ChildWeight is one child's new weight; nil returns it to an even split.
type ChildWeight struct {
	ID     int
	Weight *float64
}

// SetWeights sets the weights of children of one objective together
// (okr.update on the objective: weights are part of its rollup). The
// weights of all its children must not sum to 0.
func (s *Service) SetWeights(ctx context.Context, in SetWeightsInput) (*ent.OKRItem, error) {
	if len(in.Weights) == 0 {
		return nil, apperr.BadInput("weights", "give at least one weight")
	}
	seen := map[int]bool{}
	for _, w := range in.Weights {
		if seen[w.ID] {
			return nil, apperr.BadInput("weights", "item %d is listed twice", w.ID)
		}
		seen[w.ID] = true
		if w.Weight != nil && (!finite(*w.Weight) || *w.Weight < 0 || *w.Weight > MaxWeight) {
			return nil, apperr.BadInput("weights", "weight must be between 0 and %d", MaxWeight)
		}
	}
	_, err := store.InTx(ctx, s.Client, func(c *ent.Client) (struct{}, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return struct{}{}, err
		}
		parent, err := loadItem(ctx, c, in.ParentID, "parentId")
		if err != nil {
			return struct{}{}, err
		}
		r, err := Facts(ctx, c, parent)
		if err != nil {
			return struct{}{}, err
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRUpdate, r)); err != nil {
			return struct{}{}, err
		}
		t, err := lockTree(ctx, c, a.OrgID, true, parent.ID)
		if err != nil {
			return struct{}{}, err
		}
		weights := map[int]*float64{}
		for _, it := range t {
			if it.ParentID != nil && *it.ParentID == parent.ID {
				weights[it.ID] = it.Weight
			}
		}
		for _, w := range in.Weights {
			if _, ok := weights[w.ID]; !ok {
				return struct{}{}, &apperr.Error{Code: apperr.CodeNotFound, Field: "weights", Message: fmt.Sprintf("item %d is not a child of item %d", w.ID, parent.ID)}
			}
			weights[w.ID] = w.Weight
		}
		sum := 0.0
		for _, w := range weights {
			if w == nil {
				sum++
			} else {
				sum += *w
			}
		}
		if sum <= 0 {
			return struct{}{}, apperr.BadInput("weights", "the weights of the children of item %d would sum to 0 and cannot be normalised", parent.ID)
		}
		for _, w := range in.Weights {
			upd := c.OKRItem.UpdateOneID(w.ID)
			if w.Weight == nil {
				upd.ClearWeight()
			} else {
				upd.SetWeight(*w.Weight)
			}
			if err := upd.Exec(scope.System(ctx)); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, rollup(ctx, c, t, &parent.ID)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.OKRItem.Get(ctx, in.ParentID)
}

// ClosePeriod closes a time period (org.manage); its items are no longer
// due check-ins. Closing a closed period changes nothing.
func (s *Service) ClosePeriod(ctx context.Context, id int) (*ent.TimePeriod, error) {
	_, err := store.InTx(ctx, s.Client, func(c *ent.Client) (struct{}, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return struct{}{}, err
		}
		if err := periodExists(ctx, c, id); err != nil {
			return struct{}{}, err
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionOrgManage, authz.Resource{})); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, c.TimePeriod.Update().Where(timeperiod.ID(id)).SetClosed(true).Exec(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.TimePeriod.Get(ctx, id)
}
