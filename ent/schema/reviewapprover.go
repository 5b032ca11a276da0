package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ReviewApprover links a review to one of its approvers. The links are
// fixed when the cycle is launched; the review read filter and the policy
// facts read them. They are not part of the GraphQL API (Review.approvers
// resolves them).
type ReviewApprover struct {
	ent.Schema
}

// Mixin of the ReviewApprover.
func (ReviewApprover) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the ReviewApprover.
func (ReviewApprover) Fields() []ent.Field {
	return []ent.Field{
		field.Int("review_id").
			Immutable(),
		field.Int("user_id").
			Immutable(),
	}
}

// Edges of the ReviewApprover.
func (ReviewApprover) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("review", Review.Type).
			Ref("approver_links").
			Field("review_id").
			Unique().
			Required().
			Immutable(),
		edge.To("user", User.Type).
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the ReviewApprover.
func (ReviewApprover) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("review_id", "user_id").Unique(),
		index.Fields("user_id"),
	}
}

// Annotations of the ReviewApprover.
func (ReviewApprover) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipAll),
	}
}
