package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"okrgraph/ent"
	"okrgraph/ent/organization"
	"okrgraph/ent/policyaudit"
	"okrgraph/ent/policyversion"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/store"
)

// Channel is the PostgreSQL NOTIFY channel on which activations announce
// the id of the organization whose policy changed.
const Channel = "okrgraph_policy"

// Activate makes a version (a DRAFT, or an ARCHIVED one) the
// organization's active policy. It must validate and pass its tests,
// safety suite included. The switch is atomic: one transaction archives
// the previous active version, activates this one and sets
// organizations.active_policy_version, under the org row's lock on
// PostgreSQL, so concurrent activations serialize and requests see the old
// or the new policy, never a mix.
func (s *Service) Activate(ctx context.Context, versionID int) (*ent.PolicyVersion, error) {
	return s.activate(ctx, versionID, policyaudit.ActionACTIVATE)
}

// Rollback re-activates a version that was active before (ARCHIVED), with
// the same checks as Activate.
func (s *Service) Rollback(ctx context.Context, versionID int) (*ent.PolicyVersion, error) {
	return s.activate(ctx, versionID, policyaudit.ActionROLLBACK)
}

func (s *Service) activate(ctx context.Context, versionID int, action policyaudit.Action) (*ent.PolicyVersion, error) {
	a, err := s.require(ctx, s.Client)
	if err != nil {
		return nil, err
	}
	v, err := loadVersion(ctx, s.Client, versionID)
	if err != nil {
		return nil, err
	}
	if err := activatable(v, action); err != nil {
		return nil, err
	}
	// Checks and compilation run before the transaction: they take tens of
	// milliseconds, and versions never change once saved.
	engine, err := s.vet(ctx, a, v)
	if err != nil {
		return nil, err
	}
	var orgID int
	saved, err := s.swap(ctx, action, func(c *ent.Client, a *access.Actor, previous int) (*ent.PolicyVersion, int, string, error) {
		orgID = a.OrgID
		v, err := loadVersion(ctx, c, versionID)
		if err != nil {
			return nil, 0, "", err
		}
		// Checked again under the lock: a concurrent activation may have
		// made it active meanwhile.
		if err := activatable(v, action); err != nil {
			return nil, 0, "", err
		}
		if err := archiveActive(ctx, c); err != nil {
			return nil, 0, "", err
		}
		v, err = v.Update().SetStatus(policyversion.StatusACTIVE).SetActivatedAt(now()).Save(ctx)
		if err != nil {
			return nil, 0, "", err
		}
		from := "the default policy only"
		if previous > 0 {
			from = fmt.Sprintf("version %d", previous)
		}
		return v, v.Number, "replaces " + from, nil
	})
	if err != nil {
		return nil, err
	}
	s.install(ctx, orgID, saved.Number, engine)
	return saved, nil
}

// activatable says whether v may become active by action.
func activatable(v *ent.PolicyVersion, action policyaudit.Action) error {
	switch {
	case v.Status == policyversion.StatusACTIVE:
		return apperr.Conflict("policy version %d is already active", v.Number)
	case action == policyaudit.ActionROLLBACK && v.Status != policyversion.StatusARCHIVED:
		return apperr.BadInput("versionId", "policy version %d was never active, so there is nothing to roll back to: activate it instead", v.Number)
	}
	return nil
}

// vet checks a version as activation requires and compiles its engine.
func (s *Service) vet(ctx context.Context, a *access.Actor, v *ent.PolicyVersion) (*authz.Engine, error) {
	if c := Check(v.Modules); !c.Valid {
		return nil, apperr.BadInput("versionId", "policy version %d is invalid: %s", v.Number, problemText(c.Problems))
	}
	run := RunTests(ctx, v.Modules, safetyFacts(a), s.Gate)
	switch {
	case len(run.Problems) > 0:
		return nil, apperr.BadInput("versionId", "policy version %d cannot be tested: %s", v.Number, problemText(run.Problems))
	case !run.Passed:
		failed := run.Failed()
		return nil, apperr.BadInput("versionId", "policy version %d fails %d of its %d tests (safety suite included), so it cannot be activated: %s",
			v.Number, len(failed), len(run.Results), strings.Join(failed, ", "))
	}
	engine, err := authz.NewTenantEngine(Modules(v.Modules), s.EngineOptions...)
	if err != nil {
		return nil, apperr.BadInput("versionId", "policy version %d does not compile: %v", v.Number, err)
	}
	return engine, nil
}

