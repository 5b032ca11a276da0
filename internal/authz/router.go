package authz

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TenantSource tells the Router which tenant policy an organization has.
// internal/policy implements it over the database.
type TenantSource interface {
	// ActiveVersion returns the number of the org's active policy version,
	// 0 when it has none. It is called at most once per org per
	// Router.CheckEvery, so it must be cheap.
	ActiveVersion(ctx context.Context, orgID string) (int, error)
	// Modules returns the modules of one version.
	Modules(ctx context.Context, orgID string, version int) ([]Module, error)
}

// DefaultMaxTenants is the default Router.MaxTenants.
const DefaultMaxTenants = 256

// DefaultCheckEvery is how often the Router re-reads an org's active
// version when nothing told it of a change.
const DefaultCheckEvery = 500 * time.Millisecond

// Router is the Authorizer of a multi-tenant deployment: each org's
// decisions go to the default engine or to an engine compiled once for the
// org's active tenant policy version. It notices activations made by any
// process sharing the database within CheckEvery (or at once through
// Invalidate, e.g. on a PostgreSQL NOTIFY).
type Router struct {
	Default    *Engine
	Source     TenantSource
	CheckEvery time.Duration
	Log        *slog.Logger
	Options    []Option // for tenant engines
	// MaxTenants bounds how many tenant engines stay compiled (each holds
	// about a megabyte and a quarter); the least recently used beyond it is
	// dropped and compiled again when next needed. Default
	// DefaultMaxTenants.
	MaxTenants int
	// Observer, when set, is told of every decision (decision log,
	// metrics).
	Observer Observer

	mu   sync.RWMutex
	orgs map[string]*tenantEntry
}

type tenantEntry struct {
	mu      sync.Mutex // serializes refreshes of one org
	version int
	engine  *Engine // nil: default engine
	checked time.Time
	used    atomic.Int64 // unix nanoseconds of the last decision
}

var _ Authorizer = (*Router)(nil)

// Decide routes in to its org's engine. A tenant policy that cannot be
// loaded, errors or times out denies, naming the tenant policy.
func (r *Router) Decide(ctx context.Context, in *Input) (Decision, error) {
	if r.Observer == nil {
		return r.decide(ctx, in)
	}
	start := time.Now()
	o := Observation{Input: in, Enforced: IsEnforcing(ctx)}
	o.Decision, o.Version, o.Err = r.decideVersion(ctx, in)
	o.Elapsed = time.Since(start)
	r.Observer.ObserveDecision(ctx, &o)
	return o.Decision, o.Err
}

func (r *Router) decide(ctx context.Context, in *Input) (Decision, error) {
	d, _, err := r.decideVersion(ctx, in)
	return d, err
}

// decideVersion decides and names the tenant version that did (0: none).
func (r *Router) decideVersion(ctx context.Context, in *Input) (Decision, int, error) {
	e, version, err := r.engineFor(ctx, in.Org.ID)
	if err != nil {
		r.logger().ErrorContext(ctx, "tenant policy unavailable", "org", in.Org.ID, "err", err)
		if protectedAction(in.Action) {
			// Tenant rules never apply to these: the default decides, so
			// admins can still manage the org and repair its policy.
			d, err := r.Default.Decide(ctx, in)
			return d, 0, err
		}
		return Decision{Reasons: []string{"this organization's policy could not be loaded"}}, 0, err
	}
	d, err := e.Decide(ctx, in)
	if err != nil && version > 0 {
		d.Reasons = []string{fmt.Sprintf("this organization's policy (version %d) failed: the action is denied until it is fixed", version)}
	}
	return d, version, err
}

// DecideAll decides each action of actions on in (whose Action it
// ignores) with the org's engine, found once: decisions[i] is what Decide
// answers for actions[i], tenant rules and failures included (the first
// error is returned). The Observer is told of each decision as if it had
// been asked alone.
func (r *Router) DecideAll(ctx context.Context, in *Input, actions []string) ([]Decision, error) {
	start := time.Now()
	ds, errs, version := r.decideEach(ctx, in, actions)
	if r.Observer != nil && len(actions) > 0 {
		elapsed := time.Since(start) / time.Duration(len(actions))
		enforced := IsEnforcing(ctx)
		// One copy of the input and one observation serve every action:
		// observers do not keep them beyond the call (Observer).
		one := *in
		o := Observation{Input: &one, Version: version, Elapsed: elapsed, Enforced: enforced}
		for i, a := range actions {
			one.Action = a
			o.Decision, o.Err = ds[i], errs[i]
			r.Observer.ObserveDecision(ctx, &o)
		}
	}
	for _, err := range errs {
		if err != nil {
			return ds, err
		}
	}
	return ds, nil
}

