# METADATA
# title: okrgraph authorization entry point
# description: |
#   internal/authz queries data.okrgraph.main.decision. The action
#   "<concern>.<verb>" selects the concern package (okrgraph.okr,
#   okrgraph.org, okrgraph.team, okrgraph.profile or okrgraph.review), whose
#   rule decision gives the default answer.
#
#   Conditions are written so that OPA's rule index can skip branches
#   (ref == constant, ref in {constants}); see internal/authz benchmarks.
package okrgraph.main

# METADATA
# title: Decision
# description: |
#   The answer, {"allow": bool, "reasons": [string]}. Non-members (role
#   other than MEMBER, ADMIN or OWNER, or no user id) get nothing;
#   observers may only view; otherwise the concern of the action decides.
#   Unknown actions are denied.
decision := {"allow": false, "reasons": ["observers are read-only"]} if {
	input.subject.observer == true
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	input.action != "okr.view"
} else := d if {
	input.action in {
		"okr.view", "okr.create", "okr.update", "okr.delete",
		"okr.change_owners", "okr.set_delegate", "okr.set_checkin_owner",
		"okr.checkin", "okr.align", "okr.clone", "okr.comment", "okr.manage_grants",
	}
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := data.okrgraph.okr.decision
} else := d if {
	input.action in {"org.manage", "org.manage_members", "org.manage_policy", "org.create_team"}
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := data.okrgraph.org.decision
} else := d if {
	input.action in {"team.manage_members", "team.manage_settings"}
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := data.okrgraph.team.decision
} else := d if {
	input.action == "profile.update"
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := data.okrgraph.profile.decision
} else := d if {
	input.action in {
		"review.view_cycle", "review.manage_cycle", "review.read", "review.track", "review.write",
		"review.submit", "review.approve", "review.send_back", "review.share",
	}
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := data.okrgraph.review.decision
} else := {"allow": false, "reasons": ["not a member of this organization"]} if {
	not input.subject.role
} else := {"allow": false, "reasons": ["not a member of this organization"]} if {
	# (with an absent role, "not role in set" would be undefined, not true)
	not input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
} else := {"allow": false, "reasons": ["not a member of this organization"]} if {
	not input.subject.id
} else := {"allow": false, "reasons": ["not a member of this organization"]} if {
	input.subject.id == ""
} else := {"allow": false, "reasons": [sprintf("unknown action %q", [input.action])]}
