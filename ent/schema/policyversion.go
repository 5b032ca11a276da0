package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"okrgraph/internal/policy/module"
)

// PolicyVersion is one saved version of an organization's own Rego policy
// (spec §6). Versions are numbered 1, 2, 3… per organization and never
// change once saved; at most one per organization is ACTIVE, and
// organizations.active_policy_version repeats its number for the cheap
// version check of every decision. A DRAFT was never active; an ARCHIVED
// version was active before.
type PolicyVersion struct {
	ent.Schema
}

// Mixin of the PolicyVersion.
func (PolicyVersion) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the PolicyVersion.
func (PolicyVersion) Fields() []ent.Field {
	return []ent.Field{
		field.Int("number").
			Comment("1, 2, 3… per organization.").
			Positive().
			Immutable(),
		field.JSON("modules", []module.Module{}).
			Comment("The Rego modules; *_test.rego ones hold the tenant's tests.").
			Immutable(),
		field.Int("author_id").
			Immutable(),
		field.Text("comment").
			MaxLen(2000).
			Default("").
			Immutable(),
		field.Enum("status").
			Values("DRAFT", "ACTIVE", "ARCHIVED").
			Default("DRAFT"),
		field.Time("created_at").
			Default(time.Now).
			Immutable(),
		field.Time("activated_at").
			Comment("When the version last became active.").
			Optional().
			Nillable(),
	}
}

// Edges of the PolicyVersion.
func (PolicyVersion) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("author", User.Type).
			Field("author_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the PolicyVersion: numbers are unique per organization, and
// the database itself refuses a second ACTIVE version of one organization.
func (PolicyVersion) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "number").Unique(),
		index.Fields("org_id").
			Unique().
			StorageKey("policyversion_one_active").
			Annotations(entsql.IndexWhere("status = 'ACTIVE'")),
	}
}

// Annotations of the PolicyVersion: the GraphQL type is written by hand
// (graph/policy.graphqls), so versions are not nodes anyone could look up.
func (PolicyVersion) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipAll),
	}
}
