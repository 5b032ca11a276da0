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

// CheckIn is one entry of an item's progress history. Org admins may
// correct or delete one; each correction is kept in the item's activity.
type CheckIn struct {
	ent.Schema
}

// Mixin of the CheckIn.
func (CheckIn) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the CheckIn.
func (CheckIn) Fields() []ent.Field {
	return []ent.Field{
		field.Int("item_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Int("author_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Float("value").
			Comment("The metric's value (metric key results), or 0/1 for milestones.").
			Optional().
			Nillable(),
		field.Float("progress").
			Comment("The item's progress right after this check-in, 0 to 1.").
			Default(0),
		field.Enum("status").
			Values("NOT_STARTED", "ON_TRACK", "BEHIND", "AT_RISK"),
		field.Int("confidence").
			Optional().
			Nillable().
			Range(0, 10),
		field.Text("note").
			MaxLen(10000).
			Default(""),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("edited_at").
			Comment("When it was last corrected; null if never (the item's activity says how).").
			Optional().
			Nillable(),
	}
}

// Edges of the CheckIn.
func (CheckIn) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("item", OKRItem.Type).
			Field("item_id").
			Unique().
			Required().
			Immutable(),
		edge.To("author", User.Type).
			Field("author_id").
			Unique().
			Required().
			Immutable(),
		edge.From("comments", Comment.Type).
			Ref("checkin").
			Annotations(entgql.RelayConnection()),
		edge.To("likers", User.Type).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the CheckIn.
func (CheckIn) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("item_id", "created_at"),
	}
}

// Annotations of the CheckIn.
func (CheckIn) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
	}
}

// Interceptors hide the check-ins of items the user may not view.
func (CheckIn) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{itemVisible("item_id")}
}

// itemVisible confines rows that belong to an OKR item (check-ins,
// comments, grants) to items the user may view, with the same rule as the
// OKRItem interceptor: a node lookup of a check-in or comment of a private
// item is NOT_FOUND for everyone who may not see the item.
func itemVisible(column string) ent.Interceptor {
	return intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
		s := scope.From(ctx)
		if s.Privileged {
			return nil
		}
		q.WhereP(func(sel *sql.Selector) {
			if s.UserID == 0 {
				sel.Where(sql.False())
				return
			}
			t := sql.Table("okr_items").As("visible_items")
			sel.Where(sql.Exists(sql.Select(t.C("id")).From(t).Where(sql.And(
				sql.ColumnsEQ(t.C("id"), sel.C(column)),
				visibleTo(t.C, s.UserID),
			))))
		})
		return nil
	})
}
