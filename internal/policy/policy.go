// Package policy is the tenant policy service (spec §6): org admins
// validate, save, test, explain, activate, roll back and deactivate their
// organization's own Rego modules. Every use case is decided by the policy
// action org.manage_policy (which tenant rules can neither grant nor deny)
// and recorded in the org's policy audit log.
//
// It also feeds the decisions: Source tells authz.Router which version an
// org has active, and Listener relays PostgreSQL notifications of
// activations made by other processes.
package policy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"okrgraph/ent"
	"okrgraph/ent/policyaudit"
	"okrgraph/ent/policyversion"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/policy/module"
	"okrgraph/internal/scope"
	"okrgraph/internal/store"
)

// Limits of the service beyond the engine's own (authz.MaxTenant*).
const (
	MaxComment = 2000 // bytes
	// DefaultAuditPage and MaxAuditPage bound a read of the audit log.
	DefaultAuditPage = 50
	MaxAuditPage     = 500
	maxDetail        = 4000
)

// Service runs the tenant policy use cases.
type Service struct {
	Client *ent.Client
	Guard  *access.Guard
	// Router, when set, is told of this process's activations at once
	// (other processes notice within its CheckEvery, or at once through a
	// Listener on PostgreSQL). Explain uses its compiled engines.
	Router *authz.Router
	// EngineOptions configure the engines compiled for activation and
	// explain (the Router's Options: logger, deadline).
	EngineOptions []authz.Option
	// Gate bounds the org's concurrent test runs (with the engines'
	// decisions); nil: authz.DefaultGate().
	Gate *authz.Gate

	impacts     impactSlots
	installMu   sync.Mutex
	defaultOnce sync.Once
	defaultEng  *authz.Engine
	defaultErr  error
}

// Validation is the verdict on a policy's modules.
type Validation struct {
	Valid    bool
	Problems []authz.Problem
}

// TestRun is the outcome of a policy's tests: its own and the safety
// suite. Problems (compile errors) mean no test ran.
type TestRun struct {
	Passed   bool
	Results  []authz.TestResult
	Problems []authz.Problem
}

// Failed lists the tests that did not pass, as package.name.
func (r *TestRun) Failed() []string {
	var out []string
	for _, t := range r.Results {
		if !t.Passed {
			out = append(out, t.Package+"."+t.Name)
		}
	}
	return out
}

// Modules converts stored modules to the engine's.
func Modules(mods []module.Module) []authz.Module {
	out := make([]authz.Module, len(mods))
	for i, m := range mods {
		out[i] = authz.Module{Name: m.Name, Source: m.Source}
	}
	return out
}

// Check validates modules as they would be activated (limits, syntax,
// namespace, strict compile with the default policy, sandbox). It needs
// no database.
func Check(mods []module.Module) Validation {
	problems := authz.ValidateTenant(Modules(mods))
	return Validation{Valid: len(problems) == 0, Problems: nonNil(problems)}
}

// RunTests runs the tenant's own tests and the built-in safety suite with
// the org's real facts. It passes when nothing failed to compile, at least
// one test ran and every test passed. It needs no database.
func RunTests(ctx context.Context, mods []module.Module, facts authz.SafetyFacts, gate ...*authz.Gate) TestRun {
	results, problems := authz.RunTenantTests(ctx, Modules(mods), facts, gate...)
	run := TestRun{Results: results, Problems: nonNil(problems)}
	if run.Results == nil {
		run.Results = []authz.TestResult{}
	}
	run.Passed = len(problems) == 0 && len(results) > 0 && len(run.Failed()) == 0
	return run
}

func nonNil(p []authz.Problem) []authz.Problem {
	if p == nil {
		return []authz.Problem{}
	}
	return p
}

// safetyFacts are the facts the safety suite runs with: the org's and the
// acting admin's, as every decision of theirs sees them.
func safetyFacts(a *access.Actor) authz.SafetyFacts {
	return authz.SafetyFacts{Org: a.Org, Subject: a.Subject}
}

