package authz

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// Tenant evaluations — decisions of an org with its own policy, explains,
// test runs and activation's safety suite — pass through a Gate: at most
// PerOrg of one org and Global in all run at once (a caller waits up to
// Wait for a slot, then is refused), and a watchdog cancels an evaluation
// during which the heap grew by more than HeapBudget. Together with the
// deadlines (DefaultTenantTimeout, TenantTestTimeout) and the bounded
// built-ins (sandbox.go) this keeps one org's Rego from exhausting the
// server's CPU or memory.

// ErrTenantBusy is returned when no evaluation slot freed up in time.
var ErrTenantBusy = errors.New("too many policy evaluations of this organization are running")

// ErrTenantMemory is the cause of an evaluation cancelled by the watchdog.
var ErrTenantMemory = errors.New("the evaluation exceeded its memory budget")

// Gate defaults.
const (
	DefaultTenantWait       = 2 * time.Second
	DefaultTenantHeapBudget = 128 << 20
	watchEvery              = 5 * time.Millisecond
)

// Gate bounds concurrent tenant evaluations. The zero value is not usable:
// use NewGate.
type Gate struct {
	PerOrg     int
	Global     int
	Wait       time.Duration
	HeapBudget uint64
	// TestTimeout bounds a test run once it has its slot (default
	// TenantTestTimeout).
	TestTimeout time.Duration

	global chan struct{}
	mu     sync.Mutex
	orgs   map[string]*orgSlots
	runs   map[*gateRun]struct{}
	wake   chan struct{}
	once   sync.Once
}

type orgSlots struct {
	sem  chan struct{}
	refs int
}

type gateRun struct {
	g      *Gate
	org    *orgSlots
	key    string
	heap0  uint64
	cancel func()
	oom    bool // under g.mu
}

// NewGate returns a gate; values <= 0 take the defaults: PerOrg
// max(1, GOMAXPROCS/2), Global GOMAXPROCS, DefaultTenantWait,
// DefaultTenantHeapBudget.
func NewGate(perOrg, global int, wait time.Duration, heapBudget uint64) *Gate {
	procs := runtime.GOMAXPROCS(0)
	if perOrg <= 0 {
		perOrg = max(1, procs/2)
	}
	if global <= 0 {
		global = max(perOrg, procs)
	}
	if wait <= 0 {
		wait = DefaultTenantWait
	}
	if heapBudget == 0 {
		heapBudget = DefaultTenantHeapBudget
	}
	return &Gate{
		PerOrg: perOrg, Global: global, Wait: wait, HeapBudget: heapBudget, TestTimeout: TenantTestTimeout,
		global: make(chan struct{}, global),
		orgs:   map[string]*orgSlots{},
		runs:   map[*gateRun]struct{}{},
		wake:   make(chan struct{}, 1),
	}
}

var defaultGate = NewGate(0, 0, 0, 0)

// DefaultGate is the gate tenant evaluations use unless given another
// (WithGate, RunTenantTests' argument).
func DefaultGate() *Gate { return defaultGate }

// enter waits for a slot of org and of the whole process; cancel is called
// if the heap budget is exceeded while the run lasts.
func (g *Gate) enter(ctx context.Context, org string, cancel func()) (*gateRun, error) {
	g.mu.Lock()
	s := g.orgs[org]
	if s == nil {
		s = &orgSlots{sem: make(chan struct{}, g.PerOrg)}
		g.orgs[org] = s
	}
	s.refs++
	g.mu.Unlock()
	r := &gateRun{g: g, org: s, key: org, cancel: cancel}
	if err := r.acquire(ctx); err != nil {
		g.unref(r)
		return nil, err
	}
	r.heap0 = heapBytes()
	g.mu.Lock()
	g.runs[r] = struct{}{}
	g.mu.Unlock()
	g.once.Do(func() { go g.watch() })
	select {
	case g.wake <- struct{}{}:
	default:
	}
	return r, nil
}

func (r *gateRun) acquire(ctx context.Context) error {
	// Fast path: free slots.
	select {
	case r.org.sem <- struct{}{}:
		select {
		case r.g.global <- struct{}{}:
			return nil
		default:
		}
		<-r.org.sem
	default:
	}
	t := time.NewTimer(r.g.Wait)
	defer t.Stop()
	select {
	case r.org.sem <- struct{}{}:
	case <-t.C:
		return ErrTenantBusy
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	select {
	case r.g.global <- struct{}{}:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	<-r.org.sem
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return ErrTenantBusy
}

func (g *Gate) unref(r *gateRun) {
	g.mu.Lock()
	r.org.refs--
	if r.org.refs == 0 {
		delete(g.orgs, r.key)
	}
	g.mu.Unlock()
}

// leave frees the slots; it reports whether the watchdog cancelled the run.
func (r *gateRun) leave() (oom bool) {
	<-r.g.global
	<-r.org.sem
	r.g.mu.Lock()
	oom = r.oom
	delete(r.g.runs, r)
	r.g.mu.Unlock()
	r.g.unref(r)
	return oom
}

// watch samples the heap while evaluations run and cancels those during
// which it grew beyond the budget.
func (g *Gate) watch() {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		g.mu.Lock()
		idle := len(g.runs) == 0
		g.mu.Unlock()
		if idle {
			<-g.wake
			continue
		}
		<-t.C
		heap := heapBytes()
		g.mu.Lock()
		for r := range g.runs {
			if !r.oom && heap > r.heap0+g.HeapBudget {
				r.oom = true
				r.cancel()
			}
		}
		g.mu.Unlock()
	}
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
var heapMu sync.Mutex

// heapBytes is the heap occupied by objects, live or not yet swept.
func heapBytes() uint64 {
	heapMu.Lock()
	defer heapMu.Unlock()
	metrics.Read(heapSample)
	if heapSample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return heapSample[0].Value.Uint64()
}

// runGated runs f within a gate slot of org, with a deadline that starts
// once it has the slot; f must honour ctx. The error says why it was cut
// short.
func (g *Gate) runGated(ctx context.Context, org string, timeout time.Duration, f func(ctx context.Context) error) error {
	ctx, cancelMem := context.WithCancelCause(ctx)
	defer cancelMem(nil)
	r, err := g.enter(ctx, org, func() { cancelMem(ErrTenantMemory) })
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("the run exceeded its %v deadline: %w", timeout, context.DeadlineExceeded))
	defer cancel()
	err = f(ctx)
	if r.leave() {
		return ErrTenantMemory
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}
