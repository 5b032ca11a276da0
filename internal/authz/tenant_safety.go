package authz

// safetyPackage holds the built-in safety suite run with every tenant's
// tests. Tenants cannot write into it: their modules must live under
// TenantNamespace.
const safetyPackage = "okrgraph.safety"

// safetySuite proves a tenant policy leaves its org repairable: org owners
// and admins keep managing the org and its policy, and an owner keeps
// editing an OKR they own (a policy that denies everything is refused).
var safetySuite = Module{Name: "okrgraph_safety_test.rego", Source: `package okrgraph.safety

owner := {"id": "1", "role": "OWNER", "observer": false, "team_roles": {}, "direct_reports": [], "reports": []}

admin := object.union(owner, {"id": "2", "role": "ADMIN"})

org := {"id": "1", "okr_creation": "EVERYONE", "team_creation": "ADMINS"}

test_owner_manages_policy if {
	data.okrgraph.final.decision.allow with input as {"action": "org.manage_policy", "subject": owner, "resource": {}, "org": org}
}

test_admin_manages_policy if {
	data.okrgraph.final.decision.allow with input as {"action": "org.manage_policy", "subject": admin, "resource": {}, "org": org}
}

test_admin_manages_org if {
	data.okrgraph.final.decision.allow with input as {"action": "org.manage", "subject": admin, "resource": {}, "org": org}
}

test_admin_manages_members if {
	data.okrgraph.final.decision.allow with input as {"action": "org.manage_members", "subject": admin, "resource": {}, "org": org}
}

test_owner_edits_own_objective if {
	item := {"id": "10", "kind": "OBJECTIVE", "level": "INDIVIDUAL", "owners": ["1"], "creator": "1", "teams": []}
	data.okrgraph.final.decision.allow with input as {"action": "okr.update", "subject": owner, "resource": item, "org": org}
}
`}
