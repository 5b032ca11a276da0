package schema

import (
	"context"
	"fmt"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"

	"okrgraph/ent/intercept"
	"okrgraph/internal/scope"
)

// TenantMixin gives a type its organization column and confines every query
// and every update or delete of it to the organization of the request
// context. Rows of one org are invisible to requests of another.
type TenantMixin struct {
	mixin.Schema
	// SelfColumn, when set, names a user-id column whose rows are also
	// visible to that user across organizations (a user's own memberships).
	SelfColumn string
}

// Fields of the mixin.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Int("org_id").
			Immutable().
			Annotations(entgql.Skip()),
	}
}

type wherer interface {
	WhereP(...func(*sql.Selector))
}

// orgFilter limits rows to the scope's organization or, when no organization
// is selected, to the organizations the user belongs to. A scope without a
// user sees nothing.
func orgFilter(s scope.Scope, selfColumn string) func(*sql.Selector) {
	return func(sel *sql.Selector) {
		var p *sql.Predicate
		switch {
		case s.OrgID != 0:
			p = sql.EQ(sel.C("org_id"), s.OrgID)
		case s.UserID != 0:
			p = sql.In(sel.C("org_id"), viewerOrgs(s.UserID))
		default:
			sel.Where(sql.False())
			return
		}
		if selfColumn != "" && s.UserID != 0 {
			p = sql.Or(p, sql.EQ(sel.C(selfColumn), s.UserID))
		}
		sel.Where(p)
	}
}

// viewerOrgs selects the ids of the organizations a user is a member of.
func viewerOrgs(userID int) *sql.Selector {
	return sql.Select("org_id").From(sql.Table("memberships")).Where(sql.EQ("user_id", userID))
}

// Interceptors of the mixin.
func (t TenantMixin) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{
		intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
			s := scope.From(ctx)
			if s.Privileged {
				return nil
			}
			q.WhereP(orgFilter(s, t.SelfColumn))
			return nil
		}),
	}
}

// Hooks of the mixin: creates are stamped with the scope's organization;
// updates and deletes only reach rows of it.
func (TenantMixin) Hooks() []ent.Hook {
	return []ent.Hook{
		func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				s := scope.From(ctx)
				if s.Privileged {
					return next.Mutate(ctx, m)
				}
				if s.OrgID == 0 {
					return nil, fmt.Errorf("tenant: %s mutation without an organization", m.Type())
				}
				if m.Op().Is(ent.OpCreate) {
					if v, ok := m.Field("org_id"); !ok {
						if err := m.SetField("org_id", s.OrgID); err != nil {
							return nil, err
						}
					} else if v.(int) != s.OrgID {
						return nil, fmt.Errorf("tenant: %s created for another organization", m.Type())
					}
					return next.Mutate(ctx, m)
				}
				w, ok := m.(wherer)
				if !ok {
					return nil, fmt.Errorf("tenant: mutation %T cannot be filtered", m)
				}
				w.WhereP(sql.FieldEQ("org_id", s.OrgID))
				return next.Mutate(ctx, m)
			})
		},
	}
}
