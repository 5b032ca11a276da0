// Package edgefilter makes ent's edge predicates (Has<E> and Has<E>With,
// which the GraphQL where-filters are built from) honour the same
// confinement as a direct query of the edge's target: the generated
// predicate code (templates in ent/template) looks up the target table here
// and applies its filter inside the subquery, with the request's context.
// ent/edgefilters.go (generated) registers, for every table, a filter that
// runs the type's own ent interceptors (tenant, privacy), so a where-filter
// can never see a row that `node(id)` would not return.
//
// It imports nothing of the project, so every generated package may use it.
package edgefilter

import (
	"context"

	"entgo.io/ent/dialect/sql"
)

// Filter adds to s the conditions confining a table's rows to what the
// request in ctx may see.
type Filter func(ctx context.Context, s *sql.Selector)

var filters = map[string]Filter{}

// Register sets the filter of table. Called from init functions only.
func Register(table string, f Filter) { filters[table] = f }

// Has reports whether table has a filter.
func Has(table string) bool {
	_, ok := filters[table]
	return ok
}

// Apply adds table's filter to s, reading the request from s's context.
func Apply(table string, s *sql.Selector) {
	if f, ok := filters[table]; ok {
		f(s.Context(), s)
	}
}
