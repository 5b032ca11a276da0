package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"okrgraph/internal/app"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// rawDo posts a query through the app's real handler with a bearer token
// and returns the status and the body as sent.
func rawDo(t testing.TB, e *testenv.Env, token, query string, vars map[string]any) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Org", "acme")
	rec := httptest.NewRecorder()
	e.App.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// fastPathData adds to the demo org what the differential test must see
// written alike: an item under a private objective (a root only for those
// who cannot see the objective), a private key result under a public
// objective, a private objective with a viewer, titles and units with
// characters JSON escapes differently, and floats of every shape.
func fastPathData(t *testing.T, e *testenv.Env) {
	t.Helper()
	olivia := e.As("olivia", "acme")
	secret := lcCreate(t, olivia, map[string]any{"kind": "OBJECTIVE", "title": "Secret plan", "private": true})
	under := lcCreate(t, olivia, map[string]any{"kind": "OBJECTIVE", "title": "Under the secret", "parentId": secret})
	lcCreate(t, olivia, map[string]any{"kind": "KEY_RESULT", "title": "Under KR", "parentId": under, "metricTarget": 3})
	lcCreate(t, olivia, map[string]any{"kind": "KEY_RESULT", "title": "Secret KR", "parentId": secret, "metricTarget": 7})
	pub := lcCreate(t, e.As("sam", "acme"), map[string]any{"kind": "OBJECTIVE", "title": "Sam's public"})
	krID := lcCreate(t, e.As("sam", "acme"), map[string]any{"kind": "KEY_RESULT", "title": "Sam's KR", "parentId": pub, "metricTarget": 1})
	ctx := scope.System(context.Background())
	db := e.App.DB.Client
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		testenv.Must(t, err)
	}
	// steve is a listed viewer of the secret objective, so he sees its key
	// result (involved in its objective) without being involved in it.
	exec(`INSERT INTO okr_item_viewers (okr_item_id, user_id) VALUES ($1, $2)`, atoi(t, secret), atoi(t, e.UserID(t, "steve")))
	// A private key result under a public objective (the API keeps them
	// alike; the interceptor's rule still decides for such rows).
	exec(`UPDATE okr_items SET private = true WHERE id = $1`, atoi(t, krID))
	title := "quote \" back \\ tab \t nl \n cr \r ctl \x01 sep \u2028 html <&> é 😀"
	if e.Backend == "sqlite" {
		title += " bad \xff\xfe utf8"
	}
	exec(`UPDATE okr_items SET title = $1, unit = $2, weight = $3, metric_start = $4, metric_target = $5, metric_current = $6 WHERE id = $7`,
		title, "u\u2029\x7f", 0.1+0.2, 1e21, 1e-7, 123456789.125, atoi(t, pub))
	exec(`UPDATE okr_items SET weight = $1, progress = $2 WHERE id = $3`, 3.0, 1.0/3, atoi(t, under))
	// A period half gone, so that progress statuses depend on the time the
	// period's bounds are read as.
	var tp struct {
		CreateTimePeriod struct{ TimePeriod struct{ ID string } }
	}
	now := time.Now().UTC()
	e.As("adam", "acme").MustDo(t, `mutation($s: Time!, $e: Time!) { createTimePeriod(input: {name: "Now", startsAt: $s, endsAt: $e}) { timePeriod { id } } }`,
		map[string]any{"s": now.Add(-10 * 24 * time.Hour).Format(time.RFC3339), "e": now.Add(10 * 24 * time.Hour).Format(time.RFC3339)}, &tp)
	for _, id := range []string{pub, under, krID, secret} {
		exec(`UPDATE okr_items SET time_period_id = $1 WHERE id = $2`, atoi(t, tp.CreateTimePeriod.TimePeriod.ID), atoi(t, id))
	}
}

// fastGen generates operations over the tree fields from the selection
// grammar: subsets of fields, aliases, named and inline fragments, @skip
// and @include with variables, __typename, repeated fields, 1 to 5 levels
// of children, where filters and okrTree arguments, a few of them outside
// what the fast path serves.
type fastGen struct {
	r         *rand.Rand
	frags     []string
	vars      map[string]string // name -> type
	fragCount int
}

