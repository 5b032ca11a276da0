package graph_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"okrgraph/ent/membership"
	entreview "okrgraph/ent/review"
	"okrgraph/ent/reviewcycle"
	"okrgraph/ent/team"
	"okrgraph/ent/user"
	"okrgraph/internal/access"
	"okrgraph/internal/authz"
	"okrgraph/internal/review"
	"okrgraph/internal/review/rubric"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

const createCycle = `mutation($in: CreateReviewCycleInput!) { createReviewCycle(input: $in) { cycle { id status startsAt criteria { key name scale { min max labels { value label } } } } } }`

const reviewFields = `id type status comments ratings { criterion value comment } reviewee { email } reviewer { email }`

type reviewOut struct {
	ID       string
	Type     string
	Status   string
	Comments string
	Ratings  []struct {
		Criterion string
		Value     int
		Comment   string
	}
	Reviewee struct{ Email string }
	Reviewer struct{ Email string }
}

// reviewsIn lists the reviews of the cycle c sees, by "reviewee/TYPE".
func reviewsIn(t *testing.T, c *testenv.Client, cycle string) map[string]reviewOut {
	t.Helper()
	var out struct {
		Reviews struct {
			TotalCount int
			Edges      []struct{ Node reviewOut }
		}
	}
	c.MustDo(t, `query($c: ID!) { reviews(first: 100, where: {hasCycleWith: {id: $c}}) { totalCount edges { node { `+reviewFields+` } } } }`,
		map[string]any{"c": cycle}, &out)
	m := map[string]reviewOut{}
	for _, e := range out.Reviews.Edges {
		m[strings.Split(e.Node.Reviewee.Email, "@")[0]+"/"+e.Node.Type] = e.Node
	}
	if len(m) != out.Reviews.TotalCount {
		t.Fatalf("totalCount %d, %d reviews", out.Reviews.TotalCount, len(m))
	}
	return m
}

func keys[V any](m map[string]V) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}

// mustOK fails unless the request succeeds.
func mustOK(t *testing.T, c *testenv.Client, query string, vars map[string]any) {
	t.Helper()
	if r := c.Do(t, query, vars); len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
}

// wantCode fails unless r failed with code (and, for BAD_USER_INPUT, field;
// for FORBIDDEN, the first reason).
func wantCode(t *testing.T, what string, r *testenv.Response, code, detail string) {
	t.Helper()
	if r.Code() != code {
		t.Errorf("%s: got %q %+v, want %s", what, r.Code(), r.Errors, code)
		return
	}
	switch code {
	case "BAD_USER_INPUT":
		if f, _ := r.Errors[0].Extensions["field"].(string); f != detail {
			t.Errorf("%s: field %q, want %q", what, f, detail)
		}
	case "FORBIDDEN":
		reasons, _ := r.Errors[0].Extensions["reasons"].([]any)
		if len(reasons) == 0 || reasons[0] != detail {
			t.Errorf("%s: reasons %v, want %q", what, reasons, detail)
		}
	}
}

