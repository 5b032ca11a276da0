package okrgraph.org_test

import data.okrgraph.org

decide(action, role, settings) := d if {
	d := org.decide(input.action) with input as {
		"action": action,
		"subject": {"id": "u1", "role": role},
		"resource": {},
		"org": object.union({"id": "org1"}, settings),
	}
}

test_org_admins_manage_everything if {
	every action in {"org.manage", "org.manage_members", "org.manage_policy", "org.create_team"} {
		every role in {"ADMIN", "OWNER"} {
			decide(action, role, {}) == {"allow": true, "reasons": ["org admin"]}
		}
	}
}

test_members_may_not_manage_settings if {
	decide("org.manage", "MEMBER", {}) == {"allow": false, "reasons": ["only org admins may manage the organization's settings and time periods"]}
}

test_members_may_not_manage_members if {
	decide("org.manage_members", "MEMBER", {}) == {"allow": false, "reasons": ["only org admins may manage members and roles"]}
}

test_members_may_not_manage_policy if {
	decide("org.manage_policy", "MEMBER", {}) == {"allow": false, "reasons": ["only org admins may edit the organization's policy"]}
}

test_members_may_not_create_teams_by_default if {
	decide("org.create_team", "MEMBER", {}) == {"allow": false, "reasons": ["only org admins may create teams"]}
	decide("org.create_team", "MEMBER", {"team_creation": ""}).allow == false
	decide("org.create_team", "MEMBER", {"team_creation": "ADMINS"}).allow == false
}

test_members_create_teams_when_open if {
	decide("org.create_team", "MEMBER", {"team_creation": "EVERYONE"}) == {"allow": true, "reasons": ["team creation is open to everyone"]}
}

test_team_creation_setting_opens_nothing_else if {
	decide("org.manage", "MEMBER", {"team_creation": "EVERYONE"}).allow == false
}

test_unknown_org_action_undefined if {
	not decide("org.fly", "OWNER", {})
}

test_every_member_may_leave if {
	every role in {"MEMBER", "ADMIN", "OWNER"} {
		decide("org.leave", role, {}) == {"allow": true, "reasons": ["every member may leave the organization"]}
	}
}
