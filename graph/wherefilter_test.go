package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"okrgraph/ent"
	"okrgraph/ent/activity"
	"okrgraph/ent/checkin"
	"okrgraph/ent/membership"
	"okrgraph/ent/okritem"
	"okrgraph/ent/review"
	"okrgraph/ent/reviewcycle"
	"okrgraph/ent/schema/change"
	"okrgraph/ent/user"
	"okrgraph/graph/generated"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// The marker only hidden rows carry, and one nothing carries.
const (
	hiddenMark = "zqxhidden"
	absentMark = "zqyabsent"
)

// wherePath is one generated filter: a root query field, the edge filters
// walked from it (hasXWith...), and the where-input type reached.
type wherePath struct {
	root  *ast.FieldDefinition
	edges []string
	leaf  string // the where-input type at the end
}

// literal wraps the leaf filter in the edge filters of the path.
func (p wherePath) literal(leaf string) string {
	s := leaf
	for i := len(p.edges) - 1; i >= 0; i-- {
		s = fmt.Sprintf("{%s: [%s]}", p.edges[i], s)
	}
	return s
}

// wherePaths walks the served schema: every Query field taking a
// *WhereInput `where` argument (one per input type), and every chain of up
// to depth edge filters (fields named has*With) from it.
func wherePaths(schema *ast.Schema, depth int) []wherePath {
	var out []wherePath
	seenRoot := map[string]bool{}
	var fields []*ast.FieldDefinition
	fields = append(fields, schema.Query.Fields...)
	sort.Slice(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	for _, f := range fields {
		arg := f.Arguments.ForName("where")
		if arg == nil || !strings.HasSuffix(arg.Type.Name(), "WhereInput") || seenRoot[arg.Type.Name()] {
			continue
		}
		seenRoot[arg.Type.Name()] = true
		var walk func(typ string, edges []string)
		walk = func(typ string, edges []string) {
			out = append(out, wherePath{root: f, edges: append([]string(nil), edges...), leaf: typ})
			if len(edges) == depth {
				return
			}
			for _, in := range schema.Types[typ].Fields {
				if strings.HasPrefix(in.Name, "has") && strings.HasSuffix(in.Name, "With") {
					walk(in.Type.Name(), append(edges, in.Name))
				}
			}
		}
		walk(arg.Type.Name(), nil)
	}
	return out
}

// selection asks for what a root field answers: a connection's count and
// ids, or a list's ids.
func whereSelection(f *ast.FieldDefinition, schema *ast.Schema, where string) string {
	args := "where: " + where
	if f.Arguments.ForName("first") != nil {
		args = "first: 50, " + args
	}
	if schema.Types[f.Type.Name()].Fields.ForName("totalCount") != nil {
		return fmt.Sprintf("%s(%s) { totalCount edges { node { id } } }", f.Name, args)
	}
	return fmt.Sprintf("%s(%s) { id }", f.Name, args)
}

// TestWhereFiltersRevealNothingHidden proves, for every where-filter path
// of the served schema up to three edges deep, that a member gets the same
// answer whether the filter matches rows hidden from her (private OKRs and
// everything on them, reviews she may not read, draft cycles, other
// organizations' rows) or matches nothing at all: by id, and by every
// string field's Contains filter against a marker only hidden rows carry.
// The paths, leaves and hidden rows are derived from the schema and the
// ent interceptors, so new fields and edges are covered as they come.
func TestWhereFiltersRevealNothingHidden(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	paths := wherePaths(schema, 3)
	if len(paths) < 100 {
		t.Fatalf("only %d where paths: the walk is broken", len(paths))
	}
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		ctx := scope.System(context.Background())
		db := e.App.DB.Client
		orgID := mustOrg(t, e)
		hideFromSteve(t, e, orgID)

		steveID, err := db.User.Query().Where(user.Email("steve@acme.example")).OnlyID(ctx)
		testenv.Must(t, err)
		steveCtx := scope.With(context.Background(), scope.Scope{UserID: steveID, OrgID: orgID})
		hidden := map[string][]int{}
		for typ, ids := range idsByType {
			all, err := ids(ctx, db)
			testenv.Must(t, err)
			seen, err := ids(steveCtx, db)
			testenv.Must(t, err)
			vis := map[int]bool{}
			for _, id := range seen {
				vis[id] = true
			}
			for _, id := range all {
				if !vis[id] {
					hidden[typ] = append(hidden[typ], id)
				}
			}
		}
		for _, typ := range []string{"OKRItemWhereInput", "CheckInWhereInput", "CommentWhereInput", "ReviewWhereInput", "ReviewCycleWhereInput", "GrantWhereInput", "OrganizationWhereInput", "ActivityWhereInput"} {
			if len(hidden[typ]) == 0 {
				t.Fatalf("no row of %s is hidden from steve: the population proves nothing", typ)
			}
		}

		// Pairs of filters that must answer alike for steve.
		type pair struct {
			path      wherePath
			what      string
			hit, miss string
		}
		var pairs []pair
		for _, p := range paths {
			typ := schema.Types[p.leaf]
			ids, ok := hidden[p.leaf]
			if _, known := idsByType[p.leaf]; !known {
				t.Fatalf("where input %s has no entry in idsByType: add how to list its rows", p.leaf)
			}
			if ok {
				var hit, miss []string
				for _, id := range ids {
					hit = append(hit, fmt.Sprint(id))
					miss = append(miss, fmt.Sprint(id+1_000_000))
				}
				pairs = append(pairs, pair{p, "idIn",
					p.literal(fmt.Sprintf("{idIn: [%s]}", strings.Join(hit, ", "))),
					p.literal(fmt.Sprintf("{idIn: [%s]}", strings.Join(miss, ", ")))})
			}
			for _, in := range typ.Fields {
				if strings.HasSuffix(in.Name, "Contains") && !strings.HasSuffix(in.Name, "ContainsFold") && in.Type.Name() == "String" {
					pairs = append(pairs, pair{p, in.Name,
						p.literal(fmt.Sprintf("{%s: %q}", in.Name, hiddenMark)),
						p.literal(fmt.Sprintf("{%s: %q}", in.Name, absentMark))})
				}
			}
		}

		// Asked in batches of aliased fields; steve must not tell a hit
		// from a miss, while olivia (owner, performance admin, listed
		// viewer of the private items) must for some path of every
		// private-capable type, or the population would prove nothing.
		run := func(who string, ps []pair) (hits, misses map[string]json.RawMessage) {
			var qh, qm strings.Builder
			for i, p := range ps {
				fmt.Fprintf(&qh, "a%d: %s\n", i, whereSelection(p.path.root, schema, p.hit))
				fmt.Fprintf(&qm, "a%d: %s\n", i, whereSelection(p.path.root, schema, p.miss))
			}
			decode := func(q string) map[string]json.RawMessage {
				r := e.As(who, "acme").Do(t, "{"+q+"}", nil)
				if len(r.Errors) > 0 {
					t.Fatalf("%s: %v", who, r.Errors)
				}
				var m map[string]json.RawMessage
				r.Decode(t, &m)
				return m
			}
			return decode(qh.String()), decode(qm.String())
		}
		revealedTo := map[string]int{}
		const batch = 40
		for start := 0; start < len(pairs); start += batch {
			ps := pairs[start:min(start+batch, len(pairs))]
			sh, sm := run("steve", ps)
			oh, om := run("olivia", ps)
			for i, p := range ps {
				k := fmt.Sprintf("a%d", i)
				if string(sh[k]) != string(sm[k]) {
					t.Errorf("%s(where: %s) tells steve hidden %s rows apart (%s): %s vs %s",
						p.path.root.Name, p.hit, p.path.leaf, p.what, sh[k], sm[k])
				}
				if string(oh[k]) != string(om[k]) {
					revealedTo[p.path.leaf]++
				}
			}
		}
		for _, typ := range []string{"OKRItemWhereInput", "CheckInWhereInput", "CommentWhereInput", "ReviewWhereInput", "ReviewCycleWhereInput"} {
			if revealedTo[typ] == 0 {
				t.Errorf("no path to %s distinguishes hidden rows even for olivia: the test cannot fail", typ)
			}
		}
		t.Logf("%s: %d paths, %d filter pairs; olivia tells apart %v", e.Backend, len(paths), len(pairs), revealedTo)
	})
}

