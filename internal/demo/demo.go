// Package demo loads the demo organization "acme", built from the seed
// scenarios: a creator who is not the owner, a delegated objective, a VP's
// objective with a key result shared by four teams and owned by their four
// managers, managers with reports, team owners and admins, an org owner,
// an administrator and an observer. Key results have check-in histories
// (one checked in by a check-in owner who is not its owner), the tree's
// progress is rolled up, and there are comments.
package demo

import (
	"context"
	"fmt"
	"time"

	"okrgraph/ent"
	"okrgraph/ent/checkin"
	"okrgraph/ent/membership"
	"okrgraph/ent/okritem"
	"okrgraph/ent/organization"
	entreview "okrgraph/ent/review"
	"okrgraph/ent/teammembership"
	"okrgraph/ent/user"
	"okrgraph/internal/okr"
	"okrgraph/internal/review"
	"okrgraph/internal/review/rubric"
	"okrgraph/internal/scope"
	"okrgraph/internal/store"
)

// Slug of the demo organization.
const Slug = "acme"

// Person is a demo user.
type Person struct {
	Key, Name, Email, Role string
}

// People are the demo users, in the order tokens are printed.
var People = []Person{
	{"olivia", "Olivia Owner", "olivia@acme.example", "organization owner"},
	{"adam", "Adam Admin", "adam@acme.example", "administrator"},
	{"victor", "Victor VP", "victor@acme.example", "VP of Customer Success; manages the four team leads"},
	{"sam", "Sam Sales", "sam@acme.example", "Sales team owner and manager of Steve"},
	{"maria", "Maria Marketing", "maria@acme.example", "Marketing team owner and manager of Martha"},
	{"carl", "Carl CRM", "carl@acme.example", "CRM team owner"},
	{"sue", "Sue Support", "sue@acme.example", "Customer Support team owner"},
	{"steve", "Steve", "steve@acme.example", "Sales member and team admin; created Martha's objective"},
	{"martha", "Martha", "martha@acme.example", "Marketing member; owns the objective Steve created"},
	{"reed", "Reed David", "reed@acme.example", "owns an objective delegated to Phil S"},
	{"phil", "Phil S", "phil@acme.example", "delegate of Reed David's objective"},
	{"oscar", "Oscar Observer", "oscar@acme.example", "observer: reads everything, writes nothing"},
}

// Seed creates the demo organization unless it exists. It is idempotent.
func Seed(ctx context.Context, client *ent.Client) error {
	ctx = scope.System(ctx)
	if ok, err := client.Organization.Query().Where(organization.Slug(Slug)).Exist(ctx); err != nil || ok {
		return err
	}
	_, err := store.InTx(ctx, client, func(c *ent.Client) (struct{}, error) {
		return struct{}{}, seed(ctx, c)
	})
	return err
}

