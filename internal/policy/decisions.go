package policy

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"okrgraph/ent"
	"okrgraph/ent/policydecision"
	"okrgraph/ent/predicate"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
)

// Limits of the decision log's readers.
const (
	DefaultDecisionPage = 50
	MaxDecisionPage     = 500
	// MaxImpactDecisions bounds the logged decisions one impact analysis
	// replays (the newest of the period).
	MaxImpactDecisions = 5000
	// ImpactTimeout bounds one impact analysis; what was not replayed by
	// then is left out (the answer says it is truncated).
	ImpactTimeout = 20 * time.Second
	// MaxImpactExamples bounds the changed decisions an analysis returns.
	MaxImpactExamples = 20
	// MaxConcurrentImpacts bounds the analyses running at once on a
	// server, all organizations together; each organization runs one at a
	// time.
	MaxConcurrentImpacts = 2
)

// DecisionFilter selects entries of the decision log; nil fields select
// everything.
type DecisionFilter struct {
	Action      *string
	SubjectType *string
	SubjectID   *string
	Allowed     *bool
	// Version: the tenant policy version in force; 0 selects decisions
	// under the default policy alone.
	Version   *int
	DecidedBy *Decider
	Since     *time.Time
	Until     *time.Time
}

// DecisionPage is a page of the decision log, newest first.
type DecisionPage struct {
	Decisions  []*ent.PolicyDecision
	HasNext    bool
	TotalCount int
}

// Decisions reads the organization's decision log, newest first: first
// entries (DefaultDecisionPage when nil, at most MaxDecisionPage) after
// the entry with id after. Only org admins may (org.manage_policy); the
// tenant mixin keeps it to the selected organization.
func (s *Service) Decisions(ctx context.Context, first *int, after *int, f *DecisionFilter) (*DecisionPage, error) {
	n := DefaultDecisionPage
	if first != nil {
		if *first < 0 || *first > MaxDecisionPage {
			return nil, apperr.BadInput("first", "first must be between 0 and %d", MaxDecisionPage)
		}
		n = *first
	}
	preds, err := decisionPredicates(f)
	if err != nil {
		return nil, err
	}
	if _, err := s.require(ctx, s.Client); err != nil {
		return nil, err
	}
	q := s.Client.PolicyDecision.Query().Where(preds...)
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, err
	}
	if after != nil {
		q = q.Where(policydecision.IDLT(*after))
	}
	rows, err := q.Order(ent.Desc(policydecision.FieldID)).Limit(n + 1).All(ctx)
	if err != nil {
		return nil, err
	}
	page := &DecisionPage{Decisions: rows, TotalCount: total}
	if len(rows) > n {
		page.Decisions, page.HasNext = rows[:n], true
	}
	return page, nil
}

func decisionPredicates(f *DecisionFilter) ([]predicate.PolicyDecision, error) {
	if f == nil {
		return nil, nil
	}
	var p []predicate.PolicyDecision
	if f.Action != nil {
		p = append(p, policydecision.Action(strings.TrimSpace(*f.Action)))
	}
	if f.SubjectType != nil {
		p = append(p, policydecision.SubjectType(strings.TrimSpace(*f.SubjectType)))
	}
	if f.SubjectID != nil {
		p = append(p, policydecision.SubjectID(strings.TrimSpace(*f.SubjectID)))
	}
	if f.Allowed != nil {
		p = append(p, policydecision.Allowed(*f.Allowed))
	}
	if f.Version != nil {
		if *f.Version < 0 {
			return nil, apperr.BadInput("version", "version must be 0 (the default policy) or a version number")
		}
		p = append(p, policydecision.Version(*f.Version))
	}
	if f.DecidedBy != nil {
		p = append(p, policydecision.DecidedByEQ(policydecision.DecidedBy(*f.DecidedBy)))
	}
	if f.Since != nil {
		p = append(p, policydecision.DecidedAtGTE(*f.Since))
	}
	if f.Until != nil {
		p = append(p, policydecision.DecidedAtLT(*f.Until))
	}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		return nil, apperr.BadInput("until", "until must come after since")
	}
	return p, nil
}

// ImpactChange is one logged decision the draft would decide otherwise.
type ImpactChange struct {
	Decision   *ent.PolicyDecision
	NowAllowed bool
	NowReasons []string
}

// ImpactCount counts changed decisions of one action or one subject.
type ImpactCount struct {
	// Key is the action, or for a subject its id.
	Key         string
	SubjectType string
	AllowToDeny int
	DenyToAllow int
}

// Impact is what a draft would have decided otherwise over a period of
// the decision log.
type Impact struct {
	Version int
	Since   time.Time
	// Replayed decisions; Skipped ones could not be (their facts were too
	// large to keep, or are not kept: review decisions); Failures are evaluations of the draft that failed
	// (and so deny).
	Replayed, Skipped, Failures int
	// Truncated: the period held more than MaxImpactDecisions decisions,
	// or the replay ran out of time; the newest were replayed.
	Truncated   bool
	AllowToDeny int
	DenyToAllow int
	ByAction    []ImpactCount
	BySubject   []ImpactCount
	Examples    []ImpactChange
}

