package graph_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"okrgraph/graph/generated"
	"okrgraph/internal/testenv"
)

// mutationCase is a successful call of one mutation: who calls it and its
// arguments. prepare runs first and may set up what it needs through the
// API; it sees the data of every earlier call.
type mutationCase struct {
	who  string
	args func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any
}

// mutationFixtures carries ids between the calls.
type mutationFixtures struct {
	results map[string]json.RawMessage // mutation name -> its payload
}

// id reads a string at path (field names) in mutation name's payload.
func (f *mutationFixtures) id(t *testing.T, name string, path ...string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(f.results[name], &v); err != nil {
		t.Fatalf("%s has no result (it must run before): %v", name, err)
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: no %v in %s", name, path, f.results[name])
		}
		v = m[p]
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s: %v is %v", name, path, v)
	}
	return s
}

const tenantModule = "package okrgraph.tenant.generated\n\ndeny contains \"no titles about weather\" if {\n\tinput.action == \"okr.create\"\n\tinput.resource.title == \"weather\"\n}\n"

// mutationCases lists a minimal successful call of every mutation, in the
// order they run (later ones use what earlier ones made). A mutation added
// to the schema without an entry here fails TestEveryMutationAnswersItsPayload.
var mutationOrder = []string{
	"updateProfile", "createOrganization", "updateOrganization", "addMember", "updateMember", "removeMember", "leaveOrganization",
	"createApiToken", "revokeApiToken",
	"createTeam", "updateTeam", "setTeamMember", "removeTeamMember", "deleteTeam", "createTimePeriod", "closeTimePeriod",
	"createOKRItem", "updateOKRItem", "checkIn", "updateCheckIn", "addComment", "deleteComment",
	"likeOKRItem", "unlikeOKRItem", "followOKRItem", "unfollowOKRItem", "likeCheckIn", "unlikeCheckIn",
	"setDataLink", "setWeights", "setDelegate", "setCheckinOwner", "grantAccess", "revokeAccess",
	"setAlignmentRestricted", "cloneOKRItem", "closeOKRItem", "reopenOKRItem", "deleteCheckIn", "deleteOKRItem",
	"validatePolicy", "savePolicyDraft", "testPolicy", "explainPolicy", "activatePolicy", "rollbackPolicy", "deactivatePolicy",
	"createReviewCycle", "updateReviewCycle", "launchReviewCycle", "saveReview", "submitReview", "sendBackReview",
	"approveReview", "shareReview", "shareReviewCycle", "closeReviewCycle",
}

