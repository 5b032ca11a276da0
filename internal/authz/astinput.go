package authz

import "github.com/open-policy-agent/opa/v1/ast"

// inputValue converts in to the Rego input document directly, without a
// JSON round trip.
//
// The document is json.Marshal(in) without its zero values: empty strings,
// false, null and empty objects are left out (recursively; array elements
// are kept). Policies must therefore treat an absent field like its zero
// value: `not input.resource.private`, never `input.resource.private ==
// false`. Leaving them out keeps objects small and lets OPA's rule index
// skip rules on absent fields.
//
// Keys and common enumeration values are shared, immutable terms; the other
// terms come from one slab; subject and org terms are memoized (memo.go).
func inputValue(in *Input, m *inputMemo) ast.Value {
	var x inputFields
	x.build(in, m)
	return x.value(actionTerm(in.Action))
}

// inputFields is the input document but its action, built once for
// several decisions on the same facts (Engine.DecideAll).
type inputFields struct{ f fields }

func inputBase(in *Input, m *inputMemo) *inputFields {
	x := &inputFields{}
	x.build(in, m)
	return x
}

func (x *inputFields) build(in *Input, m *inputMemo) {
	b := builder{slab: make([]ast.Term, 0, 12)}
	f := &x.f
	f.n = 1 // items[0] is the action's (value)
	f.obj(kSubject, m.subject(&in.Subject))
	f.obj(kResource, b.resource(&in.Resource))
	f.obj(kOrg, m.org(&in.Org))
}

// value is the input document with action (nil or an empty string: none).
func (x *inputFields) value(action *ast.Term) ast.Value {
	if action == nil || action.Value.Compare(ast.String("")) == 0 {
		return ast.NewObject(x.f.items[1:x.f.n]...)
	}
	x.f.items[0] = [2]*ast.Term{kAction, action} // NewObject copies the pairs
	return ast.NewObject(x.f.items[:x.f.n]...)
}

// actionsValue is the input document of DecisionsQuery: the actions
// instead of an action.
func (x *inputFields) actionsValue(actions []*ast.Term) ast.Value {
	x.f.items[0] = [2]*ast.Term{kActions, ast.ArrayTerm(actions...)}
	return ast.NewObject(x.f.items[:x.f.n]...)
}

var trueT = ast.InternedBooleanTrue

// enumTerms are shared terms for strings that recur in every input.
var enumTerms = func() map[string]*ast.Term {
	m := map[string]*ast.Term{}
	for _, s := range []string{
		ActionOKRView, ActionOKRCreate, ActionOKRUpdate, ActionOKRDelete,
		ActionOKRChangeOwners, ActionOKRSetDelegate, ActionOKRSetCheckInOwner,
		ActionOKRCheckIn, ActionOKRCheckInUpdate, ActionOKRCheckInDelete, ActionOKRAlign, ActionOKRClone, ActionOKRComment,
		ActionOKRManageGrants, ActionOrgManage, ActionOrgManageMember,
		ActionOrgManagePolicy, ActionOrgCreateTeam, ActionTeamManageMembers,
		ActionTeamManageSettings, ActionProfileUpdate,
		SubjectUser, SubjectService,
		"MEMBER", "ADMIN", "OWNER", "OBJECTIVE", "KEY_RESULT",
		"ORGANIZATION", "TEAM", "INDIVIDUAL",
		"EVERYONE", "TEAM_MEMBERS", "TEAM_OWNERS", "LISTED", "ADMINS",
		ActionReviewViewCycle, ActionReviewManageCycle, ActionReviewRead,
		ActionReviewTrack, ActionReviewWrite, ActionReviewSubmit,
		ActionReviewApprove, ActionReviewSendBack, ActionReviewShare,
		"SELF", "MANAGER", "NOT_STARTED", "IN_PROGRESS", "SUBMITTED",
		"APPROVED", "SHARED", "DRAFT", "ACTIVE", "CLOSED",
		"PERFORMANCE_ADMINS", "SUPERVISOR_CHAIN", "NAMED_USER",
	} {
		m[s] = ast.StringTerm(s)
	}
	return m
}()

func key(s string) *ast.Term { return ast.StringTerm(s) }

