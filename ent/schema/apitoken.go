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

// APIToken is an organization's token for BI tools and integrations
// (spec §7): an opaque secret, stored only as its SHA-256, that acts as the
// org's service identity (ServiceUser), never as a person.
type APIToken struct {
	ent.Schema
}

// Mixin of the APIToken.
func (APIToken) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the APIToken.
func (APIToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			NotEmpty().
			MaxLen(100),
		field.Bytes("secret_hash").
			Comment("SHA-256 of the secret; the secret itself is shown once and never stored.").
			Sensitive().
			Unique().
			Immutable(),
		field.Strings("scopes").
			Comment("Policy scopes of the service identity, e.g. [\"read\"]."),
		field.Int("creator_id").
			Immutable(),
		field.Int("service_user_id").
			Unique().
			Immutable(),
		field.Time("created_at").
			Default(time.Now).
			Immutable(),
		field.Time("expires_at").
			Optional().
			Nillable().
			Immutable(),
		field.Time("last_used_at").
			Optional().
			Nillable(),
		field.Time("revoked_at").
			Optional().
			Nillable(),
	}
}

// Edges of the APIToken.
func (APIToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("creator", User.Type).
			Field("creator_id").
			Unique().
			Required().
			Immutable(),
		edge.To("service_user", User.Type).
			Field("service_user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the APIToken.
func (APIToken) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id"),
	}
}

// Annotations of the APIToken: its GraphQL type is written by hand
// (graph/identity.graphqls) so the hash never reaches the schema.
func (APIToken) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipAll),
	}
}
