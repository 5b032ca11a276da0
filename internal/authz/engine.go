// Package authz decides what a member of an org may do, by evaluating the
// Rego policies of okrgraph/policies. It knows nothing of ent or GraphQL:
// a domain service gathers the facts into an Input and asks an Authorizer.
//
// Every failure (evaluation error, timeout, undefined or malformed
// decision, panic) denies: Decide then returns a denying Decision and a
// non-nil error wrapping ErrPolicyEvaluation.
package authz

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"okrgraph/policies"
)

// Authorizer decides whether the subject of in may perform in.Action.
type Authorizer interface {
	Decide(ctx context.Context, in *Input) (Decision, error)
}

// DecisionQuery is the Rego query every decision evaluates.
const DecisionQuery = "data.okrgraph.main.decision"

// DefaultTimeout is the evaluation deadline used unless WithTimeout says
// otherwise.
const DefaultTimeout = 50 * time.Millisecond

// TenantNamespace is the package prefix reserved for per-org policy modules
// (spec §6). main.rego already reads data.okrgraph.tenant[_].deny and
// data.okrgraph.tenant[_].allow; no such module is loaded yet.
const TenantNamespace = "okrgraph.tenant"

// ErrPolicyEvaluation is wrapped by every error Decide returns.
var ErrPolicyEvaluation = errors.New("policy evaluation failed")

// Option configures NewEngine.
type Option func(*config)

type config struct {
	timeout time.Duration
	logger  *slog.Logger
	extra   []sourceModule // tenant modules: the seam for spec §6, unexported for now
}

type sourceModule struct{ name, src string }

// WithTimeout sets the evaluation deadline of each decision (default
// DefaultTimeout). Values <= 0 are ignored.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithLogger sets the logger failures are reported to (default
// slog.Default()). A nil logger is ignored.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// withExtraModule adds a Rego module that must live under TenantNamespace.
// It is the seam for per-tenant policies and only used by tests for now.
func withExtraModule(name, src string) Option {
	return func(c *config) { c.extra = append(c.extra, sourceModule{name, src}) }
}

// Engine is the Rego-backed Authorizer. It is safe for concurrent use.
type Engine struct {
	query   rego.PreparedEvalQuery
	timeout time.Duration
	logger  *slog.Logger
	static  []rego.EvalOption // per-engine eval options, built once
	memo    inputMemo
}

var _ Authorizer = (*Engine)(nil)

// NewEngine compiles the embedded policies once (Rego v1, strict mode, the
// restricted Capabilities) and prepares DecisionQuery for evaluation.
func NewEngine(opts ...Option) (*Engine, error) {
	cfg := config{timeout: DefaultTimeout, logger: slog.Default()}
	for _, o := range opts {
		o(&cfg)
	}
	caps := Capabilities()

	modules, err := parseFS(policies.FS, caps)
	if err != nil {
		return nil, err
	}
	for _, m := range cfg.extra {
		mod, err := parseModule(m.name, m.src, caps)
		if err != nil {
			return nil, err
		}
		if !inNamespace(mod.Package.Path, TenantNamespace) {
			return nil, fmt.Errorf("authz: module %s: package %s is outside %s", m.name, mod.Package.Path, TenantNamespace)
		}
		modules = append(modules, mod)
	}

	return newEngine(cfg, caps, modules)
}

// newEngine compiles modules (the embedded ones plus any extra) in one step.
func newEngine(cfg config, caps *ast.Capabilities, modules []*ast.Module) (*Engine, error) {
	query, err := prepare(caps, modules)
	if err != nil {
		return nil, err
	}
	return &Engine{
		query:   query,
		timeout: cfg.timeout,
		logger:  cfg.logger,
		static: []rego.EvalOption{
			rego.EvalMetrics(metrics.NoOp()),
			rego.EvalGenerateJSON(keepTerm),
			rego.EvalBaseCache(noBaseCache{}),
			rego.EvalRequestMetadata(emptyMetadata),
		},
	}, nil
}

// parseFS parses every non-test .rego file of fsys.
func parseFS(fsys fs.FS, caps *ast.Capabilities) ([]*ast.Module, error) {
	names, err := fs.Glob(fsys, "*.rego")
	if err != nil {
		return nil, fmt.Errorf("authz: list policies: %w", err)
	}
	var modules []*ast.Module
	for _, name := range names {
		if strings.HasSuffix(name, "_test.rego") {
			continue
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("authz: read policy: %w", err)
		}
		mod, err := parseModule(path.Join("policies", name), string(src), caps)
		if err != nil {
			return nil, err
		}
		modules = append(modules, mod)
	}
	if len(modules) == 0 {
		return nil, errors.New("authz: no policy modules embedded")
	}
	return modules, nil
}

func parseModule(name, src string, caps *ast.Capabilities) (*ast.Module, error) {
	mod, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{
		RegoVersion:       ast.RegoV1,
		Capabilities:      caps,
		ProcessAnnotation: true,
	})
	if err != nil {
		return nil, fmt.Errorf("authz: parse %s: %w", name, err)
	}
	return mod, nil
}

