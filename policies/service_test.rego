package okrgraph.service_test

import data.okrgraph.final
import data.okrgraph.main

svc := {"type": "service", "id": "900", "scopes": ["read"]}

test_reads_public_okr if {
	d := main.decision with input as {"action": "okr.view", "subject": svc, "resource": {"id": "1"}}
	d.allow == true
}

test_never_private_okr if {
	d := main.decision with input as {"action": "okr.view", "subject": svc, "resource": {"id": "1", "private": true}}
	d.allow == false
	d.reasons == ["service identities (API tokens) never see private OKRs"]
}

test_no_read_scope if {
	d := main.decision with input as {"action": "okr.view", "subject": {"type": "service", "id": "900"}, "resource": {"id": "1"}}
	d.allow == false
}

test_never_reviews if {
	every action in ["review.read", "review.view_cycle", "review.track", "review.write", "review.manage_cycle"] {
		d := main.decision with input as {"action": action, "subject": svc, "resource": {}}
		d.allow == false
		d.reasons == ["service identities (API tokens) never read performance reviews"]
	}
}

test_no_writes if {
	every action in ["okr.create", "okr.update", "okr.checkin", "okr.comment", "org.manage", "org.manage_members", "team.manage_members", "profile.update"] {
		d := main.decision with input as {"action": action, "subject": svc, "resource": {"user": "900"}}
		d.allow == false
		d.reasons == ["API tokens are read-only: they may read OKRs but never change anything"]
	}
}

# A service identity that claims a role is still only a service.
test_role_does_not_lift_service if {
	d := main.decision with input as {"action": "okr.update", "subject": object.union(svc, {"role": "OWNER"}), "resource": {"id": "1"}}
	d.allow == false
}

# Tenant grants never reach a service identity; tenant denials do.
test_tenant_grant_does_not_apply if {
	d := final.decision with input as {"action": "okr.update", "subject": svc, "resource": {"id": "1"}}
		with data.okrgraph.tenant.t.allow as {"everyone edits"}
	d.allow == false
}

test_tenant_can_narrow if {
	d := final.decision with input as {"action": "okr.clone", "subject": svc, "resource": {"id": "1"}}
		with data.okrgraph.tenant.t.deny as {"no API tokens here"}
	d.allow == false
	d.reasons == ["no API tokens here"]
}
