package graph

import (
	"bytes"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"okrgraph/graph/generated"
)

// serverOnlyDirectives configure code generation (gqlgen's Go bindings) and
// mean nothing to clients; they are kept out of the published schema.
var serverOnlyDirectives = map[string]bool{
	"goModel": true, "goField": true, "goTag": true, "goExtraField": true, "goEnum": true,
}

// publishedSchema is the parsed schema every executable schema shares.
func publishedSchema() *ast.Schema { return generated.NewExecutableSchema(generated.Config{}).Schema() }

// The executable schema's parsed schema is shared by every
// generated.NewExecutableSchema; stripping it once here, before any server
// exists, keeps the server-only directives out of introspection.
func init() { stripServerOnlyDirectives(publishedSchema()) }

// stripServerOnlyDirectives removes the server-only directives' definitions
// and every use of them from the schema.
func stripServerOnlyDirectives(s *ast.Schema) {
	for name := range serverOnlyDirectives {
		delete(s.Directives, name)
	}
	for _, def := range s.Types {
		def.Directives = publicDirectives(def.Directives)
		for _, f := range def.Fields {
			f.Directives = publicDirectives(f.Directives)
			for _, a := range f.Arguments {
				a.Directives = publicDirectives(a.Directives)
			}
		}
		for _, v := range def.EnumValues {
			v.Directives = publicDirectives(v.Directives)
		}
	}
}

func publicDirectives(list ast.DirectiveList) ast.DirectiveList {
	out := list[:0:0]
	for _, d := range list {
		if !serverOnlyDirectives[d.Name] {
			out = append(out, d)
		}
	}
	return out
}

// PublishedSDL returns the schema as clients see it (introspection), in
// GraphQL SDL: what client tooling such as relay-compiler compiles against.
func PublishedSDL() string {
	var buf bytes.Buffer
	formatter.NewFormatter(&buf, formatter.WithIndent("  ")).FormatSchema(publishedSchema())
	return buf.String()
}
