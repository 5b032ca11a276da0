package okr

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"okrgraph/ent"
	"okrgraph/ent/checkin"
	"okrgraph/ent/okritem"
	"okrgraph/ent/predicate"
	"okrgraph/ent/user"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/store"
)

// AddCommentInput is the input of addComment: exactly one of ItemID and
// CheckInID.
type AddCommentInput struct {
	ItemID    *int
	CheckInID *int
	Body      string
}

// AddComment comments on an item or one of its check-ins: anyone who may
// view the item (okr.comment).
func (s *Service) AddComment(ctx context.Context, in AddCommentInput) (*ent.Comment, error) {
	body := strings.TrimSpace(in.Body)
	if body == "" {
		return nil, apperr.BadInput("body", "a comment must not be empty")
	}
	if n := utf8.RuneCountInString(body); n > MaxNote {
		return nil, apperr.BadInput("body", "the comment is %d characters long; the limit is %d", n, MaxNote)
	}
	if (in.ItemID == nil) == (in.CheckInID == nil) {
		return nil, apperr.BadInput("itemId", "give exactly one of itemId and checkInId")
	}
	cm, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.Comment, error) {
		var cm *ent.Comment
		err := s.onItem(ctx, c, in.ItemID, in.CheckInID, func(a *access.Actor, it *ent.OKRItem, ci *ent.CheckIn) error {
			create := c.Comment.Create().SetAuthorID(a.UserID).SetItemID(it.ID).SetBody(body)
			if ci != nil {
				create.SetCheckinID(ci.ID)
			}
			var err error
			cm, err = create.Save(ctx)
			return err
		})
		return cm, err
	})
	if err != nil {
		return nil, err
	}
	return s.Client.Comment.Get(ctx, cm.ID)
}

// DeleteComment deletes a comment: its author (who may still comment on
// the item), or an org admin (org.manage).
func (s *Service) DeleteComment(ctx context.Context, id int) (int, error) {
	return store.InTx(ctx, s.Client, func(c *ent.Client) (int, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return 0, err
		}
		cm, err := c.Comment.Get(ctx, id)
		if ent.IsNotFound(err) {
			return 0, &apperr.Error{Code: apperr.CodeNotFound, Field: "id", Message: fmt.Sprintf("comment %d not found", id)}
		}
		if err != nil {
			return 0, err
		}
		if cm.AuthorID == a.UserID {
			it, err := loadItem(ctx, c, cm.ItemID, "id")
			if err != nil {
				return 0, err
			}
			r, err := Facts(ctx, c, it)
			if err != nil {
				return 0, err
			}
			if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRComment, r)); err != nil {
				return 0, err
			}
		} else if d, _ := s.Guard.Decide(ctx, a.Input(authz.ActionOrgManage, authz.Resource{})); !d.Allow {
			return 0, apperr.Forbidden("delete this comment", []string{"only its author and org admins may delete a comment"})
		}
		return cm.ID, c.Comment.DeleteOneID(cm.ID).Exec(ctx)
	})
}

// onItem loads the item (or the check-in and its item) the caller acts on
// socially, asks okr.comment, and runs fn.
func (s *Service) onItem(ctx context.Context, c *ent.Client, itemID, checkInID *int, fn func(a *access.Actor, it *ent.OKRItem, ci *ent.CheckIn) error) error {
	a, err := access.LoadActor(ctx, c)
	if err != nil {
		return err
	}
	var ci *ent.CheckIn
	field := "itemId"
	if checkInID != nil {
		if ci, err = c.CheckIn.Get(ctx, *checkInID); ent.IsNotFound(err) {
			return &apperr.Error{Code: apperr.CodeNotFound, Field: "checkInId", Message: fmt.Sprintf("check-in %d not found", *checkInID)}
		} else if err != nil {
			return err
		}
		itemID, field = &ci.ItemID, "checkInId"
	}
	it, err := loadItem(ctx, c, *itemID, field)
	if err != nil {
		return err
	}
	r, err := Facts(ctx, c, it)
	if err != nil {
		return err
	}
	if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRComment, r)); err != nil {
		return err
	}
	return fn(a, it, ci)
}

// LikeItem likes (or, with like false, unlikes) an item. Idempotent.
func (s *Service) LikeItem(ctx context.Context, id int, like bool) (*ent.OKRItem, error) {
	return s.setItemEdge(ctx, id, like, okritem.HasLikersWith,
		(*ent.UserUpdateOne).AddLikedItemIDs, (*ent.UserUpdateOne).RemoveLikedItemIDs)
}

