package okr

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"okrgraph/ent"
	"okrgraph/ent/grant"
	"okrgraph/ent/okritem"
	"okrgraph/ent/team"
	"okrgraph/internal/access"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
)

// itemFacts describes one item for the policy exactly as Facts does, with
// two statements instead of ten: its parent (when it has one), and one
// UNION ALL that reads everything else — its teams with their listed OKR
// creators, viewers, grants, the parent's align grants and viewers, and
// the owners' direct managers — as tagged rows. For the hot single-item
// mutations (checkIn); TestItemFactsAgreeWithFacts keeps it equal to
// Facts on a populated organization.
func itemFacts(ctx context.Context, c *ent.Client, it *ent.OKRItem) (authz.Resource, error) {
	sys := scope.System(ctx)
	var parent *ent.OKRItem
	if it.ParentID != nil {
		p, err := c.OKRItem.Get(sys, *it.ParentID)
		if err != nil && !ent.IsNotFound(err) {
			return authz.Resource{}, err
		}
		parent = p
	}
	var (
		q    strings.Builder
		args []any
	)
	part := func(sel string, a ...any) {
		if q.Len() > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString(sel)
		args = append(args, a...)
	}
	// tag, a, b, s: a team (id, -, okr_creation) and its listed creators
	// (team, user); viewers and grants of the item (v, g) and of its
	// parent (pv, pg); an owner's manager (owner, manager).
	part("SELECT 't' AS tag, t.id AS a, 0 AS b, t.okr_creation AS s, t.name AS n FROM okr_item_teams it JOIN teams t ON t.id = it.team_id WHERE it.okr_item_id = ?", it.ID)
	part("SELECT 'tc', tc.team_id, tc.user_id, '', '' FROM okr_item_teams it JOIN team_okr_creators tc ON tc.team_id = it.team_id WHERE it.okr_item_id = ?", it.ID)
	part("SELECT 'v', v.user_id, 0, '', '' FROM okr_item_viewers v WHERE v.okr_item_id = ?", it.ID)
	part("SELECT 'g', g.user_id, g.id, g.kind, '' FROM grants g WHERE g.item_id = ?", it.ID)
	if parent != nil {
		part("SELECT 'pv', v.user_id, 0, '', '' FROM okr_item_viewers v WHERE v.okr_item_id = ?", parent.ID)
		part("SELECT 'pg', g.user_id, g.id, g.kind, '' FROM grants g WHERE g.item_id = ? AND g.kind = 'ALIGN'", parent.ID)
	}
	if len(it.OwnerOrder) > 0 {
		in := strings.TrimSuffix(strings.Repeat("?, ", len(it.OwnerOrder)), ", ")
		a := []any{it.OrgID}
		for _, o := range it.OwnerOrder {
			a = append(a, o)
		}
		part("SELECT 'm', m.user_id, mm.user_id, '', '' FROM memberships m JOIN memberships mm ON mm.id = m.manager_id WHERE m.org_id = ? AND m.user_id IN ("+in+")", a...)
	}
	query := q.String()
	if c.Driver().Dialect() == dialect.Postgres {
		query = numberPlaceholders(query)
	}
	rows := &entsql.Rows{}
	if err := c.Driver().Query(sys, query, args, rows); err != nil {
		return authz.Resource{}, err
	}
	defer rows.Close()
	var (
		teams    []*ent.Team
		teamByID = map[int]*ent.Team{}
		creators []struct{ team, user int }
		viewers  []*ent.User
		grants   []*ent.Grant
		managers = map[int]int{}
	)
	if parent != nil {
		parent.Edges.Viewers, parent.Edges.Grants = []*ent.User{}, []*ent.Grant{}
	}
	for rows.Next() {
		var (
			tag, s, n string
			a, b      int
		)
		if err := rows.Scan(&tag, &a, &b, &s, &n); err != nil {
			return authz.Resource{}, err
		}
		switch tag {
		case "t":
			t := &ent.Team{ID: a, Name: n, OkrCreation: team.OkrCreation(s)}
			teams = append(teams, t)
			teamByID[a] = t
		case "tc":
			creators = append(creators, struct{ team, user int }{a, b})
		case "v":
			viewers = append(viewers, &ent.User{ID: a})
		case "g":
			grants = append(grants, &ent.Grant{ID: b, UserID: a, Kind: grant.Kind(s)})
		case "pv":
			parent.Edges.Viewers = append(parent.Edges.Viewers, &ent.User{ID: a})
		case "pg":
			parent.Edges.Grants = append(parent.Edges.Grants, &ent.Grant{ID: b, UserID: a, Kind: grant.Kind(s)})
		case "m":
			managers[a] = b
		}
	}
	if err := rows.Err(); err != nil {
		return authz.Resource{}, err
	}
	for _, tc := range creators {
		if t := teamByID[tc.team]; t != nil {
			t.Edges.OkrCreators = append(t.Edges.OkrCreators, &ent.User{ID: tc.user})
		}
	}
	slices.SortFunc(teams, func(x, y *ent.Team) int { return x.ID - y.ID })
	slices.SortFunc(grants, func(x, y *ent.Grant) int { return x.ID - y.ID })
	if parent != nil {
		slices.SortFunc(parent.Edges.Grants, func(x, y *ent.Grant) int { return x.ID - y.ID })
	}
	r := baseFacts(it)
	var mgrs []int
	for _, o := range it.OwnerOrder {
		if m, ok := managers[o]; ok && !slices.Contains(mgrs, m) {
			mgrs = append(mgrs, m)
		}
	}
	r.OwnerManagers = access.IDs(mgrs)
	r.Teams = TeamFacts(teams)
	r.Viewers = userIDs(viewers)
	r.Grants = GrantFacts(grants)
	if parent != nil {
		r.Parent = parentFacts(parent)
		if it.Kind == okritem.KindKEY_RESULT && parent.Private {
			r.Viewers = append(r.Viewers, people(parent)...)
		}
	}
	return r, nil
}

// baseFacts are the facts an item carries in its own row.
func baseFacts(it *ent.OKRItem) authz.Resource {
	r := authz.Resource{
		ID:                  access.ID(it.ID),
		Kind:                it.Kind.String(),
		Level:               it.Level.String(),
		Owners:              access.IDs(it.OwnerOrder),
		Creator:             access.ID(it.CreatorID),
		Delegate:            delegate(it),
		Private:             it.Private,
		Closed:              it.Status == okritem.StatusCLOSED,
		HasMetric:           it.MetricStart != nil && it.MetricTarget != nil,
		Milestone:           it.Milestone,
		AlignmentRestricted: it.AlignmentRestricted,
	}
	if it.CheckinOwnerID != nil {
		r.CheckInOwner = access.ID(*it.CheckinOwnerID)
	}
	return r
}

// numberPlaceholders turns ? into PostgreSQL's $1, $2... (the queries it
// is given have no ? in literals).
func numberPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
