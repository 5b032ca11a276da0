package server

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Codes of refusals by the server's own limits (docs/limits.md).
const (
	// CodeTooManyRequests: the organization (or user) has as many requests
	// running as it may; retry later (HTTP 429, Retry-After).
	CodeTooManyRequests = "TOO_MANY_REQUESTS"
	// CodeTimeout: the request ran past its execution deadline and was
	// cancelled, its SQL included (HTTP 503).
	CodeTimeout = "QUERY_TIMEOUT"
)

// Concurrency bounds the requests executing at once per organization and
// per user, so that one org (or one user) cannot take every CPU from the
// others. A request waits up to Wait for a slot, then is refused with
// TOO_MANY_REQUESTS. Zero values take the defaults: PerOrg
// max(3, GOMAXPROCS+1), PerUser max(2, GOMAXPROCS/2), Wait 2 s.
//
// One request per core and one more: a request spends part of its time
// waiting for the database (three round trips for a dashboard), and with
// exactly one slot per core a core idles meanwhile. On 2 cores, with 8
// clients of one org, 3 slots served ~10-20% more dashboards than 2; 4
// slots did too, but cost 20-30% at 32 clients (more requests contending
// for the same cores and database).
type Concurrency struct {
	PerOrg  int
	PerUser int
	Wait    time.Duration
}

// DefaultRequestTimeout is the execution deadline of a request when
// Config.RequestTimeout is 0.
const DefaultRequestTimeout = 10 * time.Second

func (c Concurrency) withDefaults() Concurrency {
	procs := runtime.GOMAXPROCS(0)
	if c.PerOrg <= 0 {
		c.PerOrg = max(3, procs+1)
	}
	if c.PerUser <= 0 {
		c.PerUser = max(2, procs/2)
	}
	if c.Wait <= 0 {
		c.Wait = 2 * time.Second
	}
	return c
}

// keyedSem is a counting semaphore per key; keys without holders or
// waiters are forgotten.
type keyedSem struct {
	size int
	mu   sync.Mutex
	m    map[string]*semEntry
}

type semEntry struct {
	ch   chan struct{}
	refs int
}

func newKeyedSem(size int) *keyedSem {
	return &keyedSem{size: size, m: map[string]*semEntry{}}
}

// acquire takes a slot of key, waiting until timer fires or ctx ends; the
// returned release must be called once.
func (k *keyedSem) acquire(ctx context.Context, key string, timer <-chan time.Time) (func(), error) {
	k.mu.Lock()
	e := k.m[key]
	if e == nil {
		e = &semEntry{ch: make(chan struct{}, k.size)}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	unref := func() {
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; unref() }, nil
	default:
	}
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; unref() }, nil
	case <-timer:
		unref()
		return nil, errBusy
	case <-ctx.Done():
		unref()
		return nil, context.Cause(ctx)
	}
}

var errBusy = errors.New("busy")

// admit runs next within the org's and the user's concurrency slots.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, mediaType string, next func()) {
	if s.tenant == nil {
		next()
		return
	}
	org, user := s.tenant(r.Context())
	t := time.NewTimer(s.concurrency.Wait)
	defer t.Stop()
	var releases []func()
	defer func() {
		for _, f := range releases {
			f()
		}
	}()
	for _, slot := range []struct {
		sem *keyedSem
		key string
	}{{s.userSem, user}, {s.orgSem, org}} {
		if slot.key == "" {
			continue
		}
		release, err := slot.sem.acquire(r.Context(), slot.key, t.C)
		if err != nil {
			if errors.Is(err, errBusy) {
				w.Header().Set("Retry-After", strconv.Itoa(1))
				writeError(w, mediaType, http.StatusTooManyRequests, CodeTooManyRequests,
					"too many requests of this organization or user are running; retry later")
			}
			// A client that went away gets no answer.
			return
		}
		releases = append(releases, release)
	}
	next()
}