// FollowItem follows (or, with follow false, unfollows) an item. Idempotent.
func (s *Service) FollowItem(ctx context.Context, id int, follow bool) (*ent.OKRItem, error) {
	return s.setItemEdge(ctx, id, follow, okritem.HasFollowersWith,
		(*ent.UserUpdateOne).AddFollowedItemIDs, (*ent.UserUpdateOne).RemoveFollowedItemIDs)
}

// setItemEdge puts the viewer on (or takes them off) one of an item's user
// edges, likers or followers, as the comment right allows.
func (s *Service) setItemEdge(ctx context.Context, id int, on bool,
	hasWith func(...predicate.User) predicate.OKRItem,
	add, remove func(*ent.UserUpdateOne, ...int) *ent.UserUpdateOne,
) (*ent.OKRItem, error) {
	_, err := store.InTx(ctx, s.Client, func(c *ent.Client) (struct{}, error) {
		return struct{}{}, s.onItem(ctx, c, &id, nil, func(a *access.Actor, it *ent.OKRItem, _ *ent.CheckIn) error {
			has, err := c.OKRItem.Query().Where(okritem.ID(it.ID), hasWith(user.ID(a.UserID))).Exist(ctx)
			if err != nil || has == on {
				return err
			}
			change := remove
			if on {
				change = add
			}
			return change(c.User.UpdateOneID(a.UserID), it.ID).Exec(ctx)
		})
	})
	if err != nil {
		return nil, err
	}
	return s.Client.OKRItem.Get(ctx, id)
}

// LikeCheckIn likes (or unlikes) a check-in; it returns the check-in and
// its item. Idempotent.
func (s *Service) LikeCheckIn(ctx context.Context, id int, like bool) (*ent.CheckIn, *ent.OKRItem, error) {
	_, err := store.InTx(ctx, s.Client, func(c *ent.Client) (struct{}, error) {
		return struct{}{}, s.onItem(ctx, c, nil, &id, func(a *access.Actor, _ *ent.OKRItem, ci *ent.CheckIn) error {
			has, err := c.CheckIn.Query().Where(checkin.ID(ci.ID), checkin.HasLikersWith(user.ID(a.UserID))).Exist(ctx)
			if err != nil || has == like {
				return err
			}
			upd := c.User.UpdateOneID(a.UserID)
			if like {
				return upd.AddLikedCheckinIDs(ci.ID).Exec(ctx)
			}
			return upd.RemoveLikedCheckinIDs(ci.ID).Exec(ctx)
		})
	})
	if err != nil {
		return nil, nil, err
	}
	ci, err := s.Client.CheckIn.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	it, err := s.Client.OKRItem.Get(ctx, ci.ItemID)
	return ci, it, err
}

// ItemLikers returns who liked the item; the likers of the whole page are
// loaded together on first use.
func (s *Service) ItemLikers(ctx context.Context, it *ent.OKRItem, page []*ent.OKRItem) ([]*ent.User, error) {
	return forPage(ctx, itemLikersKey{}, it, page, func(items []*ent.OKRItem) (map[int][]*ent.User, error) {
		ids := make([]int, len(items))
		for i, it := range items {
			ids[i] = it.ID
		}
		loaded, err := s.Client.OKRItem.Query().Where(okritem.IDIn(ids...)).Select(okritem.FieldID).WithLikers().All(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[int][]*ent.User, len(loaded))
		for _, l := range loaded {
			out[l.ID] = nonNil(l.Edges.Likers)
		}
		return out, nil
	})
}

// CheckInLikers returns who liked the check-in, by page like ItemLikers.
func (s *Service) CheckInLikers(ctx context.Context, ci *ent.CheckIn, page []*ent.CheckIn) ([]*ent.User, error) {
	return forPage(ctx, checkInLikersKey{}, ci, page, func(cis []*ent.CheckIn) (map[int][]*ent.User, error) {
		ids := make([]int, len(cis))
		for i, ci := range cis {
			ids[i] = ci.ID
		}
		loaded, err := s.Client.CheckIn.Query().Where(checkin.IDIn(ids...)).Select(checkin.FieldID).WithLikers().All(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[int][]*ent.User, len(loaded))
		for _, l := range loaded {
			out[l.ID] = nonNil(l.Edges.Likers)
		}
		return out, nil
	})
}

type (
	itemLikersKey    struct{}
	checkInLikersKey struct{}
)

func nonNil(us []*ent.User) []*ent.User {
	if us == nil {
		return []*ent.User{}
	}
	return us
}
