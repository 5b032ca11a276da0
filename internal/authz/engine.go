// Package authz decides what a member of an org may do by evaluating the
// Rego policies of okrgraph/policies. It knows nothing of ent or GraphQL: a
// domain service gathers the facts into an Input and asks an Authorizer.
//
// Every failure (evaluation error, timeout, undefined or malformed decision,
// panic) denies: Decide then returns a denying Decision together with an
// error wrapping ErrPolicyEvaluation, and logs it.
package authz

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"okrgraph/policies"
)

// Authorizer decides whether the subject of in may perform in.Action.
type Authorizer interface {
	Decide(ctx context.Context, in *Input) (Decision, error)
}

// DecisionQuery is the query of the default policy's decisions.
const DecisionQuery = "data.okrgraph.main.decision"

// DecisionsQuery answers several actions on the same facts in one
// evaluation (input.actions instead of input.action), sharing the rules
// they have in common: {action: decision}.
const DecisionsQuery = "data.okrgraph.main.decisions"

// TenantDecisionQuery is the query of an org with its own policy: the
// default decision combined with the tenant's rules (policies/final.rego).
// Orgs without one never pay for the combination.
const TenantDecisionQuery = "data.okrgraph.final.decision"

// TenantDecisionsQuery is DecisionsQuery for an org with its own policy.
const TenantDecisionsQuery = "data.okrgraph.final.decisions"

// DefaultTimeout is the evaluation deadline of the default (trusted)
// policy unless WithTimeout says otherwise. It only catches real faults: a
// busy machine must never make the default policy deny (a decision takes
// microseconds when the CPU is free).
const DefaultTimeout = 5 * time.Second

// DefaultTenantTimeout is the deadline of one decision of an org with its
// own policy (tenant Rego is hostile until proven otherwise): beyond it
// the decision denies (fail closed).
const DefaultTenantTimeout = 250 * time.Millisecond

// TenantNamespace is the package prefix reserved for per-org policy modules
// (spec §6, not wired yet): extra modules are compiled together with the
// embedded ones and must live under it.
const TenantNamespace = "okrgraph.tenant"

// ErrPolicyEvaluation is wrapped by every error Decide returns.
var ErrPolicyEvaluation = errors.New("policy evaluation failed")

// Option configures NewEngine.
type Option func(*config)

type config struct {
	query   string // DecisionQuery unless set
	timeout time.Duration
	logger  *slog.Logger
	extra   []sourceModule
	gate    *Gate // tenant engines; nil: DefaultGate()
	// Decision cache limits per generation; 0: the defaults of the engine's
	// kind; cacheEntries < 0: no cache.
	cacheEntries int
	cacheBytes   int64
	allBuiltins  bool // tests: compile against every built-in
}

type sourceModule struct{ name, src string }

func newConfig(opts []Option) config {
	return newConfigTimeout(opts, DefaultTimeout)
}

