package review

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"okrgraph/ent"
	"okrgraph/ent/review"
	"okrgraph/ent/reviewapprover"
	"okrgraph/ent/reviewcycle"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/review/rubric"
	"okrgraph/internal/scope"
	"okrgraph/internal/store"
)

// Facts describes a review for the policy; rv must carry its cycle and
// approver links (loadReview loads them).
func Facts(rv *ent.Review) authz.Resource {
	appr := make([]string, len(rv.Edges.ApproverLinks))
	for i, l := range rv.Edges.ApproverLinks {
		appr[i] = access.ID(l.UserID)
	}
	r := authz.Resource{
		ID: access.ID(rv.ID),
		Review: &authz.Review{
			Type:      rv.Type.String(),
			Status:    rv.Status.String(),
			Reviewee:  access.ID(rv.RevieweeID),
			Reviewer:  access.ID(rv.ReviewerID),
			Approvers: appr,
		},
	}
	if rv.Edges.Cycle != nil {
		r.Cycle = CycleFacts(rv.Edges.Cycle)
	}
	return r
}

// loadReview reads a review of the organization, with its cycle and
// approver links, whatever its visibility.
func loadReview(ctx context.Context, c *ent.Client, orgID, id int) (*ent.Review, error) {
	rv, err := c.Review.Query().
		Where(review.ID(id), review.OrgID(orgID)).
		WithCycle().
		WithApproverLinks(func(q *ent.ReviewApproverQuery) { q.Order(ent.Asc(reviewapprover.FieldID)) }).
		Only(scope.System(ctx))
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound("review", id)
	}
	return rv, err
}

// Review returns a review when the policy lets the caller read it
// (review.read); NOT_FOUND otherwise, so that its existence does not leak.
func (s *Service) Review(ctx context.Context, id int) (*ent.Review, error) {
	a, err := access.ReadActor(ctx, s.Client)
	if err != nil {
		return nil, err
	}
	rv, err := loadReview(ctx, s.Client, a.OrgID, id)
	if err != nil {
		return nil, err
	}
	if d, _ := s.Guard.Decide(ctx, a.Input(authz.ActionReviewRead, Facts(rv))); !d.Allow {
		return nil, apperr.NotFound("review", id)
	}
	return rv, nil
}

// change runs one write on a review in a transaction: the actor must be
// able to follow the review (review.track; NOT_FOUND otherwise, so that
// strangers learn nothing) and the policy must allow action; then fn
// validates and returns the update to apply. The update only applies while
// the review still has the status it was decided on (CONFLICT otherwise).
func (s *Service) change(ctx context.Context, id int, action string, fn func(c *ent.Client, a *access.Actor, rv *ent.Review, upd *ent.ReviewUpdateOne) error) (*ent.Review, error) {
	orgID := 0
	_, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.Review, error) {
		a, err := access.LoadActor(ctx, c)
		if err != nil {
			return nil, err
		}
		orgID = a.OrgID
		rv, err := loadReview(ctx, c, a.OrgID, id)
		if err != nil {
			return nil, err
		}
		r := Facts(rv)
		if d, _ := s.Guard.Decide(ctx, a.Input(authz.ActionReviewTrack, r)); !d.Allow {
			return nil, apperr.NotFound("review", id)
		}
		if err := s.Guard.Require(ctx, a.Input(action, r)); err != nil {
			return nil, err
		}
		upd := c.Review.UpdateOneID(rv.ID).Where(review.StatusEQ(rv.Status))
		if err := fn(c, a, rv, upd); err != nil {
			return nil, err
		}
		saved, err := upd.Save(ctx)
		if ent.IsNotFound(err) {
			return nil, apperr.Conflict("the review changed meanwhile; try again")
		}
		return saved, err
	})
	if err != nil {
		return nil, err
	}
	// The writer just acted on the review: it is shown to them as it now
	// is, even when the change ends their read access (an approver who
	// sends a review back).
	return loadReview(ctx, s.Client, orgID, id)
}

// RatingInput rates one criterion.
type RatingInput struct {
	Criterion string
	Value     int
	Comment   *string
}

// SaveInput is the input of saveReview.
type SaveInput struct {
	ID       int
	Ratings  []RatingInput
	Comments *string
}

