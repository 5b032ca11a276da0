package graph_test

import (
	"encoding/json"
	"slices"
	"testing"

	"okrgraph/internal/testenv"
)

// forbiddenWith checks that r is a FORBIDDEN carrying reason.
func forbiddenWith(t *testing.T, r *testenv.Response, reason string) {
	t.Helper()
	if r.Code() != "FORBIDDEN" {
		t.Fatalf("want FORBIDDEN %q, got %s %+v", reason, r.Code(), r.Errors)
	}
	reasons, _ := r.Errors[0].Extensions["reasons"].([]any)
	for _, got := range reasons {
		if got == reason {
			return
		}
	}
	t.Fatalf("want reason %q, got %v", reason, reasons)
}

// failsWith checks that r failed with code.
func failsWith(t *testing.T, r *testenv.Response, code string) {
	t.Helper()
	if r.Code() != code {
		t.Fatalf("want %s, got %q %+v (data %s)", code, r.Code(), r.Errors, r.Data)
	}
}

// data decodes r's data, failing on errors.
func data[T any](t *testing.T, r *testenv.Response) T {
	t.Helper()
	var v T
	r.Decode(t, &v)
	return v
}

const itemState = `query($id: ID!) { node(id: $id) { ... on OKRItem { level private owners { email } teams { name } timePeriod { id } } } }`

type itemNode struct {
	Node *struct {
		Level      string
		Private    bool
		Owners     []struct{ Email string }
		Teams      []struct{ Name string }
		TimePeriod *struct{ ID string } `json:"timePeriod"`
	}
}

func state(t *testing.T, c *testenv.Client, id string) itemNode {
	t.Helper()
	return data[itemNode](t, c.Do(t, itemState, map[string]any{"id": id}))
}

// A member may not raise an item to a level they may not create at: the
// change is decided as okr.create at the new level (org setting ADMINS,
// team setting TEAM_OWNERS), and nothing changes.
func TestLevelChangeIsDecidedAsCreate(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia, steve := e.As("olivia", "acme"), e.As("steve", "acme")
		olivia.MustDo(t, `mutation { updateOrganization(input: {okrCreation: ADMINS}) { organization { id } } }`, nil, new(any))
		team := data[struct {
			CreateTeam struct{ Team struct{ ID string } } `json:"createTeam"`
		}](t, olivia.Do(t, `mutation { createTeam(input: {name: "Owners only", okrCreation: TEAM_OWNERS}) { team { id } } }`, nil)).CreateTeam.Team.ID
		it := mustCreate(t, steve, map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Mine"})

		const upd = `mutation($in: UpdateOKRItemInput!) { updateOKRItem(input: $in) { item { id level } } }`
		forbiddenWith(t, steve.Do(t, upd, map[string]any{"in": map[string]any{"id": it.ID, "level": "ORGANIZATION"}}),
			"only org admins may create organization OKRs")
		forbiddenWith(t, steve.Do(t, upd, map[string]any{"in": map[string]any{"id": it.ID, "level": "TEAM", "teamIds": []string{team}}}),
			`only team owners may create OKRs in team "Owners only"`)
		if s := state(t, steve, it.ID); s.Node.Level != "INDIVIDUAL" || len(s.Node.Teams) != 0 {
			t.Fatalf("refused level change wrote: %+v", s.Node)
		}
		// An org admin may.
		olivia.MustDo(t, upd, map[string]any{"in": map[string]any{"id": it.ID, "level": "ORGANIZATION"}}, new(any))
		if s := state(t, steve, it.ID); s.Node.Level != "ORGANIZATION" {
			t.Fatalf("admin's level change not written: %+v", s.Node)
		}
	})
}

