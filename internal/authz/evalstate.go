package authz

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// evalState is the per-evaluation scratch space, pooled so that a decision
// allocates as little as possible: the virtual-document cache, the
// cancellation flag and the deadline timer are reused.
type evalState struct {
	vc     vcache
	cancel flagCancel
	timer  *time.Timer
	drop   bool // something may still cancel it: do not pool
}

var statePool = sync.Pool{New: func() any {
	st := &evalState{}
	st.timer = time.AfterFunc(time.Hour, st.cancel.Cancel)
	st.timer.Stop()
	return st
}}

// getState returns a reset state whose timer cancels it after d.
func getState(d time.Duration) *evalState {
	st := statePool.Get().(*evalState)
	st.vc.reset()
	st.cancel.flag.Store(false)
	st.timer.Reset(d)
	return st
}

// putState stops the timer and pools st again, unless the timer already
// fired (its callback may still be running: st is then dropped).
func putState(st *evalState) {
	if !st.timer.Stop() || st.drop {
		return
	}
	st.vc.clear()
	statePool.Put(st)
}

// flagCancel implements topdown.Cancel with a resettable flag.
type flagCancel struct{ flag atomic.Bool }

var _ topdown.Cancel = (*flagCancel)(nil)

func (c *flagCancel) Cancel()         { c.flag.Store(true) }
func (c *flagCancel) Cancelled() bool { return c.flag.Load() }

// vcache implements topdown.VirtualCache as a stack of frames over flat
// slices that survive between evaluations. A decision evaluates a few
// dozen rules at most, so a linear scan beats the default trie of hash
// maps, which allocates for every level of every cached reference.
type vcache struct {
	terms   []*ast.Term // the refs of all entries, back to back
	entries []vcEntry
	frames  []int // index into entries where each frame starts
}

type vcEntry struct {
	off, n    int // ref = terms[off : off+n]
	value     *ast.Term
	undefined bool
}

var _ topdown.VirtualCache = (*vcache)(nil)

func (c *vcache) reset() {
	c.terms = c.terms[:0]
	c.entries = c.entries[:0]
	c.frames = append(c.frames[:0], 0)
}

// clear drops the references to terms of the last evaluation.
func (c *vcache) clear() {
	clear(c.terms[:cap(c.terms)])
	clear(c.entries[:cap(c.entries)])
	c.reset()
}

func (c *vcache) Push() { c.frames = append(c.frames, len(c.entries)) }

func (c *vcache) Pop() {
	if len(c.frames) <= 1 {
		c.reset()
		return
	}
	start := c.frames[len(c.frames)-1]
	c.frames = c.frames[:len(c.frames)-1]
	if start < len(c.entries) {
		c.terms = c.terms[:c.entries[start].off]
	}
	c.entries = c.entries[:start]
}

func (c *vcache) find(ref ast.Ref) int {
	start := c.frames[len(c.frames)-1]
	for i := len(c.entries) - 1; i >= start; i-- {
		e := &c.entries[i]
		if e.n != len(ref) {
			continue
		}
		if refEqual(c.terms[e.off:e.off+e.n], ref) {
			return i
		}
	}
	return -1
}

func refEqual(a, b ast.Ref) bool {
	// Compare from the end: refs in one decision share long prefixes.
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] != b[i] && !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func (c *vcache) Get(ref ast.Ref) (*ast.Term, bool) {
	if i := c.find(ref); i >= 0 {
		e := &c.entries[i]
		if e.undefined {
			return nil, true
		}
		return e.value, false
	}
	return nil, false
}

func (c *vcache) Put(ref ast.Ref, value *ast.Term) {
	i := c.find(ref)
	if i < 0 {
		c.entries = append(c.entries, vcEntry{off: len(c.terms), n: len(ref)})
		c.terms = append(c.terms, ref...)
		i = len(c.entries) - 1
	}
	e := &c.entries[i]
	if value != nil {
		e.value, e.undefined = value, false
	} else {
		e.value, e.undefined = nil, true
	}
}

func (c *vcache) Keys() []ast.Ref {
	start := c.frames[len(c.frames)-1]
	var keys []ast.Ref
	for _, e := range c.entries[start:] {
		if e.value != nil {
			keys = append(keys, ast.Ref(c.terms[e.off:e.off+e.n]).Copy())
		}
	}
	return keys
}

// noBaseCache disables the base-document cache: decisions read no base
// documents worth caching (the store is empty).
type noBaseCache struct{}

func (noBaseCache) Get(ast.Ref) ast.Value  { return nil }
func (noBaseCache) Put(ast.Ref, ast.Value) {}
