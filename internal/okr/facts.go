package okr

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"

	"okrgraph/ent"
	"okrgraph/ent/grant"
	"okrgraph/ent/okritem"
	"okrgraph/ent/team"
	"okrgraph/internal/access"
	"okrgraph/internal/authz"
	"okrgraph/internal/scope"
)

// Facts describes an existing item for the policy.
func Facts(ctx context.Context, c *ent.Client, it *ent.OKRItem) (authz.Resource, error) {
	all, err := FactsBatch(ctx, c, []*ent.OKRItem{it})
	if err != nil {
		return authz.Resource{}, err
	}
	return all[it.ID], nil
}

// FactsBatch describes many items for the policy in one statement,
// whatever their number: the parents' facts and every list fact (teams and
// their listed creators, viewers and grants of the items and their
// parents, the owners' managers) in one tagged query (factsQuery). Facts
// are read with a privileged scope: the policy must see a private parent
// even when the actor cannot.
func FactsBatch(ctx context.Context, c *ent.Client, items []*ent.OKRItem) (map[int]authz.Resource, error) {
	out := make(map[int]authz.Resource, len(items))
	if len(items) == 0 {
		return out, nil
	}
	if err := factsBatch(ctx, c, items, out); err != nil {
		return nil, err
	}
	return out, nil
}

func factsBatch(ctx context.Context, c *ent.Client, items []*ent.OKRItem, out map[int]authz.Resource) error {
	sys := scope.System(ctx)
	var ids, parentIDs, owners, orgs []int
	for _, it := range items {
		ids = append(ids, it.ID)
		if it.ParentID != nil && !slices.Contains(parentIDs, *it.ParentID) {
			parentIDs = append(parentIDs, *it.ParentID)
		}
		for _, o := range it.OwnerOrder {
			if !slices.Contains(owners, o) {
				owners = append(owners, o)
			}
		}
		if !slices.Contains(orgs, it.OrgID) {
			orgs = append(orgs, it.OrgID)
		}
	}
	f, err := loadFacts(sys, c, ids, parentIDs, orgs, owners)
	if err != nil {
		return err
	}
	parents := f.parents
	for _, p := range parents {
		p.Edges.Viewers = f.viewers[p.ID]
		for _, g := range f.grants[p.ID] {
			if g.Kind == grant.KindALIGN {
				p.Edges.Grants = append(p.Edges.Grants, g)
			}
		}
	}
	for _, it := range items {
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
		var mgrs []int
		for _, o := range it.OwnerOrder {
			if m, ok := f.managerOf[key{it.OrgID, o}]; ok && !slices.Contains(mgrs, m) {
				mgrs = append(mgrs, m)
			}
		}
		r.OwnerManagers = access.IDs(mgrs)
		r.Teams = TeamFacts(f.teams[it.ID])
		r.Viewers = userIDs(f.viewers[it.ID])
		r.Grants = GrantFacts(f.grants[it.ID])
		if it.ParentID != nil {
			if p := parents[*it.ParentID]; p != nil {
				r.Parent = parentFacts(p)
				// A key result inherits its objective's privacy: whoever may
				// see the objective may see the key result.
				if it.Kind == okritem.KindKEY_RESULT && p.Private {
					r.Viewers = append(r.Viewers, people(p)...)
				}
			}
		}
		out[it.ID] = r
	}
	return nil
}