// TestReviewCycle runs a whole cycle through the handler: the performance
// admin (Olivia) configures and launches it, Steve reviews himself, his
// manager Sam reviews him, Victor (one level above Sam) approves, Olivia
// shares, Steve reads his review; and every role is refused what is not
// theirs.
func TestReviewCycle(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia, adam, victor, sam, steve, martha := e.As("olivia", "acme"), e.As("adam", "acme"), e.As("victor", "acme"),
			e.As("sam", "acme"), e.As("steve", "acme"), e.As("martha", "acme")
		var tps struct {
			TimePeriods struct {
				Edges []struct{ Node struct{ ID, Name string } }
			} `json:"timePeriods"`
		}
		olivia.MustDo(t, `{ timePeriods { edges { node { id name } } } }`, nil, &tps)
		q1 := tps.TimePeriods.Edges[0].Node.ID
		// Steve owns an objective of the period: his achievements.
		goal := mustCreate(t, steve, map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Close twenty spring deals", "timePeriodId": q1})

		in := map[string]any{
			"name": "Q1 2027 check", "timePeriodId": q1, "excludedUserIds": []string{e.UserID(t, "martha")},
			"criteria": []map[string]any{
				{"key": "impact", "name": "Impact", "scale": map[string]any{"min": 1, "max": 5, "labels": []map[string]any{{"value": 5, "label": "Outstanding"}, {"value": 1, "label": "Unsatisfactory"}}}},
				{"name": "Collaboration", "scale": map[string]any{"min": 1, "max": 3}},
			},
			"approvalRequired": true, "approverRule": "SUPERVISOR_CHAIN", "approverLevels": 1,
		}
		// --- configure: performance admins only; bad input names its field.
		wantCode(t, "org admin creates a cycle", adam.Do(t, createCycle, map[string]any{"in": in}), "FORBIDDEN", "only performance admins may manage review cycles")
		bad := func(k string, v any) map[string]any {
			m := map[string]any{}
			for k, v := range in {
				m[k] = v
			}
			m[k] = v
			return map[string]any{"in": m}
		}
		wantCode(t, "empty criteria", olivia.Do(t, createCycle, bad("criteria", []any{})), "BAD_USER_INPUT", "criteria")
		wantCode(t, "inverted scale", olivia.Do(t, createCycle, bad("criteria", []map[string]any{{"name": "X", "scale": map[string]any{"min": 5, "max": 1}}})), "BAD_USER_INPUT", "criteria[0].scale")
		wantCode(t, "named rule without approver", olivia.Do(t, createCycle, bad("approverRule", "NAMED_USER")), "BAD_USER_INPUT", "approverUserId")
		var created struct {
			CreateReviewCycle struct {
				Cycle struct {
					ID, Status, StartsAt string
					Criteria             []struct {
						Key   string
						Scale struct{ Labels []struct{ Value int } }
					}
				}
			} `json:"createReviewCycle"`
		}
		olivia.MustDo(t, createCycle, map[string]any{"in": in}, &created)
		cy := created.CreateReviewCycle.Cycle
		if cy.Status != "DRAFT" || !strings.HasPrefix(cy.StartsAt, "2027-01-01") || len(cy.Criteria) != 2 || cy.Criteria[1].Key != "c2" || cy.Criteria[0].Scale.Labels[0].Value != 1 {
			t.Fatalf("created cycle: %+v", cy)
		}
		// A draft can be changed; who is left out is for performance admins' eyes.
		update := `mutation($in: UpdateReviewCycleInput!) { updateReviewCycle(input: $in) { cycle { name approverLevels } } }`
		var upd struct {
			UpdateReviewCycle struct {
				Cycle struct {
					Name           string
					ApproverLevels int
				}
			} `json:"updateReviewCycle"`
		}
		olivia.MustDo(t, update, map[string]any{"in": map[string]any{"id": cy.ID, "name": "Q1 2027 review", "approverLevels": 2}}, &upd)
		if c := upd.UpdateReviewCycle.Cycle; c.Name != "Q1 2027 review" || c.ApproverLevels != 2 {
			t.Errorf("update: %+v", c)
		}
		wantCode(t, "TEAMS without teams", olivia.Do(t, update, map[string]any{"in": map[string]any{"id": cy.ID, "participantScope": "TEAMS"}}), "BAD_USER_INPUT", "participantTeamIds")
		var teams struct {
			Teams struct {
				Edges []struct{ Node struct{ ID, Name string } }
			}
		}
		olivia.MustDo(t, `{ teams(where: {name: "Sales"}) { edges { node { id name } } } }`, nil, &teams)
		participantTeams := func() int {
			var out struct {
				ReviewCycle struct{ ParticipantTeams []struct{ Name string } } `json:"reviewCycle"`
			}
			olivia.MustDo(t, `query($id: ID!) { reviewCycle(id: $id) { participantTeams { name } } }`, map[string]any{"id": cy.ID}, &out)
			return len(out.ReviewCycle.ParticipantTeams)
		}
		olivia.MustDo(t, update, map[string]any{"in": map[string]any{"id": cy.ID, "participantScope": "TEAMS", "participantTeamIds": []string{teams.Teams.Edges[0].Node.ID}}}, &upd)
		if n := participantTeams(); n != 1 {
			t.Errorf("%d participant teams, want Sales", n)
		}
		// Back to everyone (the teams go) and to one level of approvers.
		olivia.MustDo(t, update, map[string]any{"in": map[string]any{"id": cy.ID, "approverLevels": 1, "participantScope": "ALL_MEMBERS"}}, &upd)
		if n := participantTeams(); n != 0 {
			t.Errorf("%d participant teams after ALL_MEMBERS", n)
		}
		wantCode(t, "levels out of range", olivia.Do(t, update, map[string]any{"in": map[string]any{"id": cy.ID, "approverLevels": 11}}), "BAD_USER_INPUT", "approverLevels")
		var excl struct {
			ReviewCycle struct{ ExcludedUsers []struct{ Email string } } `json:"reviewCycle"`
		}
		olivia.MustDo(t, `query($id: ID!) { reviewCycle(id: $id) { excludedUsers { email } } }`, map[string]any{"id": cy.ID}, &excl)
		if ex := excl.ReviewCycle.ExcludedUsers; len(ex) != 1 || ex[0].Email != "martha@acme.example" {
			t.Errorf("excluded: %+v", ex)
		}
		// A draft is the performance admins' business.
		wantCode(t, "member reads a draft cycle", steve.Do(t, `query($id: ID!) { reviewCycle(id: $id) { id } }`, map[string]any{"id": cy.ID}), "NOT_FOUND", "")
		var listed struct {
			ReviewCycles struct{ TotalCount int } `json:"reviewCycles"`
		}
		steve.MustDo(t, `{ reviewCycles { totalCount } }`, nil, &listed)
		if listed.ReviewCycles.TotalCount != 1 { // the demo's launched cycle only
			t.Errorf("steve sees %d cycles", listed.ReviewCycles.TotalCount)
		}
		wantCode(t, "org admin launches", adam.Do(t, `mutation($id: ID!) { launchReviewCycle(id: $id) { reviewsCreated } }`, map[string]any{"id": cy.ID}), "NOT_FOUND", "")

		// --- launch: a self review each, a manager review for those with a manager.
		var launched struct {
			LaunchReviewCycle struct {
				Cycle            struct{ Status string }
				ParticipantCount int
				ReviewsCreated   int
				WithoutManager   []struct{ Email string }
				Notes            []string
			} `json:"launchReviewCycle"`
		}
		olivia.MustDo(t, `mutation($id: ID!) { launchReviewCycle(id: $id) { cycle { status } participantCount reviewsCreated withoutManager { email } notes } }`,
			map[string]any{"id": cy.ID}, &launched)
		l := launched.LaunchReviewCycle
		// Twelve members, less Martha (excluded) and Oscar (observer); Olivia has no manager.
		if l.Cycle.Status != "ACTIVE" || l.ParticipantCount != 10 || l.ReviewsCreated != 19 || len(l.WithoutManager) != 1 || l.WithoutManager[0].Email != "olivia@acme.example" ||
			!slices.ContainsFunc(l.Notes, func(n string) bool { return strings.Contains(n, "Olivia Owner has no manager: only a self review") }) {
			t.Fatalf("launch: %+v", l)
		}
		wantCode(t, "update after launch", olivia.Do(t, update, map[string]any{"in": map[string]any{"id": cy.ID, "name": "Late"}}), "CONFLICT", "")
		wantCode(t, "member reads who is left out", steve.Do(t, `query($id: ID!) { reviewCycle(id: $id) { excludedUsers { email } } }`, map[string]any{"id": cy.ID}),
			"FORBIDDEN", "only performance admins may manage review cycles")
		wantCode(t, "launch twice", olivia.Do(t, `mutation($id: ID!) { launchReviewCycle(id: $id) { reviewsCreated } }`, map[string]any{"id": cy.ID}), "CONFLICT", "")
		wantCode(t, "org admin closes", adam.Do(t, `mutation($id: ID!) { closeReviewCycle(id: $id) { cycle { id } } }`, map[string]any{"id": cy.ID}),
			"FORBIDDEN", "only performance admins may manage review cycles")

		// --- Steve: sees his self review only; fills it in and submits it.
		mine := reviewsIn(t, steve, cy.ID)
		if got := keys(mine); !slices.Equal(got, []string{"steve/SELF"}) {
			t.Fatalf("steve sees %v", got)
		}
		self := mine["steve/SELF"].ID
		save := `mutation($in: SaveReviewInput!) { saveReview(input: $in) { review { ` + reviewFields + ` } } }`
		submit := `mutation($id: ID!) { submitReview(id: $id) { review { status } } }`
		rate := func(id string, ratings ...any) map[string]any {
			rs := []map[string]any{}
			for i := 0; i < len(ratings); i += 2 {
				rs = append(rs, map[string]any{"criterion": ratings[i], "value": ratings[i+1]})
			}
			return map[string]any{"in": map[string]any{"id": id, "ratings": rs, "comments": "Spring went well."}}
		}
		wantCode(t, "submit before filling in", steve.Do(t, submit, map[string]any{"id": self}), "FORBIDDEN", "fill in the review before submitting it")
		wantCode(t, "rating off the scale", steve.Do(t, save, rate(self, "impact", 4, "c2", 4)), "BAD_USER_INPUT", "ratings[1].value")
		wantCode(t, "unknown criterion", steve.Do(t, save, rate(self, "speed", 3)), "BAD_USER_INPUT", "ratings[0].criterion")
		var saved struct {
			SaveReview struct{ Review reviewOut } `json:"saveReview"`
		}
		steve.MustDo(t, save, rate(self, "impact", 4), &saved)
		if r := saved.SaveReview.Review; r.Status != "IN_PROGRESS" || len(r.Ratings) != 1 || r.Comments != "Spring went well." {
			t.Fatalf("saved: %+v", r)
		}
		wantCode(t, "submit with a criterion unrated", steve.Do(t, submit, map[string]any{"id": self}), "BAD_USER_INPUT", "ratings")
		steve.MustDo(t, save, rate(self, "c2", 3, "impact", 4), &saved)
		if r := saved.SaveReview.Review; len(r.Ratings) != 2 || r.Ratings[0].Criterion != "impact" {
			t.Fatalf("ratings keep the criteria's order: %+v", r.Ratings)
		}
		mustOK(t, steve, submit, map[string]any{"id": self})
		wantCode(t, "edit after submission", steve.Do(t, save, rate(self, "impact", 5)), "FORBIDDEN", "the review was submitted: it can be edited again only once sent back")

		// --- Sam: reviews Steve (his direct report); never Martha (not his).
		forSam := reviewsIn(t, sam, cy.ID)
		if got := keys(forSam); !slices.Equal(got, []string{"sam/SELF", "steve/MANAGER", "steve/SELF"}) {
			t.Fatalf("sam sees %v", got)
		}
		if forSam["steve/SELF"].Status != "SUBMITTED" || forSam["steve/SELF"].Comments != "Spring went well." {
			t.Errorf("sam reads steve's submitted self review: %+v", forSam["steve/SELF"])
		}
		mgr := forSam["steve/MANAGER"].ID
		marthaMgr := reviewsIn(t, olivia, cy.ID)
		if _, ok := marthaMgr["martha/MANAGER"]; ok {
			t.Fatal("martha was excluded")
		}
		reedMgr := marthaMgr["reed/MANAGER"].ID // written by Carl
		wantCode(t, "manager reviews someone not reporting to them", sam.Do(t, save, rate(reedMgr, "impact", 2)), "NOT_FOUND", "")
		wantCode(t, "manager's manager writes the manager review", victor.Do(t, save, rate(mgr, "impact", 2)), "FORBIDDEN", "only the reviewer and performance admins may edit this review")
		mustOK(t, sam, save, rate(mgr, "impact", 5, "c2", 2))
		wantCode(t, "approver approves before submission", victor.Do(t, `mutation($id: ID!) { approveReview(id: $id) { review { status } } }`, map[string]any{"id": mgr}),
			"FORBIDDEN", "a review can only be approved after the manager submitted it")
		mustOK(t, sam, submit, map[string]any{"id": mgr})

		// --- Nobody else reads it: not a peer, not an org admin without the
		// flag, not Steve before it is shared; by id, by node and in lists.
		readByID := `query($id: ID!) { review(id: $id) { id } }`
		readNode := `query($id: ID!) { node(id: $id) { id } }`
		for who, c := range map[string]*testenv.Client{"peer": martha, "org admin": adam, "participant (unshared)": steve} {
			wantCode(t, who+" reads steve's manager review", c.Do(t, readByID, map[string]any{"id": mgr}), "NOT_FOUND", "")
			wantCode(t, who+" reads steve's manager review by node", c.Do(t, readNode, map[string]any{"id": mgr}), "NOT_FOUND", "")
		}
		if _, ok := reviewsIn(t, adam, cy.ID)["steve/MANAGER"]; ok {
			t.Error("the org admin lists steve's manager review")
		}
		var edge struct {
			ReviewCycle struct{ Reviews struct{ TotalCount int } } `json:"reviewCycle"`
		}
		adam.MustDo(t, `query($id: ID!) { reviewCycle(id: $id) { reviews { totalCount } } }`, map[string]any{"id": cy.ID}, &edge)
		if n := edge.ReviewCycle.Reviews.TotalCount; n != 1 { // his own self review
			t.Errorf("the org admin sees %d reviews through the cycle", n)
		}
		if got := keys(reviewsIn(t, martha, cy.ID)); len(got) != 0 {
			t.Errorf("martha (excluded) lists %v", got)
		}

		// --- Victor approves (one level above Sam); he reads his extended team's reviews.
		var perms struct {
			Review struct {
				ViewerCan struct{ Write, Submit, Approve, SendBack, Share bool } `json:"viewerCan"`
			}
		}
		victor.MustDo(t, `query($id: ID!) { review(id: $id) { viewerCan { write submit approve sendBack share } } }`, map[string]any{"id": mgr}, &perms)
		if v := perms.Review.ViewerCan; !v.Approve || !v.SendBack || v.Write || v.Submit || v.Share {
			t.Errorf("victor's viewerCan: %+v", v)
		}
		if got := keys(reviewsIn(t, victor, cy.ID)); !slices.Contains(got, "steve/SELF") || !slices.Contains(got, "steve/MANAGER") {
			t.Errorf("victor sees %v", got)
		}
		wantCode(t, "the reviewer approves", sam.Do(t, `mutation($id: ID!) { approveReview(id: $id) { review { status } } }`, map[string]any{"id": mgr}),
			"FORBIDDEN", "you may not approve a review you wrote")
		var approved struct {
			ApproveReview struct{ Review struct{ Status string } } `json:"approveReview"`
		}
		victor.MustDo(t, `mutation($id: ID!) { approveReview(id: $id) { review { status } } }`, map[string]any{"id": mgr}, &approved)
		if approved.ApproveReview.Review.Status != "APPROVED" {
			t.Fatalf("approve: %+v", approved)
		}

		// --- Progress: Olivia follows the whole cycle, Sam his team.
		progress := `query($id: ID!) { reviewCycle(id: $id) { progress { all { total notStarted inProgress submitted approved shared } manager { total approved } entries { type status reviewee { email } } } } }`
		type counts struct{ Total, NotStarted, InProgress, Submitted, Approved, Shared int }
		var prog struct {
			ReviewCycle struct {
				Progress struct {
					All, Manager counts
					Entries      []struct {
						Type, Status string
						Reviewee     struct{ Email string }
					}
				}
			} `json:"reviewCycle"`
		}
		olivia.MustDo(t, progress, map[string]any{"id": cy.ID}, &prog)
		if p := prog.ReviewCycle.Progress; p.All != (counts{19, 17, 0, 1, 1, 0}) || p.Manager.Total != 9 || p.Manager.Approved != 1 || len(p.Entries) != 19 {
			t.Errorf("olivia's progress: %+v", p)
		}
		sam.MustDo(t, progress, map[string]any{"id": cy.ID}, &prog)
		if p := prog.ReviewCycle.Progress; p.All.Total != 4 || p.All.NotStarted != 2 {
			t.Errorf("sam's progress: %+v", p)
		}

		// --- Share: the manager review once approved, then the rest of the cycle.
		share := `mutation($id: ID!) { shareReview(id: $id) { review { status } } }`
		wantCode(t, "approver shares", victor.Do(t, share, map[string]any{"id": mgr}), "FORBIDDEN", "only performance admins may share review results")
		wantCode(t, "share an unfinished review", olivia.Do(t, share, map[string]any{"id": forSam["sam/SELF"].ID}), "FORBIDDEN", "only a submitted review can be shared")
		mustOK(t, olivia, share, map[string]any{"id": mgr})
		var shared struct {
			ShareReviewCycle struct {
				Cycle            struct{ ResultsShared bool }
				Shared, NotReady int
			} `json:"shareReviewCycle"`
		}
		olivia.MustDo(t, `mutation($id: ID!) { shareReviewCycle(id: $id) { cycle { resultsShared } shared notReady } }`, map[string]any{"id": cy.ID}, &shared)
		if s := shared.ShareReviewCycle; !s.Cycle.ResultsShared || s.Shared != 1 || s.NotReady != 17 {
			t.Errorf("share cycle: %+v", s)
		}

		// --- Steve reads his manager review, with his achievements.
		var read struct {
			Review struct {
				reviewOut
				Approvers    []struct{ Email string }
				Achievements []struct {
					Item     struct{ ID string }
					Title    string
					Progress float64
				}
			}
		}
		steve.MustDo(t, `query($id: ID!) { review(id: $id) { `+reviewFields+` approvers { email } achievements { item { id } title progress } } }`, map[string]any{"id": mgr}, &read)
		if r := read.Review; r.Status != "SHARED" || r.Reviewer.Email != "sam@acme.example" || len(r.Ratings) != 2 || r.Ratings[0].Value != 5 ||
			len(r.Approvers) != 1 || r.Approvers[0].Email != "victor@acme.example" || len(r.Achievements) != 1 || r.Achievements[0].Item.ID != goal.ID {
			t.Errorf("steve reads: %+v", r)
		}
		if got := keys(reviewsIn(t, steve, cy.ID)); !slices.Equal(got, []string{"steve/MANAGER", "steve/SELF"}) {
			t.Errorf("steve lists %v", got)
		}

		// --- Close: nothing changes any more.
		mustOK(t, olivia, `mutation($id: ID!) { closeReviewCycle(id: $id) { cycle { status } } }`, map[string]any{"id": cy.ID})
		wantCode(t, "write after close", sam.Do(t, save, rate(forSam["sam/SELF"].ID, "impact", 3)), "FORBIDDEN", "the review cycle is closed")
		wantCode(t, "close twice", olivia.Do(t, `mutation($id: ID!) { closeReviewCycle(id: $id) { cycle { status } } }`, map[string]any{"id": cy.ID}), "CONFLICT", "")
	})
}

