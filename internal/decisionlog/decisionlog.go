// Package decisionlog keeps each organization's decision log: the policy
// decisions requests depended on, with the facts they were made on, so that
// org admins can see what their policy decided and replay a period against
// a draft (internal/policy's impact analysis).
//
// Which decisions are kept (Keep):
//   - only enforced ones (authz.Enforcing: the request is refused when
//     denied). Hints evaluated for display — viewerCan and viewerDecision,
//     which evaluate a dozen actions per item of every page, and list
//     filters — are not logged: they would flood the log with decisions
//     nobody asked for, and no request was refused by them. They are
//     counted in the metrics all the same;
//   - of those: every denial, every decision under a tenant policy, and
//     every decision of a write (anything but the view/read actions) under
//     the default policy too — allowed or not — so that a draft's impact
//     ("who would lose the right to create org OKRs?") can be replayed
//     before the org ever had a tenant policy.
//
// Writes happen outside the request's transaction (a denied mutation rolls
// its own back): ObserveDecision puts the entry on a bounded queue and
// returns; a worker writes batches. A full queue drops the entry and counts
// it (Dropped): a request is never slowed down by the log. Entries older
// than the retention period are pruned periodically.
package decisionlog

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"okrgraph/ent"
	"okrgraph/ent/policydecision"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
)

// Defaults of Config.
const (
	DefaultQueueSize  = 10000
	DefaultBatchSize  = 200
	DefaultFlushEvery = time.Second
	DefaultRetention  = 30 * 24 * time.Hour
	DefaultPruneEvery = time.Hour
	// MaxFactsBytes bounds the facts kept per decision; larger inputs are
	// replaced by a marker (and cannot be replayed).
	MaxFactsBytes = 64 << 10
	pruneBatch    = 5000
)

// Config configures a Log.
type Config struct {
	Client     *ent.Client
	Logger     *slog.Logger
	QueueSize  int           // default DefaultQueueSize
	BatchSize  int           // default DefaultBatchSize
	FlushEvery time.Duration // default DefaultFlushEvery
	Retention  time.Duration // default DefaultRetention
	PruneEvery time.Duration // default DefaultPruneEvery
	// OnDrop is called for each entry dropped on a full queue (metrics).
	OnDrop func()
	// OnWriteError is called with the number of entries a failed batch
	// write lost (metrics).
	OnWriteError func(n int)
}

// Log is the decision log writer. It is an authz.Observer.
type Log struct {
	cfg     Config
	queue   chan entry
	flushes chan chan struct{}
	stop    chan struct{}
	done    chan struct{}
	started atomic.Bool
	stopped sync.Once

	dropped atomic.Int64
	written atomic.Int64
}

var _ authz.Observer = (*Log)(nil)

type entry struct {
	at       time.Time
	orgID    int
	action   string
	subject  string
	resource string
	allowed  bool
	reasons  []string
	tenant   bool
	version  int
	failed   bool
	facts    []byte
}

