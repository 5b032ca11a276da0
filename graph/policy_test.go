package graph_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"okrgraph/ent/organization"
	"okrgraph/ent/policyversion"
	"okrgraph/internal/app"
	"okrgraph/internal/scope"
	"okrgraph/internal/testenv"
)

// Tenant policies through the real handler: the lifecycle (validate, save,
// test, explain, activate, roll back, deactivate) and hostile policies.

const ownersOnlyReason = "only organization owners may create organization-level objectives"

type regoFile struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

// example reads a shipped example policy of examples/tenant-policies.
func example(t *testing.T, name string) []regoFile {
	t.Helper()
	dir := filepath.Join("..", "examples", "tenant-policies", name)
	paths, err := filepath.Glob(filepath.Join(dir, "*.rego"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("example %s: %v", name, err)
	}
	var out []regoFile
	for _, p := range paths {
		src, err := os.ReadFile(p)
		testenv.Must(t, err)
		out = append(out, regoFile{filepath.Base(p), string(src)})
	}
	return out
}

// rego is one module named policy.rego in package okrgraph.tenant.<pkg>.
func rego(pkg, body string) []regoFile {
	return []regoFile{{"policy.rego", "package okrgraph.tenant." + pkg + "\n\n" + body}}
}

type policyVersion struct {
	ID      string
	Number  int
	Status  string
	Comment string
	Author  *struct{ Email string }
	Modules []regoFile
}

const versionFields = `id number status comment author { email } modules { name source }`

func savePolicy(t *testing.T, c *testenv.Client, mods []regoFile, comment string) policyVersion {
	t.Helper()
	var out struct {
		SavePolicyDraft policyVersion `json:"savePolicyDraft"`
	}
	c.MustDo(t, `mutation($m: [PolicyModuleInput!]!, $c: String) { savePolicyDraft(modules: $m, comment: $c) { `+versionFields+` } }`,
		map[string]any{"m": mods, "c": comment}, &out)
	return out.SavePolicyDraft
}

func activatePolicy(t *testing.T, c *testenv.Client, op, id string) *testenv.Response {
	t.Helper()
	return c.Do(t, `mutation($id: ID!) { `+op+`(versionId: $id) { `+versionFields+` } }`, map[string]any{"id": id})
}

func mustActivate(t *testing.T, c *testenv.Client, op, id string) policyVersion {
	t.Helper()
	r := activatePolicy(t, c, op, id)
	var out map[string]policyVersion
	r.Decode(t, &out)
	return out[op]
}

func activePolicy(t *testing.T, c *testenv.Client) *policyVersion {
	t.Helper()
	var out struct {
		ActivePolicy *policyVersion `json:"activePolicy"`
	}
	c.MustDo(t, `{ activePolicy { `+versionFields+` } }`, nil, &out)
	return out.ActivePolicy
}

type validation struct {
	Valid    bool
	Problems []struct {
		File    string
		Line    int
		Column  int
		Message string
	}
}

func validatePolicy(t *testing.T, c *testenv.Client, mods []regoFile) validation {
	t.Helper()
	var out struct {
		ValidatePolicy validation `json:"validatePolicy"`
	}
	c.MustDo(t, `mutation($m: [PolicyModuleInput!]!) { validatePolicy(modules: $m) { valid problems { file line column message } } }`,
		map[string]any{"m": mods}, &out)
	return out.ValidatePolicy
}

type testRun struct {
	Passed  bool
	Results []struct {
		Package string
		Name    string
		Passed  bool
		Message string
		Safety  bool
	}
	Problems []struct{ Message string }
}

func testPolicy(t *testing.T, c *testenv.Client, versionID string) testRun {
	t.Helper()
	var out struct {
		TestPolicy testRun `json:"testPolicy"`
	}
	c.MustDo(t, `mutation($id: ID) { testPolicy(versionId: $id) { passed results { package name passed message safety } problems { message } } }`,
		map[string]any{"id": versionID}, &out)
	return out.TestPolicy
}

type explanation struct {
	Allowed   bool
	Reasons   []string
	DecidedBy string
	Version   *int
}

func explainPolicy(t *testing.T, c *testenv.Client, in map[string]any) explanation {
	t.Helper()
	var out struct {
		ExplainPolicy explanation `json:"explainPolicy"`
	}
	c.MustDo(t, `mutation($in: ExplainPolicyInput!) { explainPolicy(input: $in) { allowed reasons decidedBy version } }`,
		map[string]any{"in": in}, &out)
	return out.ExplainPolicy
}

// createObjective creates an objective at level as the client.
func createObjective(t *testing.T, c *testenv.Client, level, title string) *testenv.Response {
	t.Helper()
	return c.Do(t, `mutation($in: CreateOKRItemInput!) { createOKRItem(input: $in) { item { id } } }`,
		map[string]any{"in": map[string]any{"kind": "OBJECTIVE", "level": level, "title": title}})
}

func createdID(t *testing.T, r *testenv.Response) string {
	t.Helper()
	var out struct {
		CreateOKRItem struct{ Item struct{ ID string } } `json:"createOKRItem"`
	}
	r.Decode(t, &out)
	return out.CreateOKRItem.Item.ID
}

// forbidden checks r is FORBIDDEN with a reason containing want.
func forbidden(t *testing.T, r *testenv.Response, want string) {
	t.Helper()
	if r.Code() != "FORBIDDEN" {
		t.Fatalf("want FORBIDDEN, got %q (%+v, data %s)", r.Code(), r.Errors, r.Data)
	}
	reasons, _ := r.Errors[0].Extensions["reasons"].([]any)
	for _, x := range reasons {
		if s, _ := x.(string); strings.Contains(s, want) {
			return
		}
	}
	t.Fatalf("reasons %v do not mention %q", reasons, want)
}

// code checks r failed with the code and a message containing want.
func code(t *testing.T, r *testenv.Response, code, want string) {
	t.Helper()
	if r.Code() != code {
		t.Fatalf("want %s, got %q (%+v, data %s)", code, r.Code(), r.Errors, r.Data)
	}
	if !strings.Contains(r.Errors[0].Message, want) {
		t.Fatalf("message %q does not mention %q", r.Errors[0].Message, want)
	}
}

// TestTenantPolicyHeadline: an admin restricts org-level objectives to
// org owners with a tenant policy, tests it, explains it for a member,
// activates it (members are then refused with the tenant's reason, owners
// are not), rolls back and deactivates; the audit log tells the story.
func TestTenantPolicyHeadline(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam, steve, olivia := e.As("adam", "acme"), e.As("steve", "acme"), e.As("olivia", "acme")
		steveID := e.UserID(t, "steve")

		// Version 1: an unrelated policy, active to begin with.
		v1 := savePolicy(t, adam, example(t, "supervisor-chain-edits"), "supervisors edit")
		if v1.Number != 1 || v1.Status != "DRAFT" || v1.Author == nil || v1.Author.Email != "adam@acme.example" || v1.Comment != "supervisors edit" {
			t.Fatalf("version 1: %+v", v1)
		}
		if v := mustActivate(t, adam, "activatePolicy", v1.ID); v.Status != "ACTIVE" {
			t.Fatalf("activated: %+v", v)
		}
		testenv.Must(t, createdErr(createObjective(t, steve, "ORGANIZATION", "Members may, under version 1")))

		// Version 2: organization objectives are the owners' job.
		mods := example(t, "org-objectives-owners-only")
		if v := validatePolicy(t, adam, mods); !v.Valid || len(v.Problems) != 0 {
			t.Fatalf("validate: %+v", v)
		}
		v2 := savePolicy(t, adam, mods, "owners only")
		if v2.Number != 2 || v2.Status != "DRAFT" || len(v2.Modules) != 2 {
			t.Fatalf("version 2: %+v", v2)
		}
		run := testPolicy(t, adam, v2.ID)
		own, safety := 0, 0
		for _, r := range run.Results {
			if !r.Passed {
				t.Errorf("test %s.%s failed: %s", r.Package, r.Name, r.Message)
			}
			if r.Safety {
				safety++
			} else {
				own++
			}
		}
		if !run.Passed || own != 3 || safety == 0 {
			t.Fatalf("test run: %+v", run)
		}

		// Explain before activating: under version 2, as Steve.
		orgObjective := map[string]any{"kind": "OBJECTIVE", "level": "ORGANIZATION", "title": "Explained"}
		ex := explainPolicy(t, adam, map[string]any{"versionId": v2.ID, "asUserId": steveID, "action": "okr.create", "createInput": orgObjective})
		if ex.Allowed || ex.DecidedBy != "TENANT" || !slices.Equal(ex.Reasons, []string{ownersOnlyReason}) || ex.Version == nil || *ex.Version != 2 {
			t.Fatalf("explain under version 2: %+v", ex)
		}
		ex = explainPolicy(t, adam, map[string]any{"asUserId": e.UserID(t, "olivia"), "versionId": v2.ID, "action": "okr.create", "createInput": orgObjective})
		if !ex.Allowed || ex.DecidedBy != "DEFAULT" {
			t.Fatalf("explain for the owner under version 2: %+v", ex)
		}
		ex = explainPolicy(t, adam, map[string]any{"asUserId": steveID, "action": "okr.create", "createInput": orgObjective})
		if !ex.Allowed || ex.DecidedBy != "DEFAULT" || ex.Version == nil || *ex.Version != 1 {
			t.Fatalf("explain under the active version: %+v", ex)
		}
		ex = explainPolicy(t, adam, map[string]any{"defaultOnly": true, "asUserId": steveID, "action": "okr.create", "createInput": orgObjective})
		if !ex.Allowed || ex.DecidedBy != "DEFAULT" || ex.Version != nil {
			t.Fatalf("explain under the default policy: %+v", ex)
		}
		// Explaining writes nothing but the audit log.
		var count struct{ Okrs struct{ TotalCount int } }
		adam.MustDo(t, `{ okrs(where: {title: "Explained"}) { totalCount } }`, nil, &count)
		if count.Okrs.TotalCount != 0 {
			t.Fatal("explain created an item")
		}

		// Activate: members are refused with the tenant's reason, owners are not.
		if v := mustActivate(t, adam, "activatePolicy", v2.ID); v.Status != "ACTIVE" || v.Number != 2 {
			t.Fatalf("activated: %+v", v)
		}
		if a := activePolicy(t, adam); a == nil || a.Number != 2 {
			t.Fatalf("active policy: %+v", a)
		}
		forbidden(t, createObjective(t, steve, "ORGANIZATION", "Not for members"), ownersOnlyReason)
		forbidden(t, createObjective(t, adam, "ORGANIZATION", "Not for admins either"), ownersOnlyReason)
		testenv.Must(t, createdErr(createObjective(t, olivia, "ORGANIZATION", "The owner's")))
		testenv.Must(t, createdErr(createObjective(t, steve, "INDIVIDUAL", "Steve's own")))

		// Roll back to version 1: members create org objectives again.
		if v := mustActivate(t, adam, "rollbackPolicy", v1.ID); v.Status != "ACTIVE" || v.Number != 1 {
			t.Fatalf("rolled back: %+v", v)
		}
		testenv.Must(t, createdErr(createObjective(t, steve, "ORGANIZATION", "Members may again")))
		var versions struct{ PolicyVersions []policyVersion }
		adam.MustDo(t, `{ policyVersions { `+versionFields+` } }`, nil, &versions)
		if len(versions.PolicyVersions) != 2 || versions.PolicyVersions[0].Status != "ARCHIVED" || versions.PolicyVersions[1].Status != "ACTIVE" {
			t.Fatalf("versions: %+v", versions.PolicyVersions)
		}
		// Rolling back to a version never active, or to the active one, is refused.
		v3 := savePolicy(t, adam, mods, "")
		code(t, activatePolicy(t, adam, "rollbackPolicy", v3.ID), "BAD_USER_INPUT", "never active")
		code(t, activatePolicy(t, adam, "activatePolicy", v1.ID), "CONFLICT", "already active")

		// Deactivate: the default policy only.
		var de struct {
			DeactivatePolicy struct{ Deactivated *policyVersion } `json:"deactivatePolicy"`
		}
		adam.MustDo(t, `mutation { deactivatePolicy { deactivated { number status } } }`, nil, &de)
		if d := de.DeactivatePolicy.Deactivated; d == nil || d.Number != 1 || d.Status != "ARCHIVED" {
			t.Fatalf("deactivated: %+v", d)
		}
		if a := activePolicy(t, adam); a != nil {
			t.Fatalf("active after deactivation: %+v", a)
		}
		adam.MustDo(t, `mutation { deactivatePolicy { deactivated { number } } }`, nil, &de)
		if de.DeactivatePolicy.Deactivated != nil {
			t.Fatal("deactivating twice deactivated something")
		}

		// The audit log, newest first, names the actor of each step.
		var audit struct {
			PolicyAudit []struct {
				Action    string
				Version   *int
				Detail    string
				Actor     struct{ Email string }
				CreatedAt string
			} `json:"policyAudit"`
		}
		adam.MustDo(t, `{ policyAudit(first: 100) { action version detail actor { email } createdAt } }`, nil, &audit)
		var actions []string
		for _, a := range audit.PolicyAudit {
			actions = append(actions, a.Action)
			if a.Actor.Email != "adam@acme.example" || a.CreatedAt == "" {
				t.Errorf("entry %+v", a)
			}
		}
		want := []string{"DEACTIVATE", "SAVE_DRAFT", "ROLLBACK", "ACTIVATE", "EXPLAIN", "EXPLAIN", "EXPLAIN", "EXPLAIN", "TEST", "SAVE_DRAFT", "VALIDATE", "ACTIVATE", "SAVE_DRAFT"}
		if !slices.Equal(actions, want) {
			t.Fatalf("audit actions %v, want %v", actions, want)
		}
		if e := audit.PolicyAudit[2]; e.Version == nil || *e.Version != 1 || !strings.Contains(e.Detail, "version 2") {
			t.Errorf("rollback entry: %+v", e)
		}
	})
}