// Deactivate returns the organization to the default policy only. It
// answers the version it deactivated, nil when none was active.
func (s *Service) Deactivate(ctx context.Context) (*ent.PolicyVersion, error) {
	if _, err := s.require(ctx, s.Client); err != nil {
		return nil, err
	}
	var orgID int
	old, err := s.swap(ctx, policyaudit.ActionDEACTIVATE, func(c *ent.Client, a *access.Actor, previous int) (*ent.PolicyVersion, int, string, error) {
		orgID = a.OrgID
		if previous == 0 {
			return nil, 0, "", errNoChange
		}
		if err := archiveActive(ctx, c); err != nil {
			return nil, 0, "", err
		}
		v, err := c.PolicyVersion.Query().Where(policyversion.Number(previous)).Only(ctx)
		if err != nil {
			return nil, 0, "", err
		}
		return v, 0, fmt.Sprintf("version %d deactivated: the default policy only", previous), nil
	})
	if errors.Is(err, errNoChange) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.install(ctx, orgID, 0, nil)
	return old, nil
}

// errNoChange aborts a swap that would change nothing.
var errNoChange = errors.New("no change")

// swap runs one change of the active version in a transaction: it checks
// the actor and locks the organization; change, given the active version
// number (0: none), archives the active version and activates another,
// answering the version to record and the new active number (0: none);
// swap then sets organizations.active_policy_version, records the audit
// entry and, on PostgreSQL, notifies the other processes (delivered at
// commit).
func (s *Service) swap(ctx context.Context, action policyaudit.Action,
	change func(c *ent.Client, a *access.Actor, previous int) (v *ent.PolicyVersion, active int, detail string, err error),
) (*ent.PolicyVersion, error) {
	return store.InTx(ctx, s.Client, func(c *ent.Client) (*ent.PolicyVersion, error) {
		a, err := s.require(ctx, c)
		if err != nil {
			return nil, err
		}
		o, dia, err := lockOrg(ctx, c, a.OrgID)
		if err != nil {
			return nil, err
		}
		v, active, detail, err := change(c, a, o.ActivePolicyVersion)
		if err != nil {
			return nil, err
		}
		if err := c.Organization.UpdateOneID(a.OrgID).SetActivePolicyVersion(active).Exec(sysCtx(ctx)); err != nil {
			return nil, err
		}
		if err := record(ctx, c, a, action, &v.Number, detail); err != nil {
			return nil, err
		}
		if dia == dialect.Postgres {
			if _, err := c.ExecContext(ctx, "SELECT pg_notify($1, $2)", Channel, access.ID(a.OrgID)); err != nil {
				return nil, fmt.Errorf("notify policy change: %w", err)
			}
		}
		return v, nil
	})
}

// archiveActive archives the organization's ACTIVE version, if any.
func archiveActive(ctx context.Context, c *ent.Client) error {
	return c.PolicyVersion.Update().
		Where(policyversion.StatusEQ(policyversion.StatusACTIVE)).
		SetStatus(policyversion.StatusARCHIVED).
		Exec(ctx)
}

// lockOrg reads the organization row, locking it until the transaction
// ends on PostgreSQL (SQLite write transactions are serialized anyway),
// and returns the dialect.
func lockOrg(ctx context.Context, c *ent.Client, orgID int) (*ent.Organization, string, error) {
	var dia string
	o, err := c.Organization.Query().
		Where(organization.ID(orgID)).
		Modify(func(s *sql.Selector) {
			dia = s.Dialect()
			if dia == dialect.Postgres {
				s.ForUpdate()
			}
		}).
		Only(sysCtx(ctx))
	if err != nil {
		return nil, "", err
	}
	return o, dia, nil
}

// install tells this process's Router about an activation right after its
// commit. The org's active version is read again under a lock so that two
// activations committed close together install in commit order: when
// another one committed in between, the Router is told to re-read instead.
func (s *Service) install(ctx context.Context, orgID, version int, engine *authz.Engine) {
	if s.Router == nil {
		return
	}
	s.installMu.Lock()
	defer s.installMu.Unlock()
	id := access.ID(orgID)
	cur, err := s.Client.Organization.Query().
		Where(organization.ID(orgID)).
		Select(organization.FieldActivePolicyVersion).
		Int(sysCtx(ctx))
	if err != nil || cur != version {
		s.Router.Invalidate(id)
		return
	}
	s.Router.Install(id, version, engine)
}
