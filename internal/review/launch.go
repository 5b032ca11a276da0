package review

import (
	"context"
	"fmt"
	"slices"
	"time"

	"okrgraph/ent"
	"okrgraph/ent/membership"
	"okrgraph/ent/review"
	"okrgraph/ent/reviewcycle"
	"okrgraph/ent/teammembership"
	"okrgraph/ent/user"
	"okrgraph/internal/apperr"
	"okrgraph/internal/scope"
	"okrgraph/internal/store"
)

// batch bounds the rows of one multi-row insert (SQLite allows 32766
// parameters per statement).
const batch = 500

// LaunchResult is what launching a cycle did.
type LaunchResult struct {
	Cycle            *ent.ReviewCycle
	ParticipantCount int
	ReviewsCreated   int
	// WithoutManager are participants without a manager (or whose manager
	// is an observer): they got only a self review.
	WithoutManager []*ent.User
	Notes          []string
}

// participant is one reviewee of a launch, with the reviewer of their
// manager review (0 for none) and the approvers of their reviews.
type participant struct {
	user      int
	manager   int
	approvers []int
}

// LaunchCycle launches a DRAFT cycle: DRAFT → ACTIVE, with a SELF review
// for each participant and a MANAGER review written by the participant's
// manager. The approvers of both reviews are fixed now: the named user, or
// the manager's supervisors up to the configured number of levels
// (observers skipped); never the reviewee or the reviewer.
func (s *Service) LaunchCycle(ctx context.Context, id int) (*LaunchResult, error) {
	res, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*LaunchResult, error) {
		a, cy, err := s.manageCycle(ctx, c, id)
		if err != nil {
			return nil, err
		}
		if cy.Status != reviewcycle.StatusDRAFT {
			return nil, apperr.Conflict("only a draft review cycle can be launched; this one is %s", cy.Status)
		}
		return Launch(ctx, c, a.OrgID, cy)
	})
	if err != nil {
		return nil, err
	}
	if res.Cycle, err = s.Client.ReviewCycle.Get(ctx, res.Cycle.ID); err != nil {
		return nil, err
	}
	return res, nil
}

// Launch launches the DRAFT cycle cy of organization orgID with client c
// (a transaction's) without asking the policy: for LaunchCycle after its
// checks, and for trusted callers such as the demo seed.
func Launch(ctx context.Context, c *ent.Client, orgID int, cy *ent.ReviewCycle) (*LaunchResult, error) {
	sys := scope.System(ctx)
	members, err := c.Membership.Query().Where(membership.OrgID(orgID)).All(sys)
	if err != nil {
		return nil, err
	}
	byMembership := make(map[int]*ent.Membership, len(members))
	for _, m := range members {
		byMembership[m.ID] = m
	}
	in := map[int]bool{}
	if cy.ParticipantScope == reviewcycle.ParticipantScopeTEAMS {
		ids, err := c.TeamMembership.Query().
			Where(teammembership.OrgID(orgID), teammembership.TeamIDIn(cy.TeamIds...)).
			Select(teammembership.FieldUserID).
			Ints(sys)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			in[id] = true
		}
	}
	excluded := map[int]bool{}
	for _, id := range cy.ExcludedUserIds {
		excluded[id] = true
	}
	if cy.ApproverUserID != nil && !slices.ContainsFunc(members, func(m *ent.Membership) bool {
		return m.UserID == *cy.ApproverUserID && !m.Observer
	}) {
		return nil, apperr.BadInput("approverUserId", "the cycle's approver is no longer a member who may approve: change the approver first")
	}
	var (
		parts      []participant
		noManager  []int
		noApprover []int
	)
	for _, m := range members {
		if m.Observer || excluded[m.UserID] || (cy.ParticipantScope == reviewcycle.ParticipantScopeTEAMS && !in[m.UserID]) {
			continue
		}
		p := participant{user: m.UserID}
		if m.ManagerID != nil {
			if mgr := byMembership[*m.ManagerID]; mgr != nil && !mgr.Observer {
				p.manager = mgr.UserID
			}
		}
		if p.manager == 0 {
			noManager = append(noManager, m.UserID)
		}
		p.approvers = approvers(cy, m, byMembership, p)
		if cy.ApprovalRequired && p.manager != 0 && len(p.approvers) == 0 {
			noApprover = append(noApprover, m.UserID)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return nil, apperr.Conflict("the review cycle has no participants: check its participant scope, teams and exclusions")
	}
	created, err := createReviews(ctx, c, orgID, cy, parts)
	if err != nil {
		return nil, err
	}
	n, err := c.ReviewCycle.Update().
		Where(reviewcycle.ID(cy.ID), reviewcycle.StatusEQ(reviewcycle.StatusDRAFT)).
		SetStatus(reviewcycle.StatusACTIVE).
		SetLaunchedAt(time.Now()).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, apperr.Conflict("the review cycle changed meanwhile; try again")
	}
	res := &LaunchResult{ParticipantCount: len(parts), ReviewsCreated: created, Notes: []string{}}
	names, err := c.User.Query().Where(user.IDIn(append(slices.Clone(noManager), noApprover...)...)).All(sys)
	if err != nil {
		return nil, err
	}
	byUser := make(map[int]*ent.User, len(names))
	for _, u := range names {
		byUser[u.ID] = u
	}
	res.WithoutManager = make([]*ent.User, 0, len(noManager))
	for _, id := range noManager {
		res.WithoutManager = append(res.WithoutManager, byUser[id])
		res.Notes = append(res.Notes, fmt.Sprintf("%s has no manager: only a self review was created", display(byUser[id])))
	}
	for _, id := range noApprover {
		res.Notes = append(res.Notes, fmt.Sprintf("%s's manager review has no approver under the cycle's rule: performance admins approve it", display(byUser[id])))
	}
	res.Cycle = cy
	return res, nil
}

