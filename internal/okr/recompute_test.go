package okr_test

import (
	"context"
	"testing"
	"time"

	"okrgraph/ent/okritem"
	"okrgraph/internal/okr"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// TestSeededRollupStatusFollowsBand: the demo data is rolled up by
// RecomputeAll, which gives every open ROLLUP objective whose progress it
// set the status of its band, as a check-in would (the demo's company
// objective used to show NOT_STARTED at 34%).
func TestSeededRollupStatusFollowsBand(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		objs, err := e.App.DB.Client.OKRItem.Query().
			Where(okritem.KindEQ(okritem.KindOBJECTIVE), okritem.ProgressModeEQ(okritem.ProgressModeROLLUP),
				okritem.StatusNEQ(okritem.StatusCLOSED), okritem.ProgressGT(0), okritem.TimePeriodIDNotNil()).
			WithTimePeriod().
			All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) == 0 {
			t.Fatal("the demo data has no rolled-up objective with progress and a period")
		}
		now := time.Now()
		for _, o := range objs {
			tp := o.Edges.TimePeriod
			if want := okr.Band(o.Progress, tp.StartsAt, tp.EndsAt, now); string(o.Status) != string(want) {
				t.Errorf("objective %q at %.0f%%: status %s, its band is %s", o.Title, 100*o.Progress, o.Status, want)
			}
		}
	})
}