// A team ADMIN manages MEMBER and ADMIN team roles only: they cannot make
// themselves (or anyone) OWNER, nor demote or remove the team's owner.
func TestTeamAdminCannotTouchOwners(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia, steve := e.As("olivia", "acme"), e.As("steve", "acme")
		team := data[struct {
			CreateTeam struct{ Team struct{ ID string } } `json:"createTeam"`
		}](t, olivia.Do(t, `mutation { createTeam(input: {name: "Squad"}) { team { id } } }`, nil)).CreateTeam.Team.ID
		steveID, marthaID, samID := e.UserID(t, "steve"), e.UserID(t, "martha"), e.UserID(t, "sam")
		const set = `mutation($t: ID!, $u: ID!, $r: TeamMembershipRole) { setTeamMember(input: {teamId: $t, userId: $u, role: $r}) { teamMembership { role } } }`
		olivia.MustDo(t, set, map[string]any{"t": team, "u": steveID, "r": "ADMIN"}, new(any))
		olivia.MustDo(t, set, map[string]any{"t": team, "u": marthaID, "r": "OWNER"}, new(any))

		const msg = `team admins may not make, demote or remove an owner of team "Squad"`
		forbiddenWith(t, steve.Do(t, set, map[string]any{"t": team, "u": steveID, "r": "OWNER"}), msg)
		forbiddenWith(t, steve.Do(t, set, map[string]any{"t": team, "u": samID, "r": "OWNER"}), msg)
		forbiddenWith(t, steve.Do(t, set, map[string]any{"t": team, "u": marthaID, "r": "MEMBER"}), msg)
		forbiddenWith(t, steve.Do(t, `mutation($t: ID!, $u: ID!) { removeTeamMember(input: {teamId: $t, userId: $u}) { deletedId } }`,
			map[string]any{"t": team, "u": marthaID}), msg)
		// Nothing was written; MEMBER and ADMIN roles stay manageable.
		steve.MustDo(t, set, map[string]any{"t": team, "u": samID, "r": "ADMIN"}, new(any))
		roles := teamRoles(t, olivia, team)
		want := map[string]string{"olivia@acme.example": "OWNER", "steve@acme.example": "ADMIN", "martha@acme.example": "OWNER", "sam@acme.example": "ADMIN"}
		if len(roles) != len(want) {
			t.Fatalf("roles %v, want %v", roles, want)
		}
		for k, v := range want {
			if roles[k] != v {
				t.Fatalf("roles %v, want %v", roles, want)
			}
		}
	})
}

func teamRoles(t *testing.T, c *testenv.Client, team string) map[string]string {
	t.Helper()
	out := data[struct {
		Node struct {
			Memberships struct {
				Edges []struct {
					Node struct {
						Role string
						User struct{ Email string }
					}
				}
			}
		}
	}](t, c.Do(t, `query($id: ID!) { node(id: $id) { ... on Team { memberships(first: 100) { edges { node { role user { email } } } } } } }`, map[string]any{"id": team}))
	roles := map[string]string{}
	for _, m := range out.Node.Memberships.Edges {
		roles[m.Node.User.Email] = m.Node.Role
	}
	return roles
}

// A key result moved under a private objective becomes private (its title
// and check-ins disappear for others) and takes the objective's period.
func TestKeyResultTakesObjectivePrivacyWhenMoved(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		martha, steve, olivia := e.As("martha", "acme"), e.As("steve", "acme"), e.As("olivia", "acme")
		period := data[struct {
			CreateTimePeriod struct{ TimePeriod struct{ ID string } } `json:"createTimePeriod"`
		}](t, olivia.Do(t, `mutation { createTimePeriod(input: {name: "Q3", startsAt: "2027-07-01T00:00:00Z", endsAt: "2027-09-30T00:00:00Z"}) { timePeriod { id } } }`, nil)).CreateTimePeriod.TimePeriod.ID
		public := mustCreate(t, martha, map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Public"})
		secret := mustCreate(t, martha, map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Secret", "private": true, "timePeriodId": period})
		kr := mustCreate(t, martha, map[string]any{"kind": "KEY_RESULT", "level": "INDIVIDUAL", "title": "Hire two", "parentId": public.ID})
		if s := state(t, steve, kr.ID); s.Node == nil {
			t.Fatal("steve should see the public key result")
		}
		martha.MustDo(t, `mutation($in: UpdateOKRItemInput!) { updateOKRItem(input: $in) { item { id } } }`,
			map[string]any{"in": map[string]any{"id": kr.ID, "parentId": secret.ID}}, new(any))
		if r := steve.Do(t, itemState, map[string]any{"id": kr.ID}); r.Code() != "NOT_FOUND" {
			t.Fatalf("the moved key result is still visible to steve: %s %s", r.Code(), r.Data)
		}
		s := state(t, martha, kr.ID)
		if !s.Node.Private || s.Node.TimePeriod == nil || s.Node.TimePeriod.ID != period {
			t.Fatalf("moved key result: %+v, want private in period %s", s.Node, period)
		}
		// A key result's own period is its objective's.
		failsWith(t, martha.Do(t, `mutation($in: UpdateOKRItemInput!) { updateOKRItem(input: $in) { item { id } } }`,
			map[string]any{"in": map[string]any{"id": kr.ID, "timePeriodId": nil}}), "BAD_USER_INPUT")
	})
}

