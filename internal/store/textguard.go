package store

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent"

	"okrgraph/internal/apperr"
	"okrgraph/internal/textcheck"
)

// textGuard refuses, for every write through ent (API, CLI, demo, policy
// push), a string the databases cannot store faithfully — invalid UTF-8 or
// NUL, which PostgreSQL rejects and SQLite would keep — and a time outside
// textcheck's years, as BAD_USER_INPUT on the field. The GraphQL layer
// refuses these and more before anything runs (graph.InputCheck); this is
// the last line, for writes that do not come through it.
func textGuard(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		for _, name := range m.Fields() {
			v, ok := m.Field(name)
			if !ok {
				continue
			}
			if err := checkValue(name, v); err != nil {
				return nil, err
			}
		}
		return next.Mutate(ctx, m)
	})
}

func checkValue(field string, v any) error {
	switch v := v.(type) {
	case string:
		if p := storable(v); p != "" {
			return apperr.BadInput(field, "%s %s", field, p)
		}
	case []string:
		for _, s := range v {
			if p := storable(s); p != "" {
				return apperr.BadInput(field, "%s %s", field, p)
			}
		}
	case time.Time:
		if !v.IsZero() {
			if p := textcheck.TimeProblem(v); p != "" {
				return apperr.BadInput(field, "%s %s", field, p)
			}
		}
	}
	return nil
}

// storable says why s cannot be stored faithfully, "" when it can.
func storable(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8 text"
	case strings.ContainsRune(s, 0):
		return "contains a NUL character"
	}
	return ""
}
