package graph_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"okrgraph/internal/testenv"
)

const createItem = `mutation($in: CreateOKRItemInput!) {
  createOKRItem(input: $in) { item { id kind level title creator { email } owners { email } teams { name } parent { id } checkinOwner { email } } }
}`

type item struct {
	ID           string
	Kind         string
	Level        string
	Title        string
	Creator      struct{ Email string }
	Owners       []struct{ Email string }
	Teams        []struct{ Name string }
	Parent       *struct{ ID string }
	CheckinOwner *struct{ Email string } `json:"checkinOwner"`
}

func mustCreate(t *testing.T, c *testenv.Client, in map[string]any) item {
	t.Helper()
	var out struct {
		CreateOKRItem struct{ Item item } `json:"createOKRItem"`
	}
	c.MustDo(t, createItem, map[string]any{"in": in}, &out)
	return out.CreateOKRItem.Item
}

func countItems(t *testing.T, c *testenv.Client) int {
	t.Helper()
	var out struct {
		Okrs struct{ TotalCount int } `json:"okrs"`
	}
	c.MustDo(t, `{ okrs { totalCount } }`, nil, &out)
	return out.Okrs.TotalCount
}

func teamID(t *testing.T, c *testenv.Client, name string) string {
	t.Helper()
	var out struct {
		Teams struct {
			Edges []struct{ Node struct{ ID, Name string } }
		} `json:"teams"`
	}
	c.MustDo(t, `query($n: String!) { teams(where: {name: $n}) { edges { node { id name } } } }`, map[string]any{"n": name}, &out)
	if len(out.Teams.Edges) != 1 {
		t.Fatalf("team %q: %d found", name, len(out.Teams.Edges))
	}
	return out.Teams.Edges[0].Node.ID
}

func TestDemoTokensActAsDifferentUsers(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		for who, role := range map[string]string{"olivia": "OWNER", "adam": "ADMIN", "steve": "MEMBER"} {
			var out struct {
				Viewer struct {
					User        struct{ Email string }
					Membership  struct{ Role string }
					Memberships []struct{ Organization struct{ Slug string } }
				}
				Organization struct{ Slug string }
			}
			e.As(who, "acme").MustDo(t, `{ viewer { user { email } membership { role } memberships { organization { slug } } } organization { slug } }`, nil, &out)
			if out.Viewer.User.Email != who+"@acme.example" || out.Viewer.Membership.Role != role || out.Organization.Slug != "acme" {
				t.Errorf("%s: got %+v", who, out)
			}
			if len(out.Viewer.Memberships) != 1 || out.Viewer.Memberships[0].Organization.Slug != "acme" {
				t.Errorf("%s memberships: %+v", who, out.Viewer.Memberships)
			}
		}
	})
}

func TestAuthentication(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		for name, c := range map[string]*testenv.Client{
			"no token": e.WithToken("", "acme"),
			"garbage":  e.WithToken("not-a-jwt", "acme"),
			"forged":   e.WithToken(strings.Replace(e.Token("steve@acme.example"), ".", ".x", 1), "acme"),
		} {
			r := c.Do(t, `{ viewer { user { id } } }`, nil)
			if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
				t.Errorf("%s: status %d code %q", name, r.Status, r.Code())
			}
		}
		// A first request provisions the user; an org they are not in is NOT_FOUND.
		r := e.As("newcomer@example.com", "acme").Do(t, `{ viewer { user { email } } }`, nil)
		if r.Code() != "NOT_FOUND" {
			t.Errorf("non-member X-Org: status %d code %q", r.Status, r.Code())
		}
		var out struct {
			Viewer struct{ User struct{ Email string } }
		}
		e.As("newcomer@example.com", "").MustDo(t, `{ viewer { user { email } } }`, nil, &out)
		if out.Viewer.User.Email != "newcomer@example.com" {
			t.Errorf("provisioned user: %+v", out)
		}
	})
}

