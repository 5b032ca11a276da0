package graph_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"okrgraph/ent/okritem"
	"okrgraph/ent/organization"
	"okrgraph/ent/team"
	"okrgraph/ent/user"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// demoItem returns the id of the demo item with the title.
func demoItem(t *testing.T, e *testenv.Env, title string) string {
	t.Helper()
	id, err := e.App.DB.Client.OKRItem.Query().Where(okritem.Title(title)).OnlyID(scope.System(context.Background()))
	if err != nil {
		t.Fatalf("demo item %q: %v", title, err)
	}
	return strconv.Itoa(id)
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const (
	campaign   = "Launch the joint sales-marketing spring campaign"
	onboarding = "Implement a new onboarding program for first-time bookers"
	emails     = "Onboarding emails sent within one hour of first booking"
	company    = "Become the most loved booking platform"
	invest     = "Invest in developing all four customer teams"
)

func decide(t *testing.T, c *testenv.Client, id, action string) (bool, []string) {
	t.Helper()
	var out struct {
		Node *struct {
			ViewerDecision struct {
				Allowed bool
				Reasons []string
			} `json:"viewerDecision"`
		} `json:"node"`
	}
	c.MustDo(t, `query($id: ID!, $a: OKRAction!) { node(id: $id) { ... on OKRItem { viewerDecision(action: $a) { allowed reasons } } } }`,
		map[string]any{"id": id, "a": action}, &out)
	if out.Node == nil {
		return false, []string{"not visible"}
	}
	return out.Node.ViewerDecision.Allowed, out.Node.ViewerDecision.Reasons
}

func setTitle(t *testing.T, c *testenv.Client, id, title string) *testenv.Response {
	t.Helper()
	return c.Do(t, `mutation($id: ID!, $t: String) { updateOKRItem(input: {id: $id, title: $t}) { item { title } } }`, map[string]any{"id": id, "t": title})
}

// TestPermissionTable walks the default permission table of the spec (§4),
// each row with allowed and denied actors, through the GraphQL handler:
// real mutations where the API has them, viewerDecision otherwise.
func TestPermissionTable(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		db := e.App.DB.Client
		// who may carry a note after the name: "steve (creator)".
		as := func(who string) *testenv.Client { return e.As(strings.Split(who, " ")[0], "acme") }
		uid := func(who string) int {
			id, err := db.User.Query().Where(user.Email(who + "@acme.example")).OnlyID(ctx)
			testenv.Must(t, err)
			return id
		}
		teamNamed := func(name string) int {
			id, err := db.Team.Query().Where(team.Name(name)).OnlyID(ctx)
			testenv.Must(t, err)
			return id
		}
		allowed := func(row, who string, r *testenv.Response) {
			t.Helper()
			if len(r.Errors) > 0 {
				t.Errorf("%s: %s was refused: %+v", row, who, r.Errors)
			}
		}
		forbidden := func(row, who string, r *testenv.Response) {
			t.Helper()
			if r.Code() != "FORBIDDEN" {
				t.Errorf("%s: %s got %q, want FORBIDDEN", row, who, r.Code())
				return
			}
			if reasons, _ := r.Errors[0].Extensions["reasons"].([]any); len(reasons) == 0 {
				t.Errorf("%s: %s denied without reasons", row, who)
			}
		}
		expect := func(row, who, id, action string, want bool) {
			t.Helper()
			got, reasons := decide(t, as(who), id, action)
			if got != want || len(reasons) == 0 {
				t.Errorf("%s: %s %s = %v %q, want %v with reasons", row, who, action, got, reasons, want)
			}
		}

		campaignID := demoItem(t, e, campaign)
		onboardingID := demoItem(t, e, onboarding)
		emailsID := demoItem(t, e, emails)

		// --- view: every member; a private item only its people.
		secret := mustCreate(t, as("martha"), map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Secret plan", "private": true, "viewerIds": []string{strconv.Itoa(uid("victor"))}})
		secretKR := mustCreate(t, as("martha"), map[string]any{"kind": "KEY_RESULT", "level": "INDIVIDUAL", "title": "Secret KR", "parentId": secret.ID})
		for who, want := range map[string]bool{"martha": true, "victor": true, "steve": false, "olivia": false, "oscar": false} {
			for _, id := range []string{secret.ID, secretKR.ID} {
				r := as(who).Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
				visible := len(r.Errors) == 0 && strings.Contains(string(r.Data), id)
				if visible != want {
					t.Errorf("view private %s: %s sees it = %v, want %v (%s %+v)", id, who, visible, want, r.Data, r.Errors)
				}
			}
		}
		expect("view", "oscar", campaignID, "VIEW", true)

		// --- create INDIVIDUAL: everyone, for themselves or any member; observers never.
		martha := strconv.Itoa(uid("martha"))
		in := map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "For Martha", "ownerIds": []string{martha}}
		allowed("create individual", "steve", as("steve").Do(t, createItem, map[string]any{"in": in}))
		forbidden("create individual", "oscar", as("oscar").Do(t, createItem, map[string]any{"in": in}))

		// --- create TEAM: everyone by default; restricted by the team setting.
		finance, err := db.Team.Create().SetOrgID(mustOrg(t, e)).SetName("Finance").SetOkrCreation(team.OkrCreationTEAM_OWNERS).Save(ctx)
		testenv.Must(t, err)
		_, err = db.TeamMembership.Create().SetOrgID(finance.OrgID).SetTeamID(finance.ID).SetUserID(uid("reed")).Save(ctx)
		testenv.Must(t, err)
		_, err = db.TeamMembership.Create().SetOrgID(finance.OrgID).SetTeamID(finance.ID).SetUserID(uid("phil")).SetRole("OWNER").Save(ctx)
		testenv.Must(t, err)
		teamIn := func(id int) map[string]any {
			return map[string]any{"in": map[string]any{"kind": "OBJECTIVE", "level": "TEAM", "title": "Team goal", "teamIds": []string{strconv.Itoa(id)}}}
		}
		allowed("create team (everyone)", "steve", as("steve").Do(t, createItem, teamIn(teamNamed("CRM"))))
		forbidden("create team (TEAM_OWNERS)", "reed (member)", as("reed").Do(t, createItem, teamIn(finance.ID)))
		allowed("create team (TEAM_OWNERS)", "phil (team owner)", as("phil").Do(t, createItem, teamIn(finance.ID)))
		allowed("create team (TEAM_OWNERS)", "adam (org admin)", as("adam").Do(t, createItem, teamIn(finance.ID)))

		// --- create ORGANIZATION: everyone by default; ADMINS or LISTED by setting.
		orgIn := map[string]any{"in": map[string]any{"kind": "OBJECTIVE", "level": "ORGANIZATION", "title": "Company goal"}}
		allowed("create org (everyone)", "steve", as("steve").Do(t, createItem, orgIn))
		allowed("org settings", "adam", as("adam").Do(t, `mutation { updateOrganization(input: {okrCreation: ADMINS}) { organization { okrCreation } } }`, nil))
		forbidden("create org (ADMINS)", "steve", as("steve").Do(t, createItem, orgIn))
		allowed("create org (ADMINS)", "adam", as("adam").Do(t, createItem, orgIn))
		allowed("org settings", "olivia", as("olivia").Do(t, `mutation($u: [ID!]) { updateOrganization(input: {okrCreation: LISTED, okrCreationListedUserIds: $u}) { organization { id } } }`,
			map[string]any{"u": []string{strconv.Itoa(uid("steve"))}}))
		allowed("create org (LISTED)", "steve (listed)", as("steve").Do(t, createItem, orgIn))
		forbidden("create org (LISTED)", "martha", as("martha").Do(t, createItem, orgIn))
		forbidden("org settings", "steve", as("steve").Do(t, `mutation { updateOrganization(input: {okrCreation: EVERYONE}) { organization { id } } }`, nil))

		// --- edit: owners, creator, team owners, org admins, owners' managers,
		// parent owners, edit grantees, the delegate.
		allowed("edit", "steve (creator)", setTitle(t, as("steve"), campaignID, "Spring campaign"))
		allowed("edit", "martha (owner)", setTitle(t, as("martha"), campaignID, "Spring campaign 2"))
		allowed("edit", "maria (owner's manager)", setTitle(t, as("maria"), campaignID, "Spring campaign 3"))
		allowed("edit", "adam (org admin)", setTitle(t, as("adam"), campaignID, "Spring campaign 4"))
		forbidden("edit", "sam", setTitle(t, as("sam"), campaignID, "Nope"))
		forbidden("edit", "oscar (observer)", setTitle(t, as("oscar"), campaignID, "Nope"))
		victorsChild := mustCreate(t, as("martha"), map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Aligned to Victor", "parentId": demoItem(t, e, invest)})
		allowed("edit", "victor (parent owner)", setTitle(t, as("victor"), victorsChild.ID, "Aligned"))
		forbidden("edit", "sue", setTitle(t, as("sue"), victorsChild.ID, "Nope"))
		supportItem := mustCreate(t, as("phil"), map[string]any{"kind": "OBJECTIVE", "level": "TEAM", "title": "Support goal", "teamIds": []string{strconv.Itoa(teamNamed("Customer Support"))}})
		allowed("edit", "sue (team owner)", setTitle(t, as("sue"), supportItem.ID, "Support goal 2"))
		forbidden("edit", "sam (owner of another team)", setTitle(t, as("sam"), supportItem.ID, "Nope"))
		_, err = db.Grant.Create().SetOrgID(mustOrg(t, e)).SetItemID(atoi(t, supportItem.ID)).SetUserID(uid("steve")).SetKind("EDIT").Save(ctx)
		testenv.Must(t, err)
		allowed("edit", "steve (edit grant)", setTitle(t, as("steve"), supportItem.ID, "Support goal 3"))
		allowed("edit", "phil (delegate)", setTitle(t, as("phil"), onboardingID, "Onboarding 2"))
		expect("edit", "phil (delegate, key results included)", emailsID, "UPDATE", true)

		// --- change owners, set delegate: as edit, except the delegate.
		reed := strconv.Itoa(uid("reed"))
		forbidden("change owners", "phil (delegate)", as("phil").Do(t, `mutation($id: ID!, $o: [ID!]) { updateOKRItem(input: {id: $id, ownerIds: $o}) { item { id } } }`,
			map[string]any{"id": onboardingID, "o": []string{strconv.Itoa(uid("phil"))}}))
		allowed("change owners", "reed (owner)", as("reed").Do(t, `mutation($id: ID!, $o: [ID!]) { updateOKRItem(input: {id: $id, ownerIds: $o}) { item { id } } }`,
			map[string]any{"id": onboardingID, "o": []string{reed}}))
		expect("set delegate", "phil (delegate)", onboardingID, "SET_DELEGATE", false)
		expect("set delegate", "reed (owner)", onboardingID, "SET_DELEGATE", true)
		expect("set delegate", "carl (owner's manager)", onboardingID, "SET_DELEGATE", true)

		// --- check in: editors plus the check-in owner and check-in grantees;
		// the check-in owner may not edit the title.
		_, err = db.OKRItem.UpdateOneID(atoi(t, campaignID)).SetCheckinOwnerID(uid("sue")).Save(ctx)
		testenv.Must(t, err)
		expect("check in", "sue (check-in owner)", campaignID, "CHECK_IN", true)
		forbidden("edit", "sue (check-in owner)", setTitle(t, as("sue"), campaignID, "Nope"))
		expect("check in", "carl", campaignID, "CHECK_IN", false)
		_, err = db.Grant.Create().SetOrgID(mustOrg(t, e)).SetItemID(atoi(t, campaignID)).SetUserID(uid("carl")).SetKind("CHECKIN").Save(ctx)
		testenv.Must(t, err)
		expect("check in", "carl (check-in grant)", campaignID, "CHECK_IN", true)
		expect("check in", "steve (creator)", campaignID, "CHECK_IN", true)

		// --- align: anyone who can view the parent, unless restricted to grantees.
		alignIn := func(parent string) map[string]any {
			return map[string]any{"in": map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Aligned", "parentId": parent}}
		}
		allowed("align", "sam", as("sam").Do(t, createItem, alignIn(campaignID)))
		_, err = db.OKRItem.UpdateOneID(atoi(t, campaignID)).SetAlignmentRestricted(true).Save(ctx)
		testenv.Must(t, err)
		forbidden("align (restricted)", "sam", as("sam").Do(t, createItem, alignIn(campaignID)))
		_, err = db.Grant.Create().SetOrgID(mustOrg(t, e)).SetItemID(atoi(t, campaignID)).SetUserID(uid("sam")).SetKind("ALIGN").Save(ctx)
		testenv.Must(t, err)
		allowed("align (restricted)", "sam (align grant)", as("sam").Do(t, createItem, alignIn(campaignID)))

		// --- clone, comment: every member who can view.
		expect("clone", "sue", campaignID, "CLONE", true)
		expect("comment", "oscar (observer)", campaignID, "COMMENT", false)
		expect("comment", "victor", secret.ID, "COMMENT", true)

		// --- org administration: members, roles.
		forbidden("manage members", "steve", as("steve").Do(t, `mutation { addMember(input: {email: "x@acme.example"}) { membership { id } } }`, nil))
		allowed("manage members", "adam", as("adam").Do(t, `mutation { addMember(input: {email: "x@acme.example"}) { membership { id } } }`, nil))
		forbidden("time periods", "steve", as("steve").Do(t, `mutation { createTimePeriod(input: {name: "Q3", startsAt: "2027-07-01T00:00:00Z", endsAt: "2027-10-01T00:00:00Z"}) { timePeriod { id } } }`, nil))

		// --- create teams: org admins; the org setting may open it to everyone.
		forbidden("create team", "steve", as("steve").Do(t, `mutation { createTeam(input: {name: "Guild"}) { team { id } } }`, nil))
		allowed("create team", "adam", as("adam").Do(t, `mutation { createTeam(input: {name: "Guild"}) { team { id } } }`, nil))
		allowed("org settings", "adam", as("adam").Do(t, `mutation { updateOrganization(input: {teamCreation: EVERYONE}) { organization { id } } }`, nil))
		allowed("create team (EVERYONE)", "steve", as("steve").Do(t, `mutation { createTeam(input: {name: "Steve's guild"}) { team { id } } }`, nil))

		// --- team members: team owners, team admins, org admins.
		sales := strconv.Itoa(teamNamed("Sales"))
		addToSales := func(who string) *testenv.Response {
			return as(who).Do(t, `mutation($t: ID!, $u: ID!) { setTeamMember(input: {teamId: $t, userId: $u}) { teamMembership { id } } }`,
				map[string]any{"t": sales, "u": martha})
		}
		allowed("team members", "steve (team admin)", addToSales("steve"))
		allowed("team members", "sam (team owner)", addToSales("sam"))
		forbidden("team members", "martha", addToSales("martha"))

		// --- team settings: team owners and org admins, not team admins.
		teamSetting := func(who string) *testenv.Response {
			return as(who).Do(t, `mutation($t: ID!) { updateTeam(input: {id: $t, okrCreation: TEAM_MEMBERS}) { team { id } } }`, map[string]any{"t": sales})
		}
		allowed("team settings", "sam (team owner)", teamSetting("sam"))
		allowed("team settings", "adam (org admin)", teamSetting("adam"))
		forbidden("team settings", "steve (team admin)", teamSetting("steve"))

		// --- profile: the user themself, unless provisioned by SSO.
		allowed("profile", "steve", as("steve").Do(t, `mutation { updateProfile(input: {name: "Steve S"}) { user { name } } }`, nil))
		_, err = db.User.Update().Where(user.Email("martha@acme.example")).SetSSO(true).Save(ctx)
		testenv.Must(t, err)
		forbidden("profile", "martha (SSO)", as("martha").Do(t, `mutation { updateProfile(input: {name: "M"}) { user { name } } }`, nil))
		// A profile is the user's, with or without a selected organization.
		allowed("profile", "a user of no org", e.As("loner@example.com", "").Do(t, `mutation { updateProfile(input: {name: "Lone Ranger"}) { user { name } } }`, nil))

		// --- other orgs: NOT_FOUND, never FORBIDDEN.
		e.As("boss@initech.example", "").MustDo(t, `mutation { createOrganization(input: {name: "Initech", slug: "initech"}) { organization { id } } }`, nil, &struct{}{})
		if r := setTitle(t, e.As("boss@initech.example", "initech"), campaignID, "Mine"); r.Code() != "NOT_FOUND" {
			t.Errorf("other org edit: %q, want NOT_FOUND", r.Code())
		}
	})
}

func mustOrg(t *testing.T, e *testenv.Env) int {
	t.Helper()
	id, err := e.App.DB.Client.Organization.Query().Where(organization.Slug("acme")).OnlyID(scope.System(context.Background()))
	testenv.Must(t, err)
	return id
}

// TestViewerCanDoesNotQueryPerItem: viewerCan on a page of items costs a
// fixed number of SQL statements, whatever the page size.
func TestViewerCanDoesNotQueryPerItem(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia := e.As("olivia", "acme")
		parent := mustCreate(t, olivia, map[string]any{"kind": "OBJECTIVE", "level": "ORGANIZATION", "title": "Root"})
		for i := range 50 {
			mustCreate(t, olivia, map[string]any{"kind": "KEY_RESULT", "level": "ORGANIZATION", "title": fmt.Sprintf("KR %d", i), "parentId": parent.ID})
		}
		steve := e.As("steve", "acme")
		const q = `query($n: Int!) { okrs(first: $n, orderBy: [{field: CREATED_AT, direction: DESC}]) { edges { node { id viewerCan { update delete changeOwners setDelegate checkIn align comment clone } } } } }`
		statements := func(n int) []string {
			return e.Statements(func() {
				var out struct {
					Okrs struct {
						Edges []struct {
							Node struct {
								ViewerCan struct{ Update, Comment bool } `json:"viewerCan"`
							}
						}
					} `json:"okrs"`
				}
				steve.MustDo(t, q, map[string]any{"n": n}, &out)
				if len(out.Okrs.Edges) != n {
					t.Fatalf("got %d items", len(out.Okrs.Edges))
				}
				for _, ed := range out.Okrs.Edges {
					if ed.Node.ViewerCan.Update || !ed.Node.ViewerCan.Comment {
						t.Fatalf("steve on olivia's key result: %+v", ed.Node.ViewerCan)
					}
				}
			})
		}
		// A warm-up request first: a member's first request in an org
		// records their sign-in (at most once a minute), which is not a
		// per-item cost.
		statements(1)
		few, many := statements(5), statements(50)
		if len(many) != len(few) {
			t.Errorf("viewerCan: 5 items took %d queries, 50 took %d", len(few), len(many))
		}
		// Nor do their texts grow with the page (IN lists of one parameter
		// per id): PostgreSQL plans each new text anew on every connection.
		// (ent writes the page's LIMIT as a number: a client's page size is
		// one text.)
		limit := regexp.MustCompile(`LIMIT \d+`)
		for _, texts := range [][]string{few, many} {
			for i := range texts {
				texts[i] = limit.ReplaceAllString(texts[i], "LIMIT n")
			}
			slices.Sort(texts)
		}
		if !slices.Equal(few, many) {
			t.Errorf("viewerCan: 5 and 50 items sent different statement texts:\n%s\n---\n%s", strings.Join(few, "\n"), strings.Join(many, "\n"))
		}
		t.Logf("%s: 50 items with viewerCan: %d SQL statements", e.Backend, len(many))
	})
}
