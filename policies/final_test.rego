package okrgraph.final_test

import data.okrgraph.final

member := {"id": "7", "role": "MEMBER", "observer": false, "team_roles": {}, "direct_reports": [], "reports": []}

admin := object.union(member, {"id": "1", "role": "ADMIN"})

observer := object.union(member, {"observer": true})

org := {"id": "1", "okr_creation": "EVERYONE", "team_creation": "ADMINS"}

own := {"id": "10", "kind": "OBJECTIVE", "level": "INDIVIDUAL", "owners": ["7"], "creator": "7", "teams": []}

other := {"id": "11", "kind": "OBJECTIVE", "level": "INDIVIDUAL", "owners": ["8"], "creator": "8", "teams": []}

deny_all := {"strict": {"deny": {"frozen by the tenant"}}}

grant_all := {"open": {"allow": {"everyone edits"}}}

test_default_applies_without_tenant_rules if {
	d := final.decision with input as {"action": "okr.update", "subject": member, "resource": own, "org": org}
	d.allow
	not d.by
}

test_default_denial_without_tenant_rules if {
	d := final.decision with input as {"action": "okr.update", "subject": member, "resource": other, "org": org}
	not d.allow
}

test_tenant_denial_wins if {
	d := final.decision with input as {"action": "okr.update", "subject": member, "resource": own, "org": org}
		with data.okrgraph.tenant as deny_all
	not d.allow
	d.reasons == ["frozen by the tenant"]
	d.by == "tenant"
}

test_tenant_cannot_deny_org_administration if {
	d := final.decision with input as {"action": "org.manage_policy", "subject": admin, "resource": {}, "org": org}
		with data.okrgraph.tenant as deny_all
	d.allow
}

test_tenant_cannot_deny_view if {
	d := final.decision with input as {"action": "okr.view", "subject": member, "resource": other, "org": org}
		with data.okrgraph.tenant as deny_all
	d.allow
}

test_tenant_grant_adds_to_default if {
	d := final.decision with input as {"action": "okr.update", "subject": member, "resource": other, "org": org}
		with data.okrgraph.tenant as grant_all
	d.allow
	d.reasons == ["everyone edits"]
	d.by == "tenant"
}

test_tenant_cannot_grant_org_administration if {
	d := final.decision with input as {"action": "org.manage_policy", "subject": member, "resource": {}, "org": org}
		with data.okrgraph.tenant as grant_all
	not d.allow
}

test_tenant_cannot_grant_observers if {
	d := final.decision with input as {"action": "okr.update", "subject": observer, "resource": other, "org": org}
		with data.okrgraph.tenant as grant_all
	not d.allow
}

test_tenant_cannot_grant_outside_okrs if {
	d := final.decision with input as {"action": "team.manage_settings", "subject": member, "resource": {"teams": [{"id": "3"}]}, "org": org}
		with data.okrgraph.tenant as grant_all
	not d.allow
}

viewer_actions := ["okr.view", "okr.update", "okr.delete", "okr.manage_grants", "okr.checkin", "org.manage_policy"]

# decisions answers for each action what decision answers for it alone.
decisions_match(subject, resource, tenant) if {
	ds := final.decisions with input as {"actions": viewer_actions, "subject": subject, "resource": resource, "org": org}
		with data.okrgraph.tenant as tenant
	count(ds) == count(viewer_actions)
	every action in viewer_actions {
		d := final.decision with input as {"action": action, "subject": subject, "resource": resource, "org": org}
			with data.okrgraph.tenant as tenant
		ds[action] == d
	}
}

test_decisions_equal_single_decisions_without_tenant_rules if {
	decisions_match(member, own, {})
	decisions_match(member, other, {})
	decisions_match(observer, other, {})
}

test_decisions_tenant_denial if {
	decisions_match(member, own, deny_all)
	ds := final.decisions with input as {"actions": viewer_actions, "subject": admin, "resource": own, "org": org}
		with data.okrgraph.tenant as deny_all
	ds["okr.update"] == {"allow": false, "reasons": ["frozen by the tenant"], "by": "tenant"}
	ds["okr.view"].allow
	ds["org.manage_policy"].allow
}

test_decisions_tenant_grant if {
	decisions_match(member, other, grant_all)
	decisions_match(observer, other, grant_all)
	ds := final.decisions with input as {"actions": viewer_actions, "subject": member, "resource": other, "org": org}
		with data.okrgraph.tenant as grant_all
	ds["okr.delete"] == {"allow": true, "reasons": ["everyone edits"], "by": "tenant"}
	not ds["org.manage_policy"].allow
}
