package okrgraph.main_test

import data.okrgraph.main

member := {"id": "u1", "role": "MEMBER"}

public_okr := {"id": "o1", "kind": "OBJECTIVE", "owners": ["u2"]}

decide(action, subject) := d if {
	d := main.decision with input as {
		"action": action,
		"subject": subject,
		"resource": public_okr,
		"org": {"id": "org1"},
	}
}

test_okr_action_dispatched_to_okr if {
	decide("okr.view", member) == {"allow": true, "reasons": ["every member may view an OKR that is not private"]}
}

test_org_action_dispatched_to_org if {
	decide("org.manage", object.union(member, {"role": "ADMIN"})) == {"allow": true, "reasons": ["org admin"]}
}

test_team_action_dispatched_to_team if {
	decide("team.manage_members", member) == {"allow": false, "reasons": ["no team given"]}
}

test_profile_action_dispatched_to_profile if {
	decide("profile.update", member) == {"allow": false, "reasons": ["only the user themself may edit a profile"]}
}

test_observer_may_view if {
	decide("okr.view", object.union(member, {"observer": true})).allow
}

test_observer_may_not_write if {
	decide("okr.update", object.union(member, {"observer": true, "role": "OWNER"})) == {"allow": false, "reasons": ["observers are read-only"]}
}

test_profile_edited_without_an_organization if {
	d := data.okrgraph.main.decision with input as {"action": "profile.update", "subject": {"id": "7"}, "resource": {"user": "7"}}
	d.allow
}

test_profile_of_another_user_without_an_organization if {
	d := data.okrgraph.main.decision with input as {"action": "profile.update", "subject": {"id": "7"}, "resource": {"user": "8"}}
	not d.allow
}

test_observer_may_not_edit_own_profile if {
	decide("profile.update", object.union(member, {"observer": true})) == {"allow": false, "reasons": ["observers are read-only"]}
}

test_non_member_gets_nothing if {
	decide("okr.view", {"id": "u1", "role": ""}) == {"allow": false, "reasons": ["not a member of this organization"]}
}

test_observer_may_leave if {
	decide("org.leave", object.union(member, {"observer": true})).allow
}

test_non_member_may_not_leave if {
	decide("org.leave", {"id": "u1"}) == {"allow": false, "reasons": ["not a member of this organization"]}
}

test_non_member_observer_is_not_a_member if {
	decide("okr.update", {"id": "u1", "role": "", "observer": true}) == {"allow": false, "reasons": ["not a member of this organization"]}
}

test_missing_role_gets_nothing if {
	decide("okr.view", {"id": "u1"}) == {"allow": false, "reasons": ["not a member of this organization"]}
}

test_unknown_role_gets_nothing if {
	decide("org.manage", {"id": "u1", "role": "SUPERUSER"}) == {"allow": false, "reasons": ["not a member of this organization"]}
}

test_missing_user_gets_nothing if {
	decide("okr.view", {"role": "ADMIN"}) == {"allow": false, "reasons": ["not a member of this organization"]}
}

test_empty_user_gets_nothing if {
	decide("okr.view", {"id": "", "role": "ADMIN"}) == {"allow": false, "reasons": ["not a member of this organization"]}
}

test_unknown_action_denied if {
	decide("okr.fly", member) == {"allow": false, "reasons": ["unknown action \"okr.fly\""]}
}

test_unknown_concern_denied if {
	decide("billing.pay", object.union(member, {"role": "OWNER"})) == {"allow": false, "reasons": ["unknown action \"billing.pay\""]}
}

test_every_known_action_is_decided if {
	every action in {
		"okr.view", "okr.create", "okr.update", "okr.delete", "okr.change_owners",
		"okr.set_delegate", "okr.set_checkin_owner", "okr.checkin", "okr.checkin.update", "okr.checkin.delete", "okr.align",
		"okr.clone", "okr.comment", "okr.manage_grants", "org.manage",
		"org.manage_members", "org.manage_policy", "org.create_team",
		"team.manage_members", "team.manage_settings", "profile.update",
	} {
		d := decide(action, member)
		is_boolean(d.allow)
		count(d.reasons) > 0
		not startswith(d.reasons[0], "unknown action")
	}
}

# decisions answers every action of input.actions as decision does alone.
test_decisions_equal_single_decisions if {
	actions := ["okr.view", "okr.update", "okr.change_owners", "okr.checkin.delete", "org.manage", "team.delete", "profile.update", "review.read", "okr.nonsense"]
	every subject in [member, object.union(member, {"role": "ADMIN"}), object.union(member, {"observer": true}), {"type": "service", "scopes": ["read"]}, {"id": "u9"}] {
		ds := main.decisions with input as {"actions": actions, "subject": subject, "resource": public_okr, "org": {"id": "org1"}}
		count(ds) == count(actions)
		every action in actions {
			ds[action] == decide(action, subject)
		}
	}
}

test_decisions_deny_and_allow if {
	ds := main.decisions with input as {"actions": ["okr.view", "okr.update"], "subject": member, "resource": public_okr, "org": {"id": "org1"}}
	ds["okr.view"].allow
	not ds["okr.update"].allow
}