// TestReviewSendBack: an approver sends a submitted manager review back;
// its reviewer edits and resubmits it.
func TestReviewSendBack(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		rv, err := e.App.DB.Client.Review.Query().
			Where(entreview.TypeEQ(entreview.TypeMANAGER), entreview.HasRevieweeWith(user.Email("steve@acme.example"))).Only(ctx)
		testenv.Must(t, err)
		id := strconv.Itoa(rv.ID)
		sam, victor := e.As("sam", "acme"), e.As("victor", "acme")
		mustOK(t, sam, `mutation($id: ID!) { saveReview(input: {id: $id, ratings: [{criterion: "impact", value: 4}, {criterion: "collaboration", value: 4}]}) { review { id } } }`, map[string]any{"id": id})
		mustOK(t, sam, `mutation($id: ID!) { submitReview(id: $id) { review { id } } }`, map[string]any{"id": id})
		var back struct {
			SendBackReview struct {
				Review struct{ Status, SentBackNote string }
			} `json:"sendBackReview"`
		}
		victor.MustDo(t, `mutation($id: ID!) { sendBackReview(input: {id: $id, note: "Say more about collaboration."}) { review { status sentBackNote } } }`, map[string]any{"id": id}, &back)
		if r := back.SendBackReview.Review; r.Status != "IN_PROGRESS" || r.SentBackNote != "Say more about collaboration." {
			t.Fatalf("sent back: %+v", r)
		}
		// Back in progress: Victor no longer reads the draft; Sam edits again.
		wantCode(t, "approver reads the draft", victor.Do(t, `query($id: ID!) { review(id: $id) { id } }`, map[string]any{"id": id}), "NOT_FOUND", "")
		mustOK(t, sam, `mutation($id: ID!) { saveReview(input: {id: $id, comments: "Led the joint campaign."}) { review { id } } }`, map[string]any{"id": id})
		mustOK(t, sam, `mutation($id: ID!) { submitReview(id: $id) { review { id } } }`, map[string]any{"id": id})
	})
}

