package okr_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"okrgraph/ent"
	"okrgraph/ent/grant"
	"okrgraph/ent/okritem"
	"okrgraph/ent/team"
	"okrgraph/internal/authz"
	"okrgraph/internal/okr"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// TestItemFactsAgreeWithFacts: the two-statement facts of the check-in
// path equal Facts for every item of the demo organizations, once items
// have teams (a LISTED one with creators), viewers, grants of every kind,
// delegates, check-in owners and private parents.
func TestItemFactsAgreeWithFacts(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		c := e.App.DB.Client
		items, err := c.OKRItem.Query().Order(ent.Asc("id")).All(ctx)
		if err != nil || len(items) < 6 {
			t.Fatalf("demo items: %d, %v", len(items), err)
		}
		users, err := c.User.Query().Order(ent.Asc("id")).IDs(ctx)
		if err != nil || len(users) < 3 {
			t.Fatalf("demo users: %d, %v", len(users), err)
		}
		teams := map[int][]*ent.Team{}
		kinds := []grant.Kind{grant.KindEDIT, grant.KindCHECKIN, grant.KindALIGN}
		for i, it := range items {
			if teams[it.OrgID] == nil {
				listed := c.Team.Create().SetOrgID(it.OrgID).SetName("Listed | team").SetOkrCreation(team.OkrCreationLISTED).
					AddOkrCreatorIDs(users[0], users[1]).SaveX(ctx)
				open := c.Team.Create().SetOrgID(it.OrgID).SetName("Open").SaveX(ctx)
				teams[it.OrgID] = []*ent.Team{listed, open}
			}
			u := users[i%len(users)]
			upd := c.OKRItem.UpdateOneID(it.ID)
			switch i % 4 {
			case 0:
				upd.AddTeams(teams[it.OrgID]...).AddViewerIDs(u).SetPrivate(true).SetDelegateID(u).SetDelegateKeyResults(true)
			case 1:
				upd.AddTeams(teams[it.OrgID][0]).SetCheckinOwnerID(u)
			case 2:
				upd.AddViewerIDs(users[(i+1)%len(users)], u)
			}
			upd.ExecX(ctx)
			if i%3 != 2 {
				c.Grant.Create().SetOrgID(it.OrgID).SetItemID(it.ID).SetUserID(u).SetKind(kinds[i%3]).ExecX(ctx)
				c.Grant.Create().SetOrgID(it.OrgID).SetItemID(it.ID).SetUserID(users[(i+2)%len(users)]).SetKind(grant.KindALIGN).ExecX(ctx)
			}
		}
		items, err = c.OKRItem.Query().Order(ent.Asc("id")).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var withParent, withManagers, withTeams int
		for _, it := range items {
			want, err := okr.Facts(ctx, c, it)
			if err != nil {
				t.Fatal(err)
			}
			got, err := okr.ItemFacts(ctx, c, it)
			if err != nil {
				t.Fatal(err)
			}
			normalize(&want)
			normalize(&got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("item %d:\n got %+v\nwant %+v", it.ID, got, want)
			}
			if want.Parent != nil {
				withParent++
			}
			if len(want.OwnerManagers) > 0 {
				withManagers++
			}
			if len(want.Teams) > 0 {
				withTeams++
			}
		}
		if withParent == 0 || withManagers == 0 || withTeams == 0 {
			t.Fatalf("the data misses cases: %d with a parent, %d with owners' managers, %d with teams", withParent, withManagers, withTeams)
		}
	})
}

// normalize orders the sets of r (the policy reads them as sets).
func normalize(r *authz.Resource) {
	for _, s := range [][]string{r.Viewers, r.OwnerManagers, r.Grants.Edit, r.Grants.CheckIn, r.Grants.Align} {
		slices.Sort(s)
	}
	slices.SortFunc(r.Teams, func(a, b authz.Team) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	for i := range r.Teams {
		slices.Sort(r.Teams[i].Listed)
	}
	if r.Parent != nil {
		slices.Sort(r.Parent.AlignGrant)
	}
}

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