// Save fills in a review: given ratings replace the review's, each on its
// criterion's scale; the first save moves it from NOT_STARTED to
// IN_PROGRESS.
func (s *Service) Save(ctx context.Context, in SaveInput) (*ent.Review, error) {
	if in.Comments != nil {
		if n := utf8.RuneCountInString(*in.Comments); n > MaxComments {
			return nil, apperr.BadInput("comments", "comments are %d characters long; the limit is %d", n, MaxComments)
		}
	}
	seen := map[string]bool{}
	for i, r := range in.Ratings {
		if seen[r.Criterion] {
			return nil, apperr.BadInput(fmt.Sprintf("ratings[%d].criterion", i), "criterion %q is rated twice", r.Criterion)
		}
		seen[r.Criterion] = true
		if r.Comment != nil && utf8.RuneCountInString(*r.Comment) > MaxRatingComment {
			return nil, apperr.BadInput(fmt.Sprintf("ratings[%d].comment", i), "a rating comment is at most %d characters", MaxRatingComment)
		}
	}
	return s.change(ctx, in.ID, authz.ActionReviewWrite, func(_ *ent.Client, _ *access.Actor, rv *ent.Review, upd *ent.ReviewUpdateOne) error {
		if in.Ratings != nil {
			ratings, err := checkRatings(rv.Edges.Cycle.Criteria, in.Ratings)
			if err != nil {
				return err
			}
			upd.SetRatings(ratings)
		}
		if in.Comments != nil {
			upd.SetComments(strings.TrimSpace(*in.Comments))
		}
		if rv.Status == review.StatusNOT_STARTED {
			upd.SetStatus(review.StatusIN_PROGRESS)
		}
		return nil
	})
}

// checkRatings validates ratings against the criteria and returns them in
// the criteria's order.
func checkRatings(criteria []rubric.Criterion, in []RatingInput) ([]rubric.Rating, error) {
	pos := make(map[string]int, len(in))
	for i, r := range in {
		pos[r.Criterion] = i
	}
	out := make([]rubric.Rating, 0, len(in))
	for _, c := range criteria {
		i, ok := pos[c.Key]
		if !ok {
			continue
		}
		r := in[i]
		if !c.Scale.Contains(r.Value) {
			return nil, apperr.BadInput(fmt.Sprintf("ratings[%d].value", i), "the rating of %q must be between %d and %d", c.Name, c.Scale.Min, c.Scale.Max)
		}
		rt := rubric.Rating{Criterion: c.Key, Value: r.Value}
		if r.Comment != nil {
			rt.Comment = strings.TrimSpace(*r.Comment)
		}
		out = append(out, rt)
		delete(pos, c.Key)
	}
	for i, r := range in {
		if _, unknown := pos[r.Criterion]; unknown {
			return nil, apperr.BadInput(fmt.Sprintf("ratings[%d].criterion", i), "the cycle has no criterion %q", r.Criterion)
		}
	}
	return out, nil
}

// Submit hands in a review in progress; every criterion must be rated.
func (s *Service) Submit(ctx context.Context, id int) (*ent.Review, error) {
	return s.change(ctx, id, authz.ActionReviewSubmit, func(_ *ent.Client, _ *access.Actor, rv *ent.Review, upd *ent.ReviewUpdateOne) error {
		if rv.Status != review.StatusIN_PROGRESS {
			return apperr.Conflict("only a review in progress can be submitted")
		}
		rated := make(map[string]bool, len(rv.Ratings))
		for _, r := range rv.Ratings {
			rated[r.Criterion] = true
		}
		var missing []string
		for _, c := range rv.Edges.Cycle.Criteria {
			if !rated[c.Key] {
				missing = append(missing, fmt.Sprintf("%q", c.Name))
			}
		}
		if len(missing) > 0 {
			return apperr.BadInput("ratings", "rate every criterion before submitting; missing: %s", strings.Join(missing, ", "))
		}
		upd.SetStatus(review.StatusSUBMITTED).SetSubmittedAt(time.Now())
		return nil
	})
}

// Approve approves a submitted manager review.
func (s *Service) Approve(ctx context.Context, id int) (*ent.Review, error) {
	return s.change(ctx, id, authz.ActionReviewApprove, func(_ *ent.Client, a *access.Actor, rv *ent.Review, upd *ent.ReviewUpdateOne) error {
		if rv.Status != review.StatusSUBMITTED || rv.Type != review.TypeMANAGER || !rv.Edges.Cycle.ApprovalRequired {
			return apperr.Conflict("only a submitted manager review of a cycle requiring approval can be approved")
		}
		upd.SetStatus(review.StatusAPPROVED).SetApprovedAt(time.Now()).SetApprovedByID(a.UserID)
		return nil
	})
}