// TestReviewReadFilterAgreesWithPolicy checks, for every member and every
// review of a population (the demo cycle, plus a cycle with a named
// approver, reviews in random statuses, an observer with the
// performance-admin flag), that the SQL filter behind the reviews
// connection shows exactly the reviews the policy's review.read allows.
func TestReviewReadFilterAgreesWithPolicy(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		db := e.App.DB.Client
		orgID := mustOrg(t, e)
		uid := func(who string) int {
			id, err := db.User.Query().Where(user.Email(who + "@acme.example")).OnlyID(ctx)
			testenv.Must(t, err)
			return id
		}
		testenv.Must(t, db.Membership.Update().Where(membership.UserID(uid("oscar"))).SetPerformanceAdmin(true).Exec(ctx))
		cy, err := db.ReviewCycle.Create().SetOrgID(orgID).SetName("Named").SetCreatorID(uid("olivia")).
			SetStartsAt(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)).SetEndsAt(time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)).
			SetCriteria([]rubric.Criterion{{Key: "k", Name: "K", Scale: rubric.Scale{Min: 0, Max: 3}}}).
			SetApprovalRequired(true).SetApproverRule(reviewcycle.ApproverRuleNAMED_USER).SetApproverUserID(uid("sue")).Save(ctx)
		testenv.Must(t, err)
		_, err = review.Launch(ctx, db, orgID, cy)
		testenv.Must(t, err)
		// A cycle of two teams, one member left out.
		teams, err := db.Team.Query().Where(team.NameIn("CRM", "Customer Support")).IDs(ctx)
		testenv.Must(t, err)
		byTeam, err := db.ReviewCycle.Create().SetOrgID(orgID).SetName("Teams").SetCreatorID(uid("olivia")).
			SetStartsAt(cy.StartsAt).SetEndsAt(cy.EndsAt).SetCriteria(cy.Criteria).
			SetParticipantScope(reviewcycle.ParticipantScopeTEAMS).SetTeamIds(teams).SetExcludedUserIds([]int{uid("phil")}).Save(ctx)
		testenv.Must(t, err)
		launched, err := review.Launch(ctx, db, orgID, byTeam)
		testenv.Must(t, err)
		if launched.ParticipantCount != 3 || launched.ReviewsCreated != 6 { // Carl, Reed and Sue, each with a manager
			t.Fatalf("teams launch: %+v", launched)
		}
		rng := rand.New(rand.NewPCG(3, 5))
		statuses := []entreview.Status{entreview.StatusNOT_STARTED, entreview.StatusIN_PROGRESS, entreview.StatusSUBMITTED, entreview.StatusAPPROVED, entreview.StatusSHARED}
		rvs, err := db.Review.Query().WithCycle().WithApproverLinks().All(ctx)
		testenv.Must(t, err)
		for _, rv := range rvs {
			rv.Status = statuses[rng.IntN(len(statuses))]
			testenv.Must(t, db.Review.UpdateOneID(rv.ID).SetStatus(rv.Status).Exec(ctx))
		}
		engine, err := authz.NewEngine()
		testenv.Must(t, err)
		members, err := db.Membership.Query().Where(membership.OrgID(orgID)).WithUser().All(ctx)
		testenv.Must(t, err)
		allowedPairs := 0
		for _, m := range members {
			var out struct {
				Reviews struct {
					TotalCount int
					Edges      []struct{ Node struct{ ID string } }
				}
			}
			e.As(*m.Edges.User.Email, "acme").MustDo(t, `{ reviews(first: 1000) { totalCount edges { node { id } } } }`, nil, &out)
			visible := map[int]bool{}
			for _, ed := range out.Reviews.Edges {
				visible[atoi(t, ed.Node.ID)] = true
			}
			if out.Reviews.TotalCount != len(visible) {
				t.Errorf("%s: totalCount %d, %d edges", *m.Edges.User.Email, out.Reviews.TotalCount, len(visible))
			}
			actor, err := access.LoadActor(scope.With(context.Background(), scope.Scope{UserID: m.UserID, OrgID: orgID}), db)
			testenv.Must(t, err)
			for _, rv := range rvs {
				d, err := engine.Decide(context.Background(), actor.Input(authz.ActionReviewRead, review.Facts(rv)))
				testenv.Must(t, err)
				if d.Allow {
					allowedPairs++
				}
				if d.Allow != visible[rv.ID] {
					t.Errorf("%s, review %d (%s of %d by %d, %s): policy allows %v (%v), SQL shows %v",
						*m.Edges.User.Email, rv.ID, rv.Type, rv.RevieweeID, rv.ReviewerID, rv.Status, d.Allow, d.Reasons, visible[rv.ID])
				}
			}
		}
		if allowedPairs == 0 || allowedPairs == len(members)*len(rvs) {
			t.Fatalf("%d allowed pairs of %d: the population proves nothing", allowedPairs, len(members)*len(rvs))
		}
		t.Logf("%s: %d reviews × %d members agree (%d allowed)", e.Backend, len(rvs), len(members), allowedPairs)
	})
}
