package authz

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// An engine remembers the decisions it evaluated successfully, keyed by
// their exact input (cachekey.go), so that asking again — a dashboard
// reloaded, the same viewerCan flags of the same item for the same viewer —
// costs a map lookup instead of an evaluation.
//
// This is exact, not a heuristic, because an engine's answer depends on
// nothing but its input: its modules are compiled once (a new tenant
// policy version is a new engine with an empty cache), its store is
// private, empty and never written, and the cache is enabled only when no
// compiled module calls a non-deterministic built-in (deterministic in
// engine.go; the capabilities already leave them out). Only decisions
// evaluated and decoded without error are kept: a deadline, cancellation,
// busy gate, memory watchdog, undefined or malformed answer or panic is
// never remembered, so the next identical request evaluates again.
//
// Memory is bounded per engine and for the whole process. Each of
// cacheShards shards keeps two generations of entries: when the current one
// reaches its share of the engine's entry or byte limit it becomes the
// previous one (the older previous is dropped) and a new one starts; a hit
// in the previous generation moves the entry to the current one. An engine
// thus holds at most 2×Entries entries and 2×Bytes bytes (as counted by
// entrySize: key, reasons, and a fixed overhead per entry), and all
// engines together at most the process budget (SetDecisionCacheBudget):
// past it new entries are not kept. An engine's entries are released when
// the Router replaces or evicts it, or when it is garbage collected.

// Decision cache defaults (WithDecisionCache).
const (
	// DefaultDecisionCacheEntries and DefaultDecisionCacheBytes bound one
	// generation of the default engine's cache.
	DefaultDecisionCacheEntries = 16 << 10
	DefaultDecisionCacheBytes   = 16 << 20
	// DefaultTenantDecisionCacheEntries and DefaultTenantDecisionCacheBytes
	// bound one generation of a tenant engine's cache (there may be
	// Router.MaxTenants of them).
	DefaultTenantDecisionCacheEntries = 4 << 10
	DefaultTenantDecisionCacheBytes   = 2 << 20
	// DefaultDecisionCacheBudget bounds the bytes of all engines' caches
	// together.
	DefaultDecisionCacheBudget = 128 << 20
)

const (
	cacheShards = 16
	// entryOverhead approximates what an entry costs beyond its key and
	// reasons: the map slot, the entry and its decision slice headers.
	entryOverhead = 128
	decisionSize  = 48 // a Decision struct
)

var (
	cacheBudget atomic.Int64 // bytes all caches may hold
	cacheUsed   atomic.Int64 // bytes all caches hold
	cacheStats  [cacheShards]struct {
		hits, misses atomic.Uint64
		_            [48]byte // one cache line each
	}
)

func init() { cacheBudget.Store(DefaultDecisionCacheBudget) }

// SetDecisionCacheBudget bounds the bytes of all decision caches of the
// process together (default DefaultDecisionCacheBudget; 0 keeps no new
// entries). Entries already kept stay until their generation is dropped.
func SetDecisionCacheBudget(bytes int64) { cacheBudget.Store(max(bytes, 0)) }

// DecisionCacheStats returns the hits and misses of all decision caches
// since the process started, and the bytes they hold now.
func DecisionCacheStats() (hits, misses uint64, bytes int64) {
	for i := range cacheStats {
		hits += cacheStats[i].hits.Load()
		misses += cacheStats[i].misses.Load()
	}
	return hits, misses, cacheUsed.Load()
}

// CacheStats is what one engine's decision cache did.
type CacheStats struct {
	Enabled      bool
	Hits, Misses uint64
	Entries      int   // entries held (both generations)
	Bytes        int64 // bytes held, as counted against the limits
}

type decisionCache struct {
	maxEntries int // per shard and generation
	maxBytes   int64
	seed       maphash.Seed
	shards     [cacheShards]cacheShard
}

// A key has two parts (cachekey.go): the head (subject and org), the same
// for every decision of a request and often large (a manager's reports),
// and the tail (the action or actions and the resource). A generation
// keeps each head once, with the entries of its tails: a viewer's whole
// dashboard costs one copy of the subject.
type cacheShard struct {
	mu           sync.Mutex
	cur, prev    generation
	hits, misses uint64
	closed       bool
	_            [40]byte
}

type generation struct {
	heads   map[string]*headEntries
	entries int   // tail entries
	bytes   int64 // heads and entries, as counted against the limits
}

type headEntries struct {
	head  string
	tails map[string]*cacheEntry
}

// cacheEntry is immutable once stored: its decisions are copied out.
type cacheEntry struct {
	tail string
	ds   []Decision
	size int64
}

func newDecisionCache(entries int, bytes int64) *decisionCache {
	return &decisionCache{
		maxEntries: max(entries/cacheShards, 1),
		maxBytes:   max(bytes/cacheShards, 1),
		seed:       maphash.MakeSeed(),
	}
}

