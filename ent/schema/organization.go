package schema

import (
	"context"
	"regexp"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"okrgraph/ent/intercept"
	"okrgraph/internal/scope"
)

// Organization is the tenant.
type Organization struct {
	ent.Schema
}

// SlugPattern is the form of an organization slug.
var SlugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// Fields of the Organization.
func (Organization) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			NotEmpty().
			MaxLen(100).
			Annotations(entgql.OrderField("NAME")),
		field.String("slug").
			Unique().
			Match(SlugPattern),
		field.Enum("okr_creation").
			Comment("Who may create ORGANIZATION-level OKRs besides org admins.").
			Values("EVERYONE", "ADMINS", "LISTED").
			Default("EVERYONE"),
		field.Enum("team_creation").
			Comment("Who may create teams besides org admins.").
			Values("ADMINS", "EVERYONE").
			Default("ADMINS"),
		field.Int("checkin_cadence_days").
			Comment("Items without a check-in for this many days are due a reminder.").
			Default(7).
			Range(1, 365),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Int("active_policy_version").
			Comment("Number of the active tenant policy version, 0 for the default policy only (internal/policy).").
			Default(0).
			NonNegative().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Organization.
func (Organization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", Membership.Type).
			Annotations(entgql.RelayConnection()),
		edge.To("teams", Team.Type).
			Annotations(entgql.RelayConnection()),
		edge.To("time_periods", TimePeriod.Type).
			Annotations(entgql.RelayConnection()),
		edge.To("okr_items", OKRItem.Type).
			Annotations(entgql.RelayConnection()),
		edge.To("okr_creators", User.Type).
			Comment("Users listed by the LISTED organization-level creation setting.").
			Annotations(entgql.Skip()),
	}
}

// Interceptors confine organizations to those the user belongs to.
func (Organization) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{
		intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
			s := scope.From(ctx)
			if s.Privileged {
				return nil
			}
			q.WhereP(func(sel *sql.Selector) {
				if s.UserID == 0 {
					sel.Where(sql.False())
					return
				}
				if s.Service {
					// An API token's service identity belongs to no org
					// but its own.
					sel.Where(sql.EQ(sel.C("id"), s.OrgID))
					return
				}
				sel.Where(sql.In(sel.C("id"), viewerOrgs(s.UserID)))
			})
			return nil
		}),
	}
}

// Annotations of the Organization.
func (Organization) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
	}
}