func seed(ctx context.Context, c *ent.Client) error {
	o, err := c.Organization.Create().SetName("Acme Corp").SetSlug(Slug).Save(ctx)
	if err != nil {
		return err
	}
	u := map[string]int{}
	m := map[string]int{}
	for _, p := range People {
		created, err := c.User.Query().Where(user.Email(p.Email)).Only(ctx)
		if ent.IsNotFound(err) {
			created, err = c.User.Create().SetEmail(p.Email).SetName(p.Name).SetIssuer("local").SetSub(p.Email).Save(ctx)
		}
		if err != nil {
			return fmt.Errorf("demo user %s: %w", p.Email, err)
		}
		u[p.Key] = created.ID
	}
	member := func(key string, role membership.Role, manager string, observer bool) error {
		create := c.Membership.Create().SetOrgID(o.ID).SetUserID(u[key]).SetRole(role).SetObserver(observer)
		if manager != "" {
			create.SetManagerID(m[manager])
		}
		ms, err := create.Save(ctx)
		if err == nil {
			m[key] = ms.ID
		}
		return err
	}
	for _, row := range []struct {
		key, manager string
		role         membership.Role
		observer     bool
	}{
		{"olivia", "", membership.RoleOWNER, false},
		{"adam", "olivia", membership.RoleADMIN, false},
		{"victor", "olivia", membership.RoleMEMBER, false},
		{"sam", "victor", membership.RoleMEMBER, false},
		{"maria", "victor", membership.RoleMEMBER, false},
		{"carl", "victor", membership.RoleMEMBER, false},
		{"sue", "victor", membership.RoleMEMBER, false},
		{"steve", "sam", membership.RoleMEMBER, false},
		{"martha", "maria", membership.RoleMEMBER, false},
		{"reed", "carl", membership.RoleMEMBER, false},
		{"phil", "carl", membership.RoleMEMBER, false},
		{"oscar", "", membership.RoleMEMBER, true},
	} {
		if err := member(row.key, row.role, row.manager, row.observer); err != nil {
			return fmt.Errorf("demo member %s: %w", row.key, err)
		}
	}
	teams := map[string]int{}
	for _, t := range []struct {
		key, name, owner string
		members          []string
	}{
		{"sales", "Sales", "sam", []string{"steve"}},
		{"marketing", "Marketing", "maria", []string{"martha"}},
		{"crm", "CRM", "carl", []string{"reed", "phil"}},
		{"support", "Customer Support", "sue", nil},
	} {
		team, err := c.Team.Create().SetOrgID(o.ID).SetName(t.name).Save(ctx)
		if err != nil {
			return err
		}
		teams[t.key] = team.ID
		if _, err := c.TeamMembership.Create().SetOrgID(o.ID).SetTeamID(team.ID).SetUserID(u[t.owner]).SetRole(teammembership.RoleOWNER).Save(ctx); err != nil {
			return err
		}
		for _, mem := range t.members {
			role := teammembership.RoleMEMBER
			if mem == "steve" {
				role = teammembership.RoleADMIN
			}
			if _, err := c.TeamMembership.Create().SetOrgID(o.ID).SetTeamID(team.ID).SetUserID(u[mem]).SetRole(role).Save(ctx); err != nil {
				return err
			}
		}
	}
	q1, err := c.TimePeriod.Create().SetOrgID(o.ID).SetName("Q1 2027").
		SetStartsAt(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)).
		SetEndsAt(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)).Save(ctx)
	if err != nil {
		return err
	}
	item := func(kind okritem.Kind, level okritem.Level, title, creator string, owners []string, teamKeys []string, parent *ent.OKRItem) *ent.OKRItemCreate {
		ids := make([]int, len(owners))
		for i, k := range owners {
			ids[i] = u[k]
		}
		create := c.OKRItem.Create().SetOrgID(o.ID).SetKind(kind).SetLevel(level).SetTitle(title).
			SetCreatorID(u[creator]).SetOwnerOrder(ids).AddOwnerIDs(ids...).SetCheckinOwnerID(ids[0]).
			SetTimePeriodID(q1.ID)
		for _, t := range teamKeys {
			create.AddTeamIDs(teams[t])
		}
		if parent != nil {
			create.SetParentID(parent.ID)
		}
		return create
	}
	company, err := item(okritem.KindOBJECTIVE, okritem.LevelORGANIZATION, "Become the most loved booking platform", "olivia", []string{"olivia"}, nil, nil).Save(ctx)
	if err != nil {
		return err
	}
	repeat, err := item(okritem.KindKEY_RESULT, okritem.LevelORGANIZATION, "Raise repeat bookings of first-time customers", "olivia", []string{"olivia"}, nil, company).
		SetMetricStart(20).SetMetricTarget(35).SetMetricCurrent(24).SetUnit("%").Save(ctx)
	if err != nil {
		return err
	}
	vp, err := item(okritem.KindOBJECTIVE, okritem.LevelINDIVIDUAL, "Invest in developing all four customer teams", "victor", []string{"victor"}, nil, company).Save(ctx)
	if err != nil {
		return err
	}
	if _, err := item(okritem.KindKEY_RESULT, okritem.LevelTEAM, "Every team lead runs a coaching plan for each report", "victor",
		[]string{"sam", "maria", "carl", "sue"}, []string{"sales", "marketing", "crm", "support"}, vp).
		SetMetricStart(0).SetMetricTarget(100).SetMetricCurrent(40).SetUnit("%").Save(ctx); err != nil {
		return err
	}
	campaign, err := item(okritem.KindOBJECTIVE, okritem.LevelINDIVIDUAL, "Launch the joint sales-marketing spring campaign", "steve", []string{"martha"}, nil, company).Save(ctx)
	if err != nil {
		return err
	}
	// Steve checks in on Martha's key result: he is its check-in owner.
	leads, err := item(okritem.KindKEY_RESULT, okritem.LevelINDIVIDUAL, "Qualified leads from the campaign", "steve", []string{"martha"}, nil, campaign).
		SetMetricStart(0).SetMetricTarget(500).SetMetricCurrent(120).SetUnit("leads").SetCheckinOwnerID(u["steve"]).Save(ctx)
	if err != nil {
		return err
	}
	onboarding, err := item(okritem.KindOBJECTIVE, okritem.LevelTEAM, "Implement a new onboarding program for first-time bookers", "reed", []string{"reed"}, []string{"crm"}, vp).
		SetDelegateID(u["phil"]).SetDelegateKeyResults(true).SetNotifyOwner(true).Save(ctx)
	if err != nil {
		return err
	}
	emails, err := item(okritem.KindKEY_RESULT, okritem.LevelTEAM, "Onboarding emails sent within one hour of first booking", "reed", []string{"reed"}, []string{"crm"}, onboarding).
		SetMetricStart(0).SetMetricTarget(95).SetMetricCurrent(60).SetUnit("%").Save(ctx)
	if err != nil {
		return err
	}
	// Check-in histories, three weekly check-ins each; the last value is
	// the key result's current one.
	now := time.Now()
	var leadsLast *ent.CheckIn
	for _, h := range []struct {
		kr     *ent.OKRItem
		author string
		values []float64
		status checkin.Status
		notes  []string
	}{
		{repeat, "olivia", []float64{21, 22.5, 24}, checkin.StatusBEHIND, []string{"Loyalty emails drafted", "First loyalty email out", "Slower than planned: the spring sale pulled bookings forward"}},
		{leads, "steve", []float64{40, 80, 120}, checkin.StatusON_TRACK, []string{"Webinar signups", "Trade fair leads", "Joint campaign launched"}},
		{emails, "phil", []float64{30, 45, 60}, checkin.StatusON_TRACK, []string{"Trigger built", "Templates live for two markets", "All markets live"}},
	} {
		for i, v := range h.values {
			at := now.AddDate(0, 0, -7*(len(h.values)-1-i)-1)
			status := checkin.StatusON_TRACK
			if i == len(h.values)-1 {
				status = h.status
			}
			confidence := 6 + i
			ci, err := c.CheckIn.Create().SetOrgID(o.ID).SetItemID(h.kr.ID).SetAuthorID(u[h.author]).
				SetValue(v).SetStatus(status).SetConfidence(confidence).SetNote(h.notes[i]).
				SetProgress(okr.KeyResultProgress(false, h.kr.MetricStart, h.kr.MetricTarget, &h.values[i])).
				SetCreatedAt(at).Save(ctx)
			if err != nil {
				return err
			}
			if err := h.kr.Update().SetMetricCurrent(v).SetStatus(okritem.Status(status)).SetLastCheckinAt(at).Exec(ctx); err != nil {
				return err
			}
			if h.kr.ID == leads.ID {
				leadsLast = ci
			}
		}
	}
	for _, cm := range []struct {
		author string
		item   int
		on     *ent.CheckIn
		body   string
	}{
		{"steve", campaign.ID, nil, "Kick-off with Martha on Monday: bring the spring creatives."},
		{"martha", campaign.ID, nil, "Creatives are ready; the landing page goes live Wednesday."},
		{"martha", leads.ID, leadsLast, "Great week, thanks Steve!"},
		{"victor", onboarding.ID, nil, "Phil, loop me in on the onboarding review."},
	} {
		create := c.Comment.Create().SetOrgID(o.ID).SetAuthorID(u[cm.author]).SetItemID(cm.item).SetBody(cm.body)
		if cm.on != nil {
			create.SetCheckinID(cm.on.ID)
		}
		if _, err := create.Save(ctx); err != nil {
			return err
		}
	}
	if err := c.User.UpdateOneID(u["victor"]).AddFollowedItemIDs(onboarding.ID, campaign.ID).Exec(ctx); err != nil {
		return err
	}
	if err := c.User.UpdateOneID(u["olivia"]).AddLikedCheckinIDs(leadsLast.ID).Exec(ctx); err != nil {
		return err
	}
	// Progress: key results from their metrics, objectives rolled up.
	if _, err = okr.RecomputeAll(ctx, c, o.ID); err != nil {
		return err
	}
	return seedReviews(ctx, c, o.ID, u, q1)
}