// require loads the acting member and asks the policy whether they may
// manage the org's policy.
func (s *Service) require(ctx context.Context, c *ent.Client) (*access.Actor, error) {
	a, err := access.LoadActor(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.Guard.Require(ctx, a.Input(authz.ActionOrgManagePolicy, authz.Resource{})); err != nil {
		return nil, err
	}
	return a, nil
}

// record appends an entry to the org's audit log.
func record(ctx context.Context, c *ent.Client, a *access.Actor, action policyaudit.Action, version *int, detail string) error {
	if len(detail) > maxDetail {
		cut := maxDetail - 3
		for cut > 0 && !utf8.RuneStart(detail[cut]) {
			cut--
		}
		detail = detail[:cut] + "..."
	}
	return c.PolicyAudit.Create().
		SetActorID(a.UserID).
		SetAction(action).
		SetNillableVersion(version).
		SetDetail(detail).
		Exec(ctx)
}

// Versions lists the organization's policy versions, newest first.
func (s *Service) Versions(ctx context.Context) ([]*ent.PolicyVersion, error) {
	if _, err := s.require(ctx, s.Client); err != nil {
		return nil, err
	}
	return s.Client.PolicyVersion.Query().Order(ent.Desc(policyversion.FieldNumber)).All(ctx)
}

// Version returns one version of the organization by id.
func (s *Service) Version(ctx context.Context, id int) (*ent.PolicyVersion, error) {
	if _, err := s.require(ctx, s.Client); err != nil {
		return nil, err
	}
	return loadVersion(ctx, s.Client, id)
}

// VersionNumber returns the organization's version with the number.
func (s *Service) VersionNumber(ctx context.Context, n int) (*ent.PolicyVersion, error) {
	if _, err := s.require(ctx, s.Client); err != nil {
		return nil, err
	}
	v, err := s.Client.PolicyVersion.Query().Where(policyversion.Number(n)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound("policy version", n)
	}
	return v, err
}

// Active returns the organization's active version, nil when only the
// default policy applies.
func (s *Service) Active(ctx context.Context) (*ent.PolicyVersion, error) {
	if _, err := s.require(ctx, s.Client); err != nil {
		return nil, err
	}
	v, err := s.Client.PolicyVersion.Query().Where(policyversion.StatusEQ(policyversion.StatusACTIVE)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return v, err
}

// Audit returns the newest entries of the organization's policy audit log
// (first: DefaultAuditPage when nil, at most MaxAuditPage).
func (s *Service) Audit(ctx context.Context, first *int) ([]*ent.PolicyAudit, error) {
	n := DefaultAuditPage
	if first != nil {
		if *first < 0 || *first > MaxAuditPage {
			return nil, apperr.BadInput("first", "first must be between 0 and %d", MaxAuditPage)
		}
		n = *first
	}
	if _, err := s.require(ctx, s.Client); err != nil {
		return nil, err
	}
	return s.Client.PolicyAudit.Query().
		Order(ent.Desc(policyaudit.FieldCreatedAt), ent.Desc(policyaudit.FieldID)).
		Limit(n).
		All(ctx)
}

// AuditEntry returns one entry of the organization's policy audit log.
func (s *Service) AuditEntry(ctx context.Context, id int) (*ent.PolicyAudit, error) {
	if _, err := s.require(ctx, s.Client); err != nil {
		return nil, err
	}
	e, err := s.Client.PolicyAudit.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound("policy audit entry", id)
	}
	return e, err
}

// Validate checks modules without saving them.
func (s *Service) Validate(ctx context.Context, mods []module.Module) (*Validation, error) {
	a, err := s.require(ctx, s.Client)
	if err != nil {
		return nil, err
	}
	v := Check(mods)
	detail := fmt.Sprintf("%s: valid", describe(mods))
	if !v.Valid {
		detail = fmt.Sprintf("%s: %d problems: %s", describe(mods), len(v.Problems), problemText(v.Problems))
	}
	if err := record(ctx, s.Client, a, policyaudit.ActionVALIDATE, nil, detail); err != nil {
		return nil, err
	}
	return &v, nil
}

// SaveDraft validates modules and saves them as the organization's next
// version, a DRAFT. Invalid modules are refused (BAD_USER_INPUT with the
// problems in the message; validatePolicy gives them one by one).
func (s *Service) SaveDraft(ctx context.Context, mods []module.Module, comment *string) (*ent.PolicyVersion, error) {
	text := ""
	if comment != nil {
		text = strings.TrimSpace(*comment)
	}
	if len(text) > MaxComment {
		return nil, apperr.BadInput("comment", "comment is %d bytes long; the limit is %d", len(text), MaxComment)
	}
	if _, err := s.require(ctx, s.Client); err != nil {
		return nil, err
	}
	if v := Check(mods); !v.Valid {
		return nil, apperr.BadInput("modules", "%s", (&authz.ProblemsError{Problems: v.Problems}).Error())
	}
	return store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.PolicyVersion, error) {
		a, err := s.require(ctx, c)
		if err != nil {
			return nil, err
		}
		// Numbers are allocated under the org's row lock, so concurrent
		// saves get 1, 2, 3… rather than a conflict.
		if _, _, err := lockOrg(ctx, c, a.OrgID); err != nil {
			return nil, err
		}
		last, err := c.PolicyVersion.Query().Order(ent.Desc(policyversion.FieldNumber)).First(ctx)
		next := 1
		switch {
		case err == nil:
			next = last.Number + 1
		case !ent.IsNotFound(err):
			return nil, err
		}
		v, err := c.PolicyVersion.Create().
			SetNumber(next).
			SetModules(mods).
			SetAuthorID(a.UserID).
			SetComment(text).
			Save(ctx)
		if err != nil {
			return nil, err
		}
		detail := describe(mods)
		if text != "" {
			detail += ": " + text
		}
		return v, record(ctx, c, a, policyaudit.ActionSAVE_DRAFT, &v.Number, detail)
	})
}