// SendBackInput is the input of sendBackReview.
type SendBackInput struct {
	ID   int
	Note *string
}

// SendBack returns a submitted or approved review to its reviewer.
func (s *Service) SendBack(ctx context.Context, in SendBackInput) (*ent.Review, error) {
	note := ""
	if in.Note != nil {
		note = strings.TrimSpace(*in.Note)
		if n := utf8.RuneCountInString(note); n > MaxNote {
			return nil, apperr.BadInput("note", "the note is %d characters long; the limit is %d", n, MaxNote)
		}
	}
	return s.change(ctx, in.ID, authz.ActionReviewSendBack, func(_ *ent.Client, _ *access.Actor, rv *ent.Review, upd *ent.ReviewUpdateOne) error {
		if rv.Status != review.StatusSUBMITTED && rv.Status != review.StatusAPPROVED {
			return apperr.Conflict("only a submitted or approved review can be sent back")
		}
		upd.SetStatus(review.StatusIN_PROGRESS).SetSentBackNote(note).
			ClearSubmittedAt().ClearApprovedAt().ClearApprovedByID()
		return nil
	})
}

// Share shows one review's results to its reviewee.
func (s *Service) Share(ctx context.Context, id int) (*ent.Review, error) {
	return s.change(ctx, id, authz.ActionReviewShare, func(_ *ent.Client, _ *access.Actor, rv *ent.Review, upd *ent.ReviewUpdateOne) error {
		if !shareable(rv) {
			return apperr.Conflict("the review is not ready to be shared")
		}
		upd.SetStatus(review.StatusSHARED).SetSharedAt(time.Now())
		return nil
	})
}

// shareable is the state machine's side of sharing: submitted, and
// approved for manager reviews of cycles requiring approval.
func shareable(rv *ent.Review) bool {
	if rv.Type == review.TypeMANAGER && rv.Edges.Cycle.ApprovalRequired {
		return rv.Status == review.StatusAPPROVED
	}
	return rv.Status == review.StatusSUBMITTED
}

// ShareResult is what sharing a cycle's results did.
type ShareResult struct {
	Cycle    *ent.ReviewCycle
	Shared   int
	NotReady int
}

// ShareCycle shares every review of a launched cycle that the policy lets
// the caller share now (review.share) and marks the cycle's results shared;
// reviews not ready are counted and left for later.
func (s *Service) ShareCycle(ctx context.Context, id int) (*ShareResult, error) {
	res, err := store.InTx(ctx, s.Client, func(c *ent.Client) (*ShareResult, error) {
		a, cy, err := s.manageCycle(ctx, c, id)
		if err != nil {
			return nil, err
		}
		if cy.Status == reviewcycle.StatusDRAFT {
			return nil, apperr.Conflict("the review cycle has not been launched")
		}
		rvs, err := c.Review.Query().
			Where(review.CycleID(cy.ID), review.OrgID(a.OrgID), review.StatusNEQ(review.StatusSHARED)).
			WithApproverLinks().
			All(scope.System(ctx))
		if err != nil {
			return nil, err
		}
		res := &ShareResult{}
		var ids []int
		for _, rv := range rvs {
			rv.Edges.Cycle = cy
			d, _ := s.Guard.Decide(ctx, a.Input(authz.ActionReviewShare, Facts(rv)))
			if d.Allow && shareable(rv) {
				ids = append(ids, rv.ID)
			} else {
				res.NotReady++
			}
		}
		now := time.Now()
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), batch)]
			ids = ids[len(chunk):]
			n, err := c.Review.Update().
				Where(review.IDIn(chunk...), review.StatusIn(review.StatusSUBMITTED, review.StatusAPPROVED)).
				SetStatus(review.StatusSHARED).
				SetSharedAt(now).
				Save(ctx)
			if err != nil {
				return nil, err
			}
			if n != len(chunk) {
				return nil, apperr.Conflict("reviews of the cycle changed meanwhile; try again")
			}
			res.Shared += n
		}
		if _, err := c.ReviewCycle.UpdateOneID(cy.ID).SetResultsShared(true).SetSharedAt(now).Save(ctx); err != nil {
			return nil, err
		}
		res.Cycle = cy
		return res, nil
	})
	if err != nil {
		return nil, err
	}
	if res.Cycle, err = s.Client.ReviewCycle.Get(ctx, res.Cycle.ID); err != nil {
		return nil, err
	}
	return res, nil
}