func newConfigTimeout(opts []Option, timeout time.Duration) config {
	cfg := config{timeout: timeout, logger: slog.Default()}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// WithTimeout sets the evaluation deadline of each decision (default
// DefaultTimeout). Values <= 0 are ignored. A context deadline that comes
// sooner wins.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithLogger sets the logger policy failures are reported to (default
// slog.Default()). A nil logger is ignored.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithGate sets the gate tenant evaluations of the engine pass through
// (default DefaultGate()). Engines of the default policy alone use none.
func WithGate(g *Gate) Option {
	return func(c *config) { c.gate = g }
}

// WithDecisionCache bounds the engine's decision cache (decisioncache.go):
// entries and bytes per generation (the cache holds at most two). Zero
// takes the default of the engine's kind (DefaultDecisionCacheEntries and
// DefaultDecisionCacheBytes, or their tenant counterparts); entries < 0
// disables the cache.
func WithDecisionCache(entries int, bytes int64) Option {
	return func(c *config) { c.cacheEntries, c.cacheBytes = entries, bytes }
}

// withAllBuiltins compiles against every built-in of this OPA version,
// non-deterministic ones included (tests of the cache's soundness check).
func withAllBuiltins() Option { return func(c *config) { c.allBuiltins = true } }

// withExtraModule adds a Rego module to the compile step; its package must
// be under TenantNamespace. This is the seam for per-tenant policies: only
// tests use it until main.rego reads tenant rules.
func withExtraModule(name, src string) Option {
	return func(c *config) { c.extra = append(c.extra, sourceModule{name, src}) }
}

// Engine is the Rego-backed Authorizer. Build it once with NewEngine; it is
// safe for concurrent use.
type Engine struct {
	query   rego.PreparedEvalQuery
	all     rego.PreparedEvalQuery // DecisionsQuery (or the tenant one)
	timeout time.Duration
	logger  *slog.Logger
	static  []rego.EvalOption // eval options shared by every decision
	memo    inputMemo
	tenant  bool           // evaluates tenant code: gated, cancelled with ctx
	gate    *Gate          // nil: DefaultGate()
	cache   *decisionCache // nil: none
}

var _ Authorizer = (*Engine)(nil)

// NewEngine compiles the embedded policies (plus any extra modules) once,
// in Rego v1 strict mode against the restricted Capabilities, and prepares
// DecisionQuery and DecisionsQuery on the same compiled modules.
func NewEngine(opts ...Option) (*Engine, error) {
	cfg := newConfig(opts)
	caps := Capabilities()
	if cfg.allBuiltins {
		caps = ast.CapabilitiesForThisVersion()
	}

	modules, err := parseFS(policies.FS, caps)
	if err != nil {
		return nil, err
	}
	for _, m := range cfg.extra {
		mod, err := parseModule(m.name, m.src, caps)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(mod.Package.Path.String(), "data."+TenantNamespace+".") {
			return nil, fmt.Errorf("authz: module %s: package %s is outside %s", m.name,
				strings.TrimPrefix(mod.Package.Path.String(), "data."), TenantNamespace)
		}
		modules = append(modules, mod)
	}
	return newEngine(cfg, caps, modules)
}

// parseFS parses every .rego file of fsys but the _test.rego ones.
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

// newEngine compiles modules in one step and prepares the query.
func newEngine(cfg config, caps *ast.Capabilities, modules []*ast.Module) (*Engine, error) {
	// The store is private, empty and never written: one read transaction
	// serves every evaluation (an inmem read transaction keeps no state),
	// which saves opening one per decision.
	store := inmem.New()
	txn, err := store.NewTransaction(context.Background())
	if err != nil {
		return nil, fmt.Errorf("authz: open store: %w", err)
	}
	q := cfg.query
	if q == "" {
		q = DecisionQuery
	}
	var compiler *ast.Compiler
	query, err := prepare(caps, store, q, rego.CompilerHook(func(c *ast.Compiler) { compiler = c }), modules)
	if err != nil {
		return nil, err
	}
	qAll := DecisionsQuery
	if q == TenantDecisionQuery {
		qAll = TenantDecisionsQuery
	}
	// The same compiled modules answer both queries.
	all, err := prepare(caps, store, qAll, rego.Compiler(compiler), nil)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		tenant:  q == TenantDecisionQuery,
		gate:    cfg.gate,
		query:   query,
		all:     all,
		timeout: cfg.timeout,
		logger:  cfg.logger,
		static: []rego.EvalOption{
			rego.EvalTransaction(txn),
			rego.EvalMetrics(metrics.NoOp()),
			rego.EvalGenerateJSON(keepTerm),
			rego.EvalBaseCache(noBaseCache{}),
			rego.EvalRequestMetadata(emptyMetadata),
			rego.EvalRuleIndexing(true),
			rego.EvalEarlyExit(true),
		},
	}
	if entries, bytes := cfg.cacheLimits(e.tenant); entries > 0 && deterministic(compiler) {
		e.cache = newDecisionCache(entries, bytes)
		runtime.AddCleanup(e, (*decisionCache).release, e.cache)
	}
	return e, nil
}

