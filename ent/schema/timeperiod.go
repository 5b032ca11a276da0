package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// TimePeriod is an org-defined span OKRs are set for, such as "Q1 2027".
type TimePeriod struct {
	ent.Schema
}

// Mixin of the TimePeriod.
func (TimePeriod) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the TimePeriod.
func (TimePeriod) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			NotEmpty().
			MaxLen(100).
			Annotations(entgql.OrderField("NAME")),
		field.Time("starts_at").
			Annotations(entgql.OrderField("STARTS_AT")),
		field.Time("ends_at").
			Annotations(entgql.OrderField("ENDS_AT")),
		field.Bool("closed").
			Default(false),
	}
}

// Edges of the TimePeriod.
func (TimePeriod) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).
			Ref("time_periods").
			Field("org_id").
			Unique().
			Required().
			Immutable(),
		edge.From("okr_items", OKRItem.Type).
			Ref("time_period").
			Annotations(entgql.RelayConnection()),
	}
}

// Indexes of the TimePeriod.
func (TimePeriod) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "name").Unique(),
	}
}

// Annotations of the TimePeriod.
func (TimePeriod) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}