var (
	genItemLeaves = []string{"id", "kind", "level", "title", "status", "progress", "progressMode", "weight", "metricStart", "metricTarget", "metricCurrent", "unit", "private", "__typename"}
	genItemOther  = []string{"description", "milestone", "updatedAt"} // served by gqlgen only
	genTreeLeaves = []string{"id", "parentId", "depth", "ordinal", "path", "kind", "level", "title", "status", "progress", "progressMode", "weight", "metricStart", "metricTarget", "metricCurrent", "unit", "private", "timePeriodId", "ownerIds", "__typename"}
)

func (g *fastGen) useVar(name, typ string) string {
	g.vars[name] = typ
	return "$" + name
}

// dir maybe adds @skip/@include with a variable or a literal.
func (g *fastGen) dir() string {
	switch g.r.IntN(10) {
	case 0:
		return " @skip(if: " + g.useVar("yes", "Boolean!") + ")"
	case 1:
		return " @include(if: " + g.useVar("no", "Boolean!") + ")"
	case 2:
		return " @include(if: " + g.useVar("yes", "Boolean!") + ")"
	case 3:
		return " @skip(if: false)"
	}
	return ""
}

func (g *fastGen) alias(name string) string {
	if g.r.IntN(6) == 0 {
		return "a" + name + ": " + name
	}
	return name
}

// wrap puts a selection into a fragment, an inline fragment or leaves it.
func (g *fastGen) wrap(sel, typ string, alt ...string) string {
	switch g.r.IntN(6) {
	case 0:
		g.fragCount++
		name := fmt.Sprintf("F%d", g.fragCount)
		g.frags = append(g.frags, "fragment "+name+" on "+typ+" { "+sel+" }")
		return "..." + name + g.dir()
	case 1:
		on := typ
		if len(alt) > 0 && g.r.IntN(2) == 0 {
			on = alt[g.r.IntN(len(alt))]
		}
		return "... on " + on + g.dir() + " { " + sel + " }"
	case 2:
		return "..." + g.dir() + " { " + sel + " }"
	}
	return sel
}

// leaves picks some leaves (at least one), with aliases, directives and
// repeats, each maybe wrapped.
func (g *fastGen) leaves(from []string, typ string, alt ...string) []string {
	n := 1 + g.r.IntN(min(4, len(from)))
	var out []string
	for range n {
		f := from[g.r.IntN(len(from))]
		if f == "id" || f == "__typename" {
			out = append(out, g.wrap(g.alias(f)+g.dir(), typ, alt...))
		} else {
			out = append(out, g.wrap(g.alias(f)+g.dir(), typ))
		}
	}
	if g.r.IntN(5) == 0 {
		out = append(out, out[0]) // a repeated field merges
	}
	return out
}

func (g *fastGen) item(levels int) string {
	sel := g.leaves(genItemLeaves, "OKRItem", "Node")
	if g.r.IntN(40) == 0 {
		sel = append(sel, genItemOther[g.r.IntN(len(genItemOther))])
	}
	if g.r.IntN(3) > 0 {
		users := g.leaves([]string{"id", "id", "__typename"}, "User", "Node")
		sel = append(sel, g.alias("owners")+" { "+strings.Join(users, " ")+" }")
	}
	if levels > 0 {
		sel = append(sel, g.alias("children")+" { "+g.edges(levels-1)+" }")
	}
	g.r.Shuffle(len(sel), func(i, j int) { sel[i], sel[j] = sel[j], sel[i] })
	return strings.Join(sel, " ")
}

func (g *fastGen) edges(levels int) string {
	node := "node { " + g.item(levels) + " }"
	edge := []string{node}
	if g.r.IntN(5) == 0 {
		edge = append(edge, "__typename")
	}
	if g.r.IntN(60) == 0 {
		edge = append(edge, "cursor") // gqlgen's
	}
	g.r.Shuffle(len(edge), func(i, j int) { edge[i], edge[j] = edge[j], edge[i] })
	conn := []string{"edges { " + strings.Join(edge, " ") + " }"}
	if g.r.IntN(5) == 0 {
		conn = append(conn, "__typename")
	}
	g.r.Shuffle(len(conn), func(i, j int) { conn[i], conn[j] = conn[j], conn[i] })
	return strings.Join(conn, " ")
}

