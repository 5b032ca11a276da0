package authz

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"

	"okrgraph/policies"
)

// Limits on a tenant's policy, checked before anything is parsed.
const (
	MaxTenantModules     = 20
	MaxTenantModuleBytes = 64 << 10
	MaxTenantBytes       = 256 << 10
	// TenantTestTimeout bounds a run of a tenant's tests (with the safety
	// suite), compile included.
	TenantTestTimeout = 2 * time.Second
)

// Problem is one reason a tenant policy is refused, with its place.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
	}
	if p.File != "" {
		return p.File + ": " + p.Message
	}
	return p.Message
}

// ProblemsError carries the problems of a refused tenant policy.
type ProblemsError struct{ Problems []Problem }

func (e *ProblemsError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return "invalid tenant policy: " + strings.Join(msgs, "; ")
}

// Module is one Rego file of a tenant policy. Files whose name ends in
// _test.rego hold the tenant's tests; they are compiled for testing only.
type Module struct {
	Name   string
	Source string
}

// IsTest reports whether the module holds tests.
func (m Module) IsTest() bool { return strings.HasSuffix(m.Name, "_test.rego") }

// parseTenant checks limits, parses each module (Rego v1, restricted
// capabilities) and checks that each lives in the tenant namespace.
func parseTenant(mods []Module, caps *ast.Capabilities, withTests bool) ([]*ast.Module, []Problem) {
	var problems []Problem
	if len(mods) == 0 {
		return nil, []Problem{{Message: "a policy needs at least one module"}}
	}
	if len(mods) > MaxTenantModules {
		return nil, []Problem{{Message: fmt.Sprintf("%d modules; the limit is %d", len(mods), MaxTenantModules)}}
	}
	total := 0
	seen := map[string]bool{}
	for _, m := range mods {
		total += len(m.Source)
		switch {
		case m.Name == "" || !strings.HasSuffix(m.Name, ".rego") || strings.ContainsAny(m.Name, "/\\"):
			problems = append(problems, Problem{File: m.Name, Message: "module names are plain file names ending in .rego"})
		case seen[m.Name]:
			problems = append(problems, Problem{File: m.Name, Message: "two modules have this name"})
		case len(m.Source) > MaxTenantModuleBytes:
			problems = append(problems, Problem{File: m.Name, Message: fmt.Sprintf("%d bytes; the limit is %d per module", len(m.Source), MaxTenantModuleBytes)})
		}
		seen[m.Name] = true
	}
	if total > MaxTenantBytes {
		problems = append(problems, Problem{Message: fmt.Sprintf("%d bytes in all; the limit is %d", total, MaxTenantBytes)})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	var parsed []*ast.Module
	for _, m := range mods {
		if m.IsTest() && !withTests {
			continue
		}
		mod, err := ast.ParseModuleWithOpts(m.Name, m.Source, ast.ParserOptions{
			RegoVersion:       ast.RegoV1,
			Capabilities:      caps,
			ProcessAnnotation: true,
		})
		if err != nil {
			problems = append(problems, astProblems(m.Name, err)...)
			continue
		}
		pkg := strings.TrimPrefix(mod.Package.Path.String(), "data.")
		if !strings.HasPrefix(pkg, TenantNamespace+".") {
			problems = append(problems, Problem{File: m.Name, Line: mod.Package.Location.Row, Column: mod.Package.Location.Col,
				Message: fmt.Sprintf("package %s is outside the tenant namespace %s.*", pkg, TenantNamespace)})
			continue
		}
		parsed = append(parsed, mod)
	}
	return parsed, problems
}

// astProblems turns parse and compile errors into problems.
func astProblems(file string, err error) []Problem {
	var errs ast.Errors
	if !errors.As(err, &errs) {
		return []Problem{{File: file, Message: err.Error()}}
	}
	out := make([]Problem, 0, len(errs))
	for _, e := range errs {
		p := Problem{File: file, Message: e.Message}
		if e.Location != nil {
			p.File, p.Line, p.Column = e.Location.File, e.Location.Row, e.Location.Col
		}
		out = append(out, p)
	}
	return out
}

// ValidateTenant checks a tenant policy as it would be activated: limits,
// syntax, namespace, and a strict compile together with the default
// policy under the restricted capabilities. It returns the problems found.
func ValidateTenant(mods []Module) []Problem {
	_, problems := compileTenant(mods, false, nil)
	return problems
}

// compileTenant parses the default policy and the tenant's modules (and
// extra trusted modules, such as the safety suite) and compiles them
// together in strict mode.
func compileTenant(mods []Module, withTests bool, extra []Module) ([]*ast.Module, []Problem) {
	caps := Capabilities()
	tenant, problems := parseTenant(mods, caps, withTests)
	if len(problems) > 0 {
		return nil, problems
	}
	base, err := parseFS(policies.FS, caps)
	if err != nil {
		return nil, []Problem{{Message: err.Error()}}
	}
	for _, m := range extra {
		mod, err := parseModule(m.Name, m.Source, caps)
		if err != nil {
			return nil, []Problem{{File: m.Name, Message: err.Error()}}
		}
		base = append(base, mod)
	}
	all := append(base, tenant...)
	c := ast.NewCompiler().
		WithCapabilities(caps).
		WithStrict(true).
		WithDefaultRegoVersion(ast.RegoV1)
	c.Compile(byFile(all))
	if c.Failed() {
		return nil, astProblems("", c.Errors)
	}
	var compiled []*ast.Module
	for _, m := range tenant {
		if cm := c.Modules[m.Package.Location.File]; cm != nil {
			compiled = append(compiled, cm)
		}
	}
	if problems := sandboxProblems(compiled); len(problems) > 0 {
		return nil, problems
	}
	return all, nil
}

// byFile keys modules by their file name, as the compiler and the test
// runner take them.
func byFile(mods []*ast.Module) map[string]*ast.Module {
	out := make(map[string]*ast.Module, len(mods))
	for _, m := range mods {
		out[m.Package.Location.File] = m
	}
	return out
}

// NewTenantEngine compiles the default policy together with a tenant's
// modules (tests excluded) into an engine.
func NewTenantEngine(mods []Module, opts ...Option) (*Engine, error) {
	all, problems := compileTenant(mods, false, nil)
	if len(problems) > 0 {
		return nil, &ProblemsError{Problems: problems}
	}
	cfg := newConfigTimeout(opts, DefaultTenantTimeout)
	cfg.query = TenantDecisionQuery
	return newEngine(cfg, Capabilities(), all)
}

// TestResult is the outcome of one Rego test.
type TestResult struct {
	Package  string
	Name     string
	Passed   bool
	Message  string
	Duration time.Duration
	// Safety marks tests of the built-in safety suite.
	Safety bool
}

// RunTenantTests runs the tenant's own test_ rules and the built-in safety
// suite, which proves the policy cannot lock org admins out of repairing
// it, against the default policy plus the tenant's modules. The suite runs
// with the org's real facts (facts.Org, facts.Subject), so a rule keyed on
// the org or the admin cannot slip past it. The run passes through the
// org's Gate (DefaultGate unless g is given) and is bounded by its
// TestTimeout; a run cut short is one problem saying why.
func RunTenantTests(ctx context.Context, mods []Module, facts SafetyFacts, g ...*Gate) ([]TestResult, []Problem) {
	gate := DefaultGate()
	if len(g) > 0 && g[0] != nil {
		gate = g[0]
	}
	var (
		out      []TestResult
		problems []Problem
	)
	timeout := gate.TestTimeout
	if timeout <= 0 {
		timeout = TenantTestTimeout
	}
	err := gate.runGated(ctx, facts.Org.ID, timeout, func(ctx context.Context) error {
		out, problems = runTenantTests(ctx, mods, facts)
		return nil
	})
	if err != nil {
		return nil, []Problem{{Message: "the tests did not run to the end: " + err.Error()}}
	}
	return out, problems
}

func runTenantTests(ctx context.Context, mods []Module, facts SafetyFacts) ([]TestResult, []Problem) {
	all, problems := compileTenant(mods, true, []Module{safetySuite(facts)})
	if len(problems) > 0 {
		return nil, problems
	}
	if ctx.Err() != nil {
		return nil, nil // the caller reports why
	}
	runner := tester.NewRunner().
		SetModules(byFile(all)).
		SetTimeout(TenantTestTimeout).
		CapturePrintOutput(false).
		SetCompiler(ast.NewCompiler().WithCapabilities(Capabilities()).WithStrict(true).WithDefaultRegoVersion(ast.RegoV1))
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		return nil, []Problem{{Message: err.Error()}}
	}
	var out []TestResult
	for r := range ch {
		res := TestResult{
			Package:  strings.TrimPrefix(r.Package, "data."),
			Name:     r.Name,
			Passed:   r.Pass() && !r.Skip,
			Duration: r.Duration,
			Safety:   strings.HasPrefix(strings.TrimPrefix(r.Package, "data."), safetyPackage),
		}
		switch {
		case r.Error != nil:
			res.Message = r.Error.Error()
		case r.Fail:
			res.Message = "failed"
		}
		out = append(out, res)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Safety && !out[j].Safety })
	return out, nil
}
