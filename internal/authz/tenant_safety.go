package authz

import (
	"fmt"
	"strings"
)

// safetyPackage holds the built-in safety suite run with every tenant's
// tests. Tenants cannot write into it: their modules must live under
// TenantNamespace.
const safetyPackage = "okrgraph.safety"

// SafetyFacts are the real facts of the org whose policy is tested: the
// safety suite evaluates its cases with them, so a tenant rule keyed on
// the org id, its settings or the admin cannot pass the suite and then
// lock the org out. Subject is a real admin or owner of the org (the one
// running the tests); its role is set per case.
type SafetyFacts struct {
	Org     Org
	Subject Subject
}

// SyntheticSafetyFacts are facts for tests of a policy outside any org
// (the CLI): org "1", user "1".
func SyntheticSafetyFacts() SafetyFacts {
	return SafetyFacts{
		Org:     Org{ID: "1", OKRCreation: "EVERYONE", TeamCreation: "ADMINS"},
		Subject: Subject{UserID: "1", Role: "OWNER"},
	}
}

// safetySuite builds the suite for facts: org owners and admins keep
// managing the org and its policy, and an owner keeps editing an OKR they
// own (a policy that denies everything is refused). Inputs are rendered
// by the same code that builds every decision's input.
func safetySuite(facts SafetyFacts) Module {
	if facts.Org.ID == "" {
		facts = SyntheticSafetyFacts()
	}
	input := func(action, role string, r Resource) string {
		s := facts.Subject
		s.Role, s.Observer = role, false
		in := &Input{Action: action, Subject: s, Resource: r, Org: facts.Org}
		return inputValue(in, &inputMemo{}).String()
	}
	own := Resource{
		ID: "safety-objective", Kind: "OBJECTIVE", Level: "INDIVIDUAL",
		Owners: []string{facts.Subject.UserID}, Creator: facts.Subject.UserID,
	}
	cases := []struct{ name, action, role string }{
		{"owner_manages_policy", ActionOrgManagePolicy, "OWNER"},
		{"admin_manages_policy", ActionOrgManagePolicy, "ADMIN"},
		{"admin_manages_org", ActionOrgManage, "ADMIN"},
		{"admin_manages_members", ActionOrgManageMember, "ADMIN"},
		{"owner_edits_own_objective", ActionOKRUpdate, "OWNER"},
	}
	var b strings.Builder
	b.WriteString("package okrgraph.safety\n")
	for _, c := range cases {
		r := Resource{}
		if strings.HasPrefix(c.action, "okr.") {
			r = own
		}
		fmt.Fprintf(&b, "\ntest_%s if {\n\tdata.okrgraph.final.decision.allow with input as %s\n}\n", c.name, input(c.action, c.role, r))
	}
	return Module{Name: "okrgraph_safety_test.rego", Source: b.String()}
}
