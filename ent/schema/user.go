package schema

import (
	"context"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"okrgraph/ent/intercept"
	"okrgraph/internal/scope"
)

// User is a person. Users are global; they reach organizations through
// memberships.
type User struct {
	ent.Schema
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("legacy_subject").
			StorageKey("subject").
			Comment("Deprecated: the subject of users created before identities carried their issuer. Migration moves it to (issuer \"local\", sub) and clears it; nothing writes it any more.").
			Unique().
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.String("issuer").
			Comment("The issuer of the user's identity (OIDC iss; \"local\" for HS256 development tokens; \"okrgraph:api-token\" for the service identity of an API token). Unset for an invited user who has not signed in yet.").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.String("sub").
			Comment("The subject of the user's identity at its issuer (JWT sub). A user is the pair (issuer, sub).").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Enum("kind").
			Comment("USER is a person; SERVICE is the service identity of an API token (never a member, never a person).").
			Values("USER", "SERVICE").
			Default("USER").
			Annotations(entgql.Skip()),
		field.String("email").
			Comment("Only ever set from an identity provider's verified email claim, or by an invitation (addMember by email), which binds to the first identity that signs in with that verified email. Never editable through the API.").
			Unique().
			Optional().
			Nillable().
			NotEmpty().
			MaxLen(254).
			Annotations(entgql.OrderField("EMAIL")),
		field.String("name").
			MaxLen(200).
			Default("").
			Annotations(entgql.OrderField("NAME")),
		field.Bool("sso").
			Comment("Provisioned through SSO: the user may not edit their own profile.").
			Default(false),
		field.Time("created_at").
			Default(time.Now).
			Immutable(),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("memberships", Membership.Type).
			Ref("user").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("team_memberships", TeamMembership.Type).
			Ref("user").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("owned_items", OKRItem.Type).
			Ref("owners").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("viewable_items", OKRItem.Type).
			Ref("viewers").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("org_okr_creation", Organization.Type).
			Ref("okr_creators").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("followed_items", OKRItem.Type).
			Ref("followers").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("liked_items", OKRItem.Type).
			Ref("likers").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("liked_checkins", CheckIn.Type).
			Ref("likers").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("team_okr_creation", Team.Type).
			Ref("okr_creators").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the User: one user per identity.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("issuer", "sub").Unique(),
	}
}

// Interceptors confine users to the requester and the members of the
// requester's organizations (the selected one, when one is selected).
func (User) Interceptors() []ent.Interceptor {
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
				members := sql.Select("user_id").From(sql.Table("memberships"))
				if s.OrgID != 0 {
					members.Where(sql.EQ("org_id", s.OrgID))
				} else {
					members.Where(sql.In("org_id", viewerOrgs(s.UserID)))
				}
				sel.Where(sql.Or(sql.EQ(sel.C("id"), s.UserID), sql.In(sel.C("id"), members)))
			})
			return nil
		}),
	}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
	}
}
