package okr

import (
	"context"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"

	"okrgraph/ent"
	"okrgraph/ent/checkin"
	"okrgraph/ent/okritem"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/store"
)

// CloseInput is the input of closeOKRItem.
type CloseInput struct {
	ID    int
	Score float64
	Note  *string
}

// Close closes an item with a 0-1 score and a note (okr.update). Its
// progress stays as it was, so rollups above it do not move.
func (s *Service) Close(ctx context.Context, in CloseInput) (*ent.OKRItem, error) {
	if !finite(in.Score) || in.Score < 0 || in.Score > 1 {
		return nil, apperr.BadInput("score", "score must be between 0 and 1")
	}
	if in.Note != nil {
		if n := utf8.RuneCountInString(*in.Note); n > MaxNote {
			return nil, apperr.BadInput("note", "note is %d characters long; the limit is %d", n, MaxNote)
		}
	}
	return s.updateItem(ctx, in.ID, "id", authz.ActionOKRUpdate, func(_ *ent.Client, _ *access.Actor, it *ent.OKRItem) (*ent.OKRItemUpdateOne, error) {
		if it.Status == okritem.StatusCLOSED {
			return nil, &apperr.Error{Code: apperr.CodeConflict, Field: "id", Message: "the item is already closed"}
		}
		upd := it.Update().
			SetStatus(okritem.StatusCLOSED).
			SetClosedAt(time.Now()).
			SetScore(in.Score)
		if in.Note != nil {
			upd.SetCloseNote(*in.Note)
		}
		return upd, nil
	}, nil)
}

// Reopen reopens a closed item (okr.update): its status returns to its
// latest check-in's, NOT_STARTED without one; the score and closing note
// are cleared.
func (s *Service) Reopen(ctx context.Context, id int) (*ent.OKRItem, error) {
	return s.updateItem(ctx, id, "id", authz.ActionOKRUpdate, func(c *ent.Client, _ *access.Actor, it *ent.OKRItem) (*ent.OKRItemUpdateOne, error) {
		if it.Status != okritem.StatusCLOSED {
			return nil, &apperr.Error{Code: apperr.CodeConflict, Field: "id", Message: "the item is not closed"}
		}
		status := okritem.StatusNOT_STARTED
		last, err := c.CheckIn.Query().Where(checkin.ItemID(it.ID)).Order(checkin.ByID(sql.OrderDesc())).First(ctx)
		switch {
		case err == nil:
			status = okritem.Status(last.Status)
		case !ent.IsNotFound(err):
			return nil, err
		}
		return it.Update().SetStatus(status).ClearClosedAt().ClearScore().SetCloseNote(""), nil
	}, nil)
}

// CloneInput is the input of cloneOKRItem.
type CloneInput struct {
	ID             int
	WithKeyResults *bool
	Title          *string
	TimePeriodID   graphql.Omittable[*int]
}

// Clone copies an objective, with its key results when asked, for the
// caller: anyone who can view it (okr.clone). The caller is the copy's
// creator, owner and check-in owner. The copy keeps the source's level and
// teams when the caller may create there (okr.create with the proposed
// facts); otherwise it is the caller's INDIVIDUAL objective. It is not
// aligned under anything, keeps the source's privacy but not its viewers,
// delegate, check-ins, comments or grants, and its key results start at
// their metrics' start values.
func (s *Service) Clone(ctx context.Context, in CloneInput) (*ent.OKRItem, error) {
	var title string
	if in.Title != nil {
		t, err := checkTitle(*in.Title)
		if err != nil {
			return nil, err
		}
		title = t
	}
	item, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.OKRItem, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return nil, err
		}
		src, err := loadItem(ctx, c, in.ID, "id")
		if err != nil {
			return nil, err
		}
		if src.Kind != okritem.KindOBJECTIVE {
			return nil, apperr.BadInput("id", "only objectives can be cloned; clone the key result's objective")
		}
		r, err := Facts(ctx, c, src)
		if err != nil {
			return nil, err
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRClone, r)); err != nil {
			return nil, err
		}
		period := src.TimePeriodID
		if in.TimePeriodID.IsSet() {
			if period = in.TimePeriodID.Value(); period != nil {
				if err := periodExists(ctx, c, *period); err != nil {
					return nil, err
				}
			}
		}
		if title == "" {
			title = src.Title
		}
		me := []int{a.UserID}
		proposed := authz.Resource{
			Kind:    okritem.KindOBJECTIVE.String(),
			Level:   src.Level.String(),
			Teams:   r.Teams,
			Owners:  access.IDs(me),
			Creator: access.ID(a.UserID),
			Private: src.Private,
		}
		level := src.Level
		var teams []int
		if d, _ := s.Guard.Decide(ctx, a.Input(authz.ActionOKRCreate, proposed)); d.Allow {
			if teams, err = src.QueryTeams().IDs(ctx); err != nil {
				return nil, err
			}
		} else {
			level = okritem.LevelINDIVIDUAL
			proposed.Level, proposed.Teams = level.String(), nil
			if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRCreate, proposed)); err != nil {
				return nil, err
			}
		}
		copyOf := func(from *ent.OKRItem) *ent.OKRItemCreate {
			current := from.MetricStart
			if from.Milestone {
				zero := 0.0
				current = &zero
			}
			return c.OKRItem.Create().
				SetKind(from.Kind).
				SetLevel(level).
				SetDescription(from.Description).
				SetCreatorID(a.UserID).
				SetOwnerOrder(me).
				AddOwnerIDs(me...).
				SetCheckinOwnerID(a.UserID).
				AddTeamIDs(teams...).
				SetPrivate(src.Private).
				SetNillableTimePeriodID(period).
				SetNillableMetricStart(from.MetricStart).
				SetNillableMetricTarget(from.MetricTarget).
				SetNillableMetricCurrent(current).
				SetUnit(from.Unit).
				SetMilestone(from.Milestone).
				SetProgressMode(from.ProgressMode).
				SetProgress(KeyResultProgress(from.Milestone, from.MetricStart, from.MetricTarget, current))
		}
		clone, err := copyOf(src).SetTitle(title).SetProgress(0).Save(ctx)
		if err != nil {
			return nil, err
		}
		if in.WithKeyResults == nil || !*in.WithKeyResults {
			return clone, nil
		}
		krs, err := c.OKRItem.Query().
			Where(okritem.ParentID(src.ID), okritem.KindEQ(okritem.KindKEY_RESULT)).
			Order(okritem.ByID()).
			All(ctx)
		if err != nil {
			return nil, err
		}
		if len(krs) == 0 {
			return clone, nil
		}
		creates := make([]*ent.OKRItemCreate, len(krs))
		for i, kr := range krs {
			creates[i] = copyOf(kr).SetTitle(kr.Title).SetParentID(clone.ID).SetNillableWeight(kr.Weight)
		}
		if err := c.OKRItem.CreateBulk(creates...).Exec(ctx); err != nil {
			return nil, err
		}
		if clone.ProgressMode == okritem.ProgressModeROLLUP {
			if err := rollupOne(ctx, c, clone.ID); err != nil {
				return nil, err
			}
		}
		return clone, nil
	})
	if err != nil {
		return nil, err
	}
	return s.Client.OKRItem.Get(ctx, item.ID)
}
