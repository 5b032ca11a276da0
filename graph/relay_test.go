package graph_test

import (
	"encoding/json"
	"strings"
	"testing"

	"okrgraph/graph"
	"okrgraph/internal/testenv"
)

// What Relay and Apollo clients rely on: lookups by id are nullable (a
// missing one nulls its field, not the whole response), every type with an
// id is a Node, and the published schema carries no server-only directive.

func TestLookupsByIDAreNullable(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		c := e.As("olivia", "acme")
		// An id of no row (another type's range is also not found).
		for _, q := range []string{
			`{ viewer { user { name } } review(id: "42949672959999") { id } }`,
			`{ viewer { user { name } } reviewCycle(id: "51539607559999") { id } }`,
			`{ viewer { user { name } } policyVersion(id: "60129549999") { id } }`,
			`{ viewer { user { name } } node(id: "60129549999") { id } }`,
		} {
			r := c.Do(t, q, nil)
			if r.Code() != "NOT_FOUND" {
				t.Errorf("%s: code %q, want NOT_FOUND: %+v", q, r.Code(), r.Errors)
			}
			var data struct {
				Viewer struct{ User struct{ Name string } }
			}
			if err := json.Unmarshal(r.Data, &data); err != nil || data.Viewer.User.Name == "" {
				t.Errorf("%s: the rest of the response was lost: %s", q, r.Data)
			}
		}
	})
}

func TestPolicyVersionsAndAuditEntriesAreNodes(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		admin := e.As("adam", "acme")
		v := savePolicy(t, admin, rego("relay", `deny contains "never" if { input.action == "okr.clone"; false }`), "for node")
		var audit struct {
			PolicyAudit []struct{ ID, Action string } `json:"policyAudit"`
		}
		admin.MustDo(t, `{ policyAudit(first: 1) { id action } }`, nil, &audit)
		if len(audit.PolicyAudit) != 1 {
			t.Fatalf("audit: %+v", audit)
		}
		entry := audit.PolicyAudit[0]
		var out struct {
			V     struct{ Typename, ID, Comment string } `json:"v"`
			A     struct{ Typename, ID, Action string }  `json:"a"`
			Nodes []struct{ Typename string }            `json:"nodes"`
		}
		admin.MustDo(t, `query($v: ID!, $a: ID!) {
			v: node(id: $v) { typename: __typename id ... on PolicyVersion { comment } }
			a: node(id: $a) { typename: __typename id ... on PolicyAuditEntry { action } }
			nodes(ids: [$v, $a]) { typename: __typename }
		}`, map[string]any{"v": v.ID, "a": entry.ID}, &out)
		if out.V.Typename != "PolicyVersion" || out.V.ID != v.ID || out.V.Comment != "for node" {
			t.Errorf("node(version) = %+v", out.V)
		}
		if out.A.Typename != "PolicyAuditEntry" || out.A.ID != entry.ID || out.A.Action != entry.Action {
			t.Errorf("node(audit entry) = %+v", out.A)
		}
		if len(out.Nodes) != 2 || out.Nodes[0].Typename != "PolicyVersion" || out.Nodes[1].Typename != "PolicyAuditEntry" {
			t.Errorf("nodes = %+v", out.Nodes)
		}
		// A member who may not manage the policy reads neither, by any route.
		steve := e.As("steve", "acme")
		for _, id := range []string{v.ID, entry.ID} {
			r := steve.Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
			if r.Code() != "FORBIDDEN" || !strings.Contains(string(r.Data), `"node":null`) {
				t.Errorf("member node(%s): %s %s", id, r.Code(), r.Data)
			}
			r = steve.Do(t, `query($id: ID!) { nodes(ids: [$id]) { id } }`, map[string]any{"id": id})
			if r.Code() != "FORBIDDEN" || !strings.Contains(string(r.Data), `"nodes":[null]`) {
				t.Errorf("member nodes(%s): %s %s", id, r.Code(), r.Data)
			}
		}
	})
}

func TestPublishedSchemaHasNoServerOnlyDirectives(t *testing.T) {
	t.Parallel()
	sdl := graph.PublishedSDL()
	if strings.Contains(sdl, "@go") || !strings.Contains(sdl, "type PolicyVersion implements Node") {
		t.Errorf("printed schema: server-only directives or missing Node: %q", sdl[:200])
	}
	e := testenv.New(t, "sqlite", testenv.Config{Demo: true})
	var out struct {
		Schema struct {
			Directives []struct{ Name string }
			Types      []struct {
				Name       string
				Interfaces []struct{ Name string }
			}
		} `json:"__schema"`
	}
	e.As("steve", "acme").MustDo(t, `{ __schema { directives { name } types { name interfaces { name } } } }`, nil, &out)
	for _, d := range out.Schema.Directives {
		switch d.Name {
		case "include", "skip", "deprecated", "specifiedBy", "oneOf", "defer":
		default:
			t.Errorf("introspection shows directive @%s", d.Name)
		}
	}
	nodes := map[string]bool{}
	for _, ty := range out.Schema.Types {
		for _, i := range ty.Interfaces {
			if i.Name == "Node" {
				nodes[ty.Name] = true
			}
		}
	}
	for _, want := range []string{"PolicyVersion", "PolicyAuditEntry", "OKRItem", "Review"} {
		if !nodes[want] {
			t.Errorf("%s does not implement Node", want)
		}
	}
}