// New makes a Log; Start starts its worker and pruner.
func New(cfg Config) *Log {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = DefaultFlushEvery
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = DefaultPruneEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Log{
		cfg:     cfg,
		queue:   make(chan entry, cfg.QueueSize),
		flushes: make(chan chan struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// Retention is how long entries are kept.
func (l *Log) Retention() time.Duration { return l.cfg.Retention }

// Dropped counts the entries dropped on a full queue since New.
func (l *Log) Dropped() int64 { return l.dropped.Load() }

// Written counts the entries written since New.
func (l *Log) Written() int64 { return l.written.Load() }

// Queued is the number of entries waiting to be written.
func (l *Log) Queued() int { return len(l.queue) }

// readActions are the actions whose allowed decisions under the default
// policy are not logged: they answer reads, by far the most frequent
// decisions, and no draft's impact on writes depends on them.
var readActions = map[string]bool{
	authz.ActionOKRView:         true,
	authz.ActionReviewViewCycle: true,
	authz.ActionReviewRead:      true,
	authz.ActionReviewTrack:     true,
}

// Keep says whether a decision goes to the log (see the package comment).
func Keep(o *authz.Observation) bool {
	if o == nil || o.Input == nil || !o.Enforced {
		return false
	}
	return !o.Decision.Allow || o.Err != nil || o.Version > 0 || !readActions[o.Input.Action]
}

// ObserveDecision queues the decision when Keep says so. It never blocks:
// on a full queue the entry is dropped and counted.
func (l *Log) ObserveDecision(ctx context.Context, o *authz.Observation) {
	if !Keep(o) {
		return
	}
	orgID, err := strconv.Atoi(o.Input.Org.ID)
	if err != nil || orgID <= 0 {
		return
	}
	in := o.Input
	var facts []byte
	if strings.HasPrefix(in.Action, "review.") {
		// Nobody but the policy's chosen few reads a review, not even an
		// org admin: its facts (reviewer, reviewee, status, approvers)
		// stay out of the log, and such decisions are not replayed.
		facts, err = json.Marshal(map[string]any{
			"action":   in.Action,
			"org":      map[string]string{"id": in.Org.ID},
			"redacted": "the facts of review decisions are not kept",
		})
	} else {
		facts, err = json.Marshal(in)
	}
	if err != nil || len(facts) > MaxFactsBytes {
		facts = []byte(`{"truncated":true,"bytes":` + strconv.Itoa(len(facts)) + `}`)
	}
	e := entry{
		at:       time.Now(),
		orgID:    orgID,
		action:   clip(in.Action, 100),
		subject:  clip(in.Subject.UserID, 100),
		resource: clip(in.Resource.ID, 100),
		allowed:  o.Decision.Allow && o.Err == nil,
		reasons:  append([]string{}, o.Decision.Reasons...),
		tenant:   o.Version > 0 && (o.Decision.By == "tenant" || o.Err != nil),
		version:  o.Version,
		failed:   o.Err != nil,
		facts:    facts,
	}
	select {
	case l.queue <- e:
	default:
		l.dropped.Add(1)
		if l.cfg.OnDrop != nil {
			l.cfg.OnDrop()
		}
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Start runs the writer and the pruner until Close.
func (l *Log) Start() {
	if !l.started.CompareAndSwap(false, true) {
		return
	}
	go l.run()
}

// Flush writes everything queued so far and returns when it is written
// (or ctx is done). It needs a started Log.
func (l *Log) Flush(ctx context.Context) error {
	if !l.started.Load() {
		return errors.New("decisionlog: not started")
	}
	done := make(chan struct{})
	select {
	case l.flushes <- done:
	case <-l.done:
		return errors.New("decisionlog: closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued (for up to a few seconds) and stops.
func (l *Log) Close() {
	l.stopped.Do(func() {
		close(l.stop)
		if l.started.Load() {
			select {
			case <-l.done:
			case <-time.After(10 * time.Second):
				l.cfg.Logger.Warn("decision log: closing before the queue was written", "queued", len(l.queue))
			}
		}
	})
}

func (l *Log) run() {
	defer close(l.done)
	flush := time.NewTicker(l.cfg.FlushEvery)
	defer flush.Stop()
	prune := time.NewTicker(l.cfg.PruneEvery)
	defer prune.Stop()
	batch := make([]entry, 0, l.cfg.BatchSize)
	write := func() {
		if len(batch) > 0 {
			l.write(batch)
			batch = batch[:0]
		}
	}
	drain := func() {
		for {
			select {
			case e := <-l.queue:
				batch = append(batch, e)
				if len(batch) >= l.cfg.BatchSize {
					write()
				}
			default:
				write()
				return
			}
		}
	}
	for {
		select {
		case e := <-l.queue:
			batch = append(batch, e)
			if len(batch) >= l.cfg.BatchSize {
				write()
			}
		case <-flush.C:
			write()
		case done := <-l.flushes:
			drain()
			close(done)
		case <-prune.C:
			write()
			if _, err := l.Prune(context.Background(), time.Now()); err != nil {
				l.cfg.Logger.Error("decision log: prune failed", "err", err)
			}
		case <-l.stop:
			drain()
			return
		}
	}
}

// write inserts a batch; a failure loses it (and is logged and counted),
// it is never retried forever.
func (l *Log) write(batch []entry) {
	ctx, cancel := context.WithTimeout(scope.System(context.Background()), 30*time.Second)
	defer cancel()
	builders := make([]*ent.PolicyDecisionCreate, len(batch))
	for i, e := range batch {
		by := policydecision.DecidedByDEFAULT
		if e.tenant {
			by = policydecision.DecidedByTENANT
		}
		builders[i] = l.cfg.Client.PolicyDecision.Create().
			SetOrgID(e.orgID).
			SetDecidedAt(e.at).
			SetAction(e.action).
			SetSubjectType(SubjectType(e.facts)).
			SetSubjectID(e.subject).
			SetResourceID(e.resource).
			SetAllowed(e.allowed).
			SetReasons(e.reasons).
			SetDecidedBy(by).
			SetVersion(e.version).
			SetFailed(e.failed).
			SetFacts(string(e.facts))
	}
	if err := l.cfg.Client.PolicyDecision.CreateBulk(builders...).Exec(ctx); err != nil {
		l.cfg.Logger.Error("decision log: write failed", "entries", len(batch), "err", err)
		if l.cfg.OnWriteError != nil {
			l.cfg.OnWriteError(len(batch))
		}
		return
	}
	l.written.Add(int64(len(batch)))
}

// SubjectType reads subject.type of a policy input in JSON, "user" when it
// has none (inputs of people carry no type).
func SubjectType(facts []byte) string {
	var in struct {
		Subject struct {
			Type string `json:"type"`
		} `json:"subject"`
	}
	if json.Unmarshal(facts, &in) != nil {
		return "user"
	}
	t := strings.TrimSpace(in.Subject.Type)
	if t == "" {
		return "user"
	}
	return clip(t, 40)
}

// Prune deletes the entries of every organization decided before
// now minus the retention period, in bounded batches, and returns how many
// it deleted.
func (l *Log) Prune(ctx context.Context, now time.Time) (int, error) {
	ctx = scope.System(ctx)
	cutoff := now.Add(-l.cfg.Retention)
	total := 0
	for {
		ids, err := l.cfg.Client.PolicyDecision.Query().
			Where(policydecision.DecidedAtLT(cutoff)).
			Limit(pruneBatch).
			IDs(ctx)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		n, err := l.cfg.Client.PolicyDecision.Delete().Where(policydecision.IDIn(ids...)).Exec(ctx)
		total += n
		if err != nil {
			return total, err
		}
		if len(ids) < pruneBatch {
			return total, nil
		}
	}
}
