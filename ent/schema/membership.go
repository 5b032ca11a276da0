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

// Membership places a user in an organization with a role.
type Membership struct {
	ent.Schema
}

// Mixin of the Membership.
func (Membership) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{SelfColumn: "user_id"}}
}

// Fields of the Membership.
func (Membership) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Enum("role").
			Values("MEMBER", "ADMIN", "OWNER").
			Default("MEMBER").
			Annotations(entgql.OrderField("ROLE")),
		field.Bool("performance_admin").
			Default(false),
		field.Bool("observer").
			Comment("Read-only member: may view, never write.").
			Default(false),
		field.Int("manager_id").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("last_seen_at").
			Comment("The member's last authenticated request in this organization (updated at most once a minute). Shown to org admins only (Membership.lastSignInAt).").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
	}
}

// Edges of the Membership.
func (Membership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).
			Ref("memberships").
			Field("org_id").
			Unique().
			Required().
			Immutable(),
		edge.To("user", User.Type).
			Field("user_id").
			Unique().
			Required().
			Immutable(),
		edge.To("reports", Membership.Type).
			Comment("Members whose direct manager this member is.").
			From("manager").
			Field("manager_id").
			Unique(),
	}
}

// Indexes of the Membership.
func (Membership) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "user_id").Unique(),
		index.Fields("user_id"),
		index.Fields("manager_id"),
	}
}

// Annotations of the Membership.
func (Membership) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField("members"),
	}
}
