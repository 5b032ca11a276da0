package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"okrgraph/ent/schema/change"
)

// Activity is one entry of an item's history: who changed what, when, and
// the fields before and after. Append-only; readable by everyone who may
// view the item.
type Activity struct {
	ent.Schema
}

// Mixin of the Activity.
func (Activity) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the Activity.
func (Activity) Fields() []ent.Field {
	return []ent.Field{
		field.Int("item_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Int("actor_id").
			Optional().
			Nillable().
			Immutable().
			Annotations(entgql.Skip()),
		field.Enum("kind").
			Comment("UPDATED: the item's fields; CHECKIN_CORRECTED and CHECKIN_DELETED: one of its check-ins.").
			Values("UPDATED", "CHECKIN_CORRECTED", "CHECKIN_DELETED").
			Immutable(),
		field.Int("checkin_id").
			Comment("The check-in corrected or deleted (it may no longer exist).").
			Optional().
			Nillable().
			Immutable().
			Annotations(entgql.Skip()),
		field.JSON("changes", []change.Change{}).
			Comment("The fields changed, before and after.").
			Immutable().
			Annotations(entgql.Type("[ActivityChange!]")),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Edges of the Activity.
func (Activity) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("item", OKRItem.Type).
			Field("item_id").
			Unique().
			Required().
			Immutable(),
		edge.To("actor", User.Type).
			Comment("Who made the change (none for the system).").
			Field("actor_id").
			Unique().
			Immutable(),
	}
}

// Indexes of the Activity.
func (Activity) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("item_id", "created_at"),
	}
}

// Annotations of the Activity.
func (Activity) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
	}
}

// Interceptors hide the activity of items the user may not view.
func (Activity) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{itemVisible("item_id")}
}