// createdErr turns a failed create into an error.
func createdErr(r *testenv.Response) error {
	if len(r.Errors) > 0 {
		return fmt.Errorf("create: %+v", r.Errors)
	}
	return nil
}

// TestPolicyAccess: only org admins reach the policy; other orgs' versions
// are NOT_FOUND.
func TestPolicyAccess(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam, olivia := e.As("adam", "acme"), e.As("olivia", "acme")
		v := savePolicy(t, olivia, example(t, "org-objectives-owners-only"), "")
		mods := rego("x", "deny contains \"x\" if input.action == \"okr.delete\"\n")
		for _, who := range []string{"steve", "victor", "oscar"} {
			c := e.As(who, "acme")
			for name, r := range map[string]*testenv.Response{
				"policyVersions":   c.Do(t, `{ policyVersions { id } }`, nil),
				"policyVersion":    c.Do(t, `query($id: ID!) { policyVersion(id: $id) { id } }`, map[string]any{"id": v.ID}),
				"activePolicy":     c.Do(t, `{ activePolicy { id } }`, nil),
				"policyAudit":      c.Do(t, `{ policyAudit { id } }`, nil),
				"validatePolicy":   c.Do(t, `mutation($m: [PolicyModuleInput!]!) { validatePolicy(modules: $m) { valid } }`, map[string]any{"m": mods}),
				"savePolicyDraft":  c.Do(t, `mutation($m: [PolicyModuleInput!]!) { savePolicyDraft(modules: $m) { id } }`, map[string]any{"m": mods}),
				"testPolicy":       c.Do(t, `mutation($id: ID) { testPolicy(versionId: $id) { passed } }`, map[string]any{"id": v.ID}),
				"explainPolicy":    c.Do(t, `mutation($in: ExplainPolicyInput!) { explainPolicy(input: $in) { allowed } }`, map[string]any{"in": map[string]any{"asUserId": e.UserID(t, who), "action": "org.manage"}}),
				"activatePolicy":   activatePolicy(t, c, "activatePolicy", v.ID),
				"rollbackPolicy":   activatePolicy(t, c, "rollbackPolicy", v.ID),
				"deactivatePolicy": c.Do(t, `mutation { deactivatePolicy { deactivated { id } } }`, nil),
			} {
				if r.Code() != "FORBIDDEN" {
					t.Errorf("%s as %s: %q (%+v)", name, who, r.Code(), r.Errors)
				}
			}
		}
		// Another organization's versions do not exist for acme.
		other := e.As("zoe@other.example", "")
		other.MustDo(t, `mutation { createOrganization(input: {name: "Other", slug: "other"}) { organization { id } } }`, nil, &struct{}{})
		theirs := savePolicy(t, e.As("zoe@other.example", "other"), mods, "")
		for name, r := range map[string]*testenv.Response{
			"policyVersion":  adam.Do(t, `query($id: ID!) { policyVersion(id: $id) { id } }`, map[string]any{"id": theirs.ID}),
			"testPolicy":     adam.Do(t, `mutation($id: ID) { testPolicy(versionId: $id) { passed } }`, map[string]any{"id": theirs.ID}),
			"activatePolicy": activatePolicy(t, adam, "activatePolicy", theirs.ID),
			"rollbackPolicy": activatePolicy(t, adam, "rollbackPolicy", theirs.ID),
			"explainPolicy": adam.Do(t, `mutation($in: ExplainPolicyInput!) { explainPolicy(input: $in) { allowed } }`,
				map[string]any{"in": map[string]any{"versionId": theirs.ID, "asUserId": e.UserID(t, "steve"), "action": "org.manage"}}),
			"explain as a non-member": adam.Do(t, `mutation($in: ExplainPolicyInput!) { explainPolicy(input: $in) { allowed } }`,
				map[string]any{"in": map[string]any{"asUserId": e.UserID(t, "zoe@other.example"), "action": "org.manage"}}),
		} {
			if r.Code() != "NOT_FOUND" {
				t.Errorf("%s: %q (%+v)", name, r.Code(), r.Errors)
			}
		}
		var versions struct{ PolicyVersions []policyVersion }
		adam.MustDo(t, `{ policyVersions { id } }`, nil, &versions)
		if len(versions.PolicyVersions) != 1 || versions.PolicyVersions[0].ID != v.ID {
			t.Fatalf("acme sees %+v", versions.PolicyVersions)
		}
	})
}