// cacheLimits are the decision cache's limits per generation (0 entries:
// no cache).
func (c *config) cacheLimits(tenant bool) (int, int64) {
	entries, bytes := c.cacheEntries, c.cacheBytes
	if entries < 0 {
		return 0, 0
	}
	if entries == 0 {
		entries = DefaultDecisionCacheEntries
		if tenant {
			entries = DefaultTenantDecisionCacheEntries
		}
	}
	if bytes <= 0 {
		bytes = DefaultDecisionCacheBytes
		if tenant {
			bytes = DefaultTenantDecisionCacheBytes
		}
	}
	return entries, bytes
}

// deterministic reports whether the compiled modules call only built-ins
// whose result depends on their arguments alone: no clock, randomness,
// network or runtime environment. Only then may decisions be cached. The
// capabilities leave such built-ins out already; this checks the modules
// themselves, whatever they were compiled with.
func deterministic(c *ast.Compiler) bool {
	if c == nil {
		return false
	}
	ok := true
	check := func(op ast.Ref) {
		name := op.String()
		if b, builtin := ast.BuiltinMap[name]; builtin && (b.Nondeterministic || removedBuiltins[name] || strings.HasPrefix(name, "net.")) {
			ok = false
		}
	}
	for _, m := range c.Modules {
		ast.NewGenericVisitor(func(x any) bool {
			switch x := x.(type) {
			case *ast.Expr:
				if x.IsCall() {
					check(x.Operator())
				}
			case ast.Call:
				if len(x) > 0 {
					if op, isRef := x[0].Value.(ast.Ref); isRef {
						check(op)
					}
				}
			}
			return !ok
		}).Walk(m)
	}
	return ok
}

// CacheStats reports what the engine's decision cache did (Enabled false:
// it has none).
func (e *Engine) CacheStats() CacheStats {
	if e == nil || e.cache == nil {
		return CacheStats{}
	}
	return e.cache.stats()
}

// releaseCache drops the engine's cached decisions and keeps no new ones:
// the Router no longer routes to it.
func (e *Engine) releaseCache() {
	if e != nil && e.cache != nil {
		e.cache.release()
	}
}

