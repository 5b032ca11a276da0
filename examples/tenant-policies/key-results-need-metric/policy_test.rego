package okrgraph.tenant.measurable_test

import data.okrgraph.final

org := {"id": "1", "okr_creation": "EVERYONE", "team_creation": "ADMINS"}

member := {"id": "5", "role": "MEMBER", "observer": false, "team_roles": {}, "direct_reports": [], "reports": []}

kr(extra) := object.union({"kind": "KEY_RESULT", "level": "INDIVIDUAL", "owners": ["5"], "creator": "5", "teams": [], "parent": {"id": "9", "owners": ["5"]}}, extra)

test_metric_key_result_allowed if {
	final.decision.allow with input as {"action": "okr.create", "subject": member, "resource": kr({"has_metric": true}), "org": org}
}

test_milestone_allowed if {
	final.decision.allow with input as {"action": "okr.create", "subject": member, "resource": kr({"milestone": true}), "org": org}
}

test_unmeasured_key_result_denied if {
	d := final.decision with input as {"action": "okr.create", "subject": member, "resource": kr({}), "org": org}
	not d.allow
	d.reasons == ["a key result needs a metric (start and target) or must be a milestone"]
}

test_objectives_need_no_metric if {
	item := object.union(kr({}), {"kind": "OBJECTIVE"})
	final.decision.allow with input as {"action": "okr.create", "subject": member, "resource": item, "org": org}
}
