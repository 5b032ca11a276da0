package graph_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"okrgraph/ent/organization"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// bigTree inserts, in a few SQL statements, a tree of 10 root objectives,
// each with 10 objectives, each with perParent leaf objectives (one level
// of 100*perParent items: beyond any bind-parameter limit when large).
// Every 100th leaf is private and owned by owner alone. It returns the
// number of items and of private leaves.
func bigTree(t testing.TB, e *testenv.Env, perParent, owner int) (items, private int) {
	t.Helper()
	ctx := scope.System(context.Background())
	db := e.App.DB.Client
	orgID, err := db.Organization.Query().Where(organization.Slug("acme")).OnlyID(ctx)
	testenv.Must(t, err)
	var base int
	rows, err := db.QueryContext(ctx, "SELECT COALESCE(MAX(id), 0) + 1000 FROM okr_items")
	testenv.Must(t, err)
	for rows.Next() {
		testenv.Must(t, rows.Scan(&base))
	}
	rows.Close()
	now, owners := "CURRENT_TIMESTAMP", "'[' || CAST(%d AS TEXT) || ']'"
	if e.Backend == "postgres" {
		now, owners = "now()", "CAST('[' || CAST(%d AS TEXT) || ']' AS jsonb)"
	}
	owners = fmt.Sprintf(owners, owner)
	leaves := 100 * perParent
	insert := func(ids, parent, private string) {
		q := fmt.Sprintf(`INSERT INTO okr_items (id, kind, level, title, description, creator_id, owner_order, unit, milestone,
  progress_mode, progress, data_link, close_note, alignment_restricted, status, private, delegate_key_results, notify_owner,
  created_at, updated_at, org_id, parent_id, checkin_owner_id)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %s)
SELECT %d + i, 'OBJECTIVE', 'INDIVIDUAL', 'item ' || CAST(i AS TEXT), '', %d, %s, '', false,
  'MANUAL', 0.5, '', '', false, 'ON_TRACK', %s, false, false, %s, %s, %d, %s, %d FROM n`,
			ids, base, owner, owners, private, now, now, orgID, parent, owner)
		_, err := db.ExecContext(ctx, q)
		testenv.Must(t, err)
	}
	// ids: roots base+0..9, middle base+10..109, leaves base+110..
	insert("10", "NULL", "false")
	// middle objectives: ids base+10+i, parent base + i/10
	mid := fmt.Sprintf(`INSERT INTO okr_items (id, kind, level, title, description, creator_id, owner_order, unit, milestone,
  progress_mode, progress, data_link, close_note, alignment_restricted, status, private, delegate_key_results, notify_owner,
  created_at, updated_at, org_id, parent_id, checkin_owner_id)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < 100)
SELECT %d + 10 + i, 'OBJECTIVE', 'INDIVIDUAL', 'mid ' || CAST(i AS TEXT), '', %d, %s, '', false,
  'MANUAL', 0.5, '', '', false, 'ON_TRACK', false, false, false, %s, %s, %d, %d + i / 10, %d FROM n`,
		base, owner, owners, now, now, orgID, base, owner)
	_, err = db.ExecContext(ctx, mid)
	testenv.Must(t, err)
	leaf := fmt.Sprintf(`INSERT INTO okr_items (id, kind, level, title, description, creator_id, owner_order, unit, milestone,
  progress_mode, progress, data_link, close_note, alignment_restricted, status, private, delegate_key_results, notify_owner,
  created_at, updated_at, org_id, parent_id, checkin_owner_id)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %d)
SELECT %d + 110 + i, 'OBJECTIVE', 'INDIVIDUAL', 'leaf ' || CAST(i AS TEXT), '', %d, %s, '', false,
  'MANUAL', 0.5, '', '', false, 'ON_TRACK', i %% 100 = 0, false, false, %s, %s, %d, %d + 10 + i %% 100, %d FROM n`,
		leaves, base, owner, owners, now, now, orgID, base, owner)
	_, err = db.ExecContext(ctx, leaf)
	testenv.Must(t, err)
	_, err = db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO okr_item_owners (okr_item_id, user_id) SELECT id, %d FROM okr_items WHERE id >= %d`, owner, base))
	testenv.Must(t, err)
	return 110 + leaves, (leaves + 99) / 100
}

// TestTreeScalesTo100k builds a 100,110-item org tree (one level of
// 100,000) by SQL and pulls it whole through Query.okrTree and both
// exports, as the owner and as another member (who must not see the
// private leaves), with a member token and a read-only token; then checks
// the item bound answers BAD_USER_INPUT instead of part of a tree.
func TestTreeScalesTo100k(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100k-item tree")
	}
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		// The demo org's own items come first; count them apart.
		var before struct{ OkrTree []struct{ ID string } }
		e.As("steve", "acme").MustDo(t, `{ okrTree { id } }`, nil, &before)
		var samBefore struct{ OkrTree []struct{ ID string } }
		e.As("sam", "acme").MustDo(t, `{ okrTree { id } }`, nil, &samBefore)
		var nestedBefore, samNestedBefore int
		nestedBefore, _ = nestedTree(t, e, e.As("steve", "acme"))
		samNestedBefore, _ = nestedTree(t, e, e.As("sam", "acme"))
		owner := atoi(t, e.UserID(t, "sam"))
		items, private := bigTree(t, e, 1000, owner)

		count := func(c *testenv.Client) int {
			var out struct {
				OkrTree []struct {
					ID       string
					Depth    int
					OwnerIDs []string
				}
			}
			c.MustDo(t, `{ okrTree { id depth ownerIds } }`, nil, &out)
			return len(out.OkrTree)
		}
		if got, want := count(e.As("sam", "acme")), len(samBefore.OkrTree)+items; got != want {
			t.Errorf("owner: okrTree has %d rows, want %d", got, want)
		}
		steveWant := len(before.OkrTree) + items - private
		if got := count(e.As("steve", "acme")); got != steveWant {
			t.Errorf("member: okrTree has %d rows, want %d (the %d private leaves hidden)", got, steveWant, private)
		}
		ro := e.WithToken(e.ReadOnlyToken("steve@acme.example"), "acme")

		nd := ro.Get("/export/tree.ndjson")
		if nd.Code != 200 || nd.Header().Get("X-Test-Aborted") != "" || !strings.HasPrefix(nd.Header().Get("Content-Type"), "application/x-ndjson") {
			t.Fatalf("ndjson export: %d %v", nd.Code, nd.Header())
		}
		sc := bufio.NewScanner(nd.Body)
		lines := 0
		for sc.Scan() {
			var row struct {
				ID      string
				Ordinal int
			}
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil || row.ID == "" {
				t.Fatalf("ndjson line %q: %v", sc.Text(), err)
			}
			if lines++; row.Ordinal != lines {
				t.Fatalf("ndjson line %d has ordinal %d", lines, row.Ordinal)
			}
		}
		if lines != steveWant {
			t.Errorf("ndjson export has %d rows, want %d", lines, steveWant)
		}
		cv := e.As("steve", "acme").Get("/export/tree.csv")
		recs, err := csv.NewReader(cv.Body).ReadAll()
		testenv.Must(t, err)
		if cv.Code != 200 || len(recs) != steveWant+1 {
			t.Errorf("csv export: status %d, %d records, want %d", cv.Code, len(recs), steveWant+1)
		}

		// The nested children form: the same items, in at most three
		// statements, with a member token and a read-only token.
		if got, stmts := nestedTree(t, e, e.As("sam", "acme")); got-samNestedBefore != items || stmts > 3 {
			t.Errorf("owner: nested children added %d items in %d statements, want %d in at most 3", got-samNestedBefore, stmts, items)
		}
		if got, stmts := nestedTree(t, e, ro); got-nestedBefore != items-private || stmts > 3 {
			t.Errorf("read-only token: nested children added %d items in %d statements, want %d in at most 3", got-nestedBefore, stmts, items-private)
		}

		// The bound: a clear error, not part of a tree.
		r := e.As("steve", "acme").Do(t, `{ okrTree(maxItems: 1000) { id } }`, nil)
		if r.Code() != "BAD_USER_INPUT" {
			t.Errorf("okrTree beyond maxItems: %s %+v", r.Code(), r.Errors)
		}
		cut := e.As("steve", "acme").Get("/export/tree.ndjson?maxItems=1000")
		if cut.Header().Get("X-Test-Aborted") == "" || !strings.Contains(cut.Body.String(), `"error"`) {
			t.Errorf("an export beyond maxItems must end with an error line and abort")
		}
	})
}

// nestedQuery asks for the whole tree in the nested form, as BI tools ask
// PostGraphile: the roots, then children four levels deep, each item with
// its owners.
var nestedQuery = func() string {
	sel := "id kind title weight progress owners { id }"
	for range 4 {
		sel = "id kind title weight progress owners { id } children { edges { node { " + sel + " } } }"
	}
	return "{ okrs(where: {hasParent: false}) { edges { node { " + sel + " } } } }"
}()

// nestedTree pulls the nested tree as c and returns how many items it
// holds (checking each item's owners are listed) and how many SQL
// statements the request took beyond authenticating it.
func nestedTree(t *testing.T, e *testenv.Env, c *testenv.Client) (items int, stmts int64) {
	t.Helper()
	type node struct {
		ID       string
		Owners   []struct{ ID string }
		Children *struct {
			Edges []struct{ Node json.RawMessage }
		}
	}
	var out struct {
		Okrs struct {
			Edges []struct{ Node json.RawMessage }
		}
	}
	var typename any
	auth := e.CountQueries(func() { c.MustDo(t, `{ __typename }`, nil, &typename) })
	stmts = e.CountQueries(func() { c.MustDo(t, nestedQuery, nil, &out) }) - auth
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var n node
			testenv.Must(t, json.Unmarshal(r, &n))
			if items++; len(n.Owners) == 0 {
				t.Fatalf("item %s has no owners in the nested form", n.ID)
			}
			if n.Children != nil {
				kids := make([]json.RawMessage, len(n.Children.Edges))
				for i, ed := range n.Children.Edges {
					kids[i] = ed.Node
				}
				walk(kids)
			}
		}
	}
	roots := make([]json.RawMessage, len(out.Okrs.Edges))
	for i, ed := range out.Okrs.Edges {
		roots[i] = ed.Node
	}
	walk(roots)
	return items, stmts
}

// TestTreeRefusals: the flat tree and the export refuse what they must,
// with a code, and never leak an item the caller may not see.
func TestTreeRefusals(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia, steve := e.As("olivia", "acme"), e.As("steve", "acme")
		var made struct {
			CreateOKRItem struct{ Item struct{ ID string } } `json:"createOKRItem"`
		}
		olivia.MustDo(t, `mutation { createOKRItem(input: {kind: OBJECTIVE, level: INDIVIDUAL, title: "Secret", private: true}) { item { id } } }`, nil, &made)
		secret := made.CreateOKRItem.Item.ID

		for _, tc := range []struct {
			name   string
			c      *testenv.Client
			path   string
			status int
			code   string
		}{
			{"no token", e.WithToken("", "acme"), "/export/tree.ndjson", 401, "UNAUTHENTICATED"},
			{"bad token", e.WithToken("nope", "acme"), "/export/tree.csv", 401, "UNAUTHENTICATED"},
			{"not a member", e.As("stranger@elsewhere.example", "acme"), "/export/tree.ndjson", 0, ""},
			{"no org", e.As("steve", ""), "/export/tree.ndjson", 400, "BAD_USER_INPUT"},
			{"private root", steve, "/export/tree.ndjson?rootId=" + secret, 404, "NOT_FOUND"},
			{"bad rootId", steve, "/export/tree.csv?rootId=x", 400, ""},
			{"bad maxItems", steve, "/export/tree.csv?maxItems=-1", 400, ""},
			{"maxItems over the bound", steve, "/export/tree.csv?maxItems=999999999", 400, "BAD_USER_INPUT"},
		} {
			r := tc.c.Get(tc.path)
			if r.Code == 200 || (tc.status != 0 && r.Code != tc.status) || (tc.code != "" && !strings.Contains(r.Body.String(), tc.code)) {
				t.Errorf("%s: %d %s", tc.name, r.Code, r.Body.String())
			}
			if strings.Contains(r.Body.String(), "Secret") {
				t.Errorf("%s: leaks the private item", tc.name)
			}
		}
		if r := steve.Do(t, `query($id: ID) { okrTree(rootId: $id) { id title } }`, map[string]any{"id": secret}); r.Code() != "NOT_FOUND" {
			t.Errorf("okrTree at a private root: %s", r.Code())
		}
		var own struct{ OkrTree []struct{ ID, Title string } }
		olivia.MustDo(t, `query($id: ID) { okrTree(rootId: $id) { id title } }`, map[string]any{"id": secret}, &own)
		if len(own.OkrTree) != 1 || own.OkrTree[0].Title != "Secret" {
			t.Errorf("the owner's subtree: %+v", own)
		}
		if r := steve.Do(t, `{ okrTree(maxItems: -1) { id } }`, nil); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("negative maxItems: %s", r.Code())
		}
	})
}

// TestNestedSameAsEnt: the subtree loader answers exactly what ent's
// per-level eager loading answers (an alias on children takes ent's
// path), byte for byte, for several users, fields, pages and roots, in
// fewer statements.
func TestNestedSameAsEnt(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		// A whole-tree walk may ask for about 40 values per item (the tree
		// bound); pages of children for more.
		lean := "id kind level title weight progress status private metricCurrent updatedAt __typename owners { id }"
		rich := "id kind level title description weight progress status private unit metricStart metricTarget metricCurrent milestone progressMode createdAt updatedAt closedAt score __typename owners { id name email }"
		nested := func(children string, levels int, first string) string {
			item := lean
			if first != "" {
				item = rich
			}
			sel := item
			for range levels {
				sel = item + " " + children + first + " { pageInfo { hasNextPage endCursor } edges { cursor node { " + sel + " } } }"
			}
			return sel
		}
		for _, who := range []string{"steve", "olivia", "sam"} {
			c := e.As(who, "acme")
			for _, q := range []struct {
				roots  string
				levels int
				first  string
			}{
				{`okrs(where: {hasParent: false})`, 3, ""},
				{`okrs(first: 30)`, 1, ""},
				{`okrs(where: {hasParent: false})`, 3, "(first: 1)"},
				{`okrs(first: 30)`, 2, "(first: 2)"},
			} {
				fast := "{ " + q.roots + " { edges { node { " + nested("children", q.levels, q.first) + " } } } }"
				slow := "{ " + q.roots + " { edges { node { " + nested("kids: children", q.levels, q.first) + " } } } }"
				var a, b json.RawMessage
				fastStmts := e.CountQueries(func() { c.MustDo(t, fast, nil, &a) })
				slowStmts := e.CountQueries(func() { c.MustDo(t, slow, nil, &b) })
				if b = json.RawMessage(strings.ReplaceAll(string(b), `"kids":`, `"children":`)); string(a) != string(b) {
					i := 0
					for i < min(len(a), len(b)) && a[i] == b[i] {
						i++
					}
					from := max(0, i-300)
					t.Errorf("%s %s%s: from byte %d the subtree loader answers\n%.400s\nent answers\n%.400s", who, q.roots, q.first, i, a[from:], b[from:])
				}
				if fastStmts >= slowStmts {
					t.Errorf("%s %s%s: %d statements, ent's path %d", who, q.roots, q.first, fastStmts, slowStmts)
				}
			}
		}
	})
}
