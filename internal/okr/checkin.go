package okr

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"

	"entgo.io/contrib/entgql"

	"okrgraph/ent"
	"okrgraph/ent/checkin"
	"okrgraph/ent/okritem"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
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
//
// The actor, the item, its facts (Facts: two statements) and the
// policy decision are read before the transaction, so no row lock (and, on SQLite, not the single write
// slot) is held while they are gathered. The transaction then locks the
// item and the ROLLUP objectives above it up to the first key result or
// MANUAL objective (one statement, which also reads their time periods),
// re-checks the item as locked (closed, shape), reads the children of the
// locked objectives (one statement), inserts the check-in and writes the
// item and every objective of the chain with one UPDATE: four statements
// under lock. The payload is answered from what was written.
func (s *Service) CheckIn(ctx context.Context, in CheckInInput) (*ent.CheckIn, *ent.OKRItem, error) {
	if err := checkCheckInInput(in); err != nil {
		return nil, nil, err
	}
	a, err := access.LoadActor(ctx, s.Client)
	if err != nil {
		return nil, nil, err
	}
	it, err := loadItem(ctx, s.Client, in.ItemID, "itemId")
	if err != nil {
		return nil, nil, err
	}
	if err := checkCheckInShape(it, in); err != nil {
		return nil, nil, err
	}
	r, err := Facts(ctx, s.Client, it)
	if err != nil {
		return nil, nil, err
	}
	if err := s.Guard.Require(ctx, a.Input(authz.ActionOKRCheckIn, r)); err != nil {
		return nil, nil, err
	}
	type out struct {
		ci *ent.CheckIn
		it *ent.OKRItem
	}
	res, err := store.InTx(ctx, s.Client, func(c *ent.Client) (out, error) {
		// Lock the item and the ancestors its rollup reaches, then use
		// the item as locked: concurrent check-ins on one item queue here
		// and each sees the last one; check-ins elsewhere under the same
		// root meet only where their rollups do.
		t, err := lockRollupChain(ctx, c, a.OrgID, it.ID)
		for try := 0; err == nil && t.stale(it.ID) && try < 3; try++ {
			t, err = lockRollupChain(ctx, c, a.OrgID, it.ID)
		}
		if err != nil {
			return out{}, err
		}
		cur := t[it.ID]
		if cur == nil {
			return out{}, &apperr.Error{Code: apperr.CodeNotFound, Field: "itemId", Message: fmt.Sprintf("OKR item %d not found", it.ID)}
		}
		if cur.Status == okritem.StatusCLOSED {
			return out{}, &apperr.Error{Code: apperr.CodeConflict, Field: "itemId", Message: "the item is closed: reopen it before checking in"}
		}
		// The progress mode may have changed since the policy decided.
		if err := checkCheckInShape(cur, in); err != nil {
			return out{}, err
		}
		now := time.Now()
		value := in.Value
		progress := cur.Progress
		switch {
		case cur.Kind == okritem.KindKEY_RESULT:
			if value == nil {
				value = cur.MetricCurrent
			}
			progress = KeyResultProgress(cur.Milestone, cur.MetricStart, cur.MetricTarget, value)
		case in.Progress != nil:
			progress = *in.Progress
		}
		status := in.Status
		if status == nil {
			st := checkin.StatusON_TRACK
			if start, end, ok := lockedPeriod(cur); ok {
				st = checkin.Status(Band(progress, start, end, now))
			}
			status = &st
		}
		after := *cur
		after.Status = okritem.Status(*status)
		after.LastCheckinAt = &now
		after.Progress = progress
		after.UpdatedAt = now
		if cur.Kind == okritem.KindKEY_RESULT && value != nil {
			after.MetricCurrent = value
		}
		chain, err := rollupChain(ctx, c, t, &after, now)
		if err != nil {
			return out{}, err
		}
		ci, err := c.CheckIn.Create().
			SetItemID(cur.ID).
			SetAuthorID(a.UserID).
			SetNillableValue(value).
			SetProgress(progress).
			SetStatus(*status).
			SetNillableConfidence(in.Confidence).
			SetNillableNote(in.Note).
			SetCreatedAt(now).
			Save(ctx)
		if err != nil {
			return out{}, err
		}
		if err := writeCheckIn(ctx, c, &after, chain, now); err != nil {
			return out{}, err
		}
		return out{ci, &after}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return res.ci, res.it, nil
}

// writeCheckIn writes, in one UPDATE, item it's new status, last check-in
// time, progress and (a key result's) value, and the new progress and
// status of the objectives of its rollup chain.
func writeCheckIn(ctx context.Context, c *ent.Client, it *ent.OKRItem, chain []*ent.OKRItem, now time.Time) error {
	rows := append([]*ent.OKRItem{it}, chain...)
	ids := make([]int, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return c.OKRItem.Update().
		Where(okritem.IDIn(ids...)).
		SetUpdatedAt(now).
		Modify(func(u *sql.UpdateBuilder) {
			byID := make(map[int]float64, len(rows))
			for _, r := range rows {
				byID[r.ID] = r.Progress
			}
			u.Set(okritem.FieldProgress, progressByID(ids, func(id int) float64 { return byID[id] }))
			u.Set(okritem.FieldStatus, sql.ExprFunc(func(b *sql.Builder) {
				b.WriteString("CASE ").Ident(okritem.FieldID)
				for _, r := range rows {
					b.WriteString(" WHEN ").Arg(r.ID).WriteString(" THEN ").Arg(string(r.Status))
				}
				b.WriteString(" END")
			}))
			only := func(col string, v any) {
				u.Set(col, sql.ExprFunc(func(b *sql.Builder) {
					b.WriteString("CASE WHEN ").Ident(okritem.FieldID).WriteString(" = ").Arg(it.ID).WriteString(" THEN ")
					b.Arg(v).WriteString(" ELSE ").Ident(col).WriteString(" END")
				}))
			}
			only(okritem.FieldLastCheckinAt, now)
			if it.Kind == okritem.KindKEY_RESULT && it.MetricCurrent != nil {
				u.Set(okritem.FieldMetricCurrent, sql.ExprFunc(func(b *sql.Builder) {
					b.WriteString("CASE WHEN ").Ident(okritem.FieldID).WriteString(" = ").Arg(it.ID).
						WriteString(" THEN CAST(").Arg(*it.MetricCurrent).WriteString(" AS DOUBLE PRECISION) ELSE ").
						Ident(okritem.FieldMetricCurrent).WriteString(" END")
				}))
			}
		}).
		Exec(scope.System(ctx))
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
