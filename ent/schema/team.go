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

// Team groups members of an organization.
type Team struct {
	ent.Schema
}

// Mixin of the Team.
func (Team) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the Team.
func (Team) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			NotEmpty().
			MaxLen(100).
			Annotations(entgql.OrderField("NAME")),
		field.String("description").
			MaxLen(2000).
			Default(""),
		field.Enum("okr_creation").
			Comment("Who may create TEAM-level OKRs for this team besides its owners and org admins.").
			Values("EVERYONE", "TEAM_MEMBERS", "TEAM_OWNERS", "LISTED").
			Default("EVERYONE"),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Edges of the Team.
func (Team) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).
			Ref("teams").
			Field("org_id").
			Unique().
			Required().
			Immutable(),
		edge.From("memberships", TeamMembership.Type).
			Ref("team").
			Annotations(entgql.RelayConnection()),
		edge.To("okr_creators", User.Type).
			Comment("Users listed by the LISTED creation setting.").
			Annotations(entgql.Skip()),
		edge.From("okr_items", OKRItem.Type).
			Ref("teams").
			Annotations(entgql.RelayConnection()),
	}
}

// Indexes of the Team.
func (Team) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "name").Unique(),
	}
}

// Annotations of the Team.
func (Team) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
	}
}
