package okrgraph.tenant.supervisor_chain_test

import data.okrgraph.final

org := {"id": "1", "okr_creation": "EVERYONE", "team_creation": "ADMINS"}

vp := {"id": "2", "role": "MEMBER", "observer": false, "team_roles": {}, "direct_reports": ["3"], "reports": ["3", "4"]}

peer := object.union(vp, {"id": "9", "direct_reports": [], "reports": []})

item := {"id": "10", "kind": "OBJECTIVE", "level": "INDIVIDUAL", "owners": ["4"], "creator": "4", "teams": []}

test_skip_level_manager_edits if {
	d := final.decision with input as {"action": "okr.update", "subject": vp, "resource": item, "org": org}
	d.allow
	d.reasons == ["a manager up the owner's supervisor chain"]
}

test_peer_may_not if {
	not final.decision.allow with input as {"action": "okr.update", "subject": peer, "resource": item, "org": org}
}

test_no_grant_to_change_owners if {
	not final.decision.allow with input as {"action": "okr.change_owners", "subject": vp, "resource": item, "org": org}
}
