package okr

import (
	"context"
	"sync"

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

// viewerActions are the actions of Permissions, in its field order.
var viewerActions = []string{
	authz.ActionOKRUpdate, authz.ActionOKRDelete, authz.ActionOKRChangeOwners,
	authz.ActionOKRSetDelegate, authz.ActionOKRSetCheckInOwner, authz.ActionOKRCheckIn,
	authz.ActionOKRAlign, authz.ActionOKRComment, authz.ActionOKRClone, authz.ActionOKRManageGrants,
}

// ViewerCan evaluates every item action for the viewer (Guard.DecideAll:
// the policy input is built once per item, one evaluation per action). page lists the
// items resolved alongside it (the list or connection it came in): their
// facts are loaded together on first use, so a page of items costs a fixed
// number of queries.
func (s *Service) ViewerCan(ctx context.Context, it *ent.OKRItem, page []*ent.OKRItem) (*Permissions, error) {
	a, r, err := s.viewerFacts(ctx, it, page)
	if err != nil {
		return nil, err
	}
	var p Permissions
	ds, _ := s.Guard.DecideAll(ctx, a.Input("", r), viewerActions)
	for i, dst := range []*bool{
		&p.Update, &p.Delete, &p.ChangeOwners, &p.SetDelegate, &p.SetCheckInOwner,
		&p.CheckIn, &p.Align, &p.Comment, &p.Clone, &p.ManageGrants,
	} {
		*dst = ds[i].Allow
	}
	return &p, nil
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
	l, _ := access.Memo(ctx, loaderKey{}, func() (*factsLoader, error) {
		return &factsLoader{client: s.Client, done: map[int]authz.Resource{}}, nil
	})
	r, err := l.load(ctx, it, page)
	return a, r, err
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
	batch := []*ent.OKRItem{it}
	for _, p := range page {
		if _, ok := l.done[p.ID]; !ok && p.ID != it.ID {
			batch = append(batch, p)
		}
	}
	res, err := FactsBatch(ctx, l.client, batch)
	if err != nil {
		return authz.Resource{}, err
	}
	for id, r := range res {
		l.done[id] = r
	}
	return res[it.ID], nil
}
