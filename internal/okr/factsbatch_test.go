package okr_test

import (
	"context"
	"reflect"
	"testing"

	"okrgraph/ent"
	"okrgraph/internal/okr"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// TestFactsBatchBeyondBindLimits: one facts read of 70,000 items (more ids
// than either database takes bind parameters, were there one per id)
// answers, and describes a real item among them as a read of it alone.
func TestFactsBatchBeyondBindLimits(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		c := e.App.DB.Client
		real, err := c.OKRItem.Query().First(ctx)
		testenv.Must(t, err)
		items := []*ent.OKRItem{real}
		for i := range 70_000 {
			// Ids no item has (ent's are positive), with parents and owners
			// that are not there either.
			parent := -1 - i%500
			items = append(items, &ent.OKRItem{ID: -100_000 - i, OrgID: real.OrgID, ParentID: &parent, OwnerOrder: []int{-1 - i%300}})
		}
		all, err := okr.FactsBatch(ctx, c, items)
		testenv.Must(t, err)
		if len(all) != len(items) {
			t.Fatalf("%d descriptions for %d items", len(all), len(items))
		}
		alone, err := okr.Facts(ctx, c, real)
		testenv.Must(t, err)
		if !reflect.DeepEqual(all[real.ID], alone) {
			t.Errorf("item %d among 70,000: %+v, alone: %+v", real.ID, all[real.ID], alone)
		}
	})
}