// Object keys, named after the JSON tags of input.go.
var (
	kAction   = key("action")
	kActions  = key("actions")
	kSubject  = key("subject")
	kResource = key("resource")
	kOrg      = key("org")

	kScopes        = key("scopes")
	kID            = key("id")
	kRole          = key("role")
	kObserver      = key("observer")
	kPerfAdmin     = key("performance_admin")
	kSSO           = key("sso")
	kTeamRoles     = key("team_roles")
	kDirectReports = key("direct_reports")
	kReports       = key("reports")

	kKeyResults  = key("key_results")
	kNotifyOwner = key("notify_owner")

	kEdit    = key("edit")
	kCheckIn = key("checkin")
	kAlign   = key("align")

	kOKRCreation = key("okr_creation")
	kListed      = key("listed")

	kKind            = key("kind")
	kOwners          = key("owners")
	kDelegate        = key("delegate")
	kAlignRestricted = key("alignment_restricted")
	kAlignGrants     = key("align_grants")

	kLevel         = key("level")
	kTeams         = key("teams")
	kOwnerManagers = key("owner_managers")
	kCreator       = key("creator")
	kCheckInOwner  = key("checkin_owner")
	kPrivate       = key("private")
	kViewers       = key("viewers")
	kGrants        = key("grants")
	kParent        = key("parent")
	kUser          = key("user")
	kClosed        = key("closed")
	kTPClosed      = key("time_period_closed")
	kName          = key("name")
	kHasMetric     = key("has_metric")
	kMilestone     = key("milestone")

	kOKRCreationListed = key("okr_creation_listed")
	kTeamCreation      = key("team_creation")

	kPrevious   = key("previous")
	kTeamMember = key("team_member")
	kNewRole    = key("new_role")

	kReview           = key("review")
	kCycle            = key("cycle")
	kType             = key("type")
	kStatus           = key("status")
	kReviewee         = key("reviewee")
	kReviewer         = key("reviewer")
	kApprovers        = key("approvers")
	kApprovalRequired = key("approval_required")
	kApproverRule     = key("approver_rule")

	kAuthor     = key("author")
	kAgeSeconds = key("age_seconds")
)

// builder allocates terms from a slab.
type builder struct {
	slab []ast.Term
	// seen remembers the first strings built, so that ids repeated across
	// the input (owner, creator, check-in owner...) share one term.
	seen  [16]seenString
	nseen int
}

type seenString struct {
	s string
	t *ast.Term
}

func (b *builder) term(v ast.Value) *ast.Term {
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]ast.Term, 0, 8)
	}
	b.slab = append(b.slab, ast.Term{Value: v})
	return &b.slab[len(b.slab)-1]
}

func (b *builder) str(s string) *ast.Term {
	if t, ok := enumTerms[s]; ok {
		return t
	}
	for i := range b.nseen {
		if b.seen[i].s == s {
			return b.seen[i].t
		}
	}
	t := b.term(ast.String(s))
	if b.nseen < len(b.seen) {
		b.seen[b.nseen] = seenString{s, t}
		b.nseen++
	}
	return t
}

func (b *builder) strs(ss []string) *ast.Term {
	elems := make([]*ast.Term, len(ss))
	for i, s := range ss {
		elems[i] = b.str(s)
	}
	return b.term(ast.NewArray(elems...))
}

// object builds the object of f, or returns nil when it has no field.
func (b *builder) object(f *fields) *ast.Term {
	if f.n == 0 {
		return nil
	}
	return b.term(ast.NewObject(f.items[:f.n]...))
}

// fields collects the non-zero fields of one object.
type fields struct {
	n     int
	items [28][2]*ast.Term
}

func (f *fields) add(k, v *ast.Term) {
	f.items[f.n] = [2]*ast.Term{k, v}
	f.n++
}

func (f *fields) str(b *builder, k *ast.Term, s string) {
	if s != "" {
		f.add(k, b.str(s))
	}
}

func (f *fields) bool(k *ast.Term, v bool) {
	if v {
		f.add(k, trueT)
	}
}

// strs adds a non-nil slice (an empty one as []).
func (f *fields) strs(b *builder, k *ast.Term, ss []string) {
	if ss != nil {
		f.add(k, b.strs(ss))
	}
}

// obj adds a non-empty object.
func (f *fields) obj(k, v *ast.Term) {
	if v != nil {
		f.add(k, v)
	}
}

func (b *builder) subject(s *Subject) *ast.Term {
	var f fields
	f.str(b, kType, s.Type)
	f.strs(b, kScopes, s.Scopes)
	f.str(b, kID, s.UserID)
	f.str(b, kRole, s.Role)
	f.bool(kObserver, s.Observer)
	f.bool(kPerfAdmin, s.PerformanceAdmin)
	f.bool(kSSO, s.SSO)
	f.obj(kTeamRoles, b.strMap(s.TeamRoles))
	f.strs(b, kDirectReports, s.DirectReports)
	f.strs(b, kReports, s.Reports)
	return b.object(&f)
}

// strMap builds a string map as an object, leaving out empty values.
func (b *builder) strMap(m map[string]string) *ast.Term {
	obj := ast.NewObjectWithCapacity(len(m))
	for k, v := range m {
		if v != "" {
			obj.Insert(b.str(k), b.str(v))
		}
	}
	if obj.Len() == 0 {
		return nil
	}
	return b.term(obj)
}

func (b *builder) delegate(d *Delegate) *ast.Term {
	if d == nil {
		return nil
	}
	var f fields
	f.str(b, kID, d.UserID)
	f.bool(kKeyResults, d.DelegateKeyResults)
	f.bool(kNotifyOwner, d.NotifyOwner)
	return b.object(&f)
}

