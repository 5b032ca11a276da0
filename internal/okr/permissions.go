package okr

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"okrgraph/ent"
	"okrgraph/internal/access"
	"okrgraph/internal/authz"
)

// Permissions say what the viewer may do with an item, as the policy
// decides, so clients can grey out what is not allowed.
type Permissions struct {
	Update          bool
	Delete          bool
	ChangeOwners    bool
	SetDelegate     bool
	SetCheckInOwner bool
	CheckIn         bool
	Align           bool
	Comment         bool
	Clone           bool
	ManageGrants    bool
}

// fields are p's flags in viewerActions' order.
func (p *Permissions) fields() []*bool {
	return []*bool{
		&p.Update, &p.Delete, &p.ChangeOwners, &p.SetDelegate, &p.SetCheckInOwner,
		&p.CheckIn, &p.Align, &p.Comment, &p.Clone, &p.ManageGrants,
	}
}

// Flag is p's i-th flag in its field order (Update, Delete, ...,
// ManageGrants).
func (p *Permissions) Flag(i int) bool { return *p.fields()[i] }

// viewerActions are the actions of Permissions, in its field order.
var viewerActions = []string{
	authz.ActionOKRUpdate, authz.ActionOKRDelete, authz.ActionOKRChangeOwners,
	authz.ActionOKRSetDelegate, authz.ActionOKRSetCheckInOwner, authz.ActionOKRCheckIn,
	authz.ActionOKRAlign, authz.ActionOKRComment, authz.ActionOKRClone, authz.ActionOKRManageGrants,
}

// ViewerCan evaluates every item action for the viewer: one policy
// evaluation per item answers all of them (Guard.DecideAll), on an input
// built once. page lists the items resolved alongside it (the list or
// connection it came in): the first of them to be asked loads their facts
// together and evaluates the flags of the whole page, spread over at most
// GOMAXPROCS goroutines (eachParallel); its siblings, resolved
// concurrently, wait and reuse the answers. A page thus costs a fixed
// number of queries, and the policy's deep evaluation grows a few
// goroutines' stacks rather than one per item.
func (s *Service) ViewerCan(ctx context.Context, it *ent.OKRItem, page []*ent.OKRItem) (*Permissions, error) {
	a, err := access.ReadActor(ctx, s.Client)
	if err != nil {
		return nil, err
	}
	l, _ := access.Memo(ctx, flagsKey{}, func() (*flagsLoader, error) {
		return &flagsLoader{done: map[int]*Permissions{}}, nil
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.done[it.ID]; ok {
		return p, nil
	}
	facts := s.facts(ctx)
	batch := pageBatch(l.done, it, page)
	items := make([]*ent.OKRItem, 0, len(batch))
	res := make([]authz.Resource, 0, len(batch))
	for _, item := range batch {
		r, err := facts.load(ctx, item, page)
		if err != nil {
			if item == it {
				return nil, err
			}
			continue // its own resolver reports the error
		}
		items, res = append(items, item), append(res, r)
	}
	out := make([]Permissions, len(items))
	eachParallel(len(items), func(i int) {
		ds, _ := s.Guard.DecideAll(ctx, a.Input("", res[i]), viewerActions)
		for j, dst := range out[i].fields() {
			*dst = ds[j].Allow
		}
	})
	for i, item := range items {
		l.done[item.ID] = &out[i]
	}
	return l.done[it.ID], nil
}

// eachParallel calls fn(0) ... fn(n-1) on up to GOMAXPROCS goroutines (the
// caller's among them) and returns when all have returned. A page's
// viewerCan flags that the decision cache does not hold cost a policy
// evaluation each (a few hundred microseconds): spread over the cores, a
// lone viewer's page comes back sooner. A panic in fn is re-raised in the
// caller once every call has returned.
func eachParallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		panicked any
	)
	call := func(i int) {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				if panicked == nil {
					panicked = r
				}
				mu.Unlock()
			}
		}()
		fn(i)
	}
	work := func() {
		for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
			call(i)
		}
	}
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}

type flagsKey struct{}

// flagsLoader keeps the viewerCan flags of the items one request asked
// about (ViewerCan).
type flagsLoader struct {
	mu   sync.Mutex
	done map[int]*Permissions
}

// Decision explains the policy's decision on one action for the viewer.
func (s *Service) Decision(ctx context.Context, it *ent.OKRItem, page []*ent.OKRItem, action string) (authz.Decision, error) {
	a, r, err := s.viewerFacts(ctx, it, page)
	if err != nil {
		return authz.Decision{}, err
	}
	d, _ := s.Guard.Decide(ctx, a.Input(action, r))
	if d.Reasons == nil {
		d.Reasons = []string{}
	}
	return d, nil
}

func (s *Service) viewerFacts(ctx context.Context, it *ent.OKRItem, page []*ent.OKRItem) (*access.Actor, authz.Resource, error) {
	a, err := access.ReadActor(ctx, s.Client)
	if err != nil {
		return nil, authz.Resource{}, err
	}
	r, err := s.facts(ctx).load(ctx, it, page)
	return a, r, err
}

// facts is the request's factsLoader.
func (s *Service) facts(ctx context.Context) *factsLoader {
	l, _ := access.Memo(ctx, loaderKey{}, func() (*factsLoader, error) {
		return &factsLoader{client: s.Client, done: map[int]authz.Resource{}}, nil
	})
	return l
}

type loaderKey struct{}

// factsLoader keeps the facts of the items one request asked about. The
// first item of a page to be asked loads the facts of the whole page;
// its siblings, resolved concurrently, wait for that load and reuse it.
type factsLoader struct {
	client *ent.Client
	mu     sync.Mutex
	done   map[int]authz.Resource
}

func (l *factsLoader) load(ctx context.Context, it *ent.OKRItem, page []*ent.OKRItem) (authz.Resource, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.done[it.ID]; ok {
		return r, nil
	}
	batch := pageBatch(l.done, it, page)
	res, err := FactsBatch(ctx, l.client, batch)
	if err != nil {
		return authz.Resource{}, err
	}
	for id, r := range res {
		l.done[id] = r
	}
	return res[it.ID], nil
}

// pageBatch is it followed by the items of its page that done has no
// answer for yet: what a per-request loader computes at once when it is
// first asked about it.
func pageBatch[V any](done map[int]V, it *ent.OKRItem, page []*ent.OKRItem) []*ent.OKRItem {
	batch := []*ent.OKRItem{it}
	for _, p := range page {
		if _, ok := done[p.ID]; !ok && p.ID != it.ID {
			batch = append(batch, p)
		}
	}
	return batch
}