// factsQuery reads the list facts of items and their parents in one
// statement, one tagged row per value:
//
//	't' item, team, team name, team's OKR creation setting
//	'l' team, a listed OKR creator of the team
//	'v' item or parent, a listed viewer
//	'g' item or parent, grantee, grant kind
//	'm' org, owner, the owner's direct manager
//	'p' parent, creator, delegate (0: none), owner order (JSON),
//	    "kind:flags:check-in owner" (flags: p private, r alignment
//	    restricted, k delegate key results, n notify owner)
//
// Its parameters are lists of ids (idList), so its text is the same for
// every page: PostgreSQL prepares and plans it once per connection, not
// once per number of items, parents and owners.
func factsQuery(dia string) string {
	in := func(col string, n int) string { return inIDs(dia, col, fmt.Sprintf("$%d", n)) }
	return `SELECT 'p', p.id, p.creator_id, COALESCE(p.delegate_id, 0), COALESCE(CAST(p.owner_order AS TEXT), '[]'),
  p.kind || ':' || (CASE WHEN p.private THEN 'p' ELSE '' END) || (CASE WHEN p.alignment_restricted THEN 'r' ELSE '' END)
  || (CASE WHEN p.delegate_key_results THEN 'k' ELSE '' END) || (CASE WHEN p.notify_owner THEN 'n' ELSE '' END)
  || ':' || CAST(COALESCE(p.checkin_owner_id, 0) AS TEXT)
  FROM okr_items p WHERE ` + in("p.id", 1) + `
UNION ALL
SELECT 't', it.okr_item_id, t.id, 0, t.name, t.okr_creation
  FROM okr_item_teams it JOIN teams t ON t.id = it.team_id WHERE ` + in("it.okr_item_id", 2) + `
UNION ALL
SELECT 'l', tc.team_id, tc.user_id, 0, '', ''
  FROM team_okr_creators tc WHERE tc.team_id IN (SELECT team_id FROM okr_item_teams WHERE ` + in("okr_item_id", 3) + `)
UNION ALL
SELECT 'v', v.okr_item_id, v.user_id, 0, '', '' FROM okr_item_viewers v WHERE ` + in("v.okr_item_id", 4) + `
UNION ALL
SELECT 'g', g.item_id, g.user_id, g.id, g.kind, '' FROM grants g WHERE ` + in("g.item_id", 5) + `
UNION ALL
SELECT 'm', m.org_id, m.user_id, mgr.user_id, '', ''
  FROM memberships m JOIN memberships mgr ON mgr.id = m.manager_id
  WHERE ` + in("m.org_id", 6) + ` AND ` + in("m.user_id", 7) + `
ORDER BY 1, 2, 4, 3`
}

// factsQueries are factsQuery of each dialect.
var factsQueries = map[string]string{
	dialect.Postgres: factsQuery(dialect.Postgres),
	dialect.SQLite:   factsQuery(dialect.SQLite),
}

// inIDs is the condition "col is one of the ids of parameter param" (an
// idList): one parameter however many ids, so a statement's text does not
// change with their number and never meets the databases' limits on bind
// parameters.
func inIDs(dia, col, param string) string {
	if dia == dialect.Postgres {
		return col + " = ANY(CAST(" + param + " AS BIGINT[]))"
	}
	return col + " IN (SELECT value FROM json_each(" + param + "))"
}

// idList is the parameter of an inIDs condition: ids as a PostgreSQL array
// literal ({1,2}) or, for SQLite's json_each, a JSON array ([1,2]).
func idList(dia string, ids []int) string {
	open, end := "[", "]"
	if dia == dialect.Postgres {
		open, end = "{", "}"
	}
	b := make([]byte, 0, 2+len(ids)*12)
	b = append(b, open...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return string(append(b, end...))
}

// facts are the list facts factsQuery read.
type facts struct {
	parents   map[int]*ent.OKRItem // the fields parentFacts and people read
	teams     map[int][]*ent.Team  // by item
	viewers   map[int][]*ent.User  // by item or parent
	grants    map[int][]*ent.Grant // by item or parent
	managerOf map[key]int
}

func loadFacts(ctx context.Context, c *ent.Client, ids, parentIDs, orgs, owners []int) (*facts, error) {
	dia := c.Driver().Dialect()
	query, ok := factsQueries[dia]
	if !ok {
		return nil, fmt.Errorf("facts: no statement for dialect %q", dia)
	}
	items, both := idList(dia, ids), idList(dia, append(slices.Clip(ids), parentIDs...))
	rows, err := c.QueryContext(ctx, query, idList(dia, parentIDs), items, items, both, both, idList(dia, orgs), idList(dia, owners))
	if err != nil {
		return nil, fmt.Errorf("facts: %w", err)
	}
	defer rows.Close()
	f := &facts{parents: map[int]*ent.OKRItem{}, teams: map[int][]*ent.Team{}, viewers: map[int][]*ent.User{}, grants: map[int][]*ent.Grant{}, managerOf: map[key]int{}}
	teams := map[int]*ent.Team{}
	listed := map[int][]*ent.User{}
	for rows.Next() {
		var (
			tag, s1, s2 string
			a, b, n     int
		)
		if err := rows.Scan(&tag, &a, &b, &n, &s1, &s2); err != nil {
			return nil, fmt.Errorf("facts: %w", err)
		}
		switch tag {
		case "p":
			p, err := parentRow(a, b, n, s1, s2)
			if err != nil {
				return nil, err
			}
			f.parents[a] = p
		case "t":
			t := teams[b]
			if t == nil {
				t = &ent.Team{ID: b, Name: s1, OkrCreation: team.OkrCreation(s2)}
				teams[b] = t
			}
			f.teams[a] = append(f.teams[a], t)
		case "l":
			listed[a] = append(listed[a], &ent.User{ID: b})
		case "v":
			f.viewers[a] = append(f.viewers[a], &ent.User{ID: b})
		case "g":
			f.grants[a] = append(f.grants[a], &ent.Grant{ID: n, ItemID: a, UserID: b, Kind: grant.Kind(s1)})
		case "m":
			f.managerOf[key{a, b}] = n
		}
	}
	for id, t := range teams {
		t.Edges.OkrCreators = listed[id]
	}
	return f, rows.Err()
}

type key struct{ org, user int }

// parentRow is a parent as factsQuery's 'p' row describes it.
func parentRow(id, creator, delegateID int, ownerOrder, rest string) (*ent.OKRItem, error) {
	p := &ent.OKRItem{ID: id, CreatorID: creator}
	if err := json.Unmarshal([]byte(ownerOrder), &p.OwnerOrder); err != nil {
		return nil, fmt.Errorf("facts: owner order of %d: %w", id, err)
	}
	kind, rest, _ := strings.Cut(rest, ":")
	flags, checkinOwner, _ := strings.Cut(rest, ":")
	p.Kind = okritem.Kind(kind)
	p.Private = strings.Contains(flags, "p")
	p.AlignmentRestricted = strings.Contains(flags, "r")
	p.DelegateKeyResults = strings.Contains(flags, "k")
	p.NotifyOwner = strings.Contains(flags, "n")
	if delegateID != 0 {
		p.DelegateID = &delegateID
	}
	if n, err := strconv.Atoi(checkinOwner); err != nil {
		return nil, fmt.Errorf("facts: check-in owner of %d: %w", id, err)
	} else if n != 0 {
		p.CheckinOwnerID = &n
	}
	return p, nil
}

// people are the users who may view a private item besides org-wide
// viewers: owners, creator, delegate, check-in owner and listed viewers.
func people(it *ent.OKRItem) []string {
	out := access.IDs(it.OwnerOrder)
	out = append(out, access.ID(it.CreatorID))
	if it.DelegateID != nil {
		out = append(out, access.ID(*it.DelegateID))
	}
	if it.CheckinOwnerID != nil {
		out = append(out, access.ID(*it.CheckinOwnerID))
	}
	return append(out, userIDs(it.Edges.Viewers)...)
}

func userIDs(us []*ent.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = access.ID(u.ID)
	}
	return out
}

