package okr_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"okrgraph/ent"
	"okrgraph/ent/grant"
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