// refused checks that modules are refused by validatePolicy with a
// problem mentioning want (at line, when line > 0), and by savePolicyDraft.
func refused(t *testing.T, c *testenv.Client, mods []regoFile, want string, line int) {
	t.Helper()
	v := validatePolicy(t, c, mods)
	if v.Valid || len(v.Problems) == 0 {
		t.Fatalf("accepted: %+v", v)
	}
	found := false
	for _, p := range v.Problems {
		if strings.Contains(p.Message, want) {
			found = true
			if line > 0 && (p.Line != line || p.Column == 0 || p.File != "policy.rego") {
				t.Errorf("problem at %s:%d:%d, want policy.rego:%d: %+v", p.File, p.Line, p.Column, line, p)
			}
		}
	}
	if !found {
		t.Fatalf("problems %+v do not mention %q", v.Problems, want)
	}
	r := c.Do(t, `mutation($m: [PolicyModuleInput!]!) { savePolicyDraft(modules: $m) { id } }`, map[string]any{"m": mods})
	code(t, r, "BAD_USER_INPUT", want)
	if line > 0 {
		code(t, r, "BAD_USER_INPUT", fmt.Sprintf("policy.rego:%d:", line))
	}
}

func TestPolicySyntaxError(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		refused(t, e.As("adam", "acme"), rego("x", "deny contains \"x\" if {\n\tinput.action ==\n}\n"), "unexpected", 5)
	})
}