func TestOrganizationLifecycle(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		founder := e.As("founder@globex.example", "")
		var org struct {
			CreateOrganization struct {
				Organization struct{ ID, Slug string }
			} `json:"createOrganization"`
		}
		founder.MustDo(t, `mutation { createOrganization(input: {name: "Globex", slug: "globex"}) { organization { id slug } } }`, nil, &org)
		c := e.As("founder@globex.example", "globex")
		var me struct {
			Viewer struct{ Membership struct{ Role string } }
		}
		c.MustDo(t, `{ viewer { membership { role } } }`, nil, &me)
		if me.Viewer.Membership.Role != "OWNER" {
			t.Fatalf("creator role = %q, want OWNER", me.Viewer.Membership.Role)
		}
		if r := founder.Do(t, `mutation { createOrganization(input: {name: "Again", slug: "globex"}) { organization { id } } }`, nil); r.Code() != "CONFLICT" {
			t.Errorf("duplicate slug: %q", r.Code())
		}

		var added struct {
			AddMember struct {
				Membership struct {
					ID   string
					Role string
					User struct{ Email string }
				}
			} `json:"addMember"`
		}
		c.MustDo(t, `mutation { addMember(input: {email: "hank@globex.example", name: "Hank", role: ADMIN}) { membership { id role user { email } } } }`, nil, &added)
		if added.AddMember.Membership.Role != "ADMIN" || added.AddMember.Membership.User.Email != "hank@globex.example" {
			t.Fatalf("addMember: %+v", added)
		}
		var worker struct {
			AddMember struct{ Membership struct{ ID string } } `json:"addMember"`
		}
		c.MustDo(t, `mutation($m: ID!) { addMember(input: {email: "wanda@globex.example", managerId: $m}) { membership { id } } }`, map[string]any{"m": added.AddMember.Membership.ID}, &worker)

		var team struct {
			CreateTeam struct{ Team struct{ ID, Name string } } `json:"createTeam"`
		}
		c.MustDo(t, `mutation { createTeam(input: {name: "Research", okrCreation: TEAM_MEMBERS}) { team { id name } } }`, nil, &team)
		hank := e.UserID(t, "hank@globex.example")
		var tm struct {
			SetTeamMember struct{ TeamMembership struct{ Role string } } `json:"setTeamMember"`
		}
		c.MustDo(t, `mutation($t: ID!, $u: ID!) { setTeamMember(input: {teamId: $t, userId: $u, role: ADMIN}) { teamMembership { role } } }`,
			map[string]any{"t": team.CreateTeam.Team.ID, "u": hank}, &tm)
		if tm.SetTeamMember.TeamMembership.Role != "ADMIN" {
			t.Errorf("team role: %+v", tm)
		}
		var tp struct {
			CreateTimePeriod struct{ TimePeriod struct{ Name string } } `json:"createTimePeriod"`
		}
		c.MustDo(t, `mutation { createTimePeriod(input: {name: "Q2 2027", startsAt: "2027-04-01T00:00:00Z", endsAt: "2027-07-01T00:00:00Z"}) { timePeriod { name } } }`, nil, &tp)

		// Nothing of Globex is visible from Acme, and vice versa.
		var acme struct {
			Teams   struct{ TotalCount int } `json:"teams"`
			Members struct{ TotalCount int } `json:"members"`
		}
		e.As("olivia", "acme").MustDo(t, `{ teams { totalCount } members { totalCount } }`, nil, &acme)
		if acme.Teams.TotalCount != 4 || acme.Members.TotalCount != 12 {
			t.Errorf("acme sees %+v", acme)
		}
		r := e.As("olivia", "acme").Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": team.CreateTeam.Team.ID})
		if len(r.Errors) == 0 || r.Code() != "NOT_FOUND" && !strings.Contains(string(r.Data), `"node":null`) {
			t.Errorf("cross-org node: %s %+v", r.Data, r.Errors)
		}
	})
}

