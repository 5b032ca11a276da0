# METADATA
# title: okrgraph authorization entry point
# description: |
#   internal/authz queries data.okrgraph.main.decision (or decisions, for
#   several actions at once). The action
#   "<concern>.<verb>" selects the concern package (okrgraph.okr,
#   okrgraph.org, okrgraph.team, okrgraph.profile or okrgraph.review) and
#   its rule for the verb, which gives the default answer.
#
#   Conditions are written so that OPA's rule index can skip branches
#   (ref == constant, ref in {constants}) and every rule lookup counts:
#   see the internal/authz benchmarks before adding indirections.
package okrgraph.main

import data.okrgraph.okr
import data.okrgraph.org
import data.okrgraph.profile
import data.okrgraph.review
import data.okrgraph.service
import data.okrgraph.team

# METADATA
# title: Decision
# description: |
#   The answer on input.action, {"allow": bool, "reasons": [string]}.
decision := decide(input.action)

# METADATA
# title: Decisions
# description: |
#   The answers on every action of input.actions in one evaluation,
#   {action: decision}: each is what decision answers with input.action
#   set to it (viewerCan asks for its flags this way). The rules the
#   actions share (okr.view_decision, okr.edit_decision...) are evaluated
#   once.
decisions := {action: decide(action) | some action in input.actions}

# METADATA
# title: Decide
# description: |
#   The answer on action, {"allow": bool, "reasons": [string]}. A service identity
#   (an API token: subject.type "service") is decided by okrgraph.service
#   alone, whatever else its input says. Non-members (role
#   other than MEMBER, ADMIN or OWNER, or no user id) get nothing;
#   observers may only view; otherwise the concern's rule for the action
#   decides. Unknown actions are denied.
decide(action) := d if {
	input.subject.type == "service"
	d := service.decide(action)
} else := {"allow": false, "reasons": ["observers are read-only"]} if {
	input.subject.observer == true
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	not action in {"okr.view", "org.leave"}
} else := d if {
	action in {"okr.view", "okr.clone", "okr.comment"}
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := okr.view_decision
} else := d if {
	action in {"okr.update", "okr.delete"}
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := okr.edit_decision
} else := d if {
	action in {"okr.change_owners", "okr.set_delegate", "okr.set_checkin_owner", "okr.manage_grants"}
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := okr.manage_decision(action)
} else := d if {
	action == "okr.checkin"
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := okr.checkin_decision
} else := d if {
	action in {"okr.checkin.update", "okr.checkin.delete"}
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := okr.checkin_correction_decision(action)
} else := d if {
	action == "okr.align"
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := okr.align_decision
} else := d if {
	action == "okr.create"
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := okr.create_decision
} else := d if {
	action in {"org.manage", "org.manage_members", "org.manage_policy", "org.create_team", "org.leave"}
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := org.decide(action)
} else := d if {
	action in {"team.manage_members", "team.manage_settings", "team.delete"}
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := team.decide(action)
} else := d if {
	# A profile belongs to the user, not to an org: it is edited with or
	# without a selected organization (role absent).
	action == "profile.update"
	input.subject.id != ""
	d := profile.decide(action)
} else := d if {
	action in {
		"review.view_cycle", "review.manage_cycle", "review.read", "review.track", "review.write",
		"review.submit", "review.approve", "review.send_back", "review.share",
	}
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	input.subject.id != ""
	d := review.decide(action)
} else := {"allow": false, "reasons": ["not a member of this organization"]} if {
	not input.subject.role
} else := {"allow": false, "reasons": ["not a member of this organization"]} if {
	# (with an absent role, "not role in set" would be undefined, not true)
	not input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
} else := {"allow": false, "reasons": ["not a member of this organization"]} if {
	not input.subject.id
} else := {"allow": false, "reasons": ["not a member of this organization"]} if {
	input.subject.id == ""
} else := {"allow": false, "reasons": [sprintf("unknown action %q", [action])]}
