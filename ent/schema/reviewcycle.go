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

// ReviewCycle is a performance review cycle of an organization (spec §5):
// its period, participants, criteria and approval rule. Launching it
// creates the reviews.
type ReviewCycle struct {
	ent.Schema
}

// Mixin of the ReviewCycle.
func (ReviewCycle) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the ReviewCycle.
func (ReviewCycle) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			NotEmpty().
			MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		field.Enum("status").
			Comment("DRAFT while configured; ACTIVE once launched; CLOSED when no review may change any more.").
			Values("DRAFT", "ACTIVE", "CLOSED").
			Default("DRAFT").
			Annotations(entgql.OrderField("STATUS")),
		field.Time("starts_at").
			Comment("Start of the period under review.").
			Annotations(entgql.OrderField("STARTS_AT")),
		field.Time("ends_at").
			Comment("End of the period under review (exclusive)."),
		field.Int("time_period_id").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Enum("participant_scope").
			Comment("ALL_MEMBERS: every member but observers; TEAMS: the members of the cycle's teams. Excluded users are left out either way.").
			Values("ALL_MEMBERS", "TEAMS").
			Default("ALL_MEMBERS"),
		field.JSON("team_ids", []int{}).
			Comment("TEAMS: the teams whose members take part.").
			Default([]int{}).
			Annotations(entgql.Skip()),
		field.JSON("excluded_user_ids", []int{}).
			Comment("Members left out of the cycle.").
			Default([]int{}).
			Annotations(entgql.Skip()),
		field.JSON("criteria", []rubric.Criterion{}).
			Comment("The evaluation criteria, each with its rating scale.").
			Annotations(entgql.Type("[ReviewCriterion!]")),
		field.Bool("approval_required").
			Comment("Manager reviews must be approved before they are shared.").
			Default(false),
		field.Enum("approver_rule").
			Comment("Who approves manager reviews: performance admins, the manager's supervisors up to approverLevels levels, or one named user.").
			Values("PERFORMANCE_ADMINS", "SUPERVISOR_CHAIN", "NAMED_USER").
			Default("PERFORMANCE_ADMINS"),
		field.Int("approver_levels").
			Comment("SUPERVISOR_CHAIN: how many levels above the manager approve.").
			Range(1, 10).
			Default(1),
		field.Int("approver_user_id").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Bool("results_shared").
			Comment("The results of the whole cycle were shared with the participants.").
			Default(false),
		field.Int("creator_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Time("launched_at").
			Optional().
			Nillable(),
		field.Time("closed_at").
			Optional().
			Nillable(),
		field.Time("shared_at").
			Optional().
			Nillable(),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Edges of the ReviewCycle.
func (ReviewCycle) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("time_period", TimePeriod.Type).
			Field("time_period_id").
			Unique(),
		edge.To("approver", User.Type).
			Comment("NAMED_USER: the approver, such as a department head.").
			Field("approver_user_id").
			Unique(),
		edge.To("creator", User.Type).
			Field("creator_id").
			Unique().
			Required().
			Immutable(),
		edge.From("reviews", Review.Type).
			Ref("cycle").
			Annotations(entgql.RelayConnection()),
	}
}

// Indexes of the ReviewCycle.
func (ReviewCycle) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "status"),
	}
}

// Annotations of the ReviewCycle.
func (ReviewCycle) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
	}
}

// Interceptors hide draft cycles from everyone but performance admins, in
// SQL, mirroring the policy's review.view_cycle rule (policies/review.rego):
// launched cycles are visible to every member who is not an observer.
func (ReviewCycle) Interceptors() []ent.Interceptor {
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
						sql.NEQ(sel.C("status"), "DRAFT"),
					),
				))
			})
			return nil
		}),
	}
}

// reviewActor selects the requester's membership in the selected
// organization when it may take part in reviews at all (observers are
// read-only and the policy gives them no review action), and only when it
// carries the performance-admin flag if perfAdmin is set.
func reviewActor(s scope.Scope, perfAdmin bool) *sql.Selector {
	p := []*sql.Predicate{
		sql.EQ("org_id", s.OrgID),
		sql.EQ("user_id", s.UserID),
		sql.EQ("observer", false),
	}
	if perfAdmin {
		p = append(p, sql.EQ("performance_admin", true))
	}
	return sql.Select("id").From(sql.Table("memberships")).Where(sql.And(p...))
}