func TestOKRItemCreateUpdateDelete(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		steve := e.As("steve", "acme")
		martha := e.UserID(t, "martha")
		obj := mustCreate(t, steve, map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Grow the spring pipeline", "ownerIds": []string{martha}})
		if obj.Creator.Email != "steve@acme.example" || len(obj.Owners) != 1 || obj.Owners[0].Email != "martha@acme.example" || obj.CheckinOwner == nil || obj.CheckinOwner.Email != "martha@acme.example" {
			t.Fatalf("creator/owner: %+v", obj)
		}
		kr := mustCreate(t, steve, map[string]any{"kind": "KEY_RESULT", "level": "INDIVIDUAL", "title": "Book 40 demos", "parentId": obj.ID, "metricStart": 0, "metricTarget": 40})
		if kr.Parent == nil || kr.Parent.ID != obj.ID {
			t.Fatalf("key result parent: %+v", kr)
		}
		sales := teamID(t, steve, "Sales")
		marketing := teamID(t, steve, "Marketing")
		shared := mustCreate(t, e.As("sam", "acme"), map[string]any{"kind": "OBJECTIVE", "level": "TEAM", "title": "Shared launch", "teamIds": []string{sales, marketing}})
		if len(shared.Teams) != 2 {
			t.Fatalf("shared teams: %+v", shared)
		}
		// The shared item appears in each team's list.
		for _, tid := range []string{sales, marketing} {
			var out struct{ Okrs struct{ TotalCount int } }
			steve.MustDo(t, `query($t: ID!) { okrs(where: {hasTeamsWith: {id: $t}}) { totalCount } }`, map[string]any{"t": tid}, &out)
			if out.Okrs.TotalCount < 1 {
				t.Errorf("team %s list misses the shared item", tid)
			}
		}
		var upd struct {
			UpdateOKRItem struct {
				Item struct {
					Title  string
					Owners []struct{ Email string }
				}
			} `json:"updateOKRItem"`
		}
		steveID := e.UserID(t, "steve")
		steve.MustDo(t, `mutation($id: ID!, $o: [ID!]) { updateOKRItem(input: {id: $id, title: "Grow the pipeline", ownerIds: $o}) { item { title owners { email } } } }`,
			map[string]any{"id": obj.ID, "o": []string{martha, steveID}}, &upd)
		if upd.UpdateOKRItem.Item.Title != "Grow the pipeline" || len(upd.UpdateOKRItem.Item.Owners) != 2 || upd.UpdateOKRItem.Item.Owners[0].Email != "martha@acme.example" {
			t.Fatalf("update: %+v", upd)
		}
		before := countItems(t, steve)
		var del struct {
			DeleteOKRItem struct{ DeletedID string } `json:"deleteOKRItem"`
		}
		steve.MustDo(t, `mutation($id: ID!) { deleteOKRItem(id: $id) { deletedId } }`, map[string]any{"id": obj.ID}, &del)
		if del.DeleteOKRItem.DeletedID != obj.ID {
			t.Errorf("deleted id %q", del.DeleteOKRItem.DeletedID)
		}
		if after := countItems(t, steve); after != before-2 {
			t.Errorf("delete removed %d items, want the objective and its key result", before-after)
		}
	})
}

