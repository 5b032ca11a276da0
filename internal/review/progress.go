package review

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"okrgraph/ent"
	"okrgraph/ent/okritem"
	"okrgraph/ent/predicate"
	"okrgraph/ent/review"
	"okrgraph/ent/reviewapprover"
	"okrgraph/ent/timeperiod"
	"okrgraph/ent/user"
	"okrgraph/internal/access"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
)

// StatusCounts counts reviews per status.
type StatusCounts struct {
	Total, NotStarted, InProgress, Submitted, Approved, Shared int
}

func (c *StatusCounts) add(s review.Status) {
	c.Total++
	switch s {
	case review.StatusNOT_STARTED:
		c.NotStarted++
	case review.StatusIN_PROGRESS:
		c.InProgress++
	case review.StatusSUBMITTED:
		c.Submitted++
	case review.StatusAPPROVED:
		c.Approved++
	case review.StatusSHARED:
		c.Shared++
	}
}

// ProgressEntry is one review's status, without its content.
type ProgressEntry struct {
	ReviewID    int
	Type        review.Type
	Status      review.Status
	Reviewee    *ent.User
	Reviewer    *ent.User
	SubmittedAt *time.Time
}

// Progress of a cycle's reviews as one viewer may follow them.
type Progress struct {
	All, Self, Manager StatusCounts
	Entries            []*ProgressEntry
}

// Progress counts the reviews of cy the caller may follow (review.track,
// asked of the policy for each review): all of them for performance admins;
// for others, SQL first narrows to the reviews they write, are reviewed
// in, approve, or that concern their direct and indirect reports.
func (s *Service) Progress(ctx context.Context, cy *ent.ReviewCycle) (*Progress, error) {
	a, err := access.ReadActor(ctx, s.Client)
	if err != nil {
		return nil, err
	}
	q := s.Client.Review.Query().
		Where(review.CycleID(cy.ID), review.OrgID(a.OrgID)).
		WithApproverLinks().
		Order(ent.Asc(review.FieldID))
	if !a.Subject.PerformanceAdmin {
		mine := []predicate.Review{
			review.ReviewerID(a.UserID),
			review.RevieweeID(a.UserID),
			review.HasApproverLinksWith(reviewapprover.UserID(a.UserID)),
		}
		if reports := ints(a.Subject.Reports); len(reports) > 0 {
			mine = append(mine, review.RevieweeIDIn(reports...))
		}
		q.Where(review.Or(mine...))
	}
	rvs, err := q.All(scope.System(ctx))
	if err != nil {
		return nil, err
	}
	p := &Progress{Entries: []*ProgressEntry{}}
	var userIDs []int
	for _, rv := range rvs {
		rv.Edges.Cycle = cy
		if d, _ := s.Guard.Decide(ctx, a.Input(authz.ActionReviewTrack, Facts(rv))); !d.Allow {
			continue
		}
		p.All.add(rv.Status)
		if rv.Type == review.TypeSELF {
			p.Self.add(rv.Status)
		} else {
			p.Manager.add(rv.Status)
		}
		p.Entries = append(p.Entries, &ProgressEntry{ReviewID: rv.ID, Type: rv.Type, Status: rv.Status,
			Reviewee: &ent.User{ID: rv.RevieweeID}, Reviewer: &ent.User{ID: rv.ReviewerID}, SubmittedAt: rv.SubmittedAt})
		userIDs = append(userIDs, rv.RevieweeID, rv.ReviewerID)
	}
	users, err := usersByID(ctx, s.Client, userIDs)
	if err != nil {
		return nil, err
	}
	byID := make(map[int]*ent.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	for _, e := range p.Entries {
		e.Reviewee, e.Reviewer = byID[e.Reviewee.ID], byID[e.Reviewer.ID]
	}
	p.Entries = slices.DeleteFunc(p.Entries, func(e *ProgressEntry) bool { return e.Reviewee == nil || e.Reviewer == nil })
	slices.SortStableFunc(p.Entries, func(x, y *ProgressEntry) int {
		return cmp.Or(cmp.Compare(x.Reviewee.Name, y.Reviewee.Name), cmp.Compare(x.Reviewee.ID, y.Reviewee.ID), cmp.Compare(x.Type, y.Type))
	})
	return p, nil
}

// usersByID loads users (as the caller sees them), deduplicated.
func usersByID(ctx context.Context, c *ent.Client, ids []int) ([]*ent.User, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return []*ent.User{}, nil
	}
	return c.User.Query().Where(user.IDIn(ids...)).Order(ent.Asc(user.FieldID)).All(ctx)
}