func mutationCases() map[string]mutationCase {
	in := func(m map[string]any) map[string]any { return map[string]any{"input": m} }
	idArg := func(id string) map[string]any { return map[string]any{"id": id} }
	obj := func(t *testing.T, f *mutationFixtures) string {
		return f.id(t, "createOKRItem", "item", "id")
	}
	kr := func(t *testing.T, f *mutationFixtures) string {
		return f.id(t, "checkIn", "item", "id")
	}
	ci := func(t *testing.T, f *mutationFixtures) string {
		return f.id(t, "checkIn", "checkIn", "id")
	}
	now := time.Now().UTC()
	return map[string]mutationCase{
		"updateProfile": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"name": "Steve S"})
		}},
		"createOrganization": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"name": "Globex", "slug": "globex-generated"})
		}},
		"updateOrganization": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"checkinCadenceDays": 7})
		}},
		"addMember": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"email": "newcomer@acme.example", "name": "Newcomer"})
		}},
		"updateMember": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"id": f.id(t, "addMember", "membership", "id"), "observer": true})
		}},
		"removeMember": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(f.id(t, "addMember", "membership", "id"))
		}},
		"leaveOrganization": {"carl", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any { return nil }},
		"createApiToken": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"name": "Generated BI token"})
		}},
		"revokeApiToken": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(f.id(t, "createApiToken", "token", "id"))
		}},
		"createTeam": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"name": "Generated team"})
		}},
		"updateTeam": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"id": f.id(t, "createTeam", "team", "id"), "description": "made by a test"})
		}},
		"setTeamMember": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"teamId": f.id(t, "createTeam", "team", "id"), "userId": e.UserID(t, "steve")})
		}},
		"removeTeamMember": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"teamId": f.id(t, "createTeam", "team", "id"), "userId": e.UserID(t, "steve")})
		}},
		"deleteTeam": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(f.id(t, "createTeam", "team", "id"))
		}},
		"createTimePeriod": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"name": "Generated", "startsAt": now.Add(-24 * time.Hour).Format(time.RFC3339), "endsAt": now.Add(60 * 24 * time.Hour).Format(time.RFC3339)})
		}},
		"closeTimePeriod": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(lcPeriod(t, e.As("adam", "acme"), "To close", now.Add(-90*24*time.Hour), now.Add(-24*time.Hour)))
		}},
		"createOKRItem": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Generated objective", "timePeriodId": f.id(t, "createTimePeriod", "timePeriod", "id")})
		}},
		"updateOKRItem": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"id": obj(t, f), "description": "edited"})
		}},
		"checkIn": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			k := lcCreate(t, e.As("steve", "acme"), map[string]any{"kind": "KEY_RESULT", "title": "Generated key result", "parentId": obj(t, f), "metricStart": 0, "metricTarget": 10})
			return in(map[string]any{"itemId": k, "value": 4, "note": "first"})
		}},
		"updateCheckIn": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"id": ci(t, f), "value": 5})
		}},
		"addComment": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"checkInId": ci(t, f), "body": "Nice"})
		}},
		"deleteComment": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(f.id(t, "addComment", "comment", "id"))
		}},
		"likeOKRItem":   {"martha", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any { return idArg(obj(t, f)) }},
		"unlikeOKRItem": {"martha", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any { return idArg(obj(t, f)) }},
		"followOKRItem": {"martha", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any { return idArg(obj(t, f)) }},
		"unfollowOKRItem": {"martha", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(obj(t, f))
		}},
		"likeCheckIn":   {"martha", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any { return idArg(ci(t, f)) }},
		"unlikeCheckIn": {"martha", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any { return idArg(ci(t, f)) }},
		"setDataLink": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"id": kr(t, f), "dataLink": "https://example.com/sheet"})
		}},
		"setWeights": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"parentId": obj(t, f), "weights": []map[string]any{{"id": kr(t, f), "weight": 2}}})
		}},
		"setDelegate": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"id": obj(t, f), "delegateId": e.UserID(t, "martha"), "delegateKeyResults": true})
		}},
		"setCheckinOwner": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"id": obj(t, f), "userId": e.UserID(t, "sam")})
		}},
		"grantAccess": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"itemId": obj(t, f), "userId": e.UserID(t, "sue"), "kind": "EDIT"})
		}},
		"revokeAccess": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"itemId": obj(t, f), "userId": e.UserID(t, "sue"), "kind": "EDIT"})
		}},
		"setAlignmentRestricted": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"id": obj(t, f), "restricted": true})
		}},
		"cloneOKRItem": {"martha", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"id": obj(t, f), "withKeyResults": true})
		}},
		"closeOKRItem": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"id": obj(t, f), "score": 0.5, "note": "done"})
		}},
		"reopenOKRItem": {"steve", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any { return idArg(obj(t, f)) }},
		"deleteCheckIn": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any { return idArg(ci(t, f)) }},
		"deleteOKRItem": {"martha", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(f.id(t, "cloneOKRItem", "item", "id"))
		}},
		"validatePolicy": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return map[string]any{"modules": []map[string]any{{"name": "generated.rego", "source": tenantModule}}}
		}},
		"savePolicyDraft": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return map[string]any{"modules": []map[string]any{{"name": "generated.rego", "source": tenantModule}}, "comment": "first"}
		}},
		"testPolicy": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return map[string]any{"versionId": f.id(t, "savePolicyDraft", "id")}
		}},
		"explainPolicy": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"asUserId": e.UserID(t, "martha"), "action": "okr.update", "itemId": obj(t, f)})
		}},
		"activatePolicy": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return map[string]any{"versionId": f.id(t, "savePolicyDraft", "id")}
		}},
		"rollbackPolicy": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			// A second version becomes active; the first is rolled back to.
			adam := e.As("adam", "acme")
			var v struct {
				SavePolicyDraft struct{ ID string } `json:"savePolicyDraft"`
			}
			adam.MustDo(t, `mutation($m: [PolicyModuleInput!]!) { savePolicyDraft(modules: $m) { id } }`,
				map[string]any{"m": []map[string]any{{"name": "generated.rego", "source": tenantModule + "\n# v2\n"}}}, &v)
			adam.MustDo(t, `mutation($v: ID!) { activatePolicy(versionId: $v) { id } }`, map[string]any{"v": v.SavePolicyDraft.ID}, &struct{}{})
			return map[string]any{"versionId": f.id(t, "savePolicyDraft", "id")}
		}},
		"deactivatePolicy": {"adam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any { return nil }},
		"createReviewCycle": {"olivia", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"name": "Generated cycle", "startsAt": now.Format(time.RFC3339), "endsAt": now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
				"criteria":         []map[string]any{{"key": "impact", "name": "Impact", "scale": map[string]any{"min": 1, "max": 5}}},
				"approvalRequired": true, "approverRule": "PERFORMANCE_ADMINS"})
		}},
		"updateReviewCycle": {"olivia", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return in(map[string]any{"id": f.id(t, "createReviewCycle", "cycle", "id"), "name": "Generated cycle, renamed"})
		}},
		"launchReviewCycle": {"olivia", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(f.id(t, "createReviewCycle", "cycle", "id"))
		}},
		"saveReview": {"sam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			r := reviewsIn(t, e.As("sam", "acme"), f.id(t, "createReviewCycle", "cycle", "id"))["steve/MANAGER"]
			return in(map[string]any{"id": r.ID, "ratings": []map[string]any{{"criterion": "impact", "value": 4}}, "comments": "Good spring"})
		}},
		"submitReview": {"sam", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(f.id(t, "saveReview", "review", "id"))
		}},
		"sendBackReview": {"olivia", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			steve := e.As("steve", "acme")
			r := reviewsIn(t, steve, f.id(t, "createReviewCycle", "cycle", "id"))["steve/SELF"]
			steve.MustDo(t, `mutation($id: ID!) { saveReview(input: {id: $id, ratings: [{criterion: "impact", value: 3}]}) { review { id } } }`, map[string]any{"id": r.ID}, &struct{}{})
			steve.MustDo(t, `mutation($id: ID!) { submitReview(id: $id) { review { id } } }`, map[string]any{"id": r.ID}, &struct{}{})
			return in(map[string]any{"id": r.ID, "note": "Please add your goals"})
		}},
		"approveReview": {"olivia", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(f.id(t, "saveReview", "review", "id"))
		}},
		"shareReview": {"olivia", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(f.id(t, "saveReview", "review", "id"))
		}},
		"shareReviewCycle": {"olivia", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(f.id(t, "createReviewCycle", "cycle", "id"))
		}},
		"closeReviewCycle": {"olivia", func(t *testing.T, e *testenv.Env, f *mutationFixtures) map[string]any {
			return idArg(f.id(t, "createReviewCycle", "cycle", "id"))
		}},
	}
}