func (c *decisionCache) shard(head []byte) (*cacheShard, int) {
	i := int(maphash.Bytes(c.seed, head) % cacheShards)
	return &c.shards[i], i
}

func headSize(head string) int64 { return int64(entryOverhead + len(head)) }

func (g *generation) find(head, tail []byte) (*headEntries, *cacheEntry) {
	h := g.heads[string(head)]
	if h == nil {
		return nil, nil
	}
	return h, h.tails[string(tail)]
}

// get returns the entry kept under (head, tail), or nil. Its decisions are
// shared: callers copy them out (copyDecisions).
func (c *decisionCache) get(head, tail []byte) *cacheEntry {
	s, i := c.shard(head)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, e := s.cur.find(head, tail)
	if e == nil {
		var h *headEntries
		if h, e = s.prev.find(head, tail); e != nil {
			// Promote it to the current generation.
			freed := e.size
			delete(h.tails, e.tail)
			if len(h.tails) == 0 {
				delete(s.prev.heads, h.head)
				freed += headSize(h.head)
			}
			s.prev.entries--
			s.prev.bytes -= freed
			cacheUsed.Add(-freed)
			s.store(c, h.head, e)
		}
	}
	if e == nil {
		s.misses++
		cacheStats[i].misses.Add(1)
		return nil
	}
	s.hits++
	cacheStats[i].hits.Add(1)
	return e
}

// put keeps a copy of ds under (head, tail).
func (c *decisionCache) put(head, tail []byte, ds []Decision) {
	e := &cacheEntry{tail: string(tail), ds: make([]Decision, len(ds))}
	copyDecisions(e.ds, ds)
	e.size = entrySize(e)
	s, _ := c.shard(head)
	s.mu.Lock()
	defer s.mu.Unlock()
	h, old := s.cur.find(head, tail)
	if old != nil {
		return
	}
	var hs string
	switch ph := s.prev.heads[string(head)]; {
	case h != nil:
		hs = h.head
	case ph != nil:
		hs = ph.head // share the previous generation's copy
	default:
		hs = string(head)
	}
	s.store(c, hs, e)
}

// store adds e under head to the current generation, starting a new one
// first if it is full. An entry that cannot fit is dropped.
func (s *cacheShard) store(c *decisionCache, head string, e *cacheEntry) {
	if s.closed {
		return
	}
	h := s.cur.heads[head]
	need := e.size
	if h == nil {
		need += headSize(head)
	}
	if s.cur.entries >= c.maxEntries || s.cur.bytes+need > c.maxBytes {
		cacheUsed.Add(-s.prev.bytes)
		s.prev, s.cur = s.cur, generation{}
		h, need = nil, e.size+headSize(head)
	}
	if need > c.maxBytes {
		return
	}
	if cacheUsed.Add(need) > cacheBudget.Load() {
		cacheUsed.Add(-need)
		return
	}
	if h == nil {
		if s.cur.heads == nil {
			s.cur.heads = make(map[string]*headEntries)
		}
		h = &headEntries{head: head, tails: make(map[string]*cacheEntry, 1)}
		s.cur.heads[head] = h
	}
	h.tails[e.tail] = e
	s.cur.entries++
	s.cur.bytes += need
}

// release drops every entry and keeps no new one: the engine is no longer
// used for new decisions.
func (c *decisionCache) release() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		cacheUsed.Add(-(s.cur.bytes + s.prev.bytes))
		s.cur, s.prev = generation{}, generation{}
		s.closed = true
		s.mu.Unlock()
	}
}

func (c *decisionCache) stats() CacheStats {
	st := CacheStats{Enabled: true}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Hits += s.hits
		st.Misses += s.misses
		st.Entries += s.cur.entries + s.prev.entries
		st.Bytes += s.cur.bytes + s.prev.bytes
		s.mu.Unlock()
	}
	return st
}

func entrySize(e *cacheEntry) int64 {
	n := int64(entryOverhead + len(e.tail) + decisionSize*len(e.ds))
	for _, d := range e.ds {
		n += int64(len(d.By))
		for _, r := range d.Reasons {
			n += int64(16 + len(r))
		}
	}
	return n
}

// copyDecisions copies ds and their reasons (in one backing array) into
// out, so that neither the cache nor its callers see the other's changes.
func copyDecisions(out, ds []Decision) {
	n := 0
	for _, d := range ds {
		n += len(d.Reasons)
	}
	var reasons []string
	if n > 0 {
		reasons = make([]string, 0, n)
	}
	for i, d := range ds {
		out[i] = d
		switch {
		case d.Reasons == nil:
		case len(d.Reasons) == 0:
			out[i].Reasons = []string{}
		default:
			start := len(reasons)
			reasons = append(reasons, d.Reasons...)
			out[i].Reasons = reasons[start:len(reasons):len(reasons)]
		}
	}
}