func TestPolicyWrongPackage(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam := e.As("adam", "acme")
		refused(t, adam, []regoFile{{"policy.rego", "package okrgraph.main\n\ndeny contains \"x\" if true\n"}}, "outside the tenant namespace", 1)
		refused(t, adam, []regoFile{{"policy.rego", "package okrgraph.safety\n\ntest_x if true\n"}}, "outside the tenant namespace", 1)
	})
}

func TestPolicyHTTPSend(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		refused(t, e.As("adam", "acme"), rego("x", "deny contains \"x\" if {\n\thttp.send({\"method\": \"get\", \"url\": \"http://127.0.0.1\"})\n}\n"), "http.send", 4)
	})
}

func TestPolicyOPARuntime(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		refused(t, e.As("adam", "acme"), rego("x", "deny contains msg if {\n\tmsg := opa.runtime().env.HOME\n}\n"), "opa.runtime", 4)
	})
}

// TestPolicyRecursion: Rego refuses recursive rules at compile time.
func TestPolicyRecursion(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		refused(t, e.As("adam", "acme"), rego("x", "deny contains msg if {\n\tsome msg in deny\n}\n"), "is recursive", 3)
	})
}

// TestPolicyEvaluationTimeout: a policy whose comprehension would run for
// hours is stopped at the tenant deadline and denies, naming the tenant
// policy; other actions and other organizations are unaffected.
func TestPolicyEvaluationTimeout(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			e := testenv.New(t, b, testenv.Config{Demo: true, Tweak: func(c *app.Config) { c.TenantPolicyTimeout = 50 * time.Millisecond }})
			adam, steve := e.As("adam", "acme"), e.As("steve", "acme")
			mine := createdID(t, createObjective(t, steve, "INDIVIDUAL", "Steve's, to delete"))
			slow := rego("slow", `deny contains "never" if {
	input.action == "okr.delete"
	count([1 | some i in numbers.range(1, 9999); some j in numbers.range(1, 9999); some k in numbers.range(1, 9999); i == j + k + 20000]) > 0
}
`)
			v := savePolicy(t, adam, slow, "slow deletes")
			mustActivate(t, adam, "activatePolicy", v.ID)

			start := time.Now()
			r := steve.Do(t, `mutation($id: ID!) { deleteOKRItem(id: $id) { deletedId } }`, map[string]any{"id": mine})
			forbidden(t, r, fmt.Sprintf("this organization's policy (version %d) failed", v.Number))
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the denial took %v", d)
			}
			var node struct{ Node *struct{ ID string } }
			steve.MustDo(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": mine}, &node)
			if node.Node == nil {
				t.Fatal("the item was deleted")
			}
			ex := explainPolicy(t, adam, map[string]any{"asUserId": e.UserID(t, "steve"), "action": "okr.delete", "itemId": mine})
			if ex.Allowed || ex.DecidedBy != "TENANT" || len(ex.Reasons) != 2 || !strings.Contains(ex.Reasons[0], "version 1") || !strings.Contains(ex.Reasons[1], "deadline") {
				t.Fatalf("explain: %+v", ex)
			}
			// Other actions of the org and other organizations are unaffected.
			testenv.Must(t, createdErr(createObjective(t, steve, "INDIVIDUAL", "Still fine")))
			e.As("zoe@other.example", "").MustDo(t, `mutation { createOrganization(input: {name: "Other", slug: "other"}) { organization { id } } }`, nil, &struct{}{})
			zoe := e.As("zoe@other.example", "other")
			theirs := createdID(t, createObjective(t, zoe, "INDIVIDUAL", "Zoe's"))
			zoe.MustDo(t, `mutation($id: ID!) { deleteOKRItem(id: $id) { deletedId } }`, map[string]any{"id": theirs}, &struct{}{})
		})
	}
}