// impactSlots limits analyses: one per organization, MaxConcurrentImpacts
// in all.
type impactSlots struct {
	mu   sync.Mutex
	orgs map[int]bool
}

func (l *impactSlots) acquire(orgID int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.orgs == nil {
		l.orgs = map[int]bool{}
	}
	if l.orgs[orgID] || len(l.orgs) >= MaxConcurrentImpacts {
		return false
	}
	l.orgs[orgID] = true
	return true
}

func (l *impactSlots) release(orgID int) {
	l.mu.Lock()
	delete(l.orgs, orgID)
	l.mu.Unlock()
}

// Impact replays the decisions logged since since (the newest
// MaxImpactDecisions) against a version of the organization's policy —
// usually a draft — with the engine's evaluation deadline per decision,
// and reports those it would decide otherwise: how many turn from allowed
// to denied and back, by action and by subject, with examples. It writes
// nothing. One analysis runs per organization at a time (CONFLICT
// otherwise).
func (s *Service) Impact(ctx context.Context, versionID int, since time.Time) (*Impact, error) {
	if since.After(now()) {
		return nil, apperr.BadInput("since", "since must be in the past")
	}
	a, err := s.require(ctx, s.Client)
	if err != nil {
		return nil, err
	}
	v, err := loadVersion(ctx, s.Client, versionID)
	if err != nil {
		return nil, err
	}
	if !s.impacts.acquire(a.OrgID) {
		return nil, apperr.Conflict("an impact analysis is already running for this organization (or the server runs its limit of %d); try again when it is done", MaxConcurrentImpacts)
	}
	defer s.impacts.release(a.OrgID)
	engine, err := authz.NewTenantEngine(Modules(v.Modules), s.EngineOptions...)
	if err != nil {
		return nil, apperr.BadInput("versionId", "policy version %d does not compile: %v", v.Number, err)
	}
	rows, err := s.Client.PolicyDecision.Query().
		Where(policydecision.DecidedAtGTE(since)).
		Order(ent.Desc(policydecision.FieldID)).
		Limit(MaxImpactDecisions + 1).
		All(ctx)
	if err != nil {
		return nil, err
	}
	out := &Impact{Version: v.Number, Since: since, ByAction: []ImpactCount{}, BySubject: []ImpactCount{}, Examples: []ImpactChange{}}
	if len(rows) > MaxImpactDecisions {
		rows, out.Truncated = rows[:MaxImpactDecisions], true
	}
	ctx, cancel := context.WithTimeout(ctx, ImpactTimeout)
	defer cancel()
	orgID := strconv.Itoa(a.OrgID)
	actions := map[string]*ImpactCount{}
	subjects := map[[2]string]*ImpactCount{}
	for _, row := range rows {
		if ctx.Err() != nil {
			out.Truncated = true
			break
		}
		var in struct {
			authz.Input
			Redacted  string `json:"redacted"`
			Truncated bool   `json:"truncated"`
		}
		if err := json.Unmarshal([]byte(row.Facts), &in); err != nil || in.Action == "" || in.Org.ID != orgID || in.Redacted != "" || in.Truncated {
			out.Skipped++
			continue
		}
		d, derr := engine.Decide(ctx, &in.Input)
		out.Replayed++
		if derr != nil {
			out.Failures++
		}
		allowed := d.Allow && derr == nil
		if allowed == row.Allowed {
			continue
		}
		ac := actions[row.Action]
		if ac == nil {
			ac = &ImpactCount{Key: row.Action}
			actions[row.Action] = ac
		}
		sk := [2]string{row.SubjectType, row.SubjectID}
		sc := subjects[sk]
		if sc == nil {
			sc = &ImpactCount{Key: row.SubjectID, SubjectType: row.SubjectType}
			subjects[sk] = sc
		}
		if row.Allowed {
			out.AllowToDeny++
			ac.AllowToDeny++
			sc.AllowToDeny++
		} else {
			out.DenyToAllow++
			ac.DenyToAllow++
			sc.DenyToAllow++
		}
		if len(out.Examples) < MaxImpactExamples {
			reasons := d.Reasons
			if derr != nil {
				reasons = []string{fmt.Sprintf("version %d failed: %v", v.Number, derr)}
			}
			if reasons == nil {
				reasons = []string{}
			}
			out.Examples = append(out.Examples, ImpactChange{Decision: row, NowAllowed: allowed, NowReasons: reasons})
		}
	}
	for _, c := range actions {
		out.ByAction = append(out.ByAction, *c)
	}
	for _, c := range subjects {
		out.BySubject = append(out.BySubject, *c)
	}
	byCount := func(a, b ImpactCount) int {
		return cmp.Or(cmp.Compare(b.AllowToDeny+b.DenyToAllow, a.AllowToDeny+a.DenyToAllow), cmp.Compare(a.SubjectType, b.SubjectType), cmp.Compare(a.Key, b.Key))
	}
	slices.SortFunc(out.ByAction, byCount)
	slices.SortFunc(out.BySubject, byCount)
	return out, nil
}
