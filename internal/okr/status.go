package okr

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"entgo.io/ent/dialect/sql"

	"okrgraph/ent"
	"okrgraph/ent/okritem"
	"okrgraph/internal/access"
	"okrgraph/internal/scope"
)

// ProgressStatus of an item now: its progress Band in its time period; nil
// without a period or once the item is closed. The request's time periods
// are loaded once, so a list of items costs one query.
func (s *Service) ProgressStatus(ctx context.Context, it *ent.OKRItem) (*ProgressStatus, error) {
	if it.TimePeriodID == nil || it.Status == okritem.StatusCLOSED {
		return nil, nil
	}
	periods, err := access.Memo(ctx, periodsKey{}, func() (map[int]*ent.TimePeriod, error) {
		tps, err := s.Client.TimePeriod.Query().All(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[int]*ent.TimePeriod, len(tps))
		for _, tp := range tps {
			out[tp.ID] = tp
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return statusIn(it, periods[*it.TimePeriodID], time.Now()), nil
}

// statusIn is the progress status of it at now in its period tp (nil when
// it has none or is closed).
func statusIn(it *ent.OKRItem, tp *ent.TimePeriod, now time.Time) *ProgressStatus {
	if tp == nil || it.TimePeriodID == nil || it.Status == okritem.StatusCLOSED {
		return nil
	}
	b := Band(it.Progress, tp.StartsAt, tp.EndsAt, now)
	return &b
}

type periodsKey struct{}

// followBand sets the status of the open ROLLUP objectives among ids to
// where their rolled-up progress stands: its band in the objective's time
// period, or ON_TRACK once it has progress when it has no period. One
// query, and one UPDATE per objective whose status changes.
func followBand(ctx context.Context, c *ent.Client, ids []int) error {
	if len(ids) == 0 {
		return nil
	}
	sys := scope.System(ctx)
	objs, err := c.OKRItem.Query().
		Where(okritem.IDIn(ids...), okritem.KindEQ(okritem.KindOBJECTIVE),
			okritem.ProgressModeEQ(okritem.ProgressModeROLLUP), okritem.StatusNEQ(okritem.StatusCLOSED)).
		WithTimePeriod().
		All(sys)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, o := range objs {
		var start, end time.Time
		tp := o.Edges.TimePeriod
		if tp != nil {
			start, end = tp.StartsAt, tp.EndsAt
		}
		st := bandStatus(o.Status, o.Progress, start, end, tp != nil, now)
		if st == o.Status {
			continue
		}
		if err := c.OKRItem.UpdateOneID(o.ID).SetStatus(st).Exec(sys); err != nil {
			return err
		}
	}
	return nil
}

// InheritPeriods gives every key result its objective's time period, for
// databases written before key results inherited it. One UPDATE; run at
// start after migrating.
func InheritPeriods(ctx context.Context, c *ent.Client) error {
	return c.OKRItem.Update().
		Where(okritem.KindEQ(okritem.KindKEY_RESULT), okritem.ParentIDNotNil(), func(s *sql.Selector) {
			s.Where(sql.P(func(b *sql.Builder) {
				b.WriteString("NOT EXISTS (SELECT 1 FROM okr_items p WHERE p.id = ").Ident(s.C(okritem.FieldParentID)).
					WriteString(" AND (p.time_period_id = ").Ident(s.C(okritem.FieldTimePeriodID)).
					WriteString(" OR (p.time_period_id IS NULL AND ").Ident(s.C(okritem.FieldTimePeriodID)).WriteString(" IS NULL)))")
			}))
		}).
		Modify(func(u *sql.UpdateBuilder) {
			u.Set(okritem.FieldTimePeriodID, sql.Expr("(SELECT p.time_period_id FROM okr_items p WHERE p.id = okr_items.parent_id)"))
		}).
		Exec(scope.System(ctx))
}

// MarshalGQL writes the status as a GraphQL enum value.
func (p ProgressStatus) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(p)))
}

// UnmarshalGQL reads a GraphQL enum value.
func (p *ProgressStatus) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("progress status %v is not a string", v)
	}
	switch ProgressStatus(s) {
	case ProgressOnTrack, ProgressBehind, ProgressAtRisk:
		*p = ProgressStatus(s)
		return nil
	}
	return fmt.Errorf("%q is not a valid ProgressStatus", s)
}
