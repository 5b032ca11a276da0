package graph_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"okrgraph/ent"
	"okrgraph/ent/membership"
	"okrgraph/ent/okritem"
	"okrgraph/internal/access"
	"okrgraph/internal/authz"
	"okrgraph/internal/okr"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// TestPrivateFilterAgreesWithPolicy generates a population of members and
// items (random roles, managers, owners, delegates, check-in owners,
// viewers, private objectives and their key results) and checks, for every
// (user, item) pair, that the SQL filter behind the okrs connection shows
// exactly the items the policy's okr.view decision allows.
func TestPrivateFilterAgreesWithPolicy(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		db := e.App.DB.Client
		rng := rand.New(rand.NewPCG(7, 11))
		orgID := mustOrg(t, e)
		users, err := db.Membership.Query().Where(membership.OrgID(orgID)).Select(membership.FieldUserID).Ints(ctx)
		testenv.Must(t, err)
		for i := range 18 {
			u, err := db.User.Create().SetEmail(fmt.Sprintf("p%d@acme.example", i)).SetIssuer("local").SetSub(fmt.Sprintf("p%d@acme.example", i)).Save(ctx)
			testenv.Must(t, err)
			roles := []membership.Role{membership.RoleMEMBER, membership.RoleMEMBER, membership.RoleADMIN, membership.RoleOWNER}
			_, err = db.Membership.Create().SetOrgID(orgID).SetUserID(u.ID).SetRole(roles[rng.IntN(len(roles))]).SetObserver(rng.IntN(8) == 0).Save(ctx)
			testenv.Must(t, err)
			users = append(users, u.ID)
		}
		pick := func() int { return users[rng.IntN(len(users))] }
		var objectives []*ent.OKRItem
		for i := range 120 {
			owners := []int{pick()}
			if rng.IntN(3) == 0 {
				if o := pick(); o != owners[0] {
					owners = append(owners, o)
				}
			}
			c := db.OKRItem.Create().SetOrgID(orgID).SetLevel(okritem.LevelINDIVIDUAL).SetTitle(fmt.Sprintf("gen %d", i)).
				SetCreatorID(pick()).SetOwnerOrder(owners).AddOwnerIDs(owners...).SetCheckinOwnerID(pick())
			if rng.IntN(3) == 0 {
				c.SetDelegateID(pick())
			}
			isKR := len(objectives) > 0 && rng.IntN(3) == 0
			if isKR {
				parent := objectives[rng.IntN(len(objectives))]
				c.SetKind(okritem.KindKEY_RESULT).SetParentID(parent.ID).SetPrivate(parent.Private)
			} else {
				c.SetKind(okritem.KindOBJECTIVE).SetPrivate(rng.IntN(2) == 0)
			}
			for range rng.IntN(3) {
				if v := pick(); v != owners[0] {
					c.AddViewerIDs(v)
				}
			}
			it, err := c.Save(ctx)
			if err != nil && ent.IsConstraintError(err) {
				continue // the same viewer picked twice
			}
			testenv.Must(t, err)
			if !isKR {
				objectives = append(objectives, it)
			}
		}
		items, err := db.OKRItem.Query().All(ctx)
		testenv.Must(t, err)
		facts, err := okr.FactsBatch(ctx, db, items)
		testenv.Must(t, err)
		// A generous deadline: this checks agreement, not speed, on a loaded machine.
		engine, err := authz.NewEngine(authz.WithTimeout(10 * time.Second))
		testenv.Must(t, err)

		privateSeen, pairs := 0, 0
		for _, u := range users {
			usr, err := db.User.Get(ctx, u)
			testenv.Must(t, err)
			var out struct {
				Okrs struct {
					TotalCount int
					Edges      []struct{ Node struct{ ID string } }
				} `json:"okrs"`
			}
			e.As(*usr.Email, "acme").MustDo(t, `{ okrs(first: 1000) { totalCount edges { node { id } } } }`, nil, &out)
			visible := map[int]bool{}
			for _, ed := range out.Okrs.Edges {
				visible[atoi(t, ed.Node.ID)] = true
			}
			if out.Okrs.TotalCount != len(visible) {
				t.Errorf("user %d: totalCount %d but %d edges", u, out.Okrs.TotalCount, len(visible))
			}
			actor, err := access.LoadActor(scope.With(context.Background(), scope.Scope{UserID: u, OrgID: orgID}), db)
			testenv.Must(t, err)
			for _, it := range items {
				d, err := engine.Decide(context.Background(), actor.Input(authz.ActionOKRView, facts[it.ID]))
				testenv.Must(t, err)
				pairs++
				if it.Private && d.Allow {
					privateSeen++
				}
				if d.Allow != visible[it.ID] {
					t.Errorf("user %d, item %d (private %v, kind %s): policy allows %v, SQL shows %v (%v)",
						u, it.ID, it.Private, it.Kind, d.Allow, visible[it.ID], d.Reasons)
				}
			}
		}
		if privateSeen == 0 {
			t.Fatal("the population has no private item anyone may see: it proves nothing")
		}
		t.Logf("%s: %d (user, item) pairs agree; %d private pairs visible", e.Backend, pairs, privateSeen)
	})
}
