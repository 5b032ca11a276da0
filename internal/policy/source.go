package policy

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/lib/pq"

	"okrgraph/ent"
	"okrgraph/ent/organization"
	"okrgraph/ent/policyversion"
	"okrgraph/internal/authz"
)

// Source is the authz.TenantSource over the database: the Router asks it
// which version an organization has active (organizations.active_policy_
// version, at most once per org per CheckEvery) and for that version's
// modules. Its reads are privileged: they run inside decisions, for any
// organization.
//
// Give it a client of its own small pool (internal/app does): decisions are
// taken inside write transactions, and a version check waiting for a
// connection of the busy main pool could wait for itself.
type Source struct {
	Client *ent.Client
}

var _ authz.TenantSource = (*Source)(nil)

// ActiveVersion returns the number of the org's active version, 0 for none.
func (s *Source) ActiveVersion(ctx context.Context, orgID string) (int, error) {
	id, err := strconv.Atoi(orgID)
	if err != nil {
		return 0, fmt.Errorf("organization id %q: %w", orgID, err)
	}
	n, err := s.Client.Organization.Query().
		Where(organization.ID(id)).
		Select(organization.FieldActivePolicyVersion).
		Int(sysCtx(ctx))
	if ent.IsNotFound(err) {
		return 0, nil
	}
	return n, err
}

// Modules returns the modules of one of the org's versions.
func (s *Source) Modules(ctx context.Context, orgID string, version int) ([]authz.Module, error) {
	id, err := strconv.Atoi(orgID)
	if err != nil {
		return nil, fmt.Errorf("organization id %q: %w", orgID, err)
	}
	v, err := s.Client.PolicyVersion.Query().
		Where(policyversion.OrgID(id), policyversion.Number(version)).
		Only(sysCtx(ctx))
	if err != nil {
		return nil, err
	}
	return Modules(v.Modules), nil
}

// Listener relays PostgreSQL notifications of policy activations (made by
// any process sharing the database) to a Router, so they apply at once
// rather than at the next version check. It reconnects by itself; while it
// is disconnected the Router's version checks still pick changes up.
type Listener struct {
	l    *pq.Listener
	done chan struct{}
	wg   sync.WaitGroup
}

// ListenTimeout bounds how long Listen waits for its connection.
var ListenTimeout = 5 * time.Second

// Listen starts relaying notifications on Channel for the database at url
// to r.Invalidate.
func Listen(url string, r *authz.Router, log *slog.Logger) (*Listener, error) {
	if log == nil {
		log = slog.Default()
	}
	pl := pq.NewListener(url, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
			log.Warn("policy listener: connection lost", "event", ev.String(), "err", err)
		case pq.ListenerEventReconnected:
			log.Info("policy listener: reconnected")
		}
	})
	// Listen waits for the connection; the database answered a moment ago,
	// but a start must not hang on it: past ListenTimeout the listener goes
	// on connecting in the background.
	ready := make(chan error, 1)
	go func() { ready <- pl.Listen(Channel) }()
	select {
	case err := <-ready:
		if err != nil {
			pl.Close()
			return nil, fmt.Errorf("listen for policy changes: %w", err)
		}
	case <-time.After(ListenTimeout):
		log.Warn("policy listener: not connected yet; until it is, other processes' activations apply at the next version check")
	}
	l := &Listener{l: pl, done: make(chan struct{})}
	l.wg.Add(1)
	go l.run(r)
	return l, nil
}

func (l *Listener) run(r *authz.Router) {
	defer l.wg.Done()
	ping := time.NewTicker(time.Minute)
	defer ping.Stop()
	for {
		select {
		case <-l.done:
			return
		case n, ok := <-l.l.Notify:
			if !ok {
				return
			}
			// nil after a reconnection: notifications may have been missed,
			// and the version checks will see them.
			if n != nil && n.Extra != "" {
				r.Invalidate(n.Extra)
			}
		case <-ping.C:
			// A failed ping makes the listener reconnect.
			go func() { _ = l.l.Ping() }()
		}
	}
}

// Close stops the listener.
func (l *Listener) Close() error {
	close(l.done)
	err := l.l.Close()
	l.wg.Wait()
	return err
}
