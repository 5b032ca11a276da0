package okr

import (
	"context"
	"time"

	"entgo.io/contrib/entgql"

	"okrgraph/ent"
	"okrgraph/ent/checkin"
	"okrgraph/ent/okritem"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/store"
)

// MaxNote bounds check-in notes, closing notes and comments.
const MaxNote = 10000

func init() {
	// An item's check-in history reads newest first unless the client
	// orders it otherwise.
	ent.DefaultCheckInOrder.Direction = entgql.OrderDirectionDesc
}

// CheckInInput is the input of checkIn.
type CheckInInput struct {
	ItemID     int
	Value      *float64
	Progress   *float64
	Status     *checkin.Status
	Confidence *int
	Note       *string
}

// CheckIn appends a check-in to an item's history. The check-in's value
// and status become the item's current ones, its progress is recomputed
// and so are its objectives' rollups. A key result's check-in without a
// value repeats the current value; a MANUAL objective's carries the new
// progress; a ROLLUP objective's records status, confidence and note.
func (s *Service) CheckIn(ctx context.Context, in CheckInInput) (*ent.CheckIn, *ent.OKRItem, error) {
	if err := checkCheckInInput(in); err != nil {
		return nil, nil, err
	}
	ci, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.CheckIn, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return nil, err
		}
		it, err := loadItem(ctx, c, in.ItemID, "itemId")
		if err != nil {
			return nil, err
		}
		if err := checkCheckInShape(it, in); err != nil {
			return nil, err
		}
		r, err := Facts(ctx, c, it)
		if err != nil {
			return nil, err
		}
		if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRCheckIn, r)); err != nil {
			return nil, err
		}
		// Lock the item and the ancestors its rollup reaches, then read
		// the item as locked: concurrent check-ins on one item queue here
		// and each sees the last one; check-ins elsewhere under the same
		// root meet only where their rollups do.
		t, err := lockRollupChain(ctx, c, a.OrgID, it.ID)
		if err != nil {
			return nil, err
		}
		if cur := t[it.ID]; cur != nil {
			it = cur
		}
		if it.Status == okritem.StatusCLOSED {
			return nil, &apperr.Error{Code: apperr.CodeConflict, Field: "itemId", Message: "the item is closed: reopen it before checking in"}
		}
		now := time.Now()
		value := in.Value
		progress := it.Progress
		switch {
		case it.Kind == okritem.KindKEY_RESULT:
			if value == nil {
				value = it.MetricCurrent
			}
			progress = KeyResultProgress(it.Milestone, it.MetricStart, it.MetricTarget, value)
		case in.Progress != nil:
			progress = *in.Progress
		}
		status := in.Status
		if status == nil {
			st := checkin.StatusON_TRACK
			if it.TimePeriodID != nil {
				tp, err := c.TimePeriod.Get(ctx, *it.TimePeriodID)
				if err != nil {
					return nil, err
				}
				st = checkin.Status(Band(progress, tp.StartsAt, tp.EndsAt, now))
			}
			status = &st
		}
		ci, err := c.CheckIn.Create().
			SetItemID(it.ID).
			SetAuthorID(a.UserID).
			SetNillableValue(value).
			SetProgress(progress).
			SetStatus(*status).
			SetNillableConfidence(in.Confidence).
			SetNillableNote(in.Note).
			SetCreatedAt(now).
			Save(ctx)
		if err != nil {
			return nil, err
		}
		// A plain UPDATE: no need to read the row back.
		upd := c.OKRItem.Update().Where(okritem.ID(it.ID)).
			SetStatus(okritem.Status(*status)).
			SetLastCheckinAt(now).
			SetProgress(progress)
		if it.Kind == okritem.KindKEY_RESULT {
			upd.SetNillableMetricCurrent(value)
		}
		if err := upd.Exec(ctx); err != nil {
			return nil, err
		}
		return ci, rollup(ctx, c, t, it.ParentID)
	})
	if err != nil {
		return nil, nil, err
	}
	item, err := s.Client.OKRItem.Get(ctx, ci.ItemID)
	return ci, item, err
}

// checkCheckInShape validates a check-in's value and progress against the
// kind of item.
func checkCheckInShape(it *ent.OKRItem, in CheckInInput) error {
	switch {
	case it.Kind == okritem.KindOBJECTIVE && in.Value != nil:
		return apperr.BadInput("value", "an objective has no value: check in on its key results, or give progress for a MANUAL objective")
	case in.Progress != nil && it.Kind == okritem.KindKEY_RESULT:
		return apperr.BadInput("progress", "a key result's progress comes from its value: give value")
	case in.Progress != nil && it.ProgressMode != okritem.ProgressModeMANUAL:
		return apperr.BadInput("progress", "this objective's progress rolls up from its children: set progressMode MANUAL to check in progress")
	case it.Milestone && in.Value != nil && *in.Value != 0 && *in.Value != 1:
		return apperr.BadInput("value", "a milestone's value is 0 or 1")
	}
	return nil
}
