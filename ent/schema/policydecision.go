package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PolicyDecision is one entry of an organization's decision log: a
// decision the policy made on a request (internal/decisionlog says which
// ones are kept), with the facts it was made on, so that org admins can
// see what their policy decided and replay it against a draft. Entries are
// written asynchronously, outside the request's transaction, never
// changed, and pruned after the retention period.
type PolicyDecision struct {
	ent.Schema
}

// Mixin of the PolicyDecision.
func (PolicyDecision) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the PolicyDecision.
func (PolicyDecision) Fields() []ent.Field {
	return []ent.Field{
		field.Time("decided_at").
			Immutable(),
		field.String("action").
			MaxLen(100).
			Immutable(),
		field.String("subject_type").
			Comment("What acted: \"user\", or another kind of identity (a service) when the policy input says so.").
			MaxLen(40).
			Default("user").
			Immutable(),
		field.String("subject_id").
			Comment("The subject's id as the policy saw it (a user id for users).").
			MaxLen(100).
			Immutable(),
		field.String("resource_id").
			Comment("The id of the thing acted on; empty for a proposed item or the organization.").
			MaxLen(100).
			Default("").
			Immutable(),
		field.Bool("allowed").
			Immutable(),
		field.JSON("reasons", []string{}).
			Immutable(),
		field.Enum("decided_by").
			Values("DEFAULT", "TENANT").
			Immutable(),
		field.Int("version").
			Comment("The tenant policy version in force, 0 when only the default policy applied.").
			Default(0).
			Immutable(),
		field.Bool("failed").
			Comment("The evaluation failed or timed out (and so denied).").
			Default(false).
			Immutable(),
		field.Text("facts").
			Comment("The policy input as JSON: what the decision was made on.").
			Immutable(),
	}
}

// Indexes of the PolicyDecision.
func (PolicyDecision) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "decided_at"),
		index.Fields("org_id", "action", "decided_at"),
		index.Fields("decided_at"),
	}
}

// Annotations of the PolicyDecision.
func (PolicyDecision) Annotations() []schema.Annotation {
	return []schema.Annotation{
		// Read only through the policy service (org admins); never as a
		// Node, which any member could ask for.
		entgql.Skip(entgql.SkipAll),
	}
}