// approvers of participant p's reviews under the cycle's rule.
func approvers(cy *ent.ReviewCycle, m *ent.Membership, byMembership map[int]*ent.Membership, p participant) []int {
	var out []int
	switch cy.ApproverRule {
	case reviewcycle.ApproverRuleNAMED_USER:
		if cy.ApproverUserID != nil {
			out = append(out, *cy.ApproverUserID)
		}
	case reviewcycle.ApproverRuleSUPERVISOR_CHAIN:
		if p.manager == 0 {
			return nil
		}
		// Walk up from the manager: levels supervisors above them.
		cur := byMembership[*m.ManagerID]
		for range cy.ApproverLevels {
			if cur == nil || cur.ManagerID == nil {
				break
			}
			if cur = byMembership[*cur.ManagerID]; cur != nil && !cur.Observer {
				out = append(out, cur.UserID)
			}
		}
	}
	return slices.DeleteFunc(out, func(u int) bool { return u == p.user || u == p.manager })
}

// createReviews inserts the reviews of the participants and their
// approver links, in batches; it returns how many reviews it created.
func createReviews(ctx context.Context, c *ent.Client, orgID int, cy *ent.ReviewCycle, parts []participant) (int, error) {
	type pending struct {
		create    *ent.ReviewCreate
		approvers []int
	}
	var all []pending
	for _, p := range parts {
		all = append(all, pending{c.Review.Create().
			SetOrgID(orgID).SetCycleID(cy.ID).SetRevieweeID(p.user).SetReviewerID(p.user).SetType(review.TypeSELF), p.approvers})
		if p.manager != 0 {
			all = append(all, pending{c.Review.Create().
				SetOrgID(orgID).SetCycleID(cy.ID).SetRevieweeID(p.user).SetReviewerID(p.manager).SetType(review.TypeMANAGER), p.approvers})
		}
	}
	for chunk := range slices.Chunk(all, batch) {
		builders := make([]*ent.ReviewCreate, len(chunk))
		for i, p := range chunk {
			builders[i] = p.create
		}
		rvs, err := c.Review.CreateBulk(builders...).Save(ctx)
		if err != nil {
			return 0, err
		}
		var links []*ent.ReviewApproverCreate
		for i, rv := range rvs {
			for _, u := range chunk[i].approvers {
				links = append(links, c.ReviewApprover.Create().SetOrgID(orgID).SetReviewID(rv.ID).SetUserID(u))
			}
		}
		for lc := range slices.Chunk(links, batch) {
			if _, err := c.ReviewApprover.CreateBulk(lc...).Save(ctx); err != nil {
				return 0, err
			}
		}
	}
	return len(all), nil
}

func display(u *ent.User) string {
	if u == nil {
		return "a participant"
	}
	if u.Name != "" {
		return u.Name
	}
	if u.Email != nil {
		return *u.Email
	}
	return "a participant"
}