// TestPolicyAlwaysDeny: a policy denying everything fails the safety suite
// and cannot be activated.
func TestPolicyAlwaysDeny(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam := e.As("adam", "acme")
		v := savePolicy(t, adam, rego("no", "deny contains \"no\" if true\n"), "")
		run := testPolicy(t, adam, v.ID)
		failedSafety := 0
		for _, r := range run.Results {
			if r.Safety && !r.Passed {
				failedSafety++
			}
		}
		if run.Passed || failedSafety == 0 {
			t.Fatalf("test run: %+v", run)
		}
		code(t, activatePolicy(t, adam, "activatePolicy", v.ID), "BAD_USER_INPUT", "okrgraph.safety.test_")
		if a := activePolicy(t, adam); a != nil {
			t.Fatalf("activated: %+v", a)
		}
		testenv.Must(t, createdErr(createObjective(t, e.As("steve", "acme"), "INDIVIDUAL", "Still allowed")))
	})
}

// TestPolicyCannotTouchOrgAdministration: tenant rules granting org.* to
// everyone and denying it to admins have no effect.
func TestPolicyCannotTouchOrgAdministration(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam, steve := e.As("adam", "acme"), e.As("steve", "acme")
		v := savePolicy(t, adam, rego("coup", `allow contains "everyone administers" if startswith(input.action, "org.")

deny contains "admins are locked out" if {
	startswith(input.action, "org.")
	input.subject.role in {"ADMIN", "OWNER"}
}
`), "")
		mustActivate(t, adam, "activatePolicy", v.ID)
		r := steve.Do(t, `mutation { updateOrganization(input: {name: "Steve's now"}) { organization { name } } }`, nil)
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("a member renamed the org: %+v", r)
		}
		if r := steve.Do(t, `{ policyVersions { id } }`, nil); r.Code() != "FORBIDDEN" {
			t.Fatalf("a member read the policy: %+v", r)
		}
		adam.MustDo(t, `mutation { updateOrganization(input: {name: "Acme"}) { organization { name } } }`, nil, &struct{}{})
		adam.MustDo(t, `mutation { addMember(input: {email: "new@acme.example"}) { membership { id } } }`, nil, &struct{}{})
		// The admin can still repair the policy.
		adam.MustDo(t, `mutation { deactivatePolicy { deactivated { id } } }`, nil, &struct{}{})
	})
}

