package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"okrgraph/ent"
	"okrgraph/ent/membership"
	"okrgraph/ent/okritem"
	"okrgraph/ent/organization"
	"okrgraph/ent/policyaudit"
	"okrgraph/ent/policyversion"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/okr"
	"okrgraph/internal/scope"
)

// Decider names the policy that decided: the default policy, or the
// organization's own (a tenant rule decided, or the tenant policy failed).
type Decider string

// Deciders.
const (
	DecidedByDefault Decider = "DEFAULT"
	DecidedByTenant  Decider = "TENANT"
)

// ExplainInput asks how a policy decides an action for a member.
type ExplainInput struct {
	// VersionID is a version of the organization (any status); nil: the
	// active version (the default policy when none is active).
	VersionID *int
	// DefaultOnly evaluates the default policy alone.
	DefaultOnly *bool
	// AsUserID is the member whose request is explained.
	AsUserID int
	// Action is the action name, e.g. "okr.update" or "okr.create".
	Action string
	// ItemID is the OKR item acted on (okr.* actions but okr.create).
	ItemID *int
	// CreateInput is the proposed item of okr.create.
	CreateInput *okr.CreateInput
}

// MarshalGQL writes the enum value.
func (d Decider) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(d))) }

// UnmarshalGQL reads the enum value.
func (d *Decider) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || (s != string(DecidedByDefault) && s != string(DecidedByTenant)) {
		return fmt.Errorf("%v is not a PolicyDecider", v)
	}
	*d = Decider(s)
	return nil
}

// Explanation is the decision with the policy that made it.
type Explanation struct {
	Allowed   bool
	Reasons   []string
	DecidedBy Decider
	// Version is the tenant policy version evaluated, nil for the default
	// policy alone.
	Version *int
}