func prepare(caps *ast.Capabilities, store storage.Store, query string, opt func(*rego.Rego), modules []*ast.Module) (rego.PreparedEvalQuery, error) {
	ropts := []func(*rego.Rego){
		opt,
		rego.Query(query),
		rego.SetRegoVersion(ast.RegoV1),
		rego.Capabilities(caps),
		rego.Strict(true),
		rego.StrictBuiltinErrors(false), // a failing built-in makes its expression undefined
		rego.Store(store),
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

// emptyMetadata is shared by all evaluations: only custom built-ins read
// request metadata, and there are none.
var emptyMetadata = map[string]any{}

// keepTerm hands the result term back as is instead of converting it to Go
// values; decode reads it directly.
func keepTerm(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

// Decide evaluates the policy for in within the engine's deadline (or the
// context's, if sooner). It never panics; on any failure it logs, denies
// and returns an error wrapping ErrPolicyEvaluation.
//
// The deadline is a pooled timer that cancels the evaluation, rather than
// a context.WithTimeout per call: same effect, ten allocations fewer. A
// context cancelled before the call is refused; one cancelled during the
// evaluation does not interrupt it (the deadline bounds it anyway).
func (e *Engine) Decide(ctx context.Context, in *Input) (d Decision, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = e.fail(ctx, in, fmt.Errorf("panic: %v", r))
		}
	}()
	if e == nil || in == nil {
		return e.fail(ctx, in, errors.New("nil engine or input"))
	}
	c := e.cache
	if c == nil {
		return e.decideValue(ctx, in, inputValue(in, &e.memo))
	}
	buf := getKeyBuf()
	head, tail := appendKey((*buf)[:0], keySingle, in, nil)
	defer putKeyBuf(buf, head[:cap(head)])
	if ent := c.get(head, tail); ent != nil {
		d = ent.ds[0]
		d.Reasons = slices.Clone(d.Reasons)
		return d, nil
	}
	d, err = e.decideValue(ctx, in, inputValue(in, &e.memo))
	if err == nil {
		c.put(head, tail, []Decision{d})
	}
	return d, err
}

func (e *Engine) decideValue(ctx context.Context, in *Input, value ast.Value) (Decision, error) {
	v, err := e.eval(ctx, &e.query, in, value, 1)
	if err != nil {
		return e.fail(ctx, in, err)
	}
	d, err := decode(v)
	if err != nil {
		return e.fail(ctx, in, err)
	}
	return d, nil
}

// DecideAll decides each action of actions on in (whose Action it
// ignores): decisions[i] is what Decide answers for actions[i], failures
// included (a failing action denies; the first error is returned). The
// input document is built once and one evaluation of DecisionsQuery
// answers every action.
func (e *Engine) DecideAll(ctx context.Context, in *Input, actions []string) ([]Decision, error) {
	ds, errs := e.decideEach(ctx, in, actions)
	for _, err := range errs {
		if err != nil {
			return ds, err
		}
	}
	return ds, nil
}

// decideEach is DecideAll with the error of each action.
//
// One evaluation of the engine's decisions query answers all actions.
// Should it fail in a way a single decision might not (an error raised by
// one action's rules, the memory budget of a larger evaluation, a malformed
// answer), each action is decided alone instead, so every answer is
// exactly Decide's. A deadline, cancellation or busy gate fails every
// action at once: its deadline is that of len(actions) decisions.
func (e *Engine) decideEach(ctx context.Context, in *Input, actions []string) (ds []Decision, errs []error) {
	ds, errs = make([]Decision, len(actions)), make([]error, len(actions))
	i := 0
	defer func() {
		if r := recover(); r != nil {
			for ; i < len(ds); i++ {
				ds[i], errs[i] = e.fail(ctx, in, fmt.Errorf("panic: %v", r))
			}
		}
	}()
	if e == nil || in == nil {
		for i = range ds {
			ds[i], errs[i] = e.fail(ctx, in, errors.New("nil engine or input"))
		}
		return ds, errs
	}
	if len(actions) == 0 {
		return ds, errs
	}
	var head, tail []byte // the cache key
	if c := e.cache; c != nil {
		buf := getKeyBuf()
		head, tail = appendKey((*buf)[:0], keyAll, in, actions)
		defer putKeyBuf(buf, head[:cap(head)])
		if ent := c.get(head, tail); ent != nil && len(ent.ds) == len(actions) {
			copyDecisions(ds, ent.ds)
			return ds, errs
		}
	}
	base := inputBase(in, &e.memo)
	terms := make([]*ast.Term, len(actions))
	for j, a := range actions {
		terms[j] = actionTerm(a)
	}
	v, err := e.eval(ctx, &e.all, in, base.actionsValue(terms), len(actions))
	if err == nil {
		err = decodeAll(v, terms, ds)
	}
	switch {
	case err == nil:
		e.remember(head, tail, ds, errs)
		return ds, errs
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, ErrTenantBusy) || ctx.Err() != nil:
		for i = range actions {
			one := *in
			one.Action = actions[i]
			ds[i], errs[i] = e.fail(ctx, &one, err)
		}
		return ds, errs
	}
	for i = range actions {
		one := *in
		one.Action = actions[i]
		ds[i], errs[i] = e.decideValue(ctx, &one, base.value(terms[i]))
	}
	e.remember(head, tail, ds, errs)
	return ds, errs
}

// remember caches DecideAll's decisions under key when every action was
// decided without error.
func (e *Engine) remember(head, tail []byte, ds []Decision, errs []error) {
	if tail == nil || e.cache == nil {
		return
	}
	for _, err := range errs {
		if err != nil {
			return
		}
	}
	e.cache.put(head, tail, ds)
}

// decodeAll reads the {action: decision} object of DecisionsQuery into
// ds, one per action term.
func decodeAll(v any, actions []*ast.Term, ds []Decision) error {
	t, ok := v.(*ast.Term)
	if !ok {
		return fmt.Errorf("malformed decisions: %T", v)
	}
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return fmt.Errorf("malformed decisions: %v", t)
	}
	for i, a := range actions {
		d := obj.Get(a)
		if d == nil {
			return fmt.Errorf("no decision on %v", a)
		}
		var err error
		if ds[i], err = decode(d); err != nil {
			return err
		}
	}
	return nil
}