// GrantFacts sorts an item's grants by kind.
func GrantFacts(grants []*ent.Grant) authz.Grants {
	var g authz.Grants
	for _, gr := range grants {
		id := access.ID(gr.UserID)
		switch gr.Kind {
		case grant.KindEDIT:
			g.Edit = append(g.Edit, id)
		case grant.KindCHECKIN:
			g.CheckIn = append(g.CheckIn, id)
		case grant.KindALIGN:
			g.Align = append(g.Align, id)
		}
	}
	return g
}

// ParentFacts describes the item a new or moved item goes under.
func ParentFacts(ctx context.Context, c *ent.Client, p *ent.OKRItem) (*authz.Parent, error) {
	align, err := c.Grant.Query().
		Where(grant.ItemID(p.ID), grant.KindEQ(grant.KindALIGN)).
		All(scope.System(ctx))
	if err != nil {
		return nil, err
	}
	p.Edges.Grants = align
	return parentFacts(p), nil
}

// parentFacts describes a parent whose align grants are loaded.
func parentFacts(p *ent.OKRItem) *authz.Parent {
	return &authz.Parent{
		ID:         access.ID(p.ID),
		Kind:       p.Kind.String(),
		Owners:     access.IDs(p.OwnerOrder),
		Delegate:   delegate(p),
		Restricted: p.AlignmentRestricted,
		AlignGrant: GrantFacts(p.Edges.Grants).Align,
	}
}

// TeamFacts describes teams with their creation settings; the listed
// creators must be loaded for LISTED teams.
func TeamFacts(teams []*ent.Team) []authz.Team {
	out := make([]authz.Team, 0, len(teams))
	for _, t := range teams {
		ft := authz.Team{ID: access.ID(t.ID), Name: t.Name, OKRCreation: t.OkrCreation.String()}
		if t.OkrCreation == team.OkrCreationLISTED {
			ft.Listed = userIDs(t.Edges.OkrCreators)
		}
		out = append(out, ft)
	}
	return out
}

func delegate(it *ent.OKRItem) *authz.Delegate {
	if it.DelegateID == nil {
		return nil
	}
	return &authz.Delegate{UserID: access.ID(*it.DelegateID), DelegateKeyResults: it.DelegateKeyResults, NotifyOwner: it.NotifyOwner}
}