func (r *Router) decideEach(ctx context.Context, in *Input, actions []string) ([]Decision, []error, int) {
	e, version, err := r.engineFor(ctx, in.Org.ID)
	if err != nil {
		// Rare: decide each action alone, which denies all but the
		// protected ones (decideVersion).
		ds, errs := make([]Decision, len(actions)), make([]error, len(actions))
		for i, a := range actions {
			one := *in
			one.Action = a
			ds[i], _, errs[i] = r.decideVersion(ctx, &one)
		}
		return ds, errs, 0
	}
	ds, errs := e.decideEach(ctx, in, actions)
	for i, err := range errs {
		if err != nil && version > 0 {
			ds[i].Reasons = []string{fmt.Sprintf("this organization's policy (version %d) failed: the action is denied until it is fixed", version)}
		}
	}
	return ds, errs, version
}

// protectedAction mirrors policies/final.rego: actions tenant rules can
// neither deny nor grant.
func protectedAction(action string) bool {
	return strings.HasPrefix(action, "org.") || action == ActionOKRView
}

// Engine returns the engine deciding for orgID now and its tenant policy
// version (0: the default policy only).
func (r *Router) Engine(ctx context.Context, orgID string) (*Engine, int, error) {
	return r.engineFor(ctx, orgID)
}

// Invalidate makes the next decision for orgID re-read its active version.
func (r *Router) Invalidate(orgID string) {
	r.mu.RLock()
	e := r.orgs[orgID]
	r.mu.RUnlock()
	if e != nil {
		e.mu.Lock()
		e.checked = time.Time{}
		e.mu.Unlock()
	}
}

// Install makes engine the org's engine for version right away, e.g. after
// this process activated it.
func (r *Router) Install(orgID string, version int, engine *Engine) {
	e := r.entry(orgID)
	e.mu.Lock()
	if e.engine != engine {
		e.engine.releaseCache()
	}
	e.version, e.engine, e.checked = version, engine, time.Now()
	e.used.Store(time.Now().UnixNano())
	if engine != nil {
		r.evict(e)
	}
	e.mu.Unlock()
}

// Tenants returns how many orgs have a tenant engine loaded.
func (r *Router) Tenants() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for _, e := range r.orgs {
		e.mu.Lock()
		if e.engine != nil {
			n++
		}
		e.mu.Unlock()
	}
	return n
}

func (r *Router) entry(orgID string) *tenantEntry {
	r.mu.RLock()
	e := r.orgs[orgID]
	r.mu.RUnlock()
	if e != nil {
		return e
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.orgs == nil {
		r.orgs = map[string]*tenantEntry{}
	}
	if e = r.orgs[orgID]; e == nil {
		e = &tenantEntry{}
		r.orgs[orgID] = e
	}
	return e
}

func (r *Router) engineFor(ctx context.Context, orgID string) (*Engine, int, error) {
	if r.Source == nil || orgID == "" {
		return r.Default, 0, nil
	}
	every := r.CheckEvery
	if every <= 0 {
		every = DefaultCheckEvery
	}
	e := r.entry(orgID)
	e.used.Store(time.Now().UnixNano())
	e.mu.Lock()
	defer e.mu.Unlock()
	if time.Since(e.checked) < every {
		return e.pick(r.Default), e.version, nil
	}
	v, err := r.Source.ActiveVersion(ctx, orgID)
	if err != nil {
		return nil, 0, fmt.Errorf("read active policy version: %w", err)
	}
	if v != e.version || (v > 0 && e.engine == nil) {
		var engine *Engine
		if v > 0 {
			mods, err := r.Source.Modules(ctx, orgID, v)
			if err != nil {
				return nil, 0, fmt.Errorf("load policy version %d: %w", v, err)
			}
			if engine, err = NewTenantEngine(mods, r.Options...); err != nil {
				return nil, 0, fmt.Errorf("compile policy version %d: %w", v, err)
			}
			r.evict(e)
		}
		// The old version's engine decides nothing any more: its cached
		// decisions go now rather than when the last request using it ends.
		e.engine.releaseCache()
		e.version, e.engine = v, engine
	}
	e.checked = time.Now()
	return e.pick(r.Default), e.version, nil
}

// evict drops the least recently used tenant engines beyond MaxTenants,
// keeping keep (whose lock the caller holds).
func (r *Router) evict(keep *tenantEntry) {
	max := r.MaxTenants
	if max <= 0 {
		max = DefaultMaxTenants
	}
	r.mu.RLock()
	var loaded []*tenantEntry
	for _, e := range r.orgs {
		if e != keep && e.mu.TryLock() {
			if e.engine != nil {
				loaded = append(loaded, e)
			}
			e.mu.Unlock()
		}
	}
	r.mu.RUnlock()
	if len(loaded)+1 <= max {
		return
	}
	slices.SortFunc(loaded, func(a, b *tenantEntry) int { return cmp.Compare(a.used.Load(), b.used.Load()) })
	for _, e := range loaded[:len(loaded)+1-max] {
		e.mu.Lock()
		e.engine.releaseCache()
		e.engine, e.version, e.checked = nil, 0, time.Time{}
		e.mu.Unlock()
	}
}

func (e *tenantEntry) pick(def *Engine) *Engine {
	if e.engine != nil {
		return e.engine
	}
	return def
}

func (r *Router) logger() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}
