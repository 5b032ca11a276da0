package okr_test

import (
	"context"
	"testing"

	"okrgraph/ent/okritem"
	"okrgraph/internal/okr"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// TestRollupChainLock: the check-in lock takes the item and the ROLLUP
// objectives above it up to the first MANUAL objective (which is locked
// only as an item checked in on), and a chain that
// misses an objective its rollup reaches is seen as stale (the check-in
// then locks again).
func TestRollupChainLock(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		c := e.App.DB.Client
		first, err := c.OKRItem.Query().First(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mk := func(kind okritem.Kind, mode okritem.ProgressMode, parent *int) int {
			return c.OKRItem.Create().SetOrgID(first.OrgID).SetCreatorID(first.CreatorID).SetTitle("chain").SetOwnerOrder([]int{first.CreatorID}).
				SetKind(kind).SetLevel(okritem.LevelINDIVIDUAL).SetProgressMode(mode).SetNillableParentID(parent).
				SaveX(ctx).ID
		}
		root := mk(okritem.KindOBJECTIVE, okritem.ProgressModeROLLUP, nil)
		manual := mk(okritem.KindOBJECTIVE, okritem.ProgressModeMANUAL, &root)
		mid := mk(okritem.KindOBJECTIVE, okritem.ProgressModeROLLUP, &manual)
		kr := mk(okritem.KindKEY_RESULT, okritem.ProgressModeROLLUP, &mid)
		for _, tc := range []struct {
			name            string
			id, drop, locks int
			stale           bool
		}{
			{"key result up to the MANUAL objective", kr, 0, 2, false},
			{"the MANUAL objective and the ROLLUP root", manual, 0, 2, false},
			{"the root alone", root, 0, 1, false},
			{"a missing ROLLUP parent", kr, mid, 1, true},
		} {
			n, stale, err := okr.LockRollupChainStale(ctx, c, first.OrgID, tc.id, tc.drop)
			if err != nil || n != tc.locks || stale != tc.stale {
				t.Errorf("%s: locked %d, stale %v, err %v; want %d, %v", tc.name, n, stale, err, tc.locks, tc.stale)
			}
		}
	})
}
