package okr

import (
	"context"
	"sync"
	"time"

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

// ViewerCan evaluates every item action for the viewer. Facts of the items
// of one request are loaded in batches, so a page of items costs a fixed
// number of queries.
func (s *Service) ViewerCan(ctx context.Context, it *ent.OKRItem) (*Permissions, error) {
	a, r, err := s.viewerFacts(ctx, it)
	if err != nil {
		return nil, err
	}
	var p Permissions
	for _, x := range []struct {
		action string
		dst    *bool
	}{
		{authz.ActionOKRUpdate, &p.Update},
		{authz.ActionOKRDelete, &p.Delete},
		{authz.ActionOKRChangeOwners, &p.ChangeOwners},
		{authz.ActionOKRSetDelegate, &p.SetDelegate},
		{authz.ActionOKRSetCheckInOwner, &p.SetCheckInOwner},
		{authz.ActionOKRCheckIn, &p.CheckIn},
		{authz.ActionOKRAlign, &p.Align},
		{authz.ActionOKRComment, &p.Comment},
		{authz.ActionOKRClone, &p.Clone},
		{authz.ActionOKRManageGrants, &p.ManageGrants},
	} {
		d, _ := s.Guard.Decide(ctx, a.Input(x.action, r))
		*x.dst = d.Allow
	}
	return &p, nil
}

// Decision explains the policy's decision on one action for the viewer.
func (s *Service) Decision(ctx context.Context, it *ent.OKRItem, action string) (authz.Decision, error) {
	a, r, err := s.viewerFacts(ctx, it)
	if err != nil {
		return authz.Decision{}, err
	}
	d, _ := s.Guard.Decide(ctx, a.Input(action, r))
	if d.Reasons == nil {
		d.Reasons = []string{}
	}
	return d, nil
}

func (s *Service) viewerFacts(ctx context.Context, it *ent.OKRItem) (*access.Actor, authz.Resource, error) {
	a, err := access.ReadActor(ctx, s.Client)
	if err != nil {
		return nil, authz.Resource{}, err
	}
	l, _ := access.Memo(ctx, loaderKey{}, func() (*factsLoader, error) {
		return &factsLoader{client: s.Client, done: map[int]authz.Resource{}}, nil
	})
	r, err := l.load(ctx, it)
	return a, r, err
}

type loaderKey struct{}

// batchWindow is how long the first request of a batch waits for the
// other resolvers of the same page to join it.
const batchWindow = 2 * time.Millisecond

// factsLoader batches the facts requests of one GraphQL request: gqlgen
// resolves the items of a list concurrently, so requests arriving within
// batchWindow share one FactsBatch call.
type factsLoader struct {
	client *ent.Client
	mu     sync.Mutex
	done   map[int]authz.Resource
	batch  *factsBatch
}

type factsBatch struct {
	items []*ent.OKRItem
	ready chan struct{}
	res   map[int]authz.Resource
	err   error
}

func (l *factsLoader) load(ctx context.Context, it *ent.OKRItem) (authz.Resource, error) {
	l.mu.Lock()
	if r, ok := l.done[it.ID]; ok {
		l.mu.Unlock()
		return r, nil
	}
	b := l.batch
	if b == nil {
		b = &factsBatch{ready: make(chan struct{})}
		l.batch = b
		go l.run(ctx, b)
	}
	b.items = append(b.items, it)
	l.mu.Unlock()
	<-b.ready
	if b.err != nil {
		return authz.Resource{}, b.err
	}
	return b.res[it.ID], nil
}

func (l *factsLoader) run(ctx context.Context, b *factsBatch) {
	time.Sleep(batchWindow)
	l.mu.Lock()
	l.batch = nil
	items := b.items
	l.mu.Unlock()
	b.res, b.err = FactsBatch(ctx, l.client, items)
	if b.err == nil {
		l.mu.Lock()
		for id, r := range b.res {
			l.done[id] = r
		}
		l.mu.Unlock()
	}
	close(b.ready)
}