func ints(ss []string) []int {
	out := make([]int, 0, len(ss))
	for _, s := range ss {
		if n, err := strconv.Atoi(s); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// Approvers returns who may approve a review besides performance admins.
func (s *Service) Approvers(ctx context.Context, rv *ent.Review) ([]*ent.User, error) {
	links := rv.Edges.ApproverLinks
	if links == nil {
		var err error
		if links, err = s.Client.ReviewApprover.Query().Where(reviewapprover.ReviewID(rv.ID)).All(scope.System(ctx)); err != nil {
			return nil, err
		}
	}
	ids := make([]int, len(links))
	for i, l := range links {
		ids[i] = l.UserID
	}
	return usersByID(ctx, s.Client, ids)
}

// Achievement is one OKR of the reviewee in the cycle's period.
type Achievement struct {
	Item       *ent.OKRItem
	Kind       okritem.Kind
	Title      string
	Progress   float64
	Status     okritem.Status
	Score      *float64
	ClosedAt   *time.Time
	TimePeriod *ent.TimePeriod
}

// Achievements lists the objectives and key results the reviewee owns in
// time periods overlapping the cycle's period, as the caller may view
// them (private OKRs stay private).
func (s *Service) Achievements(ctx context.Context, rv *ent.Review) ([]*Achievement, error) {
	cy := rv.Edges.Cycle
	if cy == nil {
		var err error
		if cy, err = s.Client.ReviewCycle.Get(scope.System(ctx), rv.CycleID); err != nil {
			return nil, err
		}
	}
	items, err := s.Client.OKRItem.Query().
		Where(
			okritem.HasOwnersWith(user.ID(rv.RevieweeID)),
			okritem.HasTimePeriodWith(timeperiod.StartsAtLT(cy.EndsAt), timeperiod.EndsAtGT(cy.StartsAt)),
		).
		WithTimePeriod().
		Order(ent.Asc(okritem.FieldID)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Achievement, len(items))
	for i, it := range items {
		out[i] = &Achievement{Item: it, Kind: it.Kind, Title: it.Title, Progress: it.Progress, Status: it.Status,
			Score: it.Score, ClosedAt: it.ClosedAt, TimePeriod: it.Edges.TimePeriod}
	}
	return out, nil
}

// Permissions says what the caller may do with a review.
type Permissions struct {
	Write, Submit, Approve, SendBack, Share bool
}

// Permissions asks the policy about each write on rv.
func (s *Service) Permissions(ctx context.Context, rv *ent.Review) (*Permissions, error) {
	a, err := access.ReadActor(ctx, s.Client)
	if err != nil {
		return nil, err
	}
	if rv.Edges.Cycle == nil || rv.Edges.ApproverLinks == nil {
		if rv, err = loadReview(ctx, s.Client, a.OrgID, rv.ID); err != nil {
			return nil, err
		}
	}
	r := Facts(rv)
	allowed := func(action string) bool {
		d, _ := s.Guard.Decide(ctx, a.Input(action, r))
		return d.Allow
	}
	return &Permissions{
		Write:    allowed(authz.ActionReviewWrite),
		Submit:   allowed(authz.ActionReviewSubmit),
		Approve:  allowed(authz.ActionReviewApprove),
		SendBack: allowed(authz.ActionReviewSendBack),
		Share:    allowed(authz.ActionReviewShare),
	}, nil
}
