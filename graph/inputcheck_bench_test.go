package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
)

// BenchmarkInputCheck measures the check of a mutation's arguments (a
// create with a title, a description of 2 KB and teams) before it runs.
func BenchmarkInputCheck(b *testing.B) {
	q := `mutation($in: CreateOKRItemInput!) { createOKRItem(input: $in) { item { id } } }`
	doc, errs := gqlparser.LoadQueryWithRules(publishedSchema(), q, nil)
	if errs != nil {
		b.Fatal(errs)
	}
	oc := &graphql.OperationContext{
		RawQuery:  q,
		Doc:       doc,
		Operation: doc.Operations[0],
		Variables: map[string]any{"in": map[string]any{
			"kind": "OBJECTIVE", "level": "TEAM", "title": "Grow revenue in every region",
			"description": strings.Repeat("Some words about it. ", 100), "teamIds": []any{"12884901889", "12884901890"},
		}},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := (InputCheck{}).MutateOperationContext(ctx, oc); err != nil {
			b.Fatal(err)
		}
	}
}
