package graph_test

import (
	"strings"
	"testing"

	"okrgraph/internal/testenv"
)

// Reasons people read name teams by name and say what a check-in owner may do.
func TestDenialReasonsReadWell(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		olivia := e.As("olivia", "acme")
		sales := teamID(t, olivia, "Sales")
		olivia.MustDo(t, `mutation($id: ID!) { updateTeam(input: {id: $id, okrCreation: TEAM_OWNERS}) { team { id } } }`, map[string]any{"id": sales}, &struct{}{})
		martha := e.As("martha", "acme")
		r := martha.Do(t, createItem, map[string]any{"in": map[string]any{"kind": "OBJECTIVE", "level": "TEAM", "title": "Sales push", "teamIds": []string{sales}}})
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("team-owners-only creation: %+v", r.Errors)
		}
		reasons := strings.Join(reasonsOf(r), "; ")
		if !strings.Contains(reasons, `team "Sales"`) || strings.Contains(reasons, sales) {
			t.Errorf("reasons %q should name the team, not its id %s", reasons, sales)
		}
		r = martha.Do(t, `mutation($id: ID!) { updateTeam(input: {id: $id, description: "x"}) { team { id } } }`, map[string]any{"id": sales})
		if reasons := strings.Join(reasonsOf(r), "; "); r.Code() != "FORBIDDEN" || !strings.Contains(reasons, `team "Sales"`) || strings.Contains(reasons, sales) {
			t.Errorf("team settings: %s %q", r.Code(), reasons)
		}

		// The check-in owner may check in, and is told so when editing.
		item := mustCreate(t, olivia, map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Checked by Martha"})
		olivia.MustDo(t, `mutation($id: ID!, $u: ID!) { setCheckinOwner(input: {id: $id, userId: $u}) { item { id } } }`,
			map[string]any{"id": item.ID, "u": e.UserID(t, "martha")}, &struct{}{})
		r = martha.Do(t, `mutation($id: ID!) { updateOKRItem(input: {id: $id, title: "Renamed"}) { item { id } } }`, map[string]any{"id": item.ID})
		if reasons := strings.Join(reasonsOf(r), "; "); r.Code() != "FORBIDDEN" || !strings.Contains(reasons, "check-in owner may only check in") {
			t.Errorf("check-in owner's edit: %s %q", r.Code(), reasons)
		}
	})
}

func reasonsOf(r *testenv.Response) []string {
	var out []string
	for _, e := range r.Errors {
		if rs, ok := e.Extensions["reasons"].([]any); ok {
			for _, x := range rs {
				s, _ := x.(string)
				out = append(out, s)
			}
		}
	}
	return out
}
