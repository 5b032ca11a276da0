package authz

import "github.com/open-policy-agent/opa/v1/ast"

// inputValue converts in to the Rego input document without a JSON round
// trip. The shape is exactly that of json.Marshal(in): every field present,
// nil slices, maps and pointers as null. Keys and the common enumeration
// values are shared, immutable terms; the rest is allocated per call, with
// the terms themselves carved from one slab.

var trueT = ast.InternedBooleanTrue

// enumTerms are shared terms for strings that recur in every input.
var enumTerms = func() map[string]*ast.Term {
	m := map[string]*ast.Term{"": ast.InternedEmptyString}
	for _, s := range []string{
		ActionOKRView, ActionOKRCreate, ActionOKRUpdate, ActionOKRDelete,
		ActionOKRChangeOwners, ActionOKRSetDelegate, ActionOKRSetCheckInOwner,
		ActionOKRCheckIn, ActionOKRAlign, ActionOKRClone, ActionOKRComment,
		ActionOKRManageGrants, ActionOrgManage, ActionOrgManageMember,
		ActionOrgManagePolicy, ActionOrgCreateTeam, ActionTeamManageMembers,
		ActionTeamManageSettings, ActionProfileUpdate,
		"MEMBER", "ADMIN", "OWNER", "OBJECTIVE", "KEY_RESULT",
		"ORGANIZATION", "TEAM", "INDIVIDUAL",
		"EVERYONE", "TEAM_MEMBERS", "TEAM_OWNERS", "LISTED", "ADMINS",
	} {
		m[s] = ast.StringTerm(s)
	}
	return m
}()

func key(s string) *ast.Term { return ast.StringTerm(s) }

var (
	kAction, kSubject, kResource, kOrg = key("action"), key("subject"), key("resource"), key("org")

	kID, kRole, kObserver, kPerfAdmin, kSSO      = key("id"), key("role"), key("observer"), key("performance_admin"), key("sso")
	kTeamRoles, kDirectReports, kReports         = key("team_roles"), key("direct_reports"), key("reports")
	kKeyResults, kNotifyOwner                    = key("key_results"), key("notify_owner")
	kEdit, kCheckIn, kAlign                      = key("edit"), key("checkin"), key("align")
	kOKRCreation, kListed                        = key("okr_creation"), key("listed")
	kKind, kOwners, kDelegate, kAlignRestricted  = key("kind"), key("owners"), key("delegate"), key("alignment_restricted")
	kAlignGrants, kLevel, kTeams, kOwnerManagers = key("align_grants"), key("level"), key("teams"), key("owner_managers")
	kCreator, kCheckInOwner, kPrivate, kViewers  = key("creator"), key("checkin_owner"), key("private"), key("viewers")
	kGrants, kParent, kUser, kClosed, kTPClosed  = key("grants"), key("parent"), key("user"), key("closed"), key("time_period_closed")
	kOKRCreationListed, kTeamCreation            = key("okr_creation_listed"), key("team_creation")
)

// builder allocates terms from a slab and collects object items; zero
// values (empty strings, false, nil slices, maps and pointers) are left out.
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
		b.slab = make([]ast.Term, 0, 32)
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

// fields collects the non-zero fields of one object.
type fields struct {
	n     int
	items [20][2]*ast.Term
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

func (f *fields) strs(b *builder, k *ast.Term, ss []string) {
	if ss == nil {
		return
	}
	elems := make([]*ast.Term, len(ss))
	for i, s := range ss {
		elems[i] = b.str(s)
	}
	f.add(k, b.term(ast.NewArray(elems...)))
}

func (f *fields) obj(b *builder, k *ast.Term, v *ast.Term) {
	if v != nil {
		f.add(k, v)
	}
}

func (b *builder) object(f *fields) *ast.Term {
	return b.term(ast.NewObject(f.items[:f.n]...))
}

func inputValue(in *Input) ast.Value {
	b := builder{slab: make([]ast.Term, 0, 32)}
	var f fields
	f.str(&b, kAction, in.Action)
	f.add(kSubject, b.subject(&in.Subject))
	f.add(kResource, b.resource(&in.Resource))
	f.add(kOrg, b.org(&in.Org))
	return ast.NewObject(f.items[:f.n]...)
}

func (b *builder) subject(s *Subject) *ast.Term {
	var f fields
	f.str(b, kID, s.UserID)
	f.str(b, kRole, s.Role)
	f.bool(kObserver, s.Observer)
	f.bool(kPerfAdmin, s.PerformanceAdmin)
	f.bool(kSSO, s.SSO)
	if s.TeamRoles != nil {
		obj := ast.NewObjectWithCapacity(len(s.TeamRoles))
		for k, v := range s.TeamRoles {
			obj.Insert(b.str(k), b.str(v))
		}
		f.add(kTeamRoles, b.term(obj))
	}
	f.strs(b, kDirectReports, s.DirectReports)
	f.strs(b, kReports, s.Reports)
	return b.object(&f)
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
		f.str(b, kOKRCreation, ts[i].OKRCreation)
		f.strs(b, kListed, ts[i].Listed)
		elems[i] = b.object(&f)
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
	f.obj(b, kDelegate, b.delegate(p.Delegate))
	f.bool(kAlignRestricted, p.Restricted)
	f.strs(b, kAlignGrants, p.AlignGrant)
	return b.object(&f)
}

func (b *builder) grants(g *Grants) *ast.Term {
	if g.Edit == nil && g.CheckIn == nil && g.Align == nil {
		return nil
	}
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
	f.obj(b, kTeams, b.teams(r.Teams))
	f.strs(b, kOwners, r.Owners)
	f.strs(b, kOwnerManagers, r.OwnerManagers)
	f.str(b, kCreator, r.Creator)
	f.obj(b, kDelegate, b.delegate(r.Delegate))
	f.str(b, kCheckInOwner, r.CheckInOwner)
	f.bool(kPrivate, r.Private)
	f.strs(b, kViewers, r.Viewers)
	f.obj(b, kGrants, b.grants(&r.Grants))
	f.bool(kAlignRestricted, r.AlignmentRestricted)
	f.obj(b, kParent, b.parent(r.Parent))
	f.str(b, kUser, r.User)
	f.bool(kClosed, r.Closed)
	f.bool(kTPClosed, r.TimePeriodClosed)
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
