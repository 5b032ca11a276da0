package okr

import (
	"context"
	"sync"

	"okrgraph/ent"
	"okrgraph/internal/access"
)

// pageLoader keeps per-item values computed for one request. The first
// item of a page asked for loads the whole page; its siblings, resolved
// concurrently, wait for that load and reuse it.
type pageLoader[V any] struct {
	mu   sync.Mutex
	done map[int]V
}

// node is what page loaders batch over: OKR items or check-ins.
type node interface {
	*ent.OKRItem | *ent.CheckIn
}

func idOf[N node](n N) int {
	switch v := any(n).(type) {
	case *ent.OKRItem:
		return v.ID
	case *ent.CheckIn:
		return v.ID
	}
	return 0
}

// forPage returns the value of it, computing it with load for it and the
// page items not yet known, once per request and key.
func forPage[N node, V any](ctx context.Context, key any, it N, page []N, load func([]N) (map[int]V, error)) (V, error) {
	l, _ := access.Memo(ctx, key, func() (*pageLoader[V], error) {
		return &pageLoader[V]{done: map[int]V{}}, nil
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.done[idOf(it)]; ok {
		return v, nil
	}
	batch := []N{it}
	for _, p := range page {
		if _, ok := l.done[idOf(p)]; !ok && idOf(p) != idOf(it) {
			batch = append(batch, p)
		}
	}
	res, err := load(batch)
	if err != nil {
		var zero V
		return zero, err
	}
	for _, b := range batch {
		l.done[idOf(b)] = res[idOf(b)]
	}
	return res[idOf(it)], nil
}
