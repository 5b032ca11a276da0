package access

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"okrgraph/ent"
	"okrgraph/ent/apitoken"
	"okrgraph/ent/membership"
	"okrgraph/ent/predicate"
	"okrgraph/ent/user"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
)

// A request's whole identity is read in one statement: the user of the
// token's (issuer, subject), joined with the organization an X-Org value
// names, the user's membership of it and the org's settings, and the
// actor's list facts as text columns (one scalar subquery each). The same
// SQL runs on PostgreSQL and SQLite (string_agg with ORDER BY: SQLite
// 3.44 and later).
//
// Each list column is "id:n" pairs separated by commas, in id order.
const (
	// reportsExpr: the reports down the reporting line of membership m,
	// each with the depth of its nearest path (1: a direct report).
	reportsExpr = `(WITH RECURSIVE r(id, user_id, depth) AS (
  SELECT id, user_id, 1 FROM memberships WHERE manager_id = m.id
  UNION ALL
  SELECT x.id, x.user_id, r.depth + 1 FROM memberships x JOIN r ON x.manager_id = r.id WHERE r.depth < %d
) SELECT string_agg(CAST(g.user_id AS TEXT) || ':' || CAST(g.d AS TEXT), ',' ORDER BY g.user_id)
  FROM (SELECT user_id, MIN(depth) AS d FROM r GROUP BY user_id) g)`
	// creatorsExpr: the org's listed OKR creators that are still members
	// (or the actor %[2]s itself), as the users' tenant filter has it.
	creatorsExpr = `(SELECT string_agg(CAST(c.user_id AS TEXT) || ':0', ',' ORDER BY c.user_id)
  FROM organization_okr_creators c WHERE c.organization_id = %[1]s
  AND (c.user_id = %[2]s OR c.user_id IN (SELECT mm.user_id FROM memberships mm WHERE mm.org_id = %[1]s)))`
	// teamsExpr: the actor's team roles in the org.
	teamsExpr = `(SELECT string_agg(CAST(tm.team_id AS TEXT) || ':' || tm.role, ',' ORDER BY tm.team_id)
  FROM team_memberships tm WHERE tm.user_id = m.user_id AND tm.org_id = m.org_id)`
)

// Caller is a user token's caller as LoadCaller reads it.
type Caller struct {
	User *ent.User
	// OrgID is the organization the X-Org value named, 0 when none was
	// named or the user is not one of its members.
	OrgID int
	// Touch: the member's sign-in was recorded before touchBefore, or
	// never.
	Touch bool
	// Actor is the member's facts for the policy (nil without OrgID).
	Actor *Actor
}

// LoadCaller reads, in one statement, the user of (issuer, subject) and,
// when orgRef (an X-Org value: an org id or slug) is set, the user's
// membership of that org with its settings and the actor's facts, and
// whether the member's sign-in was last recorded before touchBefore. A
// missing user is ent's not-found error; a user who is no member of orgRef
// (or an unknown org) is a Caller with OrgID 0.
func LoadCaller(ctx context.Context, c *ent.Client, issuer, subject, orgRef string, touchBefore time.Time) (*Caller, error) {
	q := c.User.Query().Where(user.Issuer(issuer), user.Sub(subject), user.KindEQ(user.KindUSER))
	if orgRef != "" {
		q.Modify(func(s *entsql.Selector) {
			o := entsql.Table("organizations").As("o")
			m := entsql.Table(membership.Table).As("m")
			if id, err := strconv.Atoi(orgRef); err == nil {
				s.LeftJoin(o).OnP(entsql.EQ(o.C("id"), id))
			} else {
				s.LeftJoin(o).OnP(entsql.EQ(o.C("slug"), strings.ToLower(orgRef)))
			}
			s.LeftJoin(m).OnP(entsql.And(entsql.ColumnsEQ(m.C(membership.FieldUserID), s.C(user.FieldID)), entsql.ColumnsEQ(m.C(membership.FieldOrgID), o.C("id"))))
			for _, col := range memberColumns {
				s.AppendSelectExprAs(entsql.Expr(col.expr), col.as)
			}
			s.AppendSelectExprAs(entsql.ExprFunc(func(b *entsql.Builder) {
				b.WriteString("CASE WHEN m.last_seen_at IS NULL OR m.last_seen_at < ").Arg(touchBefore).WriteString(" THEN 1 ELSE 0 END")
			}), "m_touch")
		})
	}
	u, err := q.OnlyScanning(scope.System(ctx), callerScan)
	if err != nil {
		return nil, err
	}
	caller := &Caller{User: u}
	if orgRef == "" {
		return caller, nil
	}
	v := func(name string) any { x, _ := u.Value(name); return x }
	a, err := memberActor(u.ID, v)
	if err != nil || a == nil {
		return caller, err
	}
	caller.OrgID, caller.Actor = a.OrgID, a
	touch, _ := asInt(v("m_touch"))
	caller.Touch = touch != 0
	return caller, nil
}