// An edit grantee may edit but not replace the owners (nor set the
// delegate, check-in owner or grants), so the owner keeps control.
func TestEditGranteeCannotTakeOver(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		martha, steve := e.As("martha", "acme"), e.As("steve", "acme")
		it := mustCreate(t, martha, map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Grow"})
		steveID := e.UserID(t, "steve")
		martha.MustDo(t, `mutation($i: ID!, $u: ID!) { grantAccess(input: {itemId: $i, userId: $u, kind: EDIT}) { grant { id } } }`,
			map[string]any{"i": it.ID, "u": steveID}, new(any))
		const upd = `mutation($in: UpdateOKRItemInput!) { updateOKRItem(input: $in) { item { id } } }`
		steve.MustDo(t, upd, map[string]any{"in": map[string]any{"id": it.ID, "title": "Grow more"}}, new(any))
		forbiddenWith(t, steve.Do(t, upd, map[string]any{"in": map[string]any{"id": it.ID, "ownerIds": []string{steveID}}}),
			"an edit grant does not allow to change the owners of this OKR")
		forbiddenWith(t, steve.Do(t, `mutation($i: ID!, $u: ID!) { grantAccess(input: {itemId: $i, userId: $u, kind: EDIT}) { grant { id } } }`,
			map[string]any{"i": it.ID, "u": e.UserID(t, "sam")}), "an edit grant does not allow to manage the grants of this OKR")
		if s := state(t, martha, it.ID); len(s.Node.Owners) != 1 || s.Node.Owners[0].Email != "martha@acme.example" {
			t.Fatalf("owners changed: %+v", s.Node.Owners)
		}
		// The owner can still revoke.
		martha.MustDo(t, `mutation($i: ID!, $u: ID!) { revokeAccess(input: {itemId: $i, userId: $u, kind: EDIT}) { deletedId } }`,
			map[string]any{"i": it.ID, "u": steveID}, new(any))
	})
}

func membershipID(t *testing.T, c *testenv.Client, email string) string {
	t.Helper()
	out := data[struct {
		Members struct {
			Edges []struct {
				Node struct {
					ID   string
					User struct{ Email string }
				}
			}
		}
	}](t, c.Do(t, `{ members(first: 100) { edges { node { id user { email } } } } }`, nil))
	for _, ed := range out.Members.Edges {
		if ed.Node.User.Email == email {
			return ed.Node.ID
		}
	}
	t.Fatalf("no membership of %s", email)
	return ""
}

// Offboarding: only org admins remove members; the removed member's next
// request is refused while their items stay and can be reassigned; the
// last owner can neither be removed nor leave; anyone else may leave.
func TestRemoveMemberAndLeave(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia, steve, martha := e.As("olivia", "acme"), e.As("steve", "acme"), e.As("martha", "acme")
		it := mustCreate(t, steve, map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Steve's"})
		const remove = `mutation($id: ID!) { removeMember(id: $id) { deletedId } }`
		steveM, oliviaM := membershipID(t, olivia, "steve@acme.example"), membershipID(t, olivia, "olivia@acme.example")

		forbiddenWith(t, martha.Do(t, remove, map[string]any{"id": steveM}), "only org admins may manage members and roles")
		failsWith(t, olivia.Do(t, remove, map[string]any{"id": oliviaM}), "CONFLICT")
		failsWith(t, olivia.Do(t, `mutation { leaveOrganization { deletedId } }`, nil), "CONFLICT")
		if membershipID(t, olivia, "olivia@acme.example") != oliviaM {
			t.Fatal("the last owner's membership changed")
		}

		olivia.MustDo(t, remove, map[string]any{"id": steveM}, new(any))
		if r := steve.Do(t, `{ okrs { totalCount } }`, nil); r.Code() != "NOT_FOUND" && r.Code() != "FORBIDDEN" {
			t.Fatalf("a removed member still reads the org: %s %s", r.Code(), r.Data)
		}
		failsWith(t, steve.Do(t, `mutation { leaveOrganization { deletedId } }`, nil), "NOT_FOUND")
		// The item stays (its former owner is no longer listed among the
		// org's users) and an admin reassigns it.
		if s := state(t, olivia, it.ID); s.Node == nil || len(s.Node.Owners) != 0 {
			t.Fatalf("the removed member's item: %+v", s.Node)
		}
		olivia.MustDo(t, `mutation($in: UpdateOKRItemInput!) { updateOKRItem(input: $in) { item { id } } }`,
			map[string]any{"in": map[string]any{"id": it.ID, "ownerIds": []string{e.UserID(t, "sam")}}}, new(any))
		if s := state(t, olivia, it.ID); len(s.Node.Owners) != 1 || s.Node.Owners[0].Email != "sam@acme.example" {
			t.Fatalf("reassigned item: %+v", s.Node)
		}

		// A member leaves; so does a second owner once there is one.
		martha.MustDo(t, `mutation { leaveOrganization { deletedId } }`, nil, new(any))
		failsWith(t, martha.Do(t, `{ okrs { totalCount } }`, nil), "NOT_FOUND")
		adamM := membershipID(t, olivia, "adam@acme.example")
		olivia.MustDo(t, `mutation($id: ID!) { updateMember(input: {id: $id, role: OWNER}) { membership { id } } }`, map[string]any{"id": adamM}, new(any))
		olivia.MustDo(t, `mutation { leaveOrganization { deletedId } }`, nil, new(any))
	})
}

