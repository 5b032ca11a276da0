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

// OKRItem is an objective or a key result. Both kinds share one table so the
// alignment tree is one recursive query.
type OKRItem struct {
	ent.Schema
}

// Mixin of the OKRItem.
func (OKRItem) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the OKRItem.
func (OKRItem) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").
			Values("OBJECTIVE", "KEY_RESULT").
			Immutable().
			Annotations(entgql.OrderField("KIND")),
		field.Enum("level").
			Values("ORGANIZATION", "TEAM", "INDIVIDUAL").
			Annotations(entgql.OrderField("LEVEL")),
		field.String("title").
			NotEmpty().
			MaxLen(200).
			Annotations(entgql.OrderField("TITLE")),
		field.Text("description").
			MaxLen(10000).
			Default(""),
		field.Int("creator_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.JSON("owner_order", []int{}).
			Comment("Owner user ids in their assigned order; the first is the default check-in owner.").
			Annotations(entgql.Skip()),
		field.Int("parent_id").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Int("time_period_id").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Float("weight").
			Comment("Relative weight among siblings; null means an even split.").
			Optional().
			Nillable(),
		field.Float("metric_start").
			Optional().
			Nillable(),
		field.Float("metric_target").
			Optional().
			Nillable(),
		field.Float("metric_current").
			Optional().
			Nillable(),
		field.String("unit").
			MaxLen(32).
			Default(""),
		field.Bool("milestone").
			Comment("A 0/1 milestone key result instead of a metric.").
			Default(false),
		field.Enum("progress_mode").
			Comment("ROLLUP: an objective's progress is the weighted mean of its children; MANUAL: set by check-ins.").
			Values("ROLLUP", "MANUAL").
			Default("ROLLUP"),
		field.Float("progress").
			Comment("Current progress, 0 to 1, kept exact by the OKR service.").
			Default(0).
			Annotations(entgql.OrderField("PROGRESS")),
		field.String("data_link").
			Comment("Where the key result's value comes from (a URL).").
			MaxLen(2000).
			Default(""),
		field.Time("last_checkin_at").
			Optional().
			Nillable(),
		field.Time("closed_at").
			Optional().
			Nillable(),
		field.Float("score").
			Comment("Closing score, 0 to 1.").
			Optional().
			Nillable(),
		field.Text("close_note").
			MaxLen(10000).
			Default(""),
		field.Bool("alignment_restricted").
			Comment("Only users with an alignment grant (and editors) may align under this item.").
			Default(false),
		field.Enum("status").
			Values("NOT_STARTED", "ON_TRACK", "BEHIND", "AT_RISK", "CLOSED").
			Default("NOT_STARTED").
			Annotations(entgql.OrderField("STATUS")),
		field.Bool("private").
			Comment("Effective privacy; key results carry their objective's.").
			Default(false),
		field.Int("delegate_id").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Bool("delegate_key_results").
			Comment("The delegation also covers key results owned by the objective's owner.").
			Default(false),
		field.Bool("notify_owner").
			Comment("The owner keeps receiving check-in reminders while delegated.").
			Default(false),
		field.Int("checkin_owner_id").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Time("created_at").
			Default(time.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now).
			Annotations(entgql.OrderField("UPDATED_AT")),
	}
}

// Edges of the OKRItem.
func (OKRItem) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).
			Ref("okr_items").
			Field("org_id").
			Unique().
			Required().
			Immutable(),
		edge.To("creator", User.Type).
			Field("creator_id").
			Unique().
			Required().
			Immutable(),
		edge.To("owners", User.Type),
		edge.To("teams", Team.Type),
		edge.To("children", OKRItem.Type).
			Annotations(entgql.RelayConnection()).
			From("parent").
			Field("parent_id").
			Unique(),
		edge.To("time_period", TimePeriod.Type).
			Field("time_period_id").
			Unique(),
		edge.To("viewers", User.Type).
			Comment("Who may view a private item besides its owners, creator, delegate and check-in owner."),
		edge.To("delegate", User.Type).
			Field("delegate_id").
			Unique(),
		edge.To("checkin_owner", User.Type).
			Field("checkin_owner_id").
			Unique(),
		edge.From("checkins", CheckIn.Type).
			Ref("item").
			Annotations(entgql.RelayConnection()),
		edge.From("activity", Activity.Type).
			Comment("The item's history, newest first.").
			Ref("item").
			Annotations(entgql.RelayConnection()),
		edge.From("comments", Comment.Type).
			Ref("item").
			Annotations(entgql.RelayConnection()),
		edge.From("grants", Grant.Type).
			Ref("item"),
		edge.To("followers", User.Type).
			Annotations(entgql.RelayConnection()),
		edge.To("likers", User.Type).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the OKRItem.
func (OKRItem) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("org_id", "level"),
		index.Fields("org_id", "time_period_id"),
		index.Fields("parent_id"),
		index.Fields("delegate_id"),
	}
}

// Annotations of the OKRItem.
func (OKRItem) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField("okrs"),
		entgql.MultiOrder(),
	}
}

// Interceptors hide private items from users who may not view them, in
// SQL, so lists, connections, counts, node lookups and trees agree with the
// policy's okr.view rule: a private item is visible to its owners, creator,
// delegate, check-in owner and listed viewers; a key result is also visible
// to whoever may view its objective.
func (OKRItem) Interceptors() []ent.Interceptor {
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
				sel.Where(visibleTo(sel.C, s.UserID))
			})
			return nil
		}),
	}
}

// visibleTo is the visibility rule of an item whose columns col qualifies
// (the okr.view policy's): public, or the user is involved in it, or it is
// a key result whose objective the user owns or is the delegate of, or,
// when that objective is private too, is involved in. Every subquery is correlated to the
// row (EXISTS on a primary key), so the database evaluates them only for
// the private rows it meets and the planner can reach items through any
// index (owners by user, org and update time) instead of scanning the
// table to hash "every item the user is involved in" first.
func visibleTo(col func(string) string, userID int) *sql.Predicate {
	parent := sql.Table("okr_items").As("vis_parent")
	return sql.Or(
		sql.EQ(col("private"), false),
		involves(col, userID),
		sql.And(
			sql.EQ(col("kind"), "KEY_RESULT"),
			sql.Exists(sql.Select(parent.C("id")).From(parent).Where(sql.And(
				sql.ColumnsEQ(parent.C("id"), col("parent_id")),
				sql.Or(
					sql.EQ(parent.C("delegate_id"), userID),
					linked("okr_item_owners", parent.C("id"), userID),
					sql.And(sql.EQ(parent.C("private"), true), involves(parent.C, userID)),
				),
			))),
		),
	)
}

// involves matches items where the user is creator, delegate, check-in
// owner, an owner or a listed viewer. col qualifies a column name of the
// item's table.
func involves(col func(string) string, userID int) *sql.Predicate {
	return sql.Or(
		sql.EQ(col("creator_id"), userID),
		sql.EQ(col("delegate_id"), userID),
		sql.EQ(col("checkin_owner_id"), userID),
		linked("okr_item_owners", col("id"), userID),
		linked("okr_item_viewers", col("id"), userID),
	)
}

// linked is true when the join table links item (a qualified id column)
// to the user: one primary-key probe per row.
func linked(table, item string, userID int) *sql.Predicate {
	t := sql.Table(table).As("vis_" + table)
	return sql.Exists(sql.Select(t.C("okr_item_id")).From(t).Where(sql.And(
		sql.ColumnsEQ(t.C("okr_item_id"), item),
		sql.EQ(t.C("user_id"), userID),
	)))
}
