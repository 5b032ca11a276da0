package okrgraph.tenant.frozen_periods_test

import data.okrgraph.final

org := {"id": "1", "okr_creation": "EVERYONE", "team_creation": "ADMINS"}

owner := {"id": "1", "role": "OWNER", "observer": false, "team_roles": {}, "direct_reports": [], "reports": []}

item(closed) := {"kind": "OBJECTIVE", "level": "INDIVIDUAL", "owners": ["1"], "creator": "1", "teams": [], "time_period_closed": closed}

test_open_period_allowed if {
	final.decision.allow with input as {"action": "okr.create", "subject": owner, "resource": item(false), "org": org}
}

test_closed_period_denied_even_for_owners if {
	d := final.decision with input as {"action": "okr.create", "subject": owner, "resource": item(true), "org": org}
	not d.allow
	d.reasons == ["this time period is closed: no new OKRs"]
}
