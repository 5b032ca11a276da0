package okrgraph.tenant.org_objectives_test

import data.okrgraph.final

subject(role) := {"id": "1", "role": role, "observer": false, "team_roles": {}, "direct_reports": [], "reports": []}

org_objective := {"kind": "OBJECTIVE", "level": "ORGANIZATION", "owners": ["1"], "creator": "1", "teams": []}

org := {"id": "1", "okr_creation": "EVERYONE", "team_creation": "ADMINS"}

test_owner_creates_org_objective if {
	final.decision.allow with input as {"action": "okr.create", "subject": subject("OWNER"), "resource": org_objective, "org": org}
}

test_admin_may_not if {
	d := final.decision with input as {"action": "okr.create", "subject": subject("ADMIN"), "resource": org_objective, "org": org}
	not d.allow
	d.reasons == ["only organization owners may create organization-level objectives"]
}

test_member_still_creates_individual_objectives if {
	item := object.union(org_objective, {"level": "INDIVIDUAL"})
	final.decision.allow with input as {"action": "okr.create", "subject": subject("MEMBER"), "resource": item, "org": org}
}
