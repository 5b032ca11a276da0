package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Grant gives one user an explicit right on one OKR item, given by its
// owners: EDIT, CHECKIN or ALIGN.
type Grant struct {
	ent.Schema
}

// Mixin of the Grant.
func (Grant) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the Grant.
func (Grant) Fields() []ent.Field {
	return []ent.Field{
		field.Int("item_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Int("user_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Enum("kind").
			Values("EDIT", "CHECKIN", "ALIGN").
			Immutable(),
		field.Time("created_at").
			Default(time.Now).
			Immutable(),
	}
}

// Edges of the Grant.
func (Grant) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("item", OKRItem.Type).
			Field("item_id").
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

// Indexes of the Grant.
func (Grant) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("item_id", "user_id", "kind").Unique(),
	}
}

// Interceptors hide the grants of items the user may not view.
func (Grant) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{itemVisible("item_id")}
}
