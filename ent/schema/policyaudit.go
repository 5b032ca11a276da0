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

// PolicyAudit is one entry of an organization's tenant policy audit log:
// who validated, saved, tested, explained, activated, rolled back or
// deactivated what, and when. Entries are never changed.
type PolicyAudit struct {
	ent.Schema
}

// Mixin of the PolicyAudit.
func (PolicyAudit) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the PolicyAudit.
func (PolicyAudit) Fields() []ent.Field {
	return []ent.Field{
		field.Int("actor_id").
			Immutable(),
		field.Enum("action").
			Values("VALIDATE", "SAVE_DRAFT", "TEST", "EXPLAIN", "ACTIVATE", "ROLLBACK", "DEACTIVATE").
			Immutable(),
		field.Int("version").
			Comment("The policy version number acted on, if any.").
			Optional().
			Nillable().
			Immutable(),
		field.Text("detail").
			MaxLen(4000).
			Default("").
			Immutable(),
		field.Time("created_at").
			Default(time.Now).
			Immutable(),
	}
}

// Edges of the PolicyAudit.
func (PolicyAudit) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("actor", User.Type).
			Field("actor_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the PolicyAudit.
func (PolicyAudit) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "created_at"),
	}
}

// Annotations of the PolicyAudit.
func (PolicyAudit) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipAll),
	}
}