// TestPolicySizeLimit: 10 MB of source never reaches the policy compiler;
// sources beyond the tenant limits are refused with a clear problem.
func TestPolicySizeLimit(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam := e.As("adam", "acme")
		huge := rego("x", "# "+strings.Repeat("x", 10<<20)+"\n")
		r := adam.Do(t, `mutation($m: [PolicyModuleInput!]!) { savePolicyDraft(modules: $m) { id } }`, map[string]any{"m": huge})
		if r.Status != 413 || len(r.Errors) == 0 {
			t.Fatalf("10 MB: status %d, %+v", r.Status, r.Errors)
		}
		big := rego("x", "# "+strings.Repeat("x", 65<<10)+"\n")
		refused(t, adam, big, "the limit is 65536 per module", 0)
		var many []regoFile
		for i := range 5 {
			many = append(many, regoFile{fmt.Sprintf("p%d.rego", i), "package okrgraph.tenant.x\n# " + strings.Repeat("x", 60<<10) + "\n"})
		}
		refused(t, adam, many, "in all; the limit is 262144", 0)
		var versions struct{ PolicyVersions []policyVersion }
		adam.MustDo(t, `{ policyVersions { id } }`, nil, &versions)
		if len(versions.PolicyVersions) != 0 {
			t.Fatalf("saved: %+v", versions.PolicyVersions)
		}
	})
}