// seedReviews makes Olivia a performance admin and launches the Q1 2027
// review cycle for every member: manager reviews are approved one level
// up the supervisor chain (Steve's, written by Sam, by Victor). Steve has
// submitted his self review; Sam has started Steve's manager review.
func seedReviews(ctx context.Context, c *ent.Client, orgID int, u map[string]int, q1 *ent.TimePeriod) error {
	if err := c.Membership.Update().Where(membership.OrgID(orgID), membership.UserID(u["olivia"])).SetPerformanceAdmin(true).Exec(ctx); err != nil {
		return err
	}
	scale := rubric.Scale{Min: 1, Max: 5, Labels: []rubric.Label{
		{Value: 1, Label: "Unsatisfactory"}, {Value: 2, Label: "Needs improvement"}, {Value: 3, Label: "Meets expectations"},
		{Value: 4, Label: "Exceeds expectations"}, {Value: 5, Label: "Outstanding"},
	}}
	cy, err := c.ReviewCycle.Create().SetOrgID(orgID).SetName("Q1 2027 performance review").SetCreatorID(u["olivia"]).
		SetTimePeriodID(q1.ID).SetStartsAt(q1.StartsAt).SetEndsAt(q1.EndsAt).
		SetCriteria([]rubric.Criterion{
			{Key: "impact", Name: "Impact", Description: "Results delivered against the quarter's OKRs.", Scale: scale},
			{Key: "collaboration", Name: "Collaboration", Description: "Working with and helping other teams.", Scale: scale},
		}).
		SetApprovalRequired(true).SetApproverRule("SUPERVISOR_CHAIN").SetApproverLevels(1).
		Save(ctx)
	if err != nil {
		return err
	}
	if _, err := review.Launch(ctx, c, orgID, cy); err != nil {
		return err
	}
	now := time.Now()
	if err := c.Review.Update().Where(entreview.CycleID(cy.ID), entreview.RevieweeID(u["steve"]), entreview.TypeEQ(entreview.TypeSELF)).
		SetRatings([]rubric.Rating{{Criterion: "impact", Value: 4, Comment: "The joint campaign brought 120 qualified leads."}, {Criterion: "collaboration", Value: 5}}).
		SetComments("A strong quarter: the spring campaign with Marketing is on track.").
		SetStatus(entreview.StatusSUBMITTED).SetSubmittedAt(now).Exec(ctx); err != nil {
		return err
	}
	return c.Review.Update().Where(entreview.CycleID(cy.ID), entreview.RevieweeID(u["steve"]), entreview.TypeEQ(entreview.TypeMANAGER)).
		SetRatings([]rubric.Rating{{Criterion: "impact", Value: 4}}).
		SetStatus(entreview.StatusIN_PROGRESS).Exec(ctx)
}