// eval evaluates query (the engine's decision or decisions query) on value
// (the input document of in) within the deadline of n decisions; it
// returns the result term or the failure (unwrapped).
func (e *Engine) eval(ctx context.Context, query *rego.PreparedEvalQuery, in *Input, value ast.Value, n int) (v any, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	switch {
	case e == nil:
		return nil, errors.New("nil engine")
	case in == nil:
		return nil, errors.New("nil input")
	case ctx.Err() != nil:
		return nil, context.Cause(ctx)
	}
	timeout := e.timeout * time.Duration(max(n, 1))
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	st := getState(timeout)
	defer putState(st)
	if e.tenant {
		g := e.gate
		if g == nil {
			g = DefaultGate()
		}
		run, gerr := g.enter(ctx, in.Org.ID, st.cancel.Cancel)
		if gerr != nil {
			return nil, gerr
		}
		// The request's end (deadline, disconnect) ends its tenant work.
		stop := context.AfterFunc(ctx, st.cancel.Cancel)
		defer func() {
			if !stop() {
				st.drop = true // the callback may still cancel: never reuse st
			}
		}()
		defer func() {
			if run.leave() {
				v, err = nil, ErrTenantMemory
			}
		}()
	}

	var opts [12]rego.EvalOption
	k := copy(opts[:], e.static)
	opts[k] = rego.EvalParsedInput(value)
	opts[k+1] = rego.EvalExternalCancel(&st.cancel)
	opts[k+2] = rego.EvalVirtualCache(&st.vc)
	rs, err := query.Eval(ctx, opts[:k+3]...)
	switch {
	case st.cancel.Cancelled() && ctx.Err() != nil:
		return nil, context.Cause(ctx)
	case st.cancel.Cancelled():
		return nil, fmt.Errorf("evaluation exceeded its %v deadline: %w", timeout, context.DeadlineExceeded)
	case err != nil:
		return nil, err
	case len(rs) != 1 || len(rs[0].Expressions) != 1:
		return nil, errors.New("the decision is undefined")
	}
	return rs[0].Expressions[0].Value, nil
}

func actionTerm(a string) *ast.Term {
	if t, ok := enumTerms[a]; ok {
		return t
	}
	return ast.StringTerm(a)
}

var (
	allowKey   = ast.StringTerm("allow")
	reasonsKey = ast.StringTerm("reasons")
	byKey      = ast.StringTerm("by")
)

// decode reads {"allow": bool, "reasons": [string]} and nothing else.
func decode(v any) (Decision, error) {
	t, ok := v.(*ast.Term)
	if !ok {
		return Decision{}, fmt.Errorf("malformed decision: %T", v)
	}
	obj, ok := t.Value.(ast.Object)
	if !ok || obj.Len() < 2 || obj.Len() > 3 {
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
	d := Decision{Allow: bool(allow), Reasons: reasons}
	if obj.Len() == 3 {
		byT := obj.Get(byKey)
		if byT == nil {
			return Decision{}, fmt.Errorf("malformed decision: %v", t)
		}
		by, ok := byT.Value.(ast.String)
		if !ok {
			return Decision{}, fmt.Errorf("malformed decision: %v", t)
		}
		d.By = string(by)
	}
	return d, nil
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
	if ctx == nil {
		ctx = context.Background()
	}
	logger.ErrorContext(context.WithoutCancel(ctx), "authz: denied after a policy failure", attrs...)
	return Decision{Allow: false, Reasons: []string{err.Error()}}, err
}

// NoopAuthorizer allows everything (reason "no-op"). It is meant for
// benchmarks that measure the cost of the policy.
type NoopAuthorizer struct{}

// Decide allows.
func (NoopAuthorizer) Decide(context.Context, *Input) (Decision, error) {
	return Decision{Allow: true, Reasons: []string{"no-op"}}, nil
}
