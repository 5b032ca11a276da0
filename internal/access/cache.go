package access

import (
	"context"
	"sync"

	"okrgraph/ent"
)

type cacheKey struct{}

// cache holds per-request values computed once, even when resolvers ask
// for them concurrently.
type cache struct {
	mu   sync.Mutex
	vals map[any]*entry
}

type entry struct {
	once sync.Once
	val  any
	err  error
}

// WithCache returns ctx carrying an empty per-request cache.
func WithCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, cacheKey{}, &cache{vals: map[any]*entry{}})
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
