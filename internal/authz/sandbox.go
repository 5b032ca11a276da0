package authz

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Tenant Rego is hostile until proven otherwise (spec §6). It may call only
// the built-ins of tenantBuiltins: comparisons, bounded arithmetic,
// set/array/object operations, strings, count/sum/min/max, sprintf and
// regex.match with a short pattern. Everything else — network, parsing
// (json/yaml/graphql), encodings, crypto, bit shifts, glob, walk, print,
// time, units, numbers that can grow without bound (product, to_number) —
// fails validation with the built-in's name and place.
//
// Kept built-ins whose cost depends on their arguments are bounded for
// every evaluation in this process (trusted or not, see init): their
// operands and results are checked against the sandbox limits below before
// the work is done, and a call beyond them halts the evaluation, which
// then fails closed.

// Sandbox limits on a single built-in call.
const (
	// SandboxMaxString is the longest string a bounded built-in may build.
	SandboxMaxString = 16 << 10
	// SandboxMaxElems is the largest array, set or object a bounded
	// built-in may build (the facts of a very large org fit).
	SandboxMaxElems = 100_000
	// SandboxMaxRange is the most numbers numbers.range may produce.
	SandboxMaxRange = 10_000
	// SandboxMaxNumber bounds the magnitude of arithmetic operands (and of
	// number literals in tenant modules); results may be up to its square.
	SandboxMaxNumber = 1e18
	// SandboxMaxNumberText bounds the length of their decimal text.
	SandboxMaxNumberText = 40
	// SandboxMaxPattern is the longest regex.match pattern.
	SandboxMaxPattern = 256
	// sprintfMaxWidth bounds widths and precisions in sprintf formats.
	sprintfMaxWidth = 64
)

// tenantBuiltins is the allow-list of built-ins tenant modules may call
// (by OPA name; operators are built-ins too: eq is =, or is |, and is &).
var tenantBuiltins = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{
		// unification, assignment, comparison
		"eq", "assign", "equal", "neq", "lt", "lte", "gt", "gte",
		// membership (some x in xs, x in xs)
		"internal.member_2", "internal.member_3",
		// bounded arithmetic (operands up to SandboxMaxNumber)
		"plus", "minus", "mul", "div", "rem", "abs", "round", "ceil", "floor",
		"numbers.range", // at most SandboxMaxRange numbers
		// aggregates
		"count", "sum", "max", "min", "sort",
		// sets, arrays, objects
		"and", "or", "union", "intersection",
		"array.concat", "array.slice", "array.reverse",
		"object.get", "object.keys", "object.remove", "object.union", "object.filter", "object.subset",
		// types
		"is_number", "is_string", "is_boolean", "is_array", "is_set", "is_object", "is_null", "type_name",
		// strings
		"concat", "contains", "startswith", "endswith", "lower", "upper",
		"trim", "trim_left", "trim_right", "trim_prefix", "trim_suffix", "trim_space",
		"split", "sprintf", "format_int", "indexof", "substring", "replace",
		"strings.replace_n", "strings.count", "strings.any_prefix_match", "strings.any_suffix_match",
		"regex.match", // pattern up to SandboxMaxPattern bytes
	} {
		m[n] = true
	}
	return m
}()