// idsByType lists the rows of each where-input's type as the context's
// scope sees them (the ent interceptors: the node(id) rule).
var idsByType = map[string]func(context.Context, *ent.Client) ([]int, error){
	"OKRItemWhereInput":        func(ctx context.Context, c *ent.Client) ([]int, error) { return c.OKRItem.Query().IDs(ctx) },
	"CheckInWhereInput":        func(ctx context.Context, c *ent.Client) ([]int, error) { return c.CheckIn.Query().IDs(ctx) },
	"CommentWhereInput":        func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Comment.Query().IDs(ctx) },
	"GrantWhereInput":          func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Grant.Query().IDs(ctx) },
	"ReviewWhereInput":         func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Review.Query().IDs(ctx) },
	"ReviewCycleWhereInput":    func(ctx context.Context, c *ent.Client) ([]int, error) { return c.ReviewCycle.Query().IDs(ctx) },
	"OrganizationWhereInput":   func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Organization.Query().IDs(ctx) },
	"MembershipWhereInput":     func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Membership.Query().IDs(ctx) },
	"TeamWhereInput":           func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Team.Query().IDs(ctx) },
	"TeamMembershipWhereInput": func(ctx context.Context, c *ent.Client) ([]int, error) { return c.TeamMembership.Query().IDs(ctx) },
	"TimePeriodWhereInput":     func(ctx context.Context, c *ent.Client) ([]int, error) { return c.TimePeriod.Query().IDs(ctx) },
	"UserWhereInput":           func(ctx context.Context, c *ent.Client) ([]int, error) { return c.User.Query().IDs(ctx) },
	"PolicyVersionWhereInput":  func(ctx context.Context, c *ent.Client) ([]int, error) { return c.PolicyVersion.Query().IDs(ctx) },
	"PolicyAuditWhereInput":    func(ctx context.Context, c *ent.Client) ([]int, error) { return c.PolicyAudit.Query().IDs(ctx) },
	"ReviewApproverWhereInput": func(ctx context.Context, c *ent.Client) ([]int, error) { return c.ReviewApprover.Query().IDs(ctx) },
	"ActivityWhereInput":       func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Activity.Query().IDs(ctx) },
}

