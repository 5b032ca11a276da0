package access

import (
	"context"
	"sync"
	"sync/atomic"

	"okrgraph/ent"
	"okrgraph/internal/scope"
)

type cacheKey struct{}

// cache holds per-request values computed once, even when resolvers ask
// for them concurrently.
type cache struct {
	mu   sync.Mutex
	vals map[any]*entry
	// first is the actor the request's identification read along with
	// the caller (LoadCaller, LoadServiceToken): it answers the request's
	// first actor read, once.
	first atomic.Pointer[Actor]
}

type entry struct {
	once sync.Once
	val  any
	err  error
}

// WithCache returns ctx carrying an empty per-request cache. first, when
// not nil, is the actor read with the request's identity: it answers the
// request's first LoadActor (or ReadActor) of the same user and org, so
// a request pays no statement of its own for its actor. Every later
// LoadActor reads afresh, as before: a request that changes the actor's
// role, teams or reports (a mutation) and then asks again sees the change.
func WithCache(ctx context.Context, first *Actor) context.Context {
	c := &cache{vals: map[any]*entry{}}
	c.first.Store(first)
	return context.WithValue(ctx, cacheKey{}, c)
}

// takeFirst returns the identity's actor when it is s's and still unused.
func takeFirst(ctx context.Context, s scope.Scope) *Actor {
	c, _ := ctx.Value(cacheKey{}).(*cache)
	if c == nil {
		return nil
	}
	a := c.first.Load()
	if a == nil || a.UserID != s.UserID || a.OrgID != s.OrgID || (a.Membership == nil) != s.Service {
		return nil
	}
	if !c.first.CompareAndSwap(a, nil) {
		return nil
	}
	return a
}

// Memo returns the value cached under key in the request, computing it
// with fn on first use. Without a cache in ctx it just calls fn.
func Memo[T any](ctx context.Context, key any, fn func() (T, error)) (T, error) {
	c, _ := ctx.Value(cacheKey{}).(*cache)
	if c == nil {
		return fn()
	}
	c.mu.Lock()
	e, ok := c.vals[key]
	if !ok {
		e = &entry{}
		c.vals[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.val, e.err = fn() })
	if e.err != nil {
		var zero T
		return zero, e.err
	}
	return e.val.(T), nil
}

type actorKey struct{}

// ReadActor is LoadActor for reads: loaded once per request.
func ReadActor(ctx context.Context, c *ent.Client) (*Actor, error) {
	return Memo(ctx, actorKey{}, func() (*Actor, error) { return LoadActor(ctx, c) })
}
