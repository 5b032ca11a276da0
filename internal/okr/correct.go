package okr

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"entgo.io/contrib/entgql"

	"okrgraph/ent"
	"okrgraph/ent/activity"
	"okrgraph/ent/checkin"
	"okrgraph/ent/comment"
	"okrgraph/ent/okritem"
	"okrgraph/ent/schema/change"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/store"
)

func init() {
	// An item's activity reads newest first unless the client orders it
	// otherwise.
	ent.DefaultActivityOrder.Direction = entgql.OrderDirectionDesc
}

// UpdateCheckInInput is the input of updateCheckIn: omitted fields keep
// their value.
type UpdateCheckInInput struct {
	ID         int
	Value      *float64
	Progress   *float64
	Status     *checkin.Status
	Confidence *int
	Note       *string
}

// UpdateCheckIn corrects a check-in (okr.checkin.update). The item's
// current value, status and progress follow its latest check-in, its
// objectives' rollups follow, and the correction is kept in the item's
// activity.
func (s *Service) UpdateCheckIn(ctx context.Context, in UpdateCheckInInput) (*ent.CheckIn, *ent.OKRItem, error) {
	if err := checkCheckInInput(CheckInInput{Value: in.Value, Progress: in.Progress, Status: in.Status, Confidence: in.Confidence, Note: in.Note}); err != nil {
		return nil, nil, err
	}
	type out struct {
		ci *ent.CheckIn
		it *ent.OKRItem
	}
	res, err := store.InTx(ctx, s.Client, func(c *ent.Client) (out, error) {
		a, ci, it, t, err := s.lockCheckIn(ctx, c, in.ID, authz.ActionOKRCheckInUpdate)
		if err != nil {
			return out{}, err
		}
		if err := checkCheckInShape(it, CheckInInput{Value: in.Value, Progress: in.Progress}); err != nil {
			return out{}, err
		}
		upd := ci.Update().SetEditedAt(time.Now())
		after := *ci
		if in.Value != nil {
			upd.SetValue(*in.Value)
			after.Value = in.Value
		}
		switch {
		case it.Kind == okritem.KindKEY_RESULT && in.Value != nil:
			after.Progress = KeyResultProgress(it.Milestone, it.MetricStart, it.MetricTarget, in.Value)
		case in.Progress != nil:
			after.Progress = *in.Progress
		}
		upd.SetProgress(after.Progress)
		if in.Status != nil {
			upd.SetStatus(*in.Status)
			after.Status = *in.Status
		}
		if in.Confidence != nil {
			upd.SetConfidence(*in.Confidence)
			after.Confidence = in.Confidence
		}
		if in.Note != nil {
			upd.SetNote(*in.Note)
			after.Note = *in.Note
		}
		changes := checkInChanges(ci, &after)
		if len(changes) == 0 {
			return out{ci, it}, nil
		}
		saved, err := upd.Save(ctx)
		if err != nil {
			return out{}, err
		}
		if err := recordActivity(ctx, c, a, it.ID, activity.KindCHECKIN_CORRECTED, &ci.ID, changes); err != nil {
			return out{}, err
		}
		if err := followLatest(ctx, c, t, it); err != nil {
			return out{}, err
		}
		return out{saved, it}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	item, err := s.Client.OKRItem.Get(ctx, res.it.ID)
	return res.ci, item, err
}

// DeleteCheckIn deletes a check-in and its comments (okr.checkin.delete).
// The item follows its latest remaining check-in; the deletion is kept in
// its activity. It returns the item as it is after.
func (s *Service) DeleteCheckIn(ctx context.Context, id int) (*ent.OKRItem, error) {
	itemID, err := store.InTx(ctx, s.Client, func(c *ent.Client) (int, error) {
		a, ci, it, t, err := s.lockCheckIn(ctx, c, id, authz.ActionOKRCheckInDelete)
		if err != nil {
			return 0, err
		}
		if _, err := c.Comment.Delete().Where(comment.CheckinID(ci.ID)).Exec(ctx); err != nil {
			return 0, err
		}
		if err := c.CheckIn.DeleteOne(ci).Exec(ctx); err != nil {
			return 0, err
		}
		if err := recordActivity(ctx, c, a, it.ID, activity.KindCHECKIN_DELETED, &ci.ID, checkInChanges(ci, nil)); err != nil {
			return 0, err
		}
		return it.ID, followLatest(ctx, c, t, it)
	})
	if err != nil {
		return nil, err
	}
	return s.Client.OKRItem.Get(ctx, itemID)
}

// lockCheckIn loads check-in id and its item, asks the policy for action
// on them, and locks the item and its ancestors (see CheckIn).
func (s *Service) lockCheckIn(ctx context.Context, c *ent.Client, id int, action string) (*access.Actor, *ent.CheckIn, *ent.OKRItem, tree, error) {
	a, err := access.LoadActor(ctx, c)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ci, err := c.CheckIn.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, nil, nil, nil, &apperr.Error{Code: apperr.CodeNotFound, Field: "id", Message: fmt.Sprintf("check-in %d not found", id)}
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	it, err := loadItem(ctx, c, ci.ItemID, "id")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	r, err := Facts(ctx, c, it)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	age := int64(time.Since(ci.CreatedAt) / time.Second)
	r.CheckIn = &authz.CheckInFacts{ID: access.ID(ci.ID), Author: access.ID(ci.AuthorID), AgeSeconds: max(age, 0)}
	if err := s.Guard.Require(ctx, a.Input(action, r)); err != nil {
		return nil, nil, nil, nil, err
	}
	t, err := lockTree(ctx, c, a.OrgID, false, it.ID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if cur := t[it.ID]; cur != nil {
		it = cur
	}
	if it.Status == okritem.StatusCLOSED {
		return nil, nil, nil, nil, &apperr.Error{Code: apperr.CodeConflict, Field: "id", Message: "the item is closed: reopen it before correcting its check-ins"}
	}
	return a, ci, it, t, nil
}

// followLatest makes item it (locked in t) follow its latest check-in:
// its value (key results), progress (key results and MANUAL objectives),
// status and last check-in time; without check-ins, a key result is back
// at its metric start and the item NOT_STARTED. Its objectives' rollups
// follow.
func followLatest(ctx context.Context, c *ent.Client, t tree, it *ent.OKRItem) error {
	latest, err := c.CheckIn.Query().
		Where(checkin.ItemID(it.ID)).
		Order(checkin.ByCreatedAt(), checkin.ByID()).
		All(ctx)
	if err != nil {
		return err
	}
	upd := c.OKRItem.UpdateOneID(it.ID)
	if len(latest) == 0 {
		upd.SetStatus(okritem.StatusNOT_STARTED).ClearLastCheckinAt()
		switch {
		case it.Kind == okritem.KindKEY_RESULT:
			upd.SetNillableMetricCurrent(it.MetricStart).SetProgress(0)
			if it.MetricStart == nil {
				upd.ClearMetricCurrent()
			}
		case it.ProgressMode == okritem.ProgressModeMANUAL:
			upd.SetProgress(0)
		}
	} else {
		l := latest[len(latest)-1]
		upd.SetStatus(okritem.Status(l.Status)).SetLastCheckinAt(l.CreatedAt)
		switch {
		case it.Kind == okritem.KindKEY_RESULT:
			upd.SetNillableMetricCurrent(l.Value).
				SetProgress(KeyResultProgress(it.Milestone, it.MetricStart, it.MetricTarget, l.Value))
		case it.ProgressMode == okritem.ProgressModeMANUAL:
			upd.SetProgress(l.Progress)
		}
	}
	if err := upd.Exec(ctx); err != nil {
		return err
	}
	return rollup(ctx, c, t, it.ParentID)
}

// recordActivity appends an entry to item itemID's activity.
func recordActivity(ctx context.Context, c *ent.Client, a *access.Actor, itemID int, kind activity.Kind, checkInID *int, changes []change.Change) error {
	return c.Activity.Create().
		SetItemID(itemID).
		SetActorID(a.UserID).
		SetKind(kind).
		SetNillableCheckinID(checkInID).
		SetChanges(changes).
		Exec(ctx)
}

// checkInChanges lists the fields of check-in before that differ in after
// (nil: deleted, every field goes).
func checkInChanges(before, after *ent.CheckIn) []change.Change {
	var out []change.Change
	add := func(field string, b, a *string) {
		if (b == nil) != (a == nil) || (b != nil && *b != *a) {
			out = append(out, change.Change{Field: field, Before: b, After: a})
		}
	}
	field := func(name string, f func(*ent.CheckIn) *string) {
		var afterV *string
		if after != nil {
			afterV = f(after)
		}
		add(name, f(before), afterV)
	}
	field("value", func(ci *ent.CheckIn) *string { return floatText(ci.Value) })
	field("progress", func(ci *ent.CheckIn) *string { return floatText(&ci.Progress) })
	field("status", func(ci *ent.CheckIn) *string { return text(string(ci.Status)) })
	field("confidence", func(ci *ent.CheckIn) *string {
		if ci.Confidence == nil {
			return nil
		}
		return text(strconv.Itoa(*ci.Confidence))
	})
	field("note", func(ci *ent.CheckIn) *string { return text(ci.Note) })
	return out
}

func floatText(v *float64) *string {
	if v == nil {
		return nil
	}
	s := strconv.FormatFloat(*v, 'g', -1, 64)
	return &s
}

// text is s, or nil when empty.
func text(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// checkCheckInInput validates the values of a check-in or correction.
func checkCheckInInput(in CheckInInput) error {
	if in.Value != nil && !finite(*in.Value) {
		return apperr.BadInput("value", "value must be a finite number")
	}
	if in.Progress != nil && (!finite(*in.Progress) || *in.Progress < 0 || *in.Progress > 1) {
		return apperr.BadInput("progress", "progress must be between 0 and 1")
	}
	if in.Confidence != nil && (*in.Confidence < 0 || *in.Confidence > 10) {
		return apperr.BadInput("confidence", "confidence must be between 0 and 10")
	}
	if in.Status != nil {
		if err := checkin.StatusValidator(*in.Status); err != nil {
			return apperr.BadInput("status", "invalid status %q", *in.Status)
		}
	}
	if in.Note != nil {
		if n := utf8.RuneCountInString(*in.Note); n > MaxNote {
			return apperr.BadInput("note", "note is %d characters long; the limit is %d", n, MaxNote)
		}
	}
	return nil
}

// itemChanges lists the fields of an item that differ between before and
// after, for its activity: the fields people set (title, level, owners,
// delegate, check-in owner, privacy, parent, period, metric, status,
// closing...), not the ones the server derives (progress, timestamps).
func itemChanges(before, after *ent.OKRItem) []change.Change {
	var out []change.Change
	add := func(field string, b, a *string) {
		if (b == nil) != (a == nil) || (b != nil && *b != *a) {
			out = append(out, change.Change{Field: field, Before: b, After: a})
		}
	}
	id := func(p *int) *string {
		if p == nil {
			return nil
		}
		return text(access.ID(*p))
	}
	ids := func(v []int) *string {
		s := ""
		for i, x := range v {
			if i > 0 {
				s += ","
			}
			s += access.ID(x)
		}
		return text(s)
	}
	flag := func(v bool) *string { return text(strconv.FormatBool(v)) }
	tm := func(t *time.Time) *string {
		if t == nil {
			return nil
		}
		return text(t.UTC().Format(time.RFC3339))
	}
	add("title", text(before.Title), text(after.Title))
	add("description", text(before.Description), text(after.Description))
	add("level", text(string(before.Level)), text(string(after.Level)))
	add("owners", ids(before.OwnerOrder), ids(after.OwnerOrder))
	add("parent", id(before.ParentID), id(after.ParentID))
	add("timePeriod", id(before.TimePeriodID), id(after.TimePeriodID))
	add("private", flag(before.Private), flag(after.Private))
	add("weight", floatText(before.Weight), floatText(after.Weight))
	add("metricStart", floatText(before.MetricStart), floatText(after.MetricStart))
	add("metricTarget", floatText(before.MetricTarget), floatText(after.MetricTarget))
	add("metricCurrent", floatText(before.MetricCurrent), floatText(after.MetricCurrent))
	add("unit", text(before.Unit), text(after.Unit))
	add("milestone", flag(before.Milestone), flag(after.Milestone))
	add("progressMode", text(string(before.ProgressMode)), text(string(after.ProgressMode)))
	add("dataLink", text(before.DataLink), text(after.DataLink))
	add("status", text(string(before.Status)), text(string(after.Status)))
	add("closedAt", tm(before.ClosedAt), tm(after.ClosedAt))
	add("score", floatText(before.Score), floatText(after.Score))
	add("closeNote", text(before.CloseNote), text(after.CloseNote))
	add("alignmentRestricted", flag(before.AlignmentRestricted), flag(after.AlignmentRestricted))
	add("delegate", id(before.DelegateID), id(after.DelegateID))
	add("delegateKeyResults", flag(before.DelegateKeyResults), flag(after.DelegateKeyResults))
	add("notifyOwner", flag(before.NotifyOwner), flag(after.NotifyOwner))
	add("checkinOwner", id(before.CheckinOwnerID), id(after.CheckinOwnerID))
	return out
}

// recordItemChange appends an UPDATED entry to the item's activity when
// before and after differ.
func recordItemChange(ctx context.Context, c *ent.Client, a *access.Actor, before, after *ent.OKRItem) error {
	changes := itemChanges(before, after)
	if len(changes) == 0 {
		return nil
	}
	return recordActivity(ctx, c, a, after.ID, activity.KindUPDATED, nil, changes)
}
