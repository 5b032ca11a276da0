package okrgraph.tenant.finance_test

import data.okrgraph.final

org := {"id": "1", "okr_creation": "EVERYONE", "team_creation": "ADMINS"}

subject(roles) := {"id": "5", "role": "MEMBER", "observer": false, "team_roles": roles, "direct_reports": [], "reports": []}

item(team) := {"kind": "OBJECTIVE", "level": "TEAM", "owners": ["5"], "creator": "5", "teams": [team]}

finance := {"id": "20", "name": "Finance", "okr_creation": "EVERYONE"}

sales := {"id": "21", "name": "Sales", "okr_creation": "EVERYONE"}

test_finance_owner_creates if {
	final.decision.allow with input as {"action": "okr.create", "subject": subject({"20": "OWNER"}), "resource": item(finance), "org": org}
}

test_finance_member_may_not if {
	d := final.decision with input as {"action": "okr.create", "subject": subject({"20": "MEMBER"}), "resource": item(finance), "org": org}
	not d.allow
	d.reasons == ["only owners of the Finance team may create its OKRs"]
}

test_outsider_may_not if {
	not final.decision.allow with input as {"action": "okr.create", "subject": subject({}), "resource": item(finance), "org": org}
}

test_other_teams_unchanged if {
	final.decision.allow with input as {"action": "okr.create", "subject": subject({}), "resource": item(sales), "org": org}
}