// memberActor builds a member's Actor from the memberColumns of a row
// (v returns a column's value by its name); nil when the row has no
// membership.
func memberActor(userID int, v func(string) any) (*Actor, error) {
	mid, _ := asInt(v("m_id"))
	if mid == 0 {
		return nil, nil
	}
	orgID, _ := asInt(v("m_org"))
	m := &ent.Membership{ID: mid, OrgID: orgID, UserID: userID, Role: membership.Role(asString(v("m_role")))}
	m.Observer, _ = asBool(v("m_observer"))
	m.PerformanceAdmin, _ = asBool(v("m_perf"))
	if mgr, _ := asInt(v("m_manager")); mgr != 0 {
		m.ManagerID = &mgr
	}
	reports, err := pairs(v("l_reports"))
	if err != nil {
		return nil, err
	}
	listed, err := pairs(v("l_creators"))
	if err != nil {
		return nil, err
	}
	teams, err := pairs(v("l_teams"))
	if err != nil {
		return nil, err
	}
	var direct, all []string
	for _, p := range reports {
		if p[1] == "1" {
			direct = append(direct, p[0])
		}
		all = append(all, p[0])
	}
	teamRoles := make(map[string]string, len(teams))
	for _, p := range teams {
		teamRoles[p[0]] = p[1]
	}
	return &Actor{
		UserID:     userID,
		OrgID:      orgID,
		Membership: m,
		Subject: authz.Subject{
			Type:             authz.SubjectUser,
			UserID:           ID(userID),
			Role:             string(m.Role),
			Observer:         m.Observer,
			PerformanceAdmin: m.PerformanceAdmin,
			TeamRoles:        teamRoles,
			DirectReports:    orEmpty(direct),
			Reports:          orEmpty(all),
		},
		Org: authz.Org{
			ID:                ID(orgID),
			OKRCreation:       asString(v("o_okr")),
			OKRCreationListed: orEmpty(firsts(listed)),
			TeamCreation:      asString(v("o_team")),
		},
	}, nil
}

// memberColumns are a membership m's columns and its organization o's
// settings and list facts, as memberActor reads them.
var memberColumns = []struct {
	expr, as string
	scan     func() any // what the column is scanned into (nil: text)
}{
	// No column is ever NULL.
	{"COALESCE(m.id, 0)", "m_id", scanInt},
	{"COALESCE(m.org_id, 0)", "m_org", scanInt},
	{"COALESCE(m.role, '')", "m_role", nil},
	{"COALESCE(m.observer, false)", "m_observer", scanBool},
	{"COALESCE(m.performance_admin, false)", "m_perf", scanBool},
	{"COALESCE(m.manager_id, 0)", "m_manager", scanInt},
	{"COALESCE(o.okr_creation, '')", "o_okr", nil},
	{"COALESCE(o.team_creation, '')", "o_team", nil},
	{"COALESCE(" + fmt.Sprintf(reportsExpr, maxChain) + ", '')", "l_reports", nil},
	{"COALESCE(" + fmt.Sprintf(creatorsExpr, "m.org_id", "m.user_id") + ", '')", "l_creators", nil},
	{"COALESCE(" + teamsExpr + ", '')", "l_teams", nil},
}