// hideFromSteve adds rows steve may not see, each string field carrying
// hiddenMark: a private objective of martha's (olivia a listed viewer) with
// a key result, check-ins, a comment and a grant; a draft review cycle;
// manager review comments; and a second organization with its own items,
// team, period and member.
func hideFromSteve(t *testing.T, e *testenv.Env, orgID int) {
	t.Helper()
	ctx := scope.System(context.Background())
	db := e.App.DB.Client
	uid := func(key string) int {
		id, err := db.User.Query().Where(user.Email(key + "@acme.example")).OnlyID(ctx)
		testenv.Must(t, err)
		return id
	}
	martha, olivia := uid("martha"), uid("olivia")
	obj, err := db.OKRItem.Create().SetOrgID(orgID).SetKind(okritem.KindOBJECTIVE).SetLevel(okritem.LevelINDIVIDUAL).
		SetTitle("Obj " + hiddenMark).SetDescription(hiddenMark).SetCreatorID(martha).SetOwnerOrder([]int{martha}).
		AddOwnerIDs(martha).SetCheckinOwnerID(martha).SetPrivate(true).AddViewerIDs(olivia).SetUnit(hiddenMark).
		SetDataLink("https://" + hiddenMark).SetCloseNote(hiddenMark).Save(ctx)
	testenv.Must(t, err)
	kr, err := db.OKRItem.Create().SetOrgID(orgID).SetKind(okritem.KindKEY_RESULT).SetLevel(okritem.LevelINDIVIDUAL).
		SetTitle("KR " + hiddenMark).SetCreatorID(martha).SetOwnerOrder([]int{martha}).AddOwnerIDs(martha).
		SetParentID(obj.ID).SetPrivate(true).Save(ctx)
	testenv.Must(t, err)
	for _, it := range []int{obj.ID, kr.ID} {
		ci, err := db.CheckIn.Create().SetOrgID(orgID).SetItemID(it).SetAuthorID(martha).SetStatus(checkin.StatusON_TRACK).
			SetConfidence(5).SetNote("note " + hiddenMark).Save(ctx)
		testenv.Must(t, err)
		_, err = db.Comment.Create().SetOrgID(orgID).SetItemID(it).SetCheckinID(ci.ID).SetAuthorID(martha).SetBody("body " + hiddenMark).Save(ctx)
		testenv.Must(t, err)
		_, err = db.Comment.Create().SetOrgID(orgID).SetItemID(it).SetAuthorID(martha).SetBody("body " + hiddenMark).Save(ctx)
		testenv.Must(t, err)
	}
	_, err = db.Grant.Create().SetOrgID(orgID).SetItemID(obj.ID).SetUserID(olivia).SetKind("EDIT").Save(ctx)
	testenv.Must(t, err)
	mark := "title " + hiddenMark
	_, err = db.Activity.Create().SetOrgID(orgID).SetItemID(obj.ID).SetActorID(martha).SetKind(activity.KindUPDATED).
		SetChanges([]change.Change{{Field: "title", After: &mark}}).Save(ctx)
	testenv.Must(t, err)

	// Reviews steve may not read get the marker in their comments; a draft
	// cycle carries it in its name.
	steve := uid("steve")
	n, err := db.Review.Update().Where(review.RevieweeIDNEQ(steve), review.ReviewerIDNEQ(steve)).
		SetComments("confidential " + hiddenMark).Save(ctx)
	testenv.Must(t, err)
	if n == 0 {
		t.Fatal("the demo has no review steve may not read")
	}
	cy, err := db.ReviewCycle.Query().First(ctx)
	testenv.Must(t, err)
	_, err = db.ReviewCycle.Create().SetOrgID(orgID).SetName("Draft " + hiddenMark).SetCreatorID(olivia).
		SetStartsAt(cy.StartsAt).SetEndsAt(cy.EndsAt).SetCriteria(cy.Criteria).SetStatus(reviewcycle.StatusDRAFT).Save(ctx)
	testenv.Must(t, err)

	// Another organization steve is not in; martha is a member of both.
	other, err := db.Organization.Create().SetName("Org " + hiddenMark).SetSlug(hiddenMark).Save(ctx)
	testenv.Must(t, err)
	stranger, err := db.User.Create().SetEmail(hiddenMark + "@other.example").SetName("Name " + hiddenMark).SetIssuer("local").SetSub(hiddenMark).Save(ctx)
	testenv.Must(t, err)
	for _, u := range []int{stranger.ID, martha} {
		_, err = db.Membership.Create().SetOrgID(other.ID).SetUserID(u).SetRole(membership.RoleOWNER).Save(ctx)
		testenv.Must(t, err)
	}
	team, err := db.Team.Create().SetOrgID(other.ID).SetName("Team " + hiddenMark).SetDescription(hiddenMark).Save(ctx)
	testenv.Must(t, err)
	_, err = db.TeamMembership.Create().SetOrgID(other.ID).SetTeamID(team.ID).SetUserID(martha).Save(ctx)
	testenv.Must(t, err)
	tp, err := db.TimePeriod.Create().SetOrgID(other.ID).SetName("Period " + hiddenMark).
		SetStartsAt(time.Now()).SetEndsAt(time.Now().Add(90 * 24 * time.Hour)).Save(ctx)
	testenv.Must(t, err)
	oi, err := db.OKRItem.Create().SetOrgID(other.ID).SetKind(okritem.KindOBJECTIVE).SetLevel(okritem.LevelTEAM).
		SetTitle("Other " + hiddenMark).SetCreatorID(martha).SetOwnerOrder([]int{martha}).AddOwnerIDs(martha).
		AddTeamIDs(team.ID).SetTimePeriodID(tp.ID).Save(ctx)
	testenv.Must(t, err)
	_, err = db.CheckIn.Create().SetOrgID(other.ID).SetItemID(oi.ID).SetAuthorID(martha).SetStatus(checkin.StatusON_TRACK).
		SetConfidence(5).SetNote("note " + hiddenMark).Save(ctx)
	testenv.Must(t, err)
}