// deleteTeam: team owners and org admins; the team's OKRs stay.
func TestDeleteTeam(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia, steve, martha := e.As("olivia", "acme"), e.As("steve", "acme"), e.As("martha", "acme")
		team := data[struct {
			CreateTeam struct{ Team struct{ ID string } } `json:"createTeam"`
		}](t, olivia.Do(t, `mutation { createTeam(input: {name: "Temp"}) { team { id } } }`, nil)).CreateTeam.Team.ID
		const set = `mutation($t: ID!, $u: ID!, $r: TeamMembershipRole) { setTeamMember(input: {teamId: $t, userId: $u, role: $r}) { teamMembership { role } } }`
		olivia.MustDo(t, set, map[string]any{"t": team, "u": e.UserID(t, "steve"), "r": "ADMIN"}, new(any))
		olivia.MustDo(t, set, map[string]any{"t": team, "u": e.UserID(t, "martha"), "r": "OWNER"}, new(any))
		it := mustCreate(t, martha, map[string]any{"kind": "OBJECTIVE", "level": "TEAM", "title": "Team goal", "teamIds": []string{team}})
		const del = `mutation($id: ID!) { deleteTeam(id: $id) { deletedId } }`
		forbiddenWith(t, steve.Do(t, del, map[string]any{"id": team}), `only team owners and org admins may delete team "Temp"`)
		if len(teamRoles(t, olivia, team)) != 3 { // the creator, steve and martha
			t.Fatal("refused deleteTeam wrote")
		}
		martha.MustDo(t, del, map[string]any{"id": team}, new(any))
		if r := olivia.Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": team}); r.Code() != "NOT_FOUND" && !slices.Equal(r.Data, json.RawMessage(`{"node":null}`)) {
			t.Fatalf("deleted team still answers: %s %s", r.Code(), r.Data)
		}
		if s := state(t, olivia, it.ID); s.Node == nil || len(s.Node.Teams) != 0 {
			t.Fatalf("the team's item: %+v", s.Node)
		}
	})
}

// A tenant rule on creation covers level changes: with the shipped
// "organization objectives are the owners' job" policy active, a member
// cannot raise their own objective to the organization level.
func TestTenantCreateRuleCoversLevelChange(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam, steve := e.As("adam", "acme"), e.As("steve", "acme")
		v := savePolicy(t, adam, example(t, "org-objectives-owners-only"), "owners only")
		mustActivate(t, adam, "activatePolicy", v.ID)
		it := mustCreate(t, steve, map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Mine"})
		r := steve.Do(t, `mutation($in: UpdateOKRItemInput!) { updateOKRItem(input: $in) { item { id } } }`,
			map[string]any{"in": map[string]any{"id": it.ID, "level": "ORGANIZATION"}})
		forbiddenWith(t, r, "only organization owners may create organization-level objectives")
		if s := state(t, steve, it.ID); s.Node.Level != "INDIVIDUAL" {
			t.Fatalf("refused level change wrote: %+v", s.Node)
		}
	})
}