// TenantBuiltins returns the names of the built-ins tenant modules may
// call, sorted (docs/limits.md lists them).
func TenantBuiltins() []string {
	out := make([]string, 0, len(tenantBuiltins))
	for n := range tenantBuiltins {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// sandboxProblems checks the compiled tenant modules (refs resolved, so a
// tenant function named like a built-in is not mistaken for one): every
// built-in called must be on the allow-list, and number literals must be
// within the arithmetic bounds.
func sandboxProblems(mods []*ast.Module) []Problem {
	var problems []Problem
	seen := map[string]bool{}
	add := func(loc *ast.Location, msg string) {
		p := Problem{Message: msg}
		if loc != nil {
			p.File, p.Line, p.Column = loc.File, loc.Row, loc.Col
		}
		if k := p.String(); !seen[k] {
			seen[k] = true
			problems = append(problems, p)
		}
	}
	checkOp := func(op *ast.Term, loc *ast.Location) {
		ref, ok := op.Value.(ast.Ref)
		if !ok {
			return
		}
		name := ref.String()
		if _, builtin := ast.BuiltinMap[name]; !builtin || tenantBuiltins[name] {
			return
		}
		if op.Location != nil {
			loc = op.Location
		}
		add(loc, fmt.Sprintf("built-in %s is not available to tenant policies (allowed: see docs/limits.md)", name))
	}
	for _, mod := range mods {
		ast.WalkExprs(mod, func(e *ast.Expr) bool {
			if e.IsCall() {
				checkOp(e.OperatorTerm(), e.Location)
			}
			for _, w := range e.With {
				// Replacing a built-in with another is a call of it.
				if _, ok := w.Value.Value.(ast.Ref); ok {
					checkOp(w.Value, w.Location)
				}
			}
			return false
		})
		ast.WalkTerms(mod, func(t *ast.Term) bool {
			switch v := t.Value.(type) {
			case ast.Call:
				checkOp(v[0], t.Location)
			case ast.Number:
				if !boundedNumber(v) {
					add(t.Location, fmt.Sprintf("number %.40s is beyond the sandbox limit (magnitude %g, %d digits)", v, SandboxMaxNumber, SandboxMaxNumberText))
				}
			}
			return false
		})
	}
	return problems
}

// errSandbox marks the halt of an evaluation by a bounded built-in.
var errSandbox = errors.New("sandbox limit")

func halt(name, format string, args ...any) error {
	return topdown.Halt{Err: fmt.Errorf("%w: %s: %s", errSandbox, name, fmt.Sprintf(format, args...))}
}

func boundedNumber(n ast.Number) bool {
	if len(n) > SandboxMaxNumberText {
		return false
	}
	f, ok := n.Float64()
	return ok && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) <= SandboxMaxNumber
}

// sizeOf estimates the size of a value in bytes, walking at most until it
// exceeds limit (then it returns a value > limit).
func sizeOf(v ast.Value, limit int) int {
	n := 0
	var walk func(v ast.Value) bool
	walk = func(v ast.Value) bool {
		switch x := v.(type) {
		case ast.String:
			n += len(x) + 2
		case ast.Number:
			n += len(x)
		case *ast.Array:
			n += 2
			for i := 0; i < x.Len() && n <= limit; i++ {
				walk(x.Elem(i).Value)
				n++
			}
		case ast.Set:
			n += 2
			_ = x.Iter(func(t *ast.Term) error {
				if walk(t.Value); n > limit {
					return errSandbox
				}
				n++
				return nil
			})
		case ast.Object:
			n += 2
			_ = x.Iter(func(k, val *ast.Term) error {
				walk(k.Value)
				if walk(val.Value); n > limit {
					return errSandbox
				}
				n += 2
				return nil
			})
		default:
			n += 5
		}
		return n <= limit
	}
	walk(v)
	return n
}

// elems is the number of elements of a collection, the length of a string.
func elems(v ast.Value) int {
	switch x := v.(type) {
	case ast.String:
		return len(x)
	case *ast.Array:
		return x.Len()
	case ast.Set:
		return x.Len()
	case ast.Object:
		return x.Len()
	}
	return 0
}

// boundedBuiltins wraps the implementation of every kept built-in whose
// cost depends on its arguments with a check run before it.
var boundedBuiltins = map[string]func(args []*ast.Term) error{
	"numbers.range": func(args []*ast.Term) error {
		if err := numbersOnly("numbers.range", args); err != nil {
			return err
		}
		a, _ := args[0].Value.(ast.Number).Float64()
		b, _ := args[1].Value.(ast.Number).Float64()
		if math.Abs(b-a) >= SandboxMaxRange {
			return halt("numbers.range", "more than %d numbers", SandboxMaxRange)
		}
		return nil
	},
	"numbers.range_step": func(args []*ast.Term) error {
		if err := numbersOnly("numbers.range_step", args); err != nil {
			return err
		}
		a, _ := args[0].Value.(ast.Number).Float64()
		b, _ := args[1].Value.(ast.Number).Float64()
		s, _ := args[2].Value.(ast.Number).Float64()
		if s != 0 && math.Abs(b-a)/math.Abs(s) >= SandboxMaxRange {
			return halt("numbers.range_step", "more than %d numbers", SandboxMaxRange)
		}
		return nil
	},
	"plus": arith("plus"), "minus": arith("minus"), "mul": arith("mul"), "div": arith("div"),
	"rem": arith("rem"), "abs": arith("abs"), "round": arith("round"), "ceil": arith("ceil"),
	"floor": arith("floor"), "format_int": arith("format_int"),
	"sum": arithElems("sum"), "product": arithElems("product"),
	"concat": func(args []*ast.Term) error {
		n := 0
		each(args[1].Value, func(t *ast.Term) { n += elems(t.Value) + elems(args[0].Value) })
		return maxString("concat", n)
	},
	"sprintf": func(args []*ast.Term) error {
		f, ok := args[0].Value.(ast.String)
		if !ok {
			return nil
		}
		if err := checkFormat(string(f)); err != nil {
			return err
		}
		n := len(f) + sizeOf(args[1].Value, SandboxMaxString)
		return maxString("sprintf", n)
	},
	"replace": func(args []*ast.Term) error {
		return replaceSize("replace", args[0].Value, args[1].Value, args[2].Value, -1)
	},
	"strings.replace_n": func(args []*ast.Term) error {
		obj, ok := args[0].Value.(ast.Object)
		if !ok {
			return nil
		}
		return obj.Iter(func(k, v *ast.Term) error {
			return replaceSize("strings.replace_n", args[1].Value, k.Value, v.Value, -1)
		})
	},
	"array.concat": func(args []*ast.Term) error {
		return maxElems("array.concat", elems(args[0].Value)+elems(args[1].Value))
	},
	"object.union": func(args []*ast.Term) error {
		return maxElems("object.union", elems(args[0].Value)+elems(args[1].Value))
	},
	"or": func(args []*ast.Term) error {
		return maxElems("or", elems(args[0].Value)+elems(args[1].Value))
	},
	"union": func(args []*ast.Term) error {
		n := 0
		each(args[0].Value, func(t *ast.Term) { n += elems(t.Value) })
		return maxElems("union", n)
	},
	"regex.match": func(args []*ast.Term) error {
		if p, ok := args[0].Value.(ast.String); ok && len(p) > SandboxMaxPattern {
			return halt("regex.match", "the pattern is %d bytes; the limit is %d", len(p), SandboxMaxPattern)
		}
		return nil
	},
}

func init() {
	for name, check := range boundedBuiltins {
		orig := topdown.GetBuiltin(name)
		if orig == nil {
			panic("authz: no built-in " + name)
		}
		topdown.RegisterBuiltinFunc(name, func(bctx topdown.BuiltinContext, args []*ast.Term, iter func(*ast.Term) error) error {
			if err := check(args); err != nil {
				return err
			}
			return orig(bctx, args, iter)
		})
	}
}

func each(v ast.Value, f func(*ast.Term)) {
	switch x := v.(type) {
	case *ast.Array:
		x.Foreach(f)
	case ast.Set:
		x.Foreach(f)
	}
}

func numbersOnly(name string, args []*ast.Term) error {
	for _, a := range args {
		n, ok := a.Value.(ast.Number)
		if !ok {
			return nil // the built-in reports the type error
		}
		if !boundedNumber(n) {
			return halt(name, "operand %.40s is beyond ±%g", n, SandboxMaxNumber)
		}
	}
	return nil
}

func arith(name string) func([]*ast.Term) error {
	return func(args []*ast.Term) error {
		for _, a := range args {
			if n, ok := a.Value.(ast.Number); ok && !boundedNumber(n) {
				return halt(name, "operand %.40s is beyond ±%g", n, SandboxMaxNumber)
			}
		}
		return nil
	}
}

func arithElems(name string) func([]*ast.Term) error {
	return func(args []*ast.Term) error {
		var err error
		each(args[0].Value, func(t *ast.Term) {
			if n, ok := t.Value.(ast.Number); ok && err == nil && !boundedNumber(n) {
				err = halt(name, "operand %.40s is beyond ±%g", n, SandboxMaxNumber)
			}
		})
		if err == nil && name == "product" && elems(args[0].Value) > 8 {
			err = halt(name, "more than 8 factors")
		}
		return err
	}
}

func maxString(name string, n int) error {
	if n > SandboxMaxString {
		return halt(name, "the result would be about %d bytes; the limit is %d", n, SandboxMaxString)
	}
	return nil
}

func maxElems(name string, n int) error {
	if n > SandboxMaxElems {
		return halt(name, "the result would have %d elements; the limit is %d", n, SandboxMaxElems)
	}
	return nil
}

func replaceSize(name string, s, old, new ast.Value, _ int) error {
	str, ok1 := s.(ast.String)
	o, ok2 := old.(ast.String)
	nw, ok3 := new.(ast.String)
	if !ok1 || !ok2 || !ok3 {
		return nil
	}
	count := len(str) + 1 // an empty old matches between every byte
	if o != "" {
		count = strings.Count(string(str), string(o))
	}
	return maxString(name, len(str)+count*len(nw))
}

// checkFormat refuses sprintf widths and precisions beyond sprintfMaxWidth
// and * (a width taken from the arguments).
func checkFormat(f string) error {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		num := 0
		for i++; i < len(f); i++ {
			c := f[i]
			switch {
			case c == '*':
				return halt("sprintf", "* widths are not allowed")
			case c >= '0' && c <= '9':
				num = num*10 + int(c-'0')
				if num > sprintfMaxWidth {
					return halt("sprintf", "widths and precisions are limited to %d", sprintfMaxWidth)
				}
				continue
			case c == '.' || c == '+' || c == '-' || c == ' ' || c == '#' || c == '[' || c == ']':
				num = 0
				continue
			}
			break
		}
	}
	return nil
}