// prepare compiles modules and prepares DecisionQuery. Extra (tenant)
// modules are appended to modules before this single compile step.
func prepare(caps *ast.Capabilities, modules []*ast.Module) (rego.PreparedEvalQuery, error) {
	ropts := []func(*rego.Rego){
		rego.Query(DecisionQuery),
		rego.SetRegoVersion(ast.RegoV1),
		rego.Capabilities(caps),
		rego.Strict(true),
		rego.StrictBuiltinErrors(false), // a failing built-in makes its expression undefined
		rego.Store(inmem.New()),         // no base documents: decisions read input only
	}
	for _, m := range modules {
		ropts = append(ropts, rego.ParsedModule(m))
	}
	pq, err := rego.New(ropts...).PrepareForEval(context.Background())
	if err != nil {
		return rego.PreparedEvalQuery{}, fmt.Errorf("authz: compile policies: %w", err)
	}
	return pq, nil
}

func inNamespace(p ast.Ref, ns string) bool {
	s := strings.TrimPrefix(p.String(), "data.")
	return strings.HasPrefix(s, ns+".")
}

// emptyMetadata is shared by all evaluations: only custom built-ins read
// request metadata and there are none.
var emptyMetadata = map[string]any{}

// keepTerm hands the result term back as is instead of converting it to
// Go values; decode reads it directly.
func keepTerm(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

// Decide evaluates the policy for in. It never panics; on any failure it
// logs, denies and returns an error wrapping ErrPolicyEvaluation.
func (e *Engine) Decide(ctx context.Context, in *Input) (d Decision, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = e.fail(ctx, in, fmt.Errorf("panic: %v", r))
		}
	}()
	if e == nil {
		return e.fail(ctx, in, errors.New("nil engine"))
	}
	if in == nil {
		return e.fail(ctx, in, errors.New("nil input"))
	}
	if err := ctx.Err(); err != nil {
		return e.fail(ctx, in, err)
	}
	timeout := e.timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	st := getState(timeout)
	defer putState(st)

	var opts [8]rego.EvalOption
	n := copy(opts[:], e.static)
	opts[n] = rego.EvalParsedInput(inputValue(in, &e.memo))
	opts[n+1] = rego.EvalExternalCancel(&st.cancel)
	opts[n+2] = rego.EvalVirtualCache(&st.vc)
	rs, err := e.query.Eval(ctx, opts[:n+3]...)
	if err != nil {
		return e.fail(ctx, in, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return e.fail(ctx, in, fmt.Errorf("%s is undefined", DecisionQuery))
	}
	d, err = decode(rs[0].Expressions[0].Value)
	if err != nil {
		return e.fail(ctx, in, err)
	}
	return d, nil
}

var (
	allowKey   = ast.StringTerm("allow")
	reasonsKey = ast.StringTerm("reasons")
)

// decode reads {"allow": bool, "reasons": [string]} and nothing else.
func decode(v any) (Decision, error) {
	t, ok := v.(*ast.Term)
	if !ok {
		return Decision{}, fmt.Errorf("malformed decision: %T", v)
	}
	obj, ok := t.Value.(ast.Object)
	if !ok || obj.Len() != 2 {
		return Decision{}, fmt.Errorf("malformed decision: %v", t)
	}
	allowT, reasonsT := obj.Get(allowKey), obj.Get(reasonsKey)
	if allowT == nil || reasonsT == nil {
		return Decision{}, fmt.Errorf("malformed decision: %v", t)
	}
	allow, ok := allowT.Value.(ast.Boolean)
	if !ok {
		return Decision{}, fmt.Errorf("malformed decision: allow is %v", allowT)
	}
	arr, ok := reasonsT.Value.(*ast.Array)
	if !ok {
		return Decision{}, fmt.Errorf("malformed decision: reasons is %v", reasonsT)
	}
	reasons := make([]string, arr.Len())
	for i := range reasons {
		s, ok := arr.Elem(i).Value.(ast.String)
		if !ok {
			return Decision{}, fmt.Errorf("malformed decision: reason %v", arr.Elem(i))
		}
		reasons[i] = string(s)
	}
	return Decision{Allow: bool(allow), Reasons: reasons}, nil
}

// fail builds the fail-closed answer for err and logs it.
func (e *Engine) fail(ctx context.Context, in *Input, err error) (Decision, error) {
	err = fmt.Errorf("%w: %w", ErrPolicyEvaluation, err)
	attrs := []any{slog.Any("error", err)}
	if in != nil {
		attrs = append(attrs,
			slog.String("action", in.Action),
			slog.String("subject", in.Subject.UserID),
			slog.String("org", in.Org.ID))
	}
	logger := slog.Default()
	if e != nil && e.logger != nil {
		logger = e.logger
	}
	logger.ErrorContext(context.WithoutCancel(ctx), "authz: denying after policy failure", attrs...)
	return Decision{Allow: false, Reasons: []string{err.Error()}}, err
}

// NoopAuthorizer allows everything ("no-op"); for benchmarks and tests
// that measure the cost of the policy.
type NoopAuthorizer struct{}

// Decide allows.
func (NoopAuthorizer) Decide(context.Context, *Input) (Decision, error) {
	return Decision{Allow: true, Reasons: []string{"no-op"}}, nil
}
