package okrgraph.team_test

import data.okrgraph.team

decide(action, subject, teams) := d if {
	d := team.decide(input.action) with input as {
		"action": action,
		"subject": subject,
		"resource": {"teams": teams},
		"org": {"id": "org1"},
	}
}

# A team.manage_members decision on a target of role `role` given `new_role`.
decide_member(subject, role, new_role) := d if {
	d := team.decide(input.action) with input as {
		"action": "team.manage_members",
		"subject": subject,
		"resource": {"teams": t1, "team_member": {"user": "u2", "role": role, "new_role": new_role}},
		"org": {"id": "org1"},
	}
}

in_team(role) := {"id": "u1", "role": "MEMBER", "team_roles": {"t1": role}}

t1 := [{"id": "t1"}]

test_team_owner_manages_members_and_settings if {
	decide("team.manage_members", in_team("OWNER"), t1) == {"allow": true, "reasons": ["owner of the team"]}
	decide("team.manage_settings", in_team("OWNER"), t1) == {"allow": true, "reasons": ["owner of the team"]}
}

test_team_admin_manages_members if {
	decide("team.manage_members", in_team("ADMIN"), t1) == {"allow": true, "reasons": ["admin of the team"]}
}

test_team_admin_manages_member_and_admin_roles if {
	every c in [["", "MEMBER"], ["", "ADMIN"], ["MEMBER", "ADMIN"], ["ADMIN", "MEMBER"], ["MEMBER", ""], ["ADMIN", ""]] {
		decide_member(in_team("ADMIN"), c[0], c[1]) == {"allow": true, "reasons": ["admin of the team"]}
	}
}

test_team_admin_never_touches_owners if {
	every c in [["", "OWNER"], ["ADMIN", "OWNER"], ["MEMBER", "OWNER"], ["OWNER", "ADMIN"], ["OWNER", "MEMBER"], ["OWNER", ""]] {
		decide_member(in_team("ADMIN"), c[0], c[1]) == {"allow": false, "reasons": ["team admins may not make, demote or remove an owner of team t1"]}
	}
}

test_team_owner_and_org_admin_manage_owners if {
	decide_member(in_team("OWNER"), "OWNER", "") == {"allow": true, "reasons": ["owner of the team"]}
	decide_member({"id": "u1", "role": "ADMIN", "team_roles": {"t1": "ADMIN"}}, "", "OWNER") == {"allow": true, "reasons": ["org admin"]}
}

test_team_delete_by_owners_and_org_admins if {
	decide("team.delete", in_team("OWNER"), t1) == {"allow": true, "reasons": ["owner of the team"]}
	decide("team.delete", {"id": "u1", "role": "ADMIN"}, t1) == {"allow": true, "reasons": ["org admin"]}
	decide("team.delete", in_team("ADMIN"), t1) == {"allow": false, "reasons": ["only team owners and org admins may delete team t1"]}
}

test_team_admin_may_not_manage_settings if {
	decide("team.manage_settings", in_team("ADMIN"), t1) == {"allow": false, "reasons": ["only team owners and org admins may change the settings of team t1"]}
}

test_org_admin_manages_any_team if {
	every role in {"ADMIN", "OWNER"} {
		decide("team.manage_members", {"id": "u1", "role": role}, t1) == {"allow": true, "reasons": ["org admin"]}
		decide("team.manage_settings", {"id": "u1", "role": role}, t1) == {"allow": true, "reasons": ["org admin"]}
	}
}

test_team_member_may_not_manage if {
	decide("team.manage_members", in_team("MEMBER"), t1) == {"allow": false, "reasons": ["only team owners, team admins and org admins may manage the members of team t1"]}
	decide("team.manage_settings", in_team("MEMBER"), t1).allow == false
}

test_owner_of_another_team_may_not_manage if {
	decide("team.manage_members", in_team("OWNER"), [{"id": "t2"}]).allow == false
}

test_missing_team_denied if {
	decide("team.manage_members", {"id": "u1", "role": "OWNER"}, []) == {"allow": false, "reasons": ["no team given"]}
	decide("team.manage_settings", {"id": "u1", "role": "OWNER"}, null) == {"allow": false, "reasons": ["no team given"]}
}

test_unknown_team_action_undefined if {
	not decide("team.fly", in_team("OWNER"), t1)
}

test_reasons_name_the_team if {
	sales := [{"id": "t1", "name": "Sales"}]
	decide("team.manage_settings", in_team("ADMIN"), sales) == {"allow": false, "reasons": [`only team owners and org admins may change the settings of team "Sales"`]}
}