func scanInt() any  { return new(entsql.NullInt64) }
func scanBool() any { return new(entsql.NullBool) }

// callerScan is what LoadCaller scans each added column into.
func callerScan(column string) any {
	if column == "m_touch" {
		return scanInt()
	}
	for _, c := range memberColumns {
		if c.as == column && c.scan != nil {
			return c.scan()
		}
	}
	return nil
}

// ServiceCaller is an API token as AuthenticateServiceToken reads it.
type ServiceCaller struct {
	Token *ent.APIToken
	// OrgSlug is the slug of the token's organization.
	OrgSlug string
	// Actor is the token's service identity's facts for the policy.
	Actor *Actor
}

// LoadServiceToken reads, in one statement, the API token whose secret
// hashes to hash, with its organization's slug and settings and its
// listed OKR creators: everything its requests' actor needs. An unknown
// hash is ent's not-found error; revocation and expiry are the caller's
// to check.
func LoadServiceToken(ctx context.Context, c *ent.Client, hash []byte) (*ServiceCaller, error) {
	return serviceToken(ctx, c, apitoken.SecretHash(hash))
}

// Live returns UNAUTHENTICATED when the token is revoked or expired at now.
func (sc *ServiceCaller) Live(now time.Time) error {
	if sc.Token.RevokedAt != nil {
		return apperr.Unauthenticated("this API token was revoked")
	}
	if sc.Token.ExpiresAt != nil && !now.Before(*sc.Token.ExpiresAt) {
		return apperr.Unauthenticated("this API token has expired")
	}
	return nil
}

func serviceToken(ctx context.Context, c *ent.Client, where ...predicate.APIToken) (*ServiceCaller, error) {
	q := c.APIToken.Query().Where(where...)
	q.Modify(func(s *entsql.Selector) {
		o := entsql.Table("organizations").As("o")
		s.Join(o).On(o.C("id"), s.C(apitoken.FieldOrgID))
		s.AppendSelectExprAs(entsql.Expr("o.slug"), "o_slug")
		s.AppendSelectExprAs(entsql.Expr("o.okr_creation"), "o_okr")
		s.AppendSelectExprAs(entsql.Expr("o.team_creation"), "o_team")
		s.AppendSelectExprAs(entsql.Expr("COALESCE("+fmt.Sprintf(creatorsExpr, "api_tokens.org_id", "api_tokens.service_user_id")+", '')"), "l_creators")
	})
	t, err := q.Only(scope.System(ctx))
	if err != nil {
		return nil, err
	}
	v := func(name string) any { x, _ := t.Value(name); return x }
	listed, err := pairs(v("l_creators"))
	if err != nil {
		return nil, err
	}
	return &ServiceCaller{
		Token:   t,
		OrgSlug: asString(v("o_slug")),
		Actor: &Actor{
			UserID: t.ServiceUserID,
			OrgID:  t.OrgID,
			Subject: authz.Subject{
				Type:   authz.SubjectService,
				UserID: ID(t.ServiceUserID),
				Scopes: slices.Clone(t.Scopes),
			},
			Org: authz.Org{
				ID:                ID(t.OrgID),
				OKRCreation:       asString(v("o_okr")),
				OKRCreationListed: orEmpty(firsts(listed)),
				TeamCreation:      asString(v("o_team")),
			},
		},
	}, nil
}

// pairs splits a list column ("a:b,c:d") into its pairs.
func pairs(v any) ([][2]string, error) {
	s := asString(v)
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([][2]string, len(parts))
	for i, p := range parts {
		a, b, ok := strings.Cut(p, ":")
		if !ok {
			return nil, fmt.Errorf("actor: malformed list value %q", p)
		}
		out[i] = [2]string{a, b}
	}
	return out, nil
}

func firsts(ps [][2]string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p[0]
	}
	return out
}

// orEmpty keeps lists non-nil, as IDs makes them.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		return int(x), true
	}
	return 0, false
}

func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case int64:
		return x != 0, true
	}
	return false, false
}
