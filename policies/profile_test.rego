package okrgraph.profile_test

import data.okrgraph.profile

decide(subject, user) := d if {
	d := profile.decide(input.action) with input as {
		"action": "profile.update",
		"subject": subject,
		"resource": {"user": user},
		"org": {"id": "org1"},
	}
}

test_user_edits_own_profile if {
	decide({"id": "u1", "role": "MEMBER"}, "u1") == {"allow": true, "reasons": ["editing your own profile"]}
	decide({"id": "u1", "role": "MEMBER", "sso": false}, "u1").allow
}

test_sso_user_may_not_edit_own_profile if {
	decide({"id": "u1", "role": "MEMBER", "sso": true}, "u1") == {"allow": false, "reasons": ["profiles provisioned through SSO are edited at the identity provider"]}
}

test_nobody_edits_another_profile if {
	decide({"id": "u1", "role": "OWNER"}, "u2") == {"allow": false, "reasons": ["only the user themself may edit a profile"]}
}

test_unknown_profile_action_undefined if {
	not profile.decide(input.action) with input as {"action": "profile.delete", "subject": {"id": "u1", "role": "MEMBER"}, "resource": {"user": "u1"}}
}
