package graph

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"okrgraph/internal/apperr"
	"okrgraph/internal/textcheck"
)

// InputCheck refuses, before anything runs, an operation whose arguments
// (literals or variables, at any depth of input objects and lists) hold a
// enum value that is not one of its type's (variables are matched by name,
// case-sensitively), a string the API does not accept (textcheck.Problem: invalid UTF-8, NUL,
// control characters, bidi overrides; titles and names on a single line),
// a string longer than textcheck.MaxText (textcheck.MaxFilter inside a
// where filter), or a Time outside the years textcheck.MinYear–MaxYear.
// The answer is BAD_USER_INPUT naming the field (e.g. "title",
// "where.titleContains", "criteria.0.name"); nothing is resolved, so
// nothing is written.
type InputCheck struct{}

var (
	_ graphql.HandlerExtension        = InputCheck{}
	_ graphql.OperationContextMutator = InputCheck{}
)

// ExtensionName implements graphql.HandlerExtension.
func (InputCheck) ExtensionName() string { return "InputCheck" }

// Validate implements graphql.HandlerExtension.
func (InputCheck) Validate(graphql.ExecutableSchema) error { return nil }

// singleLine are the input fields (by name) that hold a title, a name or
// an identifier: one line, no tab.
var singleLine = map[string]bool{
	"action": true, "criterion": true, "dataLink": true, "email": true, "key": true,
	"label": true, "name": true, "slug": true, "title": true, "unit": true,
}

// MutateOperationContext implements graphql.OperationContextMutator: it
// runs after the document is validated and the variables are coerced.
func (InputCheck) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if loneSurrogateEscape(oc.RawQuery) {
		// The parser would turn it into U+FFFD silently.
		return &gqlerror.Error{
			Message:    "the document has a \\u escape of a lone UTF-16 surrogate, which is not a character",
			Extensions: map[string]any{"code": apperr.CodeBadUserInput, "field": "query"},
		}
	}
	c := inputChecker{vars: oc.Variables, fragments: oc.Doc.Fragments, seen: map[string]bool{}}
	if err := c.selections(oc.Operation.SelectionSet); err != nil {
		return &gqlerror.Error{
			Message:    err.Message,
			Extensions: map[string]any{"code": apperr.CodeBadUserInput, "field": err.Field},
		}
	}
	return nil
}

type inputChecker struct {
	vars      map[string]any
	fragments ast.FragmentDefinitionList
	seen      map[string]bool // fragments already checked
}

func (c *inputChecker) selections(set ast.SelectionSet) *apperr.Error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			for _, arg := range sel.Arguments {
				v, err := arg.Value.Value(c.vars)
				if err != nil {
					continue // gqlgen reports it
				}
				var typ *ast.Type
				var def *ast.Definition
				if sel.Definition != nil {
					if a := sel.Definition.Arguments.ForName(arg.Name); a != nil {
						typ, def = a.Type, c.definition(a.Type)
					}
				}
				if err := c.value(arg.Name, typ, def, v, false); err != nil {
					return err
				}
			}
			if err := c.selections(sel.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := c.selections(sel.SelectionSet); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if c.seen[sel.Name] {
				continue
			}
			c.seen[sel.Name] = true
			if f := c.fragments.ForName(sel.Name); f != nil {
				if err := c.selections(f.SelectionSet); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// value checks one argument or input field value. path names it for the
// client; typ is its GraphQL type and def the definition of its named type
// when known; filter is set inside a where input.
func (c *inputChecker) value(path string, typ *ast.Type, def *ast.Definition, v any, filter bool) *apperr.Error {
	if def != nil && strings.HasSuffix(def.Name, "WhereInput") {
		filter = true
	}
	switch v := v.(type) {
	case string:
		name := path[strings.LastIndexByte(path, '.')+1:]
		if def != nil && def.Kind == ast.Enum {
			// Variables are coerced to enums by name, case-sensitively:
			// "objective" for OBJECTIVE must not reach the enum's decoder.
			if def.EnumValues.ForName(v) == nil {
				return apperr.BadInput(publicPath(path), "%s: %q is not a %s (one of %s)", name, v, def.Name, enumNames(def))
			}
			return nil
		}
		if typ != nil && typ.Name() == "Time" {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				if p := textcheck.TimeProblem(t); p != "" {
					return apperr.BadInput(publicPath(path), "%s %s", name, p)
				}
			}
			return nil
		}
		limit := textcheck.MaxText
		if filter {
			limit = textcheck.MaxFilter
		}
		if len(v) > limit {
			return apperr.BadInput(publicPath(path), "%s is %d bytes long; the limit is %d", name, len(v), limit)
		}
		if p := textcheck.Problem(v, singleLine[name]); p != "" {
			return apperr.BadInput(publicPath(path), "%s %s", name, p)
		}
	case []any:
		var elem *ast.Type
		if typ != nil {
			elem = typ.Elem
		}
		for i, e := range v {
			if err := c.value(path+"."+strconv.Itoa(i), elem, def, e, filter); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range v {
			var ft *ast.Type
			var fd *ast.Definition
			if def != nil {
				if f := def.Fields.ForName(k); f != nil {
					ft = f.Type
				}
			}
			if ft != nil {
				fd = c.definition(ft)
			}
			if err := c.value(path+"."+k, ft, fd, e, filter); err != nil {
				return err
			}
		}
	}
	return nil
}

// definition finds the named type of t in the schema the fields came from.
func (c *inputChecker) definition(t *ast.Type) *ast.Definition {
	return schemaTypes()[t.Name()]
}

var schemaTypes = sync.OnceValue(func() map[string]*ast.Definition { return publishedSchema().Types })

// loneSurrogateEscape reports whether a GraphQL document has a \uXXXX
// escape of a UTF-16 surrogate that is not part of a pair.
func loneSurrogateEscape(doc string) bool {
	surrogate := func(i int) (rune, bool) {
		if i+6 > len(doc) || doc[i] != '\\' || doc[i+1] != 'u' {
			return 0, false
		}
		r, err := strconv.ParseUint(doc[i+2:i+6], 16, 32)
		if err != nil || r < 0xd800 || r > 0xdfff {
			return 0, false
		}
		return rune(r), true
	}
	for i := 0; i < len(doc); i++ {
		if doc[i] != '\\' {
			continue
		}
		if i+1 < len(doc) && doc[i+1] == '\\' {
			i++ // an escaped backslash
			continue
		}
		r, ok := surrogate(i)
		if !ok {
			continue
		}
		if r >= 0xdc00 {
			return true // a trailing surrogate first
		}
		r2, ok := surrogate(i + 6)
		if !ok || r2 < 0xdc00 {
			return true
		}
		i += 11
	}
	return false
}

func enumNames(def *ast.Definition) string {
	names := make([]string, len(def.EnumValues))
	for i, v := range def.EnumValues {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}

// publicPath drops the conventional "input." of a mutation's single input
// argument: createOKRItem(input: {title}) reports "title".
func publicPath(path string) string {
	if rest, ok := strings.CutPrefix(path, "input."); ok {
		return rest
	}
	return path
}