// Explain evaluates an action as a member of the organization would
// request it, under a version of the tenant policy, the active one, or the
// default policy alone, and says who decided; it writes nothing but its
// audit entry. Facts come from the same code the OKR service uses. Items
// the caller cannot see are NOT_FOUND.
func (s *Service) Explain(ctx context.Context, in ExplainInput) (*Explanation, error) {
	action := strings.TrimSpace(in.Action)
	concern, _, ok := strings.Cut(action, ".")
	switch {
	case !ok || len(action) > 100:
		return nil, apperr.BadInput("action", "action must be an action name such as %q", authz.ActionOKRCreate)
	case concern != "okr" && concern != "org":
		return nil, apperr.BadInput("action", "explain covers okr.* and org.* actions, not %q", action)
	case action == authz.ActionOKRCreate && in.CreateInput == nil:
		return nil, apperr.BadInput("createInput", "okr.create needs createInput: the proposed item")
	case concern == "okr" && action != authz.ActionOKRCreate && in.ItemID == nil:
		return nil, apperr.BadInput("itemId", "%s needs itemId: the item acted on", action)
	case in.VersionID != nil && in.DefaultOnly != nil && *in.DefaultOnly:
		return nil, apperr.BadInput("defaultOnly", "give versionId or defaultOnly, not both")
	}
	a, err := s.require(ctx, s.Client)
	if err != nil {
		return nil, err
	}
	member, err := s.Client.Membership.Query().Where(membership.OrgID(a.OrgID), membership.UserID(in.AsUserID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !member {
		return nil, &apperr.Error{Code: apperr.CodeNotFound, Field: "asUserId", Message: fmt.Sprintf("member %d not found", in.AsUserID)}
	}
	as, err := access.LoadActor(scope.With(ctx, scope.Scope{UserID: in.AsUserID, OrgID: a.OrgID}), s.Client)
	if err != nil {
		return nil, err
	}
	var (
		r    authz.Resource
		what string
	)
	switch {
	case action == authz.ActionOKRCreate:
		if r, err = createFacts(ctx, s.Client, as, *in.CreateInput); err != nil {
			return nil, err
		}
		what = fmt.Sprintf("a new %s %s", r.Level, r.Kind)
	case concern == "okr":
		it, err := s.Client.OKRItem.Get(ctx, *in.ItemID)
		if ent.IsNotFound(err) {
			return nil, &apperr.Error{Code: apperr.CodeNotFound, Field: "itemId", Message: fmt.Sprintf("item %d not found", *in.ItemID)}
		}
		if err != nil {
			return nil, err
		}
		if r, err = okr.Facts(ctx, s.Client, it); err != nil {
			return nil, err
		}
		what = fmt.Sprintf("item %d", it.ID)
	default:
		what = "the organization"
	}
	engine, version, err := s.explainEngine(ctx, a.OrgID, in)
	if err != nil {
		return nil, err
	}
	d, derr := engine.Decide(ctx, as.Input(action, r))
	out := &Explanation{Allowed: d.Allow && derr == nil, Reasons: d.Reasons, DecidedBy: DecidedByDefault}
	if version > 0 {
		out.Version = &version
	}
	switch {
	case derr != nil && version > 0:
		// As the Router answers a failing tenant policy, with the cause.
		out.DecidedBy = DecidedByTenant
		out.Reasons = []string{fmt.Sprintf("this organization's policy (version %d) failed: the action is denied until it is fixed", version), derr.Error()}
	case d.By == "tenant":
		out.DecidedBy = DecidedByTenant
	}
	if out.Reasons == nil {
		out.Reasons = []string{}
	}
	under := "the default policy only"
	if version > 0 {
		under = fmt.Sprintf("version %d", version)
	}
	verdict := "denied"
	if out.Allowed {
		verdict = "allowed"
	}
	detail := fmt.Sprintf("%s on %s as user %d under %s: %s by the %s policy",
		action, what, in.AsUserID, under, verdict, strings.ToLower(string(out.DecidedBy)))
	if err := record(ctx, s.Client, a, policyaudit.ActionEXPLAIN, out.Version, detail); err != nil {
		return nil, err
	}
	return out, nil
}

// explainEngine picks the engine in asks for and its tenant version (0:
// the default policy alone).
func (s *Service) explainEngine(ctx context.Context, orgID int, in ExplainInput) (*authz.Engine, int, error) {
	if in.DefaultOnly != nil && *in.DefaultOnly {
		e, err := s.defaultEngine()
		return e, 0, err
	}
	var v *ent.PolicyVersion
	if in.VersionID != nil {
		var err error
		if v, err = loadVersion(ctx, s.Client, *in.VersionID); err != nil {
			return nil, 0, err
		}
	} else {
		n, err := s.Client.Organization.Query().
			Where(organization.ID(orgID)).
			Select(organization.FieldActivePolicyVersion).
			Int(sysCtx(ctx))
		if err != nil {
			return nil, 0, err
		}
		if n == 0 {
			e, err := s.defaultEngine()
			return e, 0, err
		}
		if v, err = s.Client.PolicyVersion.Query().Where(policyversion.Number(n)).Only(ctx); err != nil {
			return nil, 0, err
		}
	}
	// The engine this process decides with, when it is that version's.
	if s.Router != nil {
		if e, n, err := s.Router.Engine(ctx, access.ID(orgID)); err == nil && n == v.Number && e != nil {
			return e, n, nil
		}
	}
	e, err := authz.NewTenantEngine(Modules(v.Modules), s.EngineOptions...)
	if err != nil {
		var pe *authz.ProblemsError
		if errors.As(err, &pe) {
			return nil, 0, apperr.BadInput("versionId", "policy version %d no longer compiles: %s", v.Number, problemText(pe.Problems))
		}
		return nil, 0, err
	}
	return e, v.Number, nil
}

// defaultEngine is the engine of the default policy alone.
func (s *Service) defaultEngine() (*authz.Engine, error) {
	if s.Router != nil && s.Router.Default != nil {
		return s.Router.Default, nil
	}
	s.defaultOnce.Do(func() { s.defaultEng, s.defaultErr = authz.NewEngine(s.EngineOptions...) })
	return s.defaultEng, s.defaultErr
}

// createFacts describes a proposed item for okr.create exactly as the OKR
// service does (okr.CreateFacts), after the same enum checks.
func createFacts(ctx context.Context, c *ent.Client, as *access.Actor, in okr.CreateInput) (authz.Resource, error) {
	if err := okritem.KindValidator(in.Kind); err != nil {
		return authz.Resource{}, apperr.BadInput("kind", "invalid kind %q", in.Kind)
	}
	if err := okritem.LevelValidator(in.Level); err != nil {
		return authz.Resource{}, apperr.BadInput("level", "invalid level %q", in.Level)
	}
	p, err := okr.CreateFacts(ctx, c, as, in)
	if err != nil {
		return authz.Resource{}, err
	}
	return p.Resource, nil
}