// TestEveryMutationAnswersItsPayload calls every mutation of the schema
// successfully, selecting every field of its payload and of the objects
// it reaches, two edges deep (connections with first: 2), and wants an
// answer without a single error: what a mutation returns must be readable
// after it committed (entities made inside a transaction used to keep the
// finished transaction and fail every edge).
func TestEveryMutationAnswersItsPayload(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	cases := mutationCases()
	var names []string
	for _, f := range schema.Mutation.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		names = append(names, f.Name)
		if _, ok := cases[f.Name]; !ok || !slices.Contains(mutationOrder, f.Name) {
			t.Errorf("mutation %s has no case in mutationCases/mutationOrder: add a minimal successful call", f.Name)
		}
	}
	for _, n := range mutationOrder {
		if !slices.Contains(names, n) {
			t.Errorf("case %s is not a mutation of the schema", n)
		}
	}
	if t.Failed() {
		return
	}
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		f := &mutationFixtures{results: map[string]json.RawMessage{}}
		for _, name := range mutationOrder {
			c := cases[name]
			field := schema.Mutation.Fields.ForName(name)
			args := c.args(t, e, f)
			var decls, uses []string
			for _, a := range field.Arguments {
				if _, ok := args[a.Name]; !ok {
					continue
				}
				decls = append(decls, "$"+a.Name+": "+a.Type.String())
				uses = append(uses, a.Name+": $"+a.Name)
			}
			q := "mutation"
			if len(decls) > 0 {
				q += "(" + strings.Join(decls, ", ") + ")"
			}
			q += " { " + name
			if len(uses) > 0 {
				q += "(" + strings.Join(uses, ", ") + ")"
			}
			q += " " + selection(schema, schema.Types[field.Type.Name()], 2) + " }"
			r := e.As(c.who, "acme").Do(t, q, args)
			if len(r.Errors) > 0 || r.Status != 200 {
				t.Fatalf("%s answered %d %+v\nquery: %s", name, r.Status, r.Errors, q)
			}
			var data map[string]json.RawMessage
			if err := json.Unmarshal(r.Data, &data); err != nil || string(data[name]) == "null" {
				t.Fatalf("%s: data %s", name, r.Data)
			}
			f.results[name] = data[name]
		}
	})
}

// selection selects every field of def that takes no required argument:
// scalars and enums always, objects (interfaces: their own fields) down to
// depth more levels; connections with first: 2.
func selection(schema *ast.Schema, def *ast.Definition, depth int) string {
	var parts []string
	for _, fd := range def.Fields {
		if strings.HasPrefix(fd.Name, "__") {
			continue
		}
		args, ok := fieldArgs(fd)
		if !ok {
			continue
		}
		t := schema.Types[fd.Type.Name()]
		switch t.Kind {
		case ast.Scalar, ast.Enum:
			parts = append(parts, fd.Name+args)
		case ast.Object, ast.Interface:
			if depth > 0 {
				parts = append(parts, fd.Name+args+" "+selection(schema, t, depth-1))
			}
		case ast.Union:
			if depth > 0 {
				parts = append(parts, fd.Name+args+" { __typename }")
			}
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "__typename")
	}
	return "{ " + strings.Join(parts, " ") + " }"
}

// fieldArgs gives a connection first: 2; a field with another required
// argument is left out.
func fieldArgs(fd *ast.FieldDefinition) (string, bool) {
	var args []string
	for _, a := range fd.Arguments {
		switch {
		case a.Name == "first":
			args = append(args, "first: 2")
		case a.Type.NonNull && a.DefaultValue == nil:
			return "", false
		}
	}
	if len(args) == 0 {
		return "", true
	}
	return fmt.Sprintf("(%s)", strings.Join(args, ", ")), true
}