// page generates an okrs page as the SPA's dashboard asks for it, with
// the arguments, connection fields and item fields the page fast path
// serves, and now and then one it leaves to gqlgen.
func (g *fastGen) page() string {
	var args []string
	switch g.r.IntN(5) {
	case 0:
		args = append(args, "first: 3")
	case 1:
		args = append(args, "first: "+g.useVar("n", "Int"))
	case 2:
		args = append(args, "first: 20")
	case 3:
		if g.r.IntN(4) == 0 {
			args = append(args, "last: 2") // gqlgen's
		}
	}
	switch g.r.IntN(6) {
	case 0, 1:
		args = append(args, "where: {hasOwnersWith: [{id: "+g.useVar("me", "ID!")+"}]}")
	case 2:
		args = append(args, "where: "+g.useVar("wo", "OKRItemWhereInput"))
	case 3:
		switch g.r.IntN(4) {
		case 0:
			args = append(args, "where: {kind: KEY_RESULT}") // gqlgen's
		case 1:
			args = append(args, `where: {hasOwnersWith: [{id: "not-an-id"}]}`) // refused alike
		}
	}
	switch g.r.IntN(6) {
	case 0, 1:
		args = append(args, "orderBy: [{field: UPDATED_AT, direction: DESC}]")
	case 2:
		args = append(args, "orderBy: {field: TITLE, direction: ASC}")
	case 3:
		args = append(args, "orderBy: [{field: PROGRESS, direction: DESC}, {field: TITLE, direction: ASC}]")
	case 4:
		if g.r.IntN(2) == 0 {
			args = append(args, "orderBy: [{field: KIND}]") // gqlgen's (direction by default)
		} else {
			args = append(args, "orderBy: [{field: TITLE, direction: ASC}, {field: TITLE, direction: DESC}]") // refused alike
		}
	}
	flags := []string{"update", "delete", "changeOwners", "setDelegate", "setCheckInOwner", "checkIn", "align", "comment", "clone", "manageGrants", "__typename"}
	node := g.leaves(genItemLeaves, "OKRItem", "Node")
	if g.r.IntN(2) == 0 {
		node = append(node, g.alias("owners")+" { "+strings.Join(g.leaves([]string{"id", "name", "__typename"}, "User", "Node"), " ")+" }")
	}
	if g.r.IntN(2) == 0 {
		node = append(node, g.alias("progressStatus")+g.dir())
	}
	if g.r.IntN(2) == 0 {
		node = append(node, g.alias("viewerCan")+" { "+strings.Join(g.leaves(flags, "OKRItemPermissions"), " ")+" }")
	}
	if g.r.IntN(30) == 0 {
		node = append(node, genItemOther[g.r.IntN(len(genItemOther))])
	}
	g.r.Shuffle(len(node), func(i, j int) { node[i], node[j] = node[j], node[i] })
	edge := []string{"node { " + strings.Join(node, " ") + " }"}
	if g.r.IntN(3) == 0 {
		edge = append(edge, g.alias("cursor"))
	}
	if g.r.IntN(5) == 0 {
		edge = append(edge, "__typename")
	}
	g.r.Shuffle(len(edge), func(i, j int) { edge[i], edge[j] = edge[j], edge[i] })
	conn := []string{"edges { " + strings.Join(edge, " ") + " }"}
	if g.r.IntN(2) == 0 {
		conn = append(conn, g.alias("totalCount")+g.dir())
	}
	if g.r.IntN(2) == 0 {
		conn = append(conn, "pageInfo { "+strings.Join(g.leaves([]string{"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}, "PageInfo"), " ")+" }")
	}
	if g.r.IntN(5) == 0 {
		conn = append(conn, "__typename")
	}
	g.r.Shuffle(len(conn), func(i, j int) { conn[i], conn[j] = conn[j], conn[i] })
	a := ""
	if len(args) > 0 {
		a = "(" + strings.Join(args, ", ") + ")"
	}
	return g.alias("okrs") + a + " { " + strings.Join(conn, " ") + " }"
}

func (g *fastGen) viewer() string {
	sel := []string{"user { " + strings.Join(g.leaves([]string{"id", "name", "__typename"}, "User", "Node"), " ") + " }"}
	if g.r.IntN(4) == 0 {
		sel = append(sel, "__typename")
	}
	if g.r.IntN(20) == 0 {
		sel = append(sel, "membership { role }") // gqlgen's
	}
	return "viewer { " + g.wrap(strings.Join(sel, " "), "Viewer") + " }"
}

func (g *fastGen) root() string {
	switch g.r.IntN(8) {
	case 5, 6:
		return g.page()
	case 7:
		return g.viewer()
	case 0:
		sel := strings.Join(g.leaves(genTreeLeaves, "OKRTreeRow"), " ")
		args := ""
		switch g.r.IntN(4) {
		case 0:
			args = "(maxItems: 100000)"
		case 1:
			args = "(maxItems: " + g.useVar("max", "Int") + ")"
		case 2:
			args = "(rootId: " + g.useVar("root", "ID") + ")"
		}
		return g.alias("okrTree") + args + " { " + sel + " }"
	default:
		where := "where: {hasParent: false}"
		switch g.r.IntN(12) {
		case 0:
			where = "where: " + g.useVar("w", "OKRItemWhereInput")
		case 1:
			where = "where: {hasParent: true}" // gqlgen's
		case 2:
			where = "where: {hasParent: false}, first: 3" // gqlgen's
		}
		return g.alias("okrs") + "(" + where + ") { " + g.edges(g.r.IntN(5)) + " }"
	}
}

func (g *fastGen) operation() (string, map[string]any) {
	g.frags, g.vars, g.fragCount = nil, map[string]string{}, 0
	roots := []string{g.root()}
	if g.r.IntN(4) == 0 {
		roots = append(roots, "__typename")
	}
	if g.r.IntN(3) == 0 {
		roots = append(roots, g.viewer())
	}
	if g.r.IntN(6) == 0 {
		r := g.root()
		if i := strings.Index(r, ": "); i >= 0 && i < strings.IndexAny(r, "({") {
			r = r[i+2:] // drop its alias
		}
		roots = append(roots, "second: "+r)
	}
	var decl []string
	vals := map[string]any{}
	names := make([]string, 0, len(g.vars))
	for n := range g.vars {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		decl = append(decl, "$"+n+": "+g.vars[n])
		switch n {
		case "yes":
			vals[n] = true
		case "no":
			vals[n] = false
		case "w":
			vals[n] = map[string]any{"hasParent": false}
		case "max":
			vals[n] = 5000
		case "root", "me":
			vals[n] = nil // set by the caller
		case "wo":
			vals[n] = map[string]any{"hasOwnersWith": []any{map[string]any{"id": nil}}} // the caller sets the id
		case "n":
			vals[n] = 4
		}
	}
	q := "query Gen"
	if len(decl) > 0 {
		q += "(" + strings.Join(decl, ", ") + ")"
	}
	q += " { " + strings.Join(roots, " ") + " }"
	if len(g.frags) > 0 {
		q += "\n" + strings.Join(g.frags, "\n")
	}
	return q, vals
}

var tellApartPolicy = rego("tellapart", `deny contains "deleting is switched off here" if input.action == "okr.delete"

allow contains "anyone here may align under anything" if input.action == "okr.align"
`)

// awaitPolicy waits until both apps answer under tellApartPolicy (the
// slow one re-reads the org's active version every
// authz.DefaultCheckEvery): olivia's first item may be updated, not
// deleted.
func awaitPolicy(t *testing.T, e, slow *testenv.Env, olivia string) {
	t.Helper()
	q := `query($me: ID!) { okrs(first: 1, where: {hasOwnersWith: [{id: $me}]}) { edges { node { viewerCan { update delete } } } } }`
	for _, env := range []*testenv.Env{e, slow} {
		for try := 0; ; try++ {
			var out struct {
				Okrs struct {
					Edges []struct {
						Node struct{ ViewerCan struct{ Update, Delete bool } }
					}
				}
			}
			env.As("olivia", "acme").MustDo(t, q, map[string]any{"me": olivia}, &out)
			if len(out.Okrs.Edges) == 0 {
				t.Fatal("olivia owns no item")
			}
			if c := out.Okrs.Edges[0].Node.ViewerCan; c.Update && !c.Delete {
				break
			}
			if try == 200 {
				t.Fatal("the tenant policy is not in force after 200 tries")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestFastPathDifferential runs generated operations through the fast path
// and through an app on the same database without it, as a member, as the
// owner of private items and as a read-only service token, and requires
// byte-identical responses; the second half under a tenant policy.
func TestFastPathDifferential(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		fastPathData(t, e)
		slow := testenv.New(t, e.Backend, testenv.Config{DatabaseURL: e.URL, Tweak: func(c *app.Config) { c.NoFastPath = true }})
		_, secret := createToken(t, e.As("olivia", "acme"), "bi")
		var some struct{ OkrTree []struct{ ID string } }
		e.As("steve", "acme").MustDo(t, `{ okrTree { id } }`, nil, &some)
		// Pages of the items of these owners (olivia's private ones
		// included); sam's name needs escaping.
		owners := []string{e.UserID(t, "olivia"), e.UserID(t, "sam"), e.UserID(t, "steve")}
		name := "Sam \"the\" \\ tab \t nl \n \x01 \u2028 <&> é"
		if e.Backend == "sqlite" {
			name += " \xff bad utf8"
		}
		_, err := e.App.DB.Client.ExecContext(scope.System(context.Background()), `UPDATE users SET name = $1 WHERE id = $2`, name, atoi(t, owners[1]))
		testenv.Must(t, err)
		viewers := []struct{ name, fast, slow string }{
			{"member steve", e.Token("steve@acme.example"), slow.Token("steve@acme.example")},
			{"owner olivia", e.Token("olivia@acme.example"), slow.Token("olivia@acme.example")},
			{"member sam (the secret's subtree is a root for him)", e.Token("sam@acme.example"), slow.Token("sam@acme.example")},
			{"observer oscar", e.Token("oscar@acme.example"), slow.Token("oscar@acme.example")},
			{"read-only service token", secret, secret},
		}
		g := &fastGen{r: rand.New(rand.NewPCG(13, 5))}
		ops := 60
		if testing.Short() {
			ops = 20
		}
		served, refused := 0, 0
		for i := range ops {
			if i == ops/2 {
				// The second half runs under a tenant policy that answers
				// viewerCan's update and delete (and align) differently,
				// which the default policy never does for one viewer and
				// item: flags written in the wrong places show.
				adam := e.As("adam", "acme")
				v := savePolicy(t, adam, tellApartPolicy, "tell update and delete apart")
				mustActivate(t, adam, "activatePolicy", v.ID)
				awaitPolicy(t, e, slow, owners[0])
			}
			q, vars := g.operation()
			if _, ok := vars["root"]; ok {
				vars["root"] = some.OkrTree[g.r.IntN(len(some.OkrTree))].ID
			}
			me := owners[g.r.IntN(len(owners))]
			if _, ok := vars["me"]; ok {
				vars["me"] = me
			}
			if _, ok := vars["wo"]; ok {
				vars["wo"] = map[string]any{"hasOwnersWith": []any{map[string]any{"id": me}}}
			}
			for _, v := range viewers {
				var fs, ss int
				var fb, sb []byte
				fq := e.CountQueries(func() { fs, fb = rawDo(t, e, v.fast, q, vars) })
				ss, sb = rawDo(t, slow, v.slow, q, vars)
				if fs != ss || !bytes.Equal(fb, sb) {
					at := 0
					for at < min(len(fb), len(sb)) && fb[at] == sb[at] {
						at++
					}
					from := max(0, at-200)
					t.Fatalf("op %d as %s: %s %v\nfast path (%d), from byte %d:\n%.500s\ngqlgen (%d):\n%.500s", i, v.name, q, vars, fs, at, fb[from:], ss, sb[from:])
				}
				if fq <= 3 {
					served++
				}
				if !bytes.Contains(fb, []byte(`"data":{`)) {
					refused++ // e.g. QUERY_TOO_COSTLY: both refuse alike
				}
			}
		}
		t.Logf("%s: %d operations x %d viewers, %d answered in at most 3 statements, %d without data", e.Backend, ops, len(viewers), served, refused)
	})
}

// TestFastPathTaken: the bench's whole-tree query takes the fast path (one
// statement besides identifying the caller, at most 3 in all, however
// deep), and shapes it must not serve take gqlgen's (more statements).
func TestFastPathTaken(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		fastPathData(t, e)
		c := e.As("steve", "acme")
		var out any
		c.MustDo(t, `{ __typename }`, nil, &out) // records the sign-in
		count := func(q string) int64 {
			return e.CountQueries(func() { c.MustDo(t, q, nil, &out) })
		}
		// What identifying the caller costs; the fast path adds one.
		auth := count(`{ __typename }`)
		sel := "...Item"
		for range 4 {
			sel = "...Item children { edges { node { " + sel + " } } }"
		}
		bench := "fragment Item on OKRItem { id kind title weight progress owners { id } }\nquery OkrTree { okrs(where: { hasParent: false }) { edges { node { " + sel + " } } } }"
		for _, q := range []string{bench, nestedQuery, `{ okrTree { id parentId ownerIds title } }`} {
			if n := count(q); n > 3 || n != auth+1 {
				t.Errorf("%d statements (%d to identify), want at most 3 and one statement of its own: %s", n, auth, q)
			}
		}
		// The SPA's dashboard: the page with its count, owners and time
		// periods (progressStatus) in one statement (SQLite reads the count
		// and the owners apart)
		// and the page's policy facts (viewerCan) in another; the viewer's
		// user is the identification's.
		me := map[string]any{"me": e.UserID(t, "olivia")}
		if n := e.CountQueries(func() { c.MustDo(t, benchDashboard, me, &out) }); n != auth+maxDashboardStatements(e.Backend)-1 {
			t.Errorf("dashboard: %d statements (%d to identify), want %d of its own", n, auth, maxDashboardStatements(e.Backend)-1)
		}
		item := "id title owners { id } children { edges { %s node { id title } } }"
		for _, q := range []string{
			"{ okrs(where: {hasParent: false}) { edges { node { " + fmt.Sprintf(item, "cursor") + " } } } }",
			"{ okrs(where: {hasParent: false}) { edges { node { description " + fmt.Sprintf(item, "") + " } } } }",
			"{ okrs(where: {hasParent: false}) { totalCount edges { node { " + fmt.Sprintf(item, "") + " } } } }",
			"{ okrs(where: {hasParent: false}) { edges { node { viewerCan { update } " + fmt.Sprintf(item, "") + " } } } }",
			"{ okrs(where: {hasParent: false, kind: OBJECTIVE}) { edges { node { " + fmt.Sprintf(item, "") + " } } } }",
		} {
			if n := count(q); n <= auth+1 {
				t.Errorf("%d statements (%d to identify): the fast path served %s", n, auth, q)
			}
		}
	})
}

// TestFastPathTreeBound: beyond the tree bound the fast path answers what
// gqlgen answers (BAD_USER_INPUT), byte for byte.
func TestFastPathTreeBound(t *testing.T) {
	bound := func(c *app.Config) { c.MaxTreeItems = 5 }
	testenv.RunWith(t, testenv.Config{Demo: true, Tweak: bound}, func(t *testing.T, e *testenv.Env) {
		slow := testenv.New(t, e.Backend, testenv.Config{DatabaseURL: e.URL, Tweak: func(c *app.Config) { bound(c); c.NoFastPath = true }})
		for _, q := range []string{nestedQuery, "{ okrTree { id } }"} {
			_, fb := rawDo(t, e, e.Token("steve@acme.example"), q, nil)
			_, sb := rawDo(t, slow, slow.Token("steve@acme.example"), q, nil)
			if !bytes.Equal(fb, sb) || !bytes.Contains(fb, []byte("BAD_USER_INPUT")) {
				t.Errorf("%s:\nfast path %s\ngqlgen    %s", q, fb, sb)
			}
		}
	})
}