func (b *builder) teams(ts []Team) *ast.Term {
	if ts == nil {
		return nil
	}
	elems := make([]*ast.Term, len(ts))
	for i := range ts {
		var f fields
		f.str(b, kID, ts[i].ID)
		f.str(b, kName, ts[i].Name)
		f.str(b, kOKRCreation, ts[i].OKRCreation)
		f.strs(b, kListed, ts[i].Listed)
		if elems[i] = b.object(&f); elems[i] == nil {
			elems[i] = ast.InternedEmptyObject
		}
	}
	return b.term(ast.NewArray(elems...))
}

func (b *builder) parent(p *Parent) *ast.Term {
	if p == nil {
		return nil
	}
	var f fields
	f.str(b, kID, p.ID)
	f.str(b, kKind, p.Kind)
	f.strs(b, kOwners, p.Owners)
	f.obj(kDelegate, b.delegate(p.Delegate))
	f.bool(kAlignRestricted, p.Restricted)
	f.strs(b, kAlignGrants, p.AlignGrant)
	return b.object(&f)
}

func (b *builder) grants(g *Grants) *ast.Term {
	var f fields
	f.strs(b, kEdit, g.Edit)
	f.strs(b, kCheckIn, g.CheckIn)
	f.strs(b, kAlign, g.Align)
	return b.object(&f)
}

func (b *builder) resource(r *Resource) *ast.Term {
	var f fields
	f.str(b, kID, r.ID)
	f.str(b, kKind, r.Kind)
	f.str(b, kLevel, r.Level)
	if r.Teams != nil {
		f.add(kTeams, b.teams(r.Teams))
	}
	f.strs(b, kOwners, r.Owners)
	f.strs(b, kOwnerManagers, r.OwnerManagers)
	f.str(b, kCreator, r.Creator)
	f.obj(kDelegate, b.delegate(r.Delegate))
	f.str(b, kCheckInOwner, r.CheckInOwner)
	f.bool(kPrivate, r.Private)
	f.strs(b, kViewers, r.Viewers)
	f.obj(kGrants, b.grants(&r.Grants))
	f.bool(kAlignRestricted, r.AlignmentRestricted)
	f.obj(kParent, b.parent(r.Parent))
	f.str(b, kUser, r.User)
	f.bool(kClosed, r.Closed)
	f.bool(kTPClosed, r.TimePeriodClosed)
	f.bool(kHasMetric, r.HasMetric)
	f.bool(kMilestone, r.Milestone)
	f.obj(kPrevious, b.previous(r.Previous))
	f.obj(kTeamMember, b.teamMember(r.TeamMember))
	f.obj(kCheckIn, b.checkIn(r.CheckIn))
	f.obj(kReview, b.review(r.Review))
	f.obj(kCycle, b.reviewCycle(r.Cycle))
	return b.object(&f)
}

func (b *builder) previous(p *Previous) *ast.Term {
	if p == nil {
		return nil
	}
	var f fields
	f.str(b, kLevel, p.Level)
	f.strs(b, kTeams, p.Teams)
	return b.object(&f)
}

func (b *builder) teamMember(m *TeamMember) *ast.Term {
	if m == nil {
		return nil
	}
	var f fields
	f.str(b, kUser, m.User)
	f.str(b, kRole, m.Role)
	f.str(b, kNewRole, m.NewRole)
	return b.object(&f)
}

func (b *builder) checkIn(c *CheckInFacts) *ast.Term {
	if c == nil {
		return nil
	}
	var f fields
	f.str(b, kID, c.ID)
	f.str(b, kAuthor, c.Author)
	f.add(kAgeSeconds, ast.IntNumberTerm(int(c.AgeSeconds)))
	return b.object(&f)
}

func (b *builder) review(r *Review) *ast.Term {
	if r == nil {
		return nil
	}
	var f fields
	f.str(b, kType, r.Type)
	f.str(b, kStatus, r.Status)
	f.str(b, kReviewee, r.Reviewee)
	f.str(b, kReviewer, r.Reviewer)
	f.strs(b, kApprovers, r.Approvers)
	return b.object(&f)
}

func (b *builder) reviewCycle(c *ReviewCycle) *ast.Term {
	if c == nil {
		return nil
	}
	var f fields
	f.str(b, kID, c.ID)
	f.str(b, kStatus, c.Status)
	f.bool(kApprovalRequired, c.ApprovalRequired)
	f.str(b, kApproverRule, c.ApproverRule)
	return b.object(&f)
}

func (b *builder) org(o *Org) *ast.Term {
	var f fields
	f.str(b, kID, o.ID)
	f.str(b, kOKRCreation, o.OKRCreation)
	f.strs(b, kOKRCreationListed, o.OKRCreationListed)
	f.str(b, kTeamCreation, o.TeamCreation)
	return b.object(&f)
}