// TestConcurrentPolicyActivations: ten activations of ten versions at once
// serialize: exactly one version is active at the end, and it is the one
// organizations.active_policy_version names.
func TestConcurrentPolicyActivations(t *testing.T) {
	testenv.Run(t, func(t *testing.T, e *testenv.Env) {
		adam := e.As("adam", "acme")
		const n = 10
		ids := make([]string, n)
		for i := range n {
			ids[i] = savePolicy(t, adam, rego(fmt.Sprintf("v%d", i), fmt.Sprintf("deny contains \"no deletes %d\" if input.action == \"okr.delete\"\n", i)), "").ID
		}
		responses := make([]*testenv.Response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { responses[i] = activatePolicy(t, adam, "activatePolicy", ids[i]) })
		}
		wg.Wait()
		for i, r := range responses {
			if len(r.Errors) > 0 {
				t.Errorf("activation %d: %+v", i, r.Errors)
			}
		}
		ctx := scope.System(context.Background())
		db := e.App.DB.Client
		active, err := db.PolicyVersion.Query().Where(policyversion.StatusEQ(policyversion.StatusACTIVE)).All(ctx)
		testenv.Must(t, err)
		o, err := db.Organization.Query().Where(organization.Slug("acme")).Only(ctx)
		testenv.Must(t, err)
		if len(active) != 1 || o.ActivePolicyVersion != active[0].Number {
			t.Fatalf("%d active versions, org says %d", len(active), o.ActivePolicyVersion)
		}
		archived, err := db.PolicyVersion.Query().Where(policyversion.StatusEQ(policyversion.StatusARCHIVED)).Count(ctx)
		testenv.Must(t, err)
		if archived != n-1 {
			t.Fatalf("%d archived", archived)
		}
		// This process decides with the version the database names.
		mine := createdID(t, createObjective(t, e.As("steve", "acme"), "INDIVIDUAL", "To delete"))
		r := e.As("steve", "acme").Do(t, `mutation($id: ID!) { deleteOKRItem(id: $id) { deletedId } }`, map[string]any{"id": mine})
		forbidden(t, r, fmt.Sprintf("no deletes %d", active[0].Number-1))
	})
}

