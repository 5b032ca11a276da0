package schema

import (
	"context"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"okrgraph/ent/intercept"
	"okrgraph/internal/review/rubric"
	"okrgraph/internal/scope"
)

// Review is one performance review of a cycle: the SELF review a
// participant writes, or the MANAGER review their manager writes.
type Review struct {
	ent.Schema
}

// Mixin of the Review.
func (Review) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the Review.
func (Review) Fields() []ent.Field {
	return []ent.Field{
		field.Int("cycle_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Int("reviewee_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Int("reviewer_id").
			Comment("Who writes the review: the reviewee (SELF) or their manager when the cycle was launched (MANAGER).").
			Immutable().
			Annotations(entgql.Skip()),
		field.Enum("type").
			Values("SELF", "MANAGER").
			Immutable().
			Annotations(entgql.OrderField("TYPE")),
		field.Enum("status").
			Comment("NOT_STARTED → IN_PROGRESS → SUBMITTED → APPROVED (manager reviews of cycles requiring approval) → SHARED; sending back returns to IN_PROGRESS.").
			Values("NOT_STARTED", "IN_PROGRESS", "SUBMITTED", "APPROVED", "SHARED").
			Default("NOT_STARTED").
			Annotations(entgql.OrderField("STATUS")),
		field.JSON("ratings", []rubric.Rating{}).
			Comment("One rating per criterion of the cycle, in the cycle's criteria order.").
			Default([]rubric.Rating{}).
			Annotations(entgql.Type("[ReviewRating!]")),
		field.Text("comments").
			Comment("Overall feedback.").
			MaxLen(20000).
			Default(""),
		field.Text("sent_back_note").
			Comment("Why the review was last sent back, if it was.").
			MaxLen(5000).
			Default(""),
		field.Int("approved_by_id").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Time("submitted_at").
			Optional().
			Nillable(),
		field.Time("approved_at").
			Optional().
			Nillable(),
		field.Time("shared_at").
			Optional().
			Nillable(),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now).
			Annotations(entgql.OrderField("UPDATED_AT")),
	}
}

// Edges of the Review.
func (Review) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("cycle", ReviewCycle.Type).
			Field("cycle_id").
			Unique().
			Required().
			Immutable(),
		edge.To("reviewee", User.Type).
			Field("reviewee_id").
			Unique().
			Required().
			Immutable(),
		edge.To("reviewer", User.Type).
			Field("reviewer_id").
			Unique().
			Required().
			Immutable(),
		edge.To("approver_links", ReviewApprover.Type).
			Comment("Who may approve it (and read it once submitted), fixed at launch: the named approver or the manager's supervisors; performance admins besides.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("approved_by", User.Type).
			Field("approved_by_id").
			Unique(),
	}
}

// Indexes of the Review.
func (Review) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("cycle_id", "reviewee_id", "type").Unique(),
		index.Fields("org_id", "reviewee_id"),
		index.Fields("org_id", "reviewer_id"),
	}
}

// Annotations of the Review.
func (Review) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
	}
}

// Interceptors hide reviews from whoever may not read them, in SQL, so
// lists, connections, counts and node lookups agree with the policy's
// review.read rule (policies/review.rego; change both together). A member
// who is not an observer reads a review when they are:
//   - a performance admin;
//   - its reviewer (a participant always reads their own self review);
//   - its reviewee, once it is SHARED;
//   - once it is submitted (SUBMITTED, APPROVED or SHARED): a manager of
//     the reviewee, direct or indirect, or one of its approvers.
//
// Nobody else, org admins included.
func (Review) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{
		intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
			s := scope.From(ctx)
			if s.Privileged {
				return nil
			}
			q.WhereP(func(sel *sql.Selector) {
				if s.UserID == 0 || s.OrgID == 0 {
					sel.Where(sql.False())
					return
				}
				sel.Where(sql.And(
					sql.Exists(reviewActor(s, false)),
					sql.Or(
						sql.Exists(reviewActor(s, true)),
						sql.EQ(sel.C("reviewer_id"), s.UserID),
						sql.And(sql.EQ(sel.C("reviewee_id"), s.UserID), sql.EQ(sel.C("status"), "SHARED")),
						sql.And(
							sql.In(sel.C("status"), "SUBMITTED", "APPROVED", "SHARED"),
							sql.Or(
								reportOf(sel.C("reviewee_id"), s),
								sql.In(sel.C("id"), sql.Select("review_id").From(sql.Table("review_approvers")).Where(sql.EQ("user_id", s.UserID))),
							),
						),
					),
				))
			})
			return nil
		}),
	}
}

// reportOf matches rows whose user column names a direct or indirect
// report of the requester in the selected organization: the reporting
// line walked down in one recursive subquery, as the actor's reports are
// read (access.memberColumns).
func reportOf(col string, s scope.Scope) *sql.Predicate {
	return sql.P(func(b *sql.Builder) {
		b.WriteString(col).
			WriteString(" IN (WITH RECURSIVE r(id, user_id, depth) AS (SELECT id, user_id, 1 FROM memberships WHERE manager_id IN (SELECT id FROM memberships WHERE org_id = ").
			Arg(s.OrgID).
			WriteString(" AND user_id = ").
			Arg(s.UserID).
			WriteString(") UNION ALL SELECT m.id, m.user_id, r.depth + 1 FROM memberships m JOIN r ON m.manager_id = r.id WHERE r.depth < 1000) SELECT user_id FROM r)")
	})
}
