package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/schema/field"
	"github.com/vektah/gqlparser/v2/ast"

	"okrgraph/ent/migrate"
	"okrgraph/ent/organization"
	"okrgraph/ent/team"
	"okrgraph/graph/generated"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// connectionField is a connection that takes orderBy, on the type that
// has it.
type connectionField struct {
	parent, name, order, orderField string
	list                            bool // orderBy is a list
}

// orderedConnections lists every field of the schema that takes an
// orderBy argument, with its *OrderField enum.
func orderedConnections(schema *ast.Schema) []connectionField {
	var out []connectionField
	for _, def := range schema.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, fd := range def.Fields {
			a := fd.Arguments.ForName("orderBy")
			if a == nil {
				continue
			}
			order := schema.Types[a.Type.Name()]
			of := order.Fields.ForName("field")
			out = append(out, connectionField{parent: def.Name, name: fd.Name, order: order.Name, orderField: of.Type.Name(), list: a.Type.Elem != nil})
		}
	}
	slices.SortFunc(out, func(a, b connectionField) int { return strings.Compare(a.parent+"."+a.name, b.parent+"."+b.name) })
	return out
}

// TestCursorPagingEveryOrder pages through every connection that takes
// orderBy, by every value of its *OrderField enum, in both directions
// (first/after and last/before), ascending and descending, two rows a
// page, with half of every table's timestamps made equal: the pages put
// together must be the whole list, each row once, in the same order.
func TestCursorPagingEveryOrder(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	conns := orderedConnections(schema)
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		sys := scope.System(context.Background())
		olivia, adam := e.As("olivia", "acme"), e.As("adam", "acme")
		company := demoItem(t, e, "Become the most loved booking platform")
		// Enough rows in every list for several pages.
		now := time.Now()
		for i := range 3 {
			lcPeriod(t, adam, fmt.Sprintf("Paging %d", i), now.AddDate(0, i, 0), now.AddDate(0, i+1, 0))
			lcCheckIn(t, olivia, map[string]any{"itemId": company, "note": fmt.Sprintf("note %d", i)})
			olivia.MustDo(t, `mutation($id: ID!, $b: String!) { addComment(input: {itemId: $id, body: $b}) { comment { id } } }`, map[string]any{"id": company, "b": fmt.Sprintf("comment %d", i)}, &struct{}{})
			olivia.MustDo(t, `mutation($id: ID!, $d: String!) { updateOKRItem(input: {id: $id, description: $d}) { item { id } } }`, map[string]any{"id": company, "d": fmt.Sprintf("take %d", i)}, &struct{}{})
			e.As([]string{"steve", "sam", "martha"}[i], "acme").MustDo(t, `mutation($id: ID!) { followOKRItem(id: $id) { item { id } } }`, map[string]any{"id": company}, &struct{}{})
		}
		var cy struct {
			CreateReviewCycle struct{ Cycle struct{ ID string } } `json:"createReviewCycle"`
		}
		for i := range 3 {
			olivia.MustDo(t, `mutation($n: String!) { createReviewCycle(input: {name: $n, startsAt: "2027-01-01T00:00:00Z", endsAt: "2027-02-01T00:00:00Z", criteria: [{name: "Impact", scale: {min: 1, max: 5}}]}) { cycle { id } } }`,
				map[string]any{"n": fmt.Sprintf("Cycle %d", i)}, &cy)
		}
		olivia.MustDo(t, `mutation($id: ID!) { launchReviewCycle(id: $id) { reviewsCreated } }`, map[string]any{"id": cy.CreateReviewCycle.Cycle.ID}, &struct{}{})

		// Equal timestamps: every other row of every table gets one time.
		same := time.Date(2026, 6, 1, 12, 0, 0, 123456789, time.UTC)
		for _, tb := range migrate.Tables {
			for _, col := range tb.Columns {
				if col.Type != field.TypeTime || tb.PrimaryKey == nil || tb.PrimaryKey[0].Name != "id" {
					continue
				}
				q := fmt.Sprintf("UPDATE %q SET %q = $1 WHERE id %% 2 = 0 AND %q IS NOT NULL", tb.Name, col.Name, col.Name)
				if e.App.DB.Dialect == dialect.SQLite {
					q = strings.Replace(q, "$1", "?", 1)
				}
				if _, err := e.App.DB.SQL.ExecContext(context.Background(), q, same); err != nil {
					t.Fatalf("%s.%s: %v", tb.Name, col.Name, err)
				}
			}
		}

		// Where each parent type is reached: node(id:) of a row with a
		// populated list, or the root.
		orgID, err := e.App.DB.Client.Organization.Query().Where(organization.Slug("acme")).OnlyID(sys)
		testenv.Must(t, err)
		crm, err := e.App.DB.Client.Team.Query().Where(team.Name("CRM")).OnlyID(sys)
		testenv.Must(t, err)
		parents := map[string]string{
			"OKRItem":      company,
			"Team":         strconv.Itoa(crm),
			"Organization": strconv.Itoa(orgID),
			"ReviewCycle":  cy.CreateReviewCycle.Cycle.ID,
			"User":         e.UserID(t, "steve"),
		}
		covered := map[string]bool{}
		for _, c := range conns {
			wrap := func(inner string) string { return inner }
			switch id, ok := parents[c.parent]; {
			case c.parent == "Query":
			case c.parent == "Viewer":
				wrap = func(inner string) string { return "viewer { " + inner + " }" }
			case ok:
				wrap = func(inner string) string {
					return fmt.Sprintf("node(id: %q) { ... on %s { %s } }", id, c.parent, inner)
				}
			default:
				continue
			}
			for _, v := range schema.Types[c.orderField].EnumValues {
				covered[c.orderField] = true
				for _, dir := range []string{"ASC", "DESC"} {
					name := fmt.Sprintf("%s.%s/%s/%s", c.parent, c.name, v.Name, dir)
					order := fmt.Sprintf("{direction: %s, field: %s}", dir, v.Name)
					if c.list {
						order = "[" + order + "]"
					}
					page := func(args string) connPage {
						q := fmt.Sprintf("{ %s }", wrap(fmt.Sprintf("%s(%s, orderBy: %s) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }", c.name, args, order)))
						r := olivia.Do(t, q, nil)
						if len(r.Errors) > 0 {
							t.Fatalf("%s: %+v\n%s", name, r.Errors, q)
						}
						return findConn(t, r.Data, c.name)
					}
					all := page("first: 100").ids()
					if len(all) < 3 && c.parent != "User" && c.parent != "Viewer" {
						t.Errorf("%s: only %d rows: the test pages nothing", name, len(all))
					}
					var fwd []string
					for after := ""; ; {
						args := "first: 2"
						if after != "" {
							args += fmt.Sprintf(", after: %q", after)
						}
						p := page(args)
						fwd = append(fwd, p.ids()...)
						if !p.PageInfo.HasNextPage || len(fwd) > len(all) {
							break
						}
						after = *p.PageInfo.EndCursor
					}
					var back []string
					for before := ""; ; {
						args := "last: 2"
						if before != "" {
							args += fmt.Sprintf(", before: %q", before)
						}
						p := page(args)
						back = append(p.ids(), back...)
						if !p.PageInfo.HasPreviousPage || len(back) > len(all) {
							break
						}
						before = *p.PageInfo.StartCursor
					}
					if !slices.Equal(fwd, all) || !slices.Equal(back, all) {
						t.Errorf("%s:\n all      %v\n forward  %v\n backward %v", name, all, fwd, back)
					}
				}
			}
		}
		for _, c := range conns {
			if !covered[c.orderField] {
				t.Errorf("%s (%s.%s) is not paged: give its parent type an id in parents", c.orderField, c.parent, c.name)
			}
		}
	})
}

type connPage struct {
	Edges []struct {
		Cursor string
		Node   struct{ ID string }
	}
	PageInfo struct {
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
	} `json:"pageInfo"`
}

func (p connPage) ids() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.ID
	}
	return out
}

// findConn finds the connection named name in data, at any depth.
func findConn(t *testing.T, data json.RawMessage, name string) connPage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	for k, v := range m {
		if k == name {
			var p connPage
			if err := json.Unmarshal(v, &p); err != nil {
				t.Fatalf("decode %s: %v", v, err)
			}
			return p
		}
		if len(v) > 0 && v[0] == '{' {
			if p := findConnMaybe(v, name); p != nil {
				return *p
			}
		}
	}
	t.Fatalf("no %s in %s", name, data)
	return connPage{}
}

func findConnMaybe(data json.RawMessage, name string) *connPage {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	for k, v := range m {
		if k == name {
			var p connPage
			if json.Unmarshal(v, &p) == nil {
				return &p
			}
		}
		if len(v) > 0 && v[0] == '{' {
			if p := findConnMaybe(v, name); p != nil {
				return p
			}
		}
	}
	return nil
}