// TestBadInput: every row is refused with a clear code and writes nothing.
func TestBadInput(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia := e.As("olivia", "acme")
		obj := mustCreate(t, olivia, map[string]any{"kind": "OBJECTIVE", "level": "ORGANIZATION", "title": "Parent"})
		child := mustCreate(t, olivia, map[string]any{"kind": "OBJECTIVE", "level": "ORGANIZATION", "title": "Child", "parentId": obj.ID})
		kr := mustCreate(t, olivia, map[string]any{"kind": "KEY_RESULT", "level": "ORGANIZATION", "title": "KR", "parentId": obj.ID})
		// Another org's team id.
		var other struct {
			CreateTeam struct{ Team struct{ ID string } } `json:"createTeam"`
		}
		e.As("boss@initech.example", "").MustDo(t, `mutation { createOrganization(input: {name: "Initech", slug: "initech"}) { organization { id } } }`, nil, &struct{}{})
		e.As("boss@initech.example", "initech").MustDo(t, `mutation { createTeam(input: {name: "TPS"}) { team { id } } }`, nil, &other)

		var members struct {
			Members struct {
				Edges []struct {
					Node struct {
						ID   string
						User struct{ Email string }
					}
				}
			} `json:"members"`
		}
		olivia.MustDo(t, `{ members(first: 50) { edges { node { id user { email } } } } }`, nil, &members)
		mid := map[string]string{}
		for _, ed := range members.Members.Edges {
			mid[strings.Split(ed.Node.User.Email, "@")[0]] = ed.Node.ID
		}

		create := func(in map[string]any) func() *testenv.Response {
			return func() *testenv.Response { return olivia.Do(t, createItem, map[string]any{"in": in}) }
		}
		base := func(extra map[string]any) map[string]any {
			in := map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Fine"}
			for k, v := range extra {
				in[k] = v
			}
			return in
		}
		rows := []struct {
			name  string
			do    func() *testenv.Response
			code  string
			field string
		}{
			{"empty title", create(base(map[string]any{"title": "   "})), "BAD_USER_INPUT", "title"},
			{"over-long title", create(base(map[string]any{"title": strings.Repeat("x", 201)})), "BAD_USER_INPUT", "title"},
			{"unknown parent id", create(base(map[string]any{"parentId": "999999999"})), "NOT_FOUND", "parentId"},
			{"malformed id", create(base(map[string]any{"parentId": "abc"})), "BAD_USER_INPUT", ""},
			{"other org's team id", create(base(map[string]any{"level": "TEAM", "teamIds": []string{other.CreateTeam.Team.ID}})), "NOT_FOUND", "teamIds"},
			{"key result without objective", create(base(map[string]any{"kind": "KEY_RESULT"})), "BAD_USER_INPUT", "parentId"},
			{"key result under key result", create(base(map[string]any{"kind": "KEY_RESULT", "parentId": kr.ID})), "BAD_USER_INPUT", "parentId"},
			{"weight out of range", create(base(map[string]any{"weight": 1001})), "BAD_USER_INPUT", "weight"},
			{"negative weight", create(base(map[string]any{"weight": -1})), "BAD_USER_INPUT", "weight"},
			{"invalid enum", create(base(map[string]any{"level": "GALAXY"})), "BAD_USER_INPUT", ""},
			{"team level without team", create(base(map[string]any{"level": "TEAM"})), "BAD_USER_INPUT", "teamIds"},
			{"owner not a member", create(base(map[string]any{"ownerIds": []string{"999999999"}})), "NOT_FOUND", "ownerIds"},
			{"parent cycle", func() *testenv.Response {
				return olivia.Do(t, `mutation($id: ID!, $p: ID) { updateOKRItem(input: {id: $id, parentId: $p}) { item { id } } }`, map[string]any{"id": obj.ID, "p": child.ID})
			}, "BAD_USER_INPUT", "parentId"},
			{"own parent", func() *testenv.Response {
				return olivia.Do(t, `mutation($id: ID!, $p: ID) { updateOKRItem(input: {id: $id, parentId: $p}) { item { id } } }`, map[string]any{"id": obj.ID, "p": obj.ID})
			}, "BAD_USER_INPUT", "parentId"},
			{"closing through update", func() *testenv.Response {
				return olivia.Do(t, `mutation($id: ID!) { updateOKRItem(input: {id: $id, status: CLOSED}) { item { id } } }`, map[string]any{"id": obj.ID})
			}, "BAD_USER_INPUT", "status"},
			{"empty title on update", func() *testenv.Response {
				return olivia.Do(t, `mutation($id: ID!) { updateOKRItem(input: {id: $id, title: ""}) { item { id } } }`, map[string]any{"id": obj.ID})
			}, "BAD_USER_INPUT", "title"},
			{"manager cycle", func() *testenv.Response {
				// Victor manages Sam; making Sam Victor's manager is a cycle.
				return olivia.Do(t, `mutation($id: ID!, $m: ID) { updateMember(input: {id: $id, managerId: $m}) { membership { id } } }`, map[string]any{"id": mid["victor"], "m": mid["steve"]})
			}, "BAD_USER_INPUT", "managerId"},
			{"own manager", func() *testenv.Response {
				return olivia.Do(t, `mutation($id: ID!, $m: ID) { updateMember(input: {id: $id, managerId: $m}) { membership { id } } }`, map[string]any{"id": mid["sam"], "m": mid["sam"]})
			}, "BAD_USER_INPUT", "managerId"},
			{"invalid email", func() *testenv.Response {
				return olivia.Do(t, `mutation { addMember(input: {email: "not an email"}) { membership { id } } }`, nil)
			}, "BAD_USER_INPUT", "email"},
			{"bad slug", func() *testenv.Response {
				return olivia.Do(t, `mutation { createOrganization(input: {name: "X", slug: "Not A Slug"}) { organization { id } } }`, nil)
			}, "BAD_USER_INPUT", "slug"},
			{"period ends before it starts", func() *testenv.Response {
				return olivia.Do(t, `mutation { createTimePeriod(input: {name: "Bad", startsAt: "2027-04-01T00:00:00Z", endsAt: "2027-01-01T00:00:00Z"}) { timePeriod { id } } }`, nil)
			}, "BAD_USER_INPUT", "endsAt"},
		}
		snapshot := func() string {
			var out struct {
				Okrs    struct{ TotalCount int } `json:"okrs"`
				Members struct {
					TotalCount int
					Edges      []struct {
						Node struct{ Manager *struct{ ID string } }
					}
				} `json:"members"`
				Periods struct{ TotalCount int } `json:"timePeriods"`
				Item    struct {
					Parent *struct{ ID string }
					Title  string
				} `json:"node"`
			}
			olivia.MustDo(t, `query($id: ID!) { okrs { totalCount } members(first: 50) { totalCount edges { node { manager { id } } } } timePeriods { totalCount }
			  node(id: $id) { ... on OKRItem { title parent { id } } } }`, map[string]any{"id": obj.ID}, &out)
			b, _ := json.Marshal(out)
			return string(b)
		}
		before := snapshot()
		for _, row := range rows {
			r := row.do()
			if r.Code() != row.code {
				t.Errorf("%s: code %q (status %d, errors %+v), want %s", row.name, r.Code(), r.Status, r.Errors, row.code)
				continue
			}
			if f, _ := r.Errors[0].Extensions["field"].(string); row.field != "" && f != row.field {
				t.Errorf("%s: field %q, want %q", row.name, f, row.field)
			}
			if msg := r.Errors[0].Message; msg == "" || strings.Contains(strings.ToLower(msg), "sql") {
				t.Errorf("%s: message %q", row.name, msg)
			}
		}
		if after := snapshot(); after != before {
			t.Errorf("bad input wrote something:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// TestListsDoNotQueryPerItem loads 50 OKRs with owners, teams and parents
// and checks the SQL statement count does not grow with the page size.
func TestListsDoNotQueryPerItem(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia := e.As("olivia", "acme")
		sales := teamID(t, olivia, "Sales")
		parent := mustCreate(t, olivia, map[string]any{"kind": "OBJECTIVE", "level": "ORGANIZATION", "title": "Root"})
		ids := []string{e.UserID(t, "steve"), e.UserID(t, "martha")}
		for i := range 50 {
			mustCreate(t, olivia, map[string]any{"kind": "OBJECTIVE", "level": "TEAM", "title": fmt.Sprintf("Item %d", i), "teamIds": []string{sales}, "ownerIds": ids, "parentId": parent.ID})
		}
		const q = `query($n: Int!) { okrs(first: $n, orderBy: [{field: CREATED_AT, direction: DESC}]) { edges { node { id title owners { name } teams { name } parent { title } creator { name } } } } }`
		count := func(n int) int64 {
			return e.CountQueries(func() {
				var out struct {
					Okrs struct{ Edges []struct{ Node item } } `json:"okrs"`
				}
				olivia.MustDo(t, q, map[string]any{"n": n}, &out)
				if len(out.Okrs.Edges) != n {
					t.Fatalf("got %d items, want %d", len(out.Okrs.Edges), n)
				}
				for _, ed := range out.Okrs.Edges[:1] {
					if len(ed.Node.Owners) != 2 || len(ed.Node.Teams) != 1 || ed.Node.Parent == nil {
						t.Fatalf("item not fully loaded: %+v", ed.Node)
					}
				}
			})
		}
		few, many := count(5), count(50)
		if many != few || many > 12 {
			t.Errorf("5 items took %d queries, 50 items took %d: want the same bounded count", few, many)
		}
		t.Logf("%s: 50 items with owners, teams, parent and creator: %d SQL statements", e.Backend, many)
	})
}