// Test runs the tests of a saved version (versionID) or of unsaved
// modules, with the safety suite.
func (s *Service) Test(ctx context.Context, versionID *int, mods []module.Module) (*TestRun, error) {
	if (versionID == nil) == (mods == nil) {
		return nil, apperr.BadInput("versionId", "give either versionId or modules")
	}
	a, err := s.require(ctx, s.Client)
	if err != nil {
		return nil, err
	}
	var number *int
	what := ""
	if versionID != nil {
		v, err := loadVersion(ctx, s.Client, *versionID)
		if err != nil {
			return nil, err
		}
		mods, number = v.Modules, &v.Number
		what = fmt.Sprintf("version %d", v.Number)
	} else {
		what = describe(mods)
	}
	run := RunTests(ctx, mods, safetyFacts(a), s.Gate)
	detail := fmt.Sprintf("%s: %d tests passed", what, len(run.Results))
	switch {
	case len(run.Problems) > 0:
		detail = fmt.Sprintf("%s: does not compile: %s", what, problemText(run.Problems))
	case !run.Passed:
		failed := run.Failed()
		detail = fmt.Sprintf("%s: %d of %d tests failed: %s", what, len(failed), len(run.Results), strings.Join(failed, ", "))
	}
	if err := record(ctx, s.Client, a, policyaudit.ActionTEST, number, detail); err != nil {
		return nil, err
	}
	return &run, nil
}

// loadVersion finds a version of the request's organization (other orgs'
// versions are NOT_FOUND: the tenant mixin hides them).
func loadVersion(ctx context.Context, c *ent.Client, id int) (*ent.PolicyVersion, error) {
	v, err := c.PolicyVersion.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, &apperr.Error{Code: apperr.CodeNotFound, Field: "versionId", Message: fmt.Sprintf("policy version %d not found", id)}
	}
	return v, err
}

// describe summarizes modules for the audit log.
func describe(mods []module.Module) string {
	names := make([]string, len(mods))
	size := 0
	for i, m := range mods {
		names[i] = m.Name
		size += len(m.Source)
	}
	if len(names) > 5 {
		names = append(names[:5], "…")
	}
	return fmt.Sprintf("%d modules (%s), %d bytes", len(mods), strings.Join(names, ", "), size)
}

func problemText(p []authz.Problem) string {
	msgs := make([]string, len(p))
	for i, x := range p {
		msgs[i] = x.String()
	}
	return strings.Join(msgs, "; ")
}

// now is the clock of activations (tests need none other).
var now = time.Now

// sysCtx runs trusted reads that must ignore the request's confinement.
func sysCtx(ctx context.Context) context.Context { return scope.System(ctx) }
