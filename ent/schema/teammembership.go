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

// TeamMembership places a user in a team with a team role.
type TeamMembership struct {
	ent.Schema
}

// Mixin of the TeamMembership.
func (TeamMembership) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the TeamMembership.
func (TeamMembership) Fields() []ent.Field {
	return []ent.Field{
		field.Int("team_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Int("user_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Enum("role").
			Values("MEMBER", "ADMIN", "OWNER").
			Default("MEMBER").
			Annotations(entgql.OrderField("ROLE")),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Edges of the TeamMembership.
func (TeamMembership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("team", Team.Type).
			Field("team_id").
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

// Indexes of the TeamMembership.
func (TeamMembership) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("team_id", "user_id").Unique(),
		index.Fields("org_id", "user_id"),
	}
}

// Annotations of the TeamMembership.
func (TeamMembership) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
	}
}
