package access_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"okrgraph/ent/membership"
	"okrgraph/ent/organization"
	"okrgraph/internal/access"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// TestCallerFactsMatchTheData: for every member of the demo org, the
// actor read with the identity (LoadCaller) equals the actor read afresh
// (LoadActor) and the facts computed here from the rows one by one:
// role, observer, reports down the whole reporting line (direct ones
// apart), team roles, and the org's listed creators that are members.
func TestCallerFactsMatchTheData(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		c := e.App.DB.Client
		acme := c.Organization.Query().Where(organization.Slug("acme")).OnlyX(ctx)
		ms := c.Membership.Query().Where(membership.OrgID(acme.ID)).WithUser().AllX(ctx)
		// A listed creator who is no member of acme must not show.
		outsider := c.User.Create().SetName("Outsider").SetIssuer("local").SetSub("outsider").SaveX(ctx)
		c.Organization.UpdateOne(acme).AddOkrCreatorIDs(ms[1].UserID, ms[3].UserID, outsider.ID).ExecX(ctx)

		for _, m := range ms {
			u := m.Edges.User
			caller, err := access.LoadCaller(ctx, c, *u.Issuer, *u.Sub, "acme", time.Now())
			testenv.Must(t, err)
			a := caller.Actor
			if a == nil || caller.OrgID != acme.ID || caller.User.ID != u.ID {
				t.Fatalf("%s: caller %+v", u.Name, caller)
			}
			fresh, err := access.LoadActor(scope.With(context.Background(), scope.Scope{UserID: u.ID, OrgID: acme.ID}), c)
			testenv.Must(t, err)
			if !reflect.DeepEqual(a, fresh) {
				t.Fatalf("%s: identity's actor %+v\nfresh actor %+v", u.Name, a, fresh)
			}

			// Independently: the reporting line, level by level.
			var direct, all []string
			level := []int{m.ID}
			for depth := 1; len(level) > 0; depth++ {
				var next []int
				for _, r := range ms {
					if r.ManagerID != nil && slices.Contains(level, *r.ManagerID) {
						next = append(next, r.ID)
						all = append(all, access.ID(r.UserID))
						if depth == 1 {
							direct = append(direct, access.ID(r.UserID))
						}
					}
				}
				level = next
			}
			slices.Sort(direct)
			slices.Sort(all)
			got := slices.Sorted(slices.Values(a.Subject.Reports))
			if !slices.Equal(got, orNone(all)) || !slices.Equal(slices.Sorted(slices.Values(a.Subject.DirectReports)), orNone(direct)) {
				t.Fatalf("%s: reports %v direct %v, want %v and %v", u.Name, a.Subject.Reports, a.Subject.DirectReports, all, direct)
			}
			teams := map[string]string{}
			for _, tm := range u.QueryTeamMemberships().AllX(ctx) {
				teams[access.ID(tm.TeamID)] = tm.Role.String()
			}
			if !reflect.DeepEqual(a.Subject.TeamRoles, teams) {
				t.Fatalf("%s: team roles %v, want %v", u.Name, a.Subject.TeamRoles, teams)
			}
			if a.Subject.Role != m.Role.String() || a.Subject.Observer != m.Observer || a.Subject.PerformanceAdmin != m.PerformanceAdmin {
				t.Fatalf("%s: subject %+v, membership %+v", u.Name, a.Subject, m)
			}
			listed := []string{access.ID(ms[1].UserID), access.ID(ms[3].UserID)}
			slices.Sort(listed)
			if !slices.Equal(slices.Sorted(slices.Values(a.Org.OKRCreationListed)), listed) || a.Org.OKRCreation != acme.OkrCreation.String() || a.Org.TeamCreation != acme.TeamCreation.String() {
				t.Fatalf("%s: org facts %+v", u.Name, a.Org)
			}
		}
		if len(ms) < 10 {
			t.Fatalf("demo org has %d members", len(ms))
		}
	})
}

func orNone(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
