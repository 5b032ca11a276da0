package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Comment is a remark on an OKR item or on one of its check-ins.
type Comment struct {
	ent.Schema
}

// Mixin of the Comment.
func (Comment) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the Comment.
func (Comment) Fields() []ent.Field {
	return []ent.Field{
		field.Int("author_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Int("item_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Int("checkin_id").
			Optional().
			Nillable().
			Immutable().
			Annotations(entgql.Skip()),
		field.Text("body").
			NotEmpty().
			MaxLen(10000),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Edges of the Comment.
func (Comment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("author", User.Type).
			Field("author_id").
			Unique().
			Required().
			Immutable(),
		edge.To("item", OKRItem.Type).
			Comment("The item commented on (for a check-in comment, the check-in's item).").
			Field("item_id").
			Unique().
			Required().
			Immutable(),
		edge.To("checkin", CheckIn.Type).
			Field("checkin_id").
			Unique().
			Immutable(),
	}
}

// Indexes of the Comment.
func (Comment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("item_id", "created_at"),
		index.Fields("checkin_id"),
	}
}

// Annotations of the Comment.
func (Comment) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
	}
}

// Interceptors hide the comments of items the user may not view.
func (Comment) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{itemVisible("item_id")}
}