// TestPolicyAcrossReplicas: two app instances share one database; an
// activation on one is enforced by the other within a second or two. On
// PostgreSQL the second instance's version check is turned off, so only
// LISTEN/NOTIFY can tell it; on SQLite its version check does.
func TestPolicyAcrossReplicas(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			one := testenv.New(t, b, testenv.Config{Demo: true})
			two := testenv.New(t, b, testenv.Config{DatabaseURL: one.URL, Tweak: func(c *app.Config) {
				if b == "postgres" {
					c.PolicyCheckEvery = time.Hour
				}
			}})
			steve := two.As("steve", "acme")
			testenv.Must(t, createdErr(createObjective(t, steve, "ORGANIZATION", "Before")))

			adam := one.As("adam", "acme")
			v := savePolicy(t, adam, example(t, "org-objectives-owners-only"), "")
			mustActivate(t, adam, "activatePolicy", v.ID)
			activated := time.Now()
			waitFor(t, func() bool {
				return createObjective(t, steve, "ORGANIZATION", "Racing").Code() == "FORBIDDEN"
			})
			t.Logf("%s: the other instance enforced the activation after %v", b, time.Since(activated).Round(time.Millisecond))
			forbidden(t, createObjective(t, steve, "ORGANIZATION", "After"), ownersOnlyReason)

			adam.MustDo(t, `mutation { deactivatePolicy { deactivated { id } } }`, nil, &struct{}{})
			deactivated := time.Now()
			waitFor(t, func() bool { return createObjective(t, steve, "ORGANIZATION", "Again").Code() == "" })
			t.Logf("%s: the other instance dropped the policy after %v", b, time.Since(deactivated).Round(time.Millisecond))
		})
	}
}

// TestUnloadablePolicyLocksNobodyOut: an active version that no longer
// compiles (say, after an upgrade changed the default policy) denies OKR
// actions, failing closed, but its admins can still repair it.
func TestUnloadablePolicyLocksNobodyOut(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			one := testenv.New(t, b, testenv.Config{Demo: true})
			adam := one.As("adam", "acme")
			v := savePolicy(t, adam, example(t, "org-objectives-owners-only"), "")
			mustActivate(t, adam, "activatePolicy", v.ID)
			broken := `[{"name": "policy.rego", "source": "package okrgraph.tenant.x\n\ndeny contains \"x\" if no_such_rule\n"}]`
			if _, err := one.App.DB.SQL.Exec("UPDATE policy_versions SET modules = '" + broken + "'"); err != nil {
				t.Fatal(err)
			}
			// A fresh instance loads the version and cannot compile it.
			two := testenv.New(t, b, testenv.Config{DatabaseURL: one.URL})
			forbidden(t, createObjective(t, two.As("steve", "acme"), "INDIVIDUAL", "Denied"), "could not be loaded")
			forbidden(t, createObjective(t, two.As("olivia", "acme"), "INDIVIDUAL", "Denied"), "could not be loaded")
			admin := two.As("adam", "acme")
			var versions struct{ PolicyVersions []policyVersion }
			admin.MustDo(t, `{ policyVersions { id status } }`, nil, &versions)
			if len(versions.PolicyVersions) != 1 || versions.PolicyVersions[0].Status != "ACTIVE" {
				t.Fatalf("versions: %+v", versions.PolicyVersions)
			}
			admin.MustDo(t, `mutation { deactivatePolicy { deactivated { id } } }`, nil, &struct{}{})
			testenv.Must(t, createdErr(createObjective(t, two.As("steve", "acme"), "INDIVIDUAL", "Allowed again")))
			code(t, activatePolicy(t, admin, "rollbackPolicy", v.ID), "BAD_USER_INPUT", "is invalid")
		})
	}
}

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("not within 2s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkCreateObjectiveTenantPolicy: createOKRItem for an org whose
// active tenant policy has a rule on okr.create (compare with
// BenchmarkCreateObjective: the default policy alone, and a no-op).
func BenchmarkCreateObjectiveTenantPolicy(b *testing.B) {
	e := testenv.New(b, "sqlite", testenv.Config{Demo: true})
	adam := e.As("adam", "acme")
	var saved struct{ SavePolicyDraft struct{ ID string } }
	adam.MustDo(b, `mutation($m: [PolicyModuleInput!]!) { savePolicyDraft(modules: $m) { id } }`, map[string]any{"m": rego("owners", `deny contains "owners only" if {
	input.action == "okr.create"
	input.resource.level == "ORGANIZATION"
	input.subject.role != "OWNER"
}
`)}, &saved)
	adam.MustDo(b, `mutation($id: ID!) { activatePolicy(versionId: $id) { id } }`, map[string]any{"id": saved.SavePolicyDraft.ID}, &struct{}{})
	c := e.As("steve", "acme")
	vars := map[string]any{"in": map[string]any{"kind": "OBJECTIVE", "level": "INDIVIDUAL", "title": "Benchmark objective"}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r := c.Do(b, createItem, vars); len(r.Errors) > 0 {
			b.Fatal(r.Errors)
		}
	}
}
