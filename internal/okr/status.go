package okr

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"okrgraph/ent"
	"okrgraph/ent/okritem"
	"okrgraph/internal/access"
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
	tp := periods[*it.TimePeriodID]
	if tp == nil {
		return nil, nil
	}
	b := Band(it.Progress, tp.StartsAt, tp.EndsAt, time.Now())
	return &b, nil
}

type periodsKey struct{}

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
