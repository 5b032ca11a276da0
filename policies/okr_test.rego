package okrgraph.okr_test

import data.okrgraph.main

# ---------------------------------------------------------------------------
# Helpers.

decide(action, subject, resource) := d if {
	d := main.decision with input as {
		"action": action,
		"subject": subject,
		"resource": resource,
		"org": {"id": "org1"},
	}
}

decide_org(action, subject, resource, org) := d if {
	d := main.decision with input as {
		"action": action,
		"subject": subject,
		"resource": resource,
		"org": object.union({"id": "org1"}, org),
	}
}

allowed(d, reason) if d == {"allow": true, "reasons": [reason]}

denied(d, reason) if d == {"allow": false, "reasons": [reason]}

user(id) := {"id": id, "role": "MEMBER"}

admin(id) := {"id": id, "role": "ADMIN"}

objective := {
	"id": "o1",
	"kind": "OBJECTIVE",
	"level": "INDIVIDUAL",
	"owners": ["owner"],
	"creator": "creator",
	"checkin_owner": "owner",
}

private_objective := object.union(objective, {"private": true, "viewers": ["viewer"]})

key_result := {
	"id": "k1",
	"kind": "KEY_RESULT",
	"level": "INDIVIDUAL",
	"owners": ["owner"],
	"creator": "owner",
	"parent": {
		"id": "o1",
		"kind": "OBJECTIVE",
		"owners": ["owner"],
		"delegate": {"id": "delegate", "key_results": true},
	},
}

private_msg := "this OKR is private: only its owners, creator, delegate, check-in owner and listed viewers may see it"

edit_msg := "only its owners, creator, owners of its teams, org admins, owners' managers, owners of the parent OKR, users with an edit grant and the delegate may edit this OKR"

# ---------------------------------------------------------------------------
# View, clone, comment.

test_view_public_by_any_member if {
	allowed(decide("okr.view", user("someone"), objective), "every member may view an OKR that is not private")
	allowed(decide("okr.view", user("someone"), object.union(objective, {"private": false})), "every member may view an OKR that is not private")
}

test_view_private_by_owner if {
	allowed(decide("okr.view", user("owner"), private_objective), "owner of the item")
}

test_view_private_by_creator if {
	allowed(decide("okr.view", user("creator"), private_objective), "creator of the item")
}

test_view_private_by_delegate if {
	r := object.union(private_objective, {"delegate": {"id": "delegate"}})
	allowed(decide("okr.view", user("delegate"), r), "delegate of the objective")
}

test_view_private_key_result_by_objective_owner if {
	r := object.union(key_result, {"private": true, "owners": ["kr-owner"], "creator": "kr-owner", "parent": {"owners": ["owner"]}})
	allowed(decide("okr.view", user("owner"), r), "owner of the objective")
}

test_view_private_key_result_by_objective_delegate if {
	r := object.union(key_result, {"private": true, "owners": ["kr-owner"], "creator": "kr-owner", "parent": {"delegate": {"key_results": false}}})
	allowed(decide("okr.view", user("delegate"), r), "delegate of the objective")
}

test_view_private_objective_not_by_parent_owner if {
	r := object.union(private_objective, {"parent": {"owners": ["boss"], "delegate": {"id": "boss"}}})
	denied(decide("okr.view", user("boss"), r), private_msg)
}

test_view_private_by_checkin_owner if {
	r := object.union(private_objective, {"checkin_owner": "checker"})
	allowed(decide("okr.view", user("checker"), r), "check-in owner")
}

test_view_private_by_listed_viewer if {
	allowed(decide("okr.view", user("viewer"), private_objective), "listed viewer")
}

test_view_private_denied_to_others if {
	denied(decide("okr.view", user("someone"), private_objective), private_msg)
}

test_view_private_denied_to_unlisted_org_admin if {
	denied(decide("okr.view", {"id": "boss", "role": "OWNER"}, private_objective), private_msg)
}

test_clone_and_comment_follow_view if {
	allowed(decide("okr.clone", user("viewer"), private_objective), "listed viewer")
	denied(decide("okr.clone", user("someone"), private_objective), private_msg)
	allowed(decide("okr.comment", user("someone"), objective), "every member may view an OKR that is not private")
	denied(decide("okr.comment", user("someone"), private_objective), private_msg)
}

# ---------------------------------------------------------------------------
# Edit (update, delete).

test_edit_by_owner if {
	allowed(decide("okr.update", user("owner"), objective), "owner of the item")
	allowed(decide("okr.delete", user("owner"), objective), "owner of the item")
}

test_edit_by_creator if {
	allowed(decide("okr.update", user("creator"), objective), "creator of the item")
}

test_edit_by_org_admin if {
	allowed(decide("okr.update", admin("boss"), objective), "org admin")
	allowed(decide("okr.delete", {"id": "boss", "role": "OWNER"}, objective), "org admin")
}

test_edit_by_team_owner if {
	r := object.union(objective, {"level": "TEAM", "teams": [{"id": "t1"}, {"id": "t2"}]})
	s := object.union(user("lead"), {"team_roles": {"t1": "MEMBER", "t2": "OWNER"}})
	allowed(decide("okr.update", s, r), "owner of one of its teams")
}

test_edit_not_by_team_member_or_admin if {
	r := object.union(objective, {"level": "TEAM", "teams": [{"id": "t1"}]})
	denied(decide("okr.update", object.union(user("m"), {"team_roles": {"t1": "MEMBER"}}), r), edit_msg)
	denied(decide("okr.update", object.union(user("a"), {"team_roles": {"t1": "ADMIN"}}), r), edit_msg)
}

test_edit_by_manager_of_an_owner if {
	r := object.union(objective, {"owners": ["a", "b"], "owner_managers": ["boss"]})
	allowed(decide("okr.update", user("boss"), r), "manager of an owner")
}

test_edit_by_manager_from_direct_reports if {
	r := object.union(objective, {"owners": ["a", "b"]})
	allowed(decide("okr.update", object.union(user("boss"), {"direct_reports": ["x", "b"]}), r), "manager of an owner")
}

test_edit_not_by_indirect_manager if {
	r := object.union(objective, {"owners": ["a"]})
	s := object.union(user("ceo"), {"direct_reports": ["boss"], "reports": ["boss", "a"]})
	denied(decide("okr.update", s, r), edit_msg)
}

test_edit_by_owner_of_parent if {
	r := object.union(objective, {"parent": {"id": "p", "kind": "KEY_RESULT", "owners": ["boss"]}})
	allowed(decide("okr.update", user("boss"), r), "owner of the parent OKR")
}

test_edit_by_edit_grant if {
	r := object.union(objective, {"grants": {"edit": ["friend"]}})
	allowed(decide("okr.update", user("friend"), r), "has an edit grant")
}

test_edit_not_by_checkin_or_align_grant if {
	r := object.union(objective, {"grants": {"checkin": ["friend"], "align": ["friend"]}})
	denied(decide("okr.update", user("friend"), r), edit_msg)
}

test_edit_by_objective_delegate if {
	r := object.union(objective, {"delegate": {"id": "delegate"}})
	allowed(decide("okr.update", user("delegate"), r), "delegate of the objective")
	allowed(decide("okr.delete", user("delegate"), r), "delegate of the objective")
}

test_edit_key_result_by_objective_delegate if {
	allowed(decide("okr.update", user("delegate"), key_result), "delegate of the objective (key results included)")
}

test_edit_key_result_not_by_delegate_without_key_results if {
	r := json.patch(key_result, [{"op": "replace", "path": "/parent/delegate/key_results", "value": false}])
	denied(decide("okr.update", user("delegate"), r), edit_msg)
}

test_edit_key_result_not_by_delegate_when_owned_by_someone_else if {
	r := object.union(key_result, {"owners": ["someone"], "creator": "someone"})
	denied(decide("okr.update", user("delegate"), r), edit_msg)
}

test_edit_key_result_not_by_its_own_delegate_field if {
	r := object.union(key_result, {"parent": {"delegate": null}, "delegate": {"id": "delegate"}})
	denied(decide("okr.update", user("delegate"), r), edit_msg)
}

test_edit_denied_to_others if {
	denied(decide("okr.update", user("someone"), objective), edit_msg)
	denied(decide("okr.delete", user("someone"), objective), edit_msg)
}

# ---------------------------------------------------------------------------
# Owner-level actions: as edit, except the delegate.

test_manage_by_editors if {
	allowed(decide("okr.change_owners", user("owner"), objective), "owner of the item")
	allowed(decide("okr.set_delegate", user("creator"), objective), "creator of the item")
	allowed(decide("okr.set_checkin_owner", admin("boss"), objective), "org admin")
}

test_manage_denied_to_edit_grantees if {
	r := object.union(objective, {"grants": {"edit": ["friend"]}})
	allowed(decide("okr.update", user("friend"), r), "has an edit grant")
	denied(decide("okr.change_owners", user("friend"), r), "an edit grant does not allow to change the owners of this OKR")
	denied(decide("okr.set_delegate", user("friend"), r), "an edit grant does not allow to set the delegate of this OKR")
	denied(decide("okr.set_checkin_owner", user("friend"), r), "an edit grant does not allow to set the check-in owner of this OKR")
	denied(decide("okr.manage_grants", user("friend"), r), "an edit grant does not allow to manage the grants of this OKR")
}

test_manage_by_edit_grantee_with_another_right if {
	r := object.union(objective, {"grants": {"edit": ["owner"]}})
	allowed(decide("okr.change_owners", user("owner"), r), "owner of the item")
}

test_manage_denied_to_delegate if {
	r := object.union(objective, {"delegate": {"id": "delegate"}})
	denied(decide("okr.change_owners", user("delegate"), r), "the delegate may not change the owners of this OKR")
	denied(decide("okr.set_delegate", user("delegate"), r), "the delegate may not set the delegate of this OKR")
	denied(decide("okr.set_checkin_owner", user("delegate"), key_result), "the delegate may not set the check-in owner of this OKR")
	denied(decide("okr.manage_grants", user("delegate"), r), "the delegate may not manage the grants of this OKR")
}

test_manage_denied_to_others if {
	denied(
		decide("okr.change_owners", user("someone"), objective),
		"only its owners, creator, owners of its teams, org admins, owners' managers, owners of the parent OKR and users with an edit grant may change the owners of this OKR",
	)
}

# ---------------------------------------------------------------------------
# Check in.

checkin_msg := "only those who may edit this OKR, its check-in owner and users with a check-in grant may check in on it"

test_checkin_by_checkin_owner if {
	r := object.union(objective, {"checkin_owner": "checker"})
	allowed(decide("okr.checkin", user("checker"), r), "check-in owner")
}

test_checkin_by_editors if {
	allowed(decide("okr.checkin", user("creator"), objective), "creator of the item")
	allowed(decide("okr.checkin", user("delegate"), key_result), "delegate of the objective (key results included)")
}

test_checkin_by_checkin_grant if {
	r := object.union(objective, {"grants": {"checkin": ["friend"]}})
	allowed(decide("okr.checkin", user("friend"), r), "has a check-in grant")
}

test_checkin_denied_to_others if {
	denied(decide("okr.checkin", user("someone"), objective), checkin_msg)
}

test_checkin_owner_may_not_edit if {
	r := object.union(objective, {"checkin_owner": "checker"})
	denied(decide("okr.update", user("checker"), r), "a check-in owner may only check in and set the data link; ask an owner of the OKR for other changes")
	allowed(decide("okr.checkin", user("checker"), r), "check-in owner")
}

test_reasons_name_teams_by_name if {
	r := object.union(objective, {"level": "TEAM", "teams": [{"id": "t1", "name": "Sales", "okr_creation": "TEAM_OWNERS"}]})
	denied(decide("okr.create", member_of({"t1": "MEMBER"}), r), `only team owners may create OKRs in team "Sales"`)
	r2 := object.union(objective, {"level": "TEAM", "teams": [{"id": "t1", "name": "Sales", "okr_creation": "TEAM_MEMBERS"}]})
	denied(decide("okr.create", user("x"), r2), `only members of team "Sales" may create OKRs in it`)
	r3 := object.union(objective, {"level": "TEAM", "teams": [{"id": "t1", "name": "Sales", "okr_creation": "LISTED"}]})
	denied(decide("okr.create", user("x"), r3), `only listed users may create OKRs in team "Sales"`)
}

# Correct or delete a check-in.

corrected := object.union(objective, {"checkin": {"id": "c1", "author": "owner", "age_seconds": 60}})

test_checkin_correction_by_org_admins if {
	allowed(decide("okr.checkin.update", admin("boss"), corrected), "org admin")
	allowed(decide("okr.checkin.delete", object.union(user("chief"), {"role": "OWNER"}), corrected), "org admin")
}

test_checkin_correction_denied_to_others if {
	# Not even the author, an owner or the check-in owner by default.
	denied(decide("okr.checkin.update", user("owner"), corrected), "only org admins may correct a check-in")
	denied(decide("okr.checkin.delete", user("creator"), corrected), "only org admins may delete a check-in")
}

test_checkin_correction_denied_to_observer_admins if {
	d := decide("okr.checkin.delete", object.union(admin("boss"), {"observer": true}), corrected)
	d.allow == false
}

# ---------------------------------------------------------------------------
# Align under the resource.

restricted := object.union(objective, {"alignment_restricted": true, "grants": {"align": ["friend"]}})

restricted_msg := "alignment under this OKR is restricted to the users its owners granted"

test_align_under_visible_item if {
	allowed(decide("okr.align", user("someone"), objective), "anyone who can view it may align under it")
	allowed(decide("okr.align", user("viewer"), private_objective), "anyone who can view it may align under it")
}

test_align_denied_when_not_visible if {
	denied(decide("okr.align", user("someone"), private_objective), "you cannot view this OKR")
}

test_align_restricted_by_grant if {
	allowed(decide("okr.align", user("friend"), restricted), "has an alignment grant")
}

test_align_restricted_by_owner_and_editors if {
	allowed(decide("okr.align", user("owner"), restricted), "owner of the item")
	allowed(decide("okr.align", admin("boss"), restricted), "org admin")
}

test_align_restricted_denied_to_others if {
	denied(decide("okr.align", user("someone"), restricted), restricted_msg)
}

test_align_restricted_grant_needs_visibility if {
	r := object.union(restricted, {"private": true})
	denied(decide("okr.align", user("friend"), r), "you cannot view this OKR")
}

# ---------------------------------------------------------------------------
# Create: levels.

new_okr(level, teams) := {"kind": "OBJECTIVE", "level": level, "teams": teams, "owners": ["someone"]}

member_of(teams) := object.union(user("me"), {"team_roles": teams})

test_create_individual_by_anyone_for_anyone if {
	allowed(decide("okr.create", user("me"), new_okr("INDIVIDUAL", [])), "anyone may create individual OKRs")
}

test_create_unknown_level_denied if {
	denied(decide("okr.create", admin("me"), new_okr("GALAXY", [])), "unknown OKR level")
	denied(decide("okr.create", admin("me"), {"kind": "OBJECTIVE"}), "unknown OKR level")
}

test_create_team_needs_a_team if {
	denied(decide("okr.create", admin("me"), new_okr("TEAM", [])), "a team OKR needs at least one team")
	denied(decide("okr.create", admin("me"), {"kind": "OBJECTIVE", "level": "TEAM"}), "a team OKR needs at least one team")
}

test_create_team_by_org_admin if {
	allowed(decide("okr.create", admin("me"), new_okr("TEAM", [{"id": "t1", "okr_creation": "LISTED"}])), "org admin")
}

test_create_team_by_team_owner if {
	r := new_okr("TEAM", [{"id": "t1", "okr_creation": "TEAM_OWNERS"}])
	allowed(decide("okr.create", member_of({"t1": "OWNER"}), r), "owner of the team")
}

test_create_team_open_to_everyone if {
	allowed(decide("okr.create", user("me"), new_okr("TEAM", [{"id": "t1"}])), "OKR creation in the team is open to everyone")
	allowed(decide("okr.create", user("me"), new_okr("TEAM", [{"id": "t1", "okr_creation": ""}])), "OKR creation in the team is open to everyone")
	allowed(decide("okr.create", user("me"), new_okr("TEAM", [{"id": "t1", "okr_creation": "EVERYONE"}])), "OKR creation in the team is open to everyone")
}

test_create_team_restricted_to_members if {
	r := new_okr("TEAM", [{"id": "t1", "okr_creation": "TEAM_MEMBERS"}])
	allowed(decide("okr.create", member_of({"t1": "MEMBER"}), r), "member of the team")
	allowed(decide("okr.create", member_of({"t1": "ADMIN"}), r), "member of the team")
	denied(decide("okr.create", member_of({"t2": "OWNER"}), r), "only members of team t1 may create OKRs in it")
}

test_create_team_restricted_to_owners if {
	r := new_okr("TEAM", [{"id": "t1", "okr_creation": "TEAM_OWNERS"}])
	denied(decide("okr.create", member_of({"t1": "ADMIN"}), r), "only team owners may create OKRs in team t1")
}

test_create_team_restricted_to_listed if {
	r := new_okr("TEAM", [{"id": "t1", "okr_creation": "LISTED", "listed": ["me"]}])
	allowed(decide("okr.create", user("me"), r), "listed OKR creator of the team")
	denied(decide("okr.create", member_of({"t1": "ADMIN"}), object.union(r, {"teams": [{"id": "t1", "okr_creation": "LISTED"}]})), "only listed users may create OKRs in team t1")
}

test_create_team_unknown_setting_denied if {
	r := new_okr("TEAM", [{"id": "t1", "okr_creation": "NOBODY"}])
	denied(decide("okr.create", member_of({"t1": "MEMBER"}), r), "team t1 has an unknown OKR creation setting \"NOBODY\"")
}

test_create_shared_team_okr_when_every_team_allows if {
	r := new_okr("TEAM", [{"id": "t1", "okr_creation": "TEAM_OWNERS"}, {"id": "t2"}])
	decide("okr.create", member_of({"t1": "OWNER"}), r) == {"allow": true, "reasons": [
		"team t1: owner of the team",
		"team t2: OKR creation in the team is open to everyone",
	]}
}

test_create_shared_team_okr_denied_when_a_team_refuses if {
	r := new_okr("TEAM", [
		{"id": "t1", "okr_creation": "TEAM_OWNERS"},
		{"id": "t2"},
		{"id": "t3", "okr_creation": "TEAM_MEMBERS"},
	])
	decide("okr.create", member_of({"t2": "MEMBER"}), r) == {"allow": false, "reasons": [
		"only team owners may create OKRs in team t1",
		"only members of team t3 may create OKRs in it",
	]}
}

test_create_organization_by_org_admin if {
	allowed(decide_org("okr.create", {"id": "me", "role": "OWNER"}, new_okr("ORGANIZATION", []), {"okr_creation": "ADMINS"}), "org admin")
}

test_create_organization_open_by_default if {
	everyone := "organization OKR creation is open to everyone"
	allowed(decide_org("okr.create", user("me"), new_okr("ORGANIZATION", []), {}), everyone)
	allowed(decide_org("okr.create", user("me"), new_okr("ORGANIZATION", []), {"okr_creation": ""}), everyone)
	allowed(decide_org("okr.create", user("me"), new_okr("ORGANIZATION", []), {"okr_creation": "EVERYONE"}), everyone)
}

test_create_organization_restricted_to_admins if {
	denied(decide_org("okr.create", user("me"), new_okr("ORGANIZATION", []), {"okr_creation": "ADMINS"}), "only org admins may create organization OKRs")
}

test_create_organization_restricted_to_listed if {
	org := {"okr_creation": "LISTED", "okr_creation_listed": ["me"]}
	allowed(decide_org("okr.create", user("me"), new_okr("ORGANIZATION", []), org), "listed organization OKR creator")
	denied(decide_org("okr.create", user("you"), new_okr("ORGANIZATION", []), org), "only org admins and listed users may create organization OKRs")
}

test_create_organization_unknown_setting_denied if {
	denied(decide_org("okr.create", user("me"), new_okr("ORGANIZATION", []), {"okr_creation": "NOBODY"}), "unknown organization OKR creation setting \"NOBODY\"")
}

# ---------------------------------------------------------------------------
# Create: alignment under a parent.

under(parent) := object.union(new_okr("INDIVIDUAL", []), {"parent": parent})

restricted_parent := {
	"id": "p",
	"kind": "OBJECTIVE",
	"owners": ["boss"],
	"delegate": {"id": "deputy"},
	"alignment_restricted": true,
	"align_grants": ["friend"],
}

parent_msg := "alignment under the parent OKR is restricted to the users its owners granted"

test_create_under_open_parent if {
	allowed(decide("okr.create", user("me"), under(object.union(restricted_parent, {"alignment_restricted": false}))), "anyone may create individual OKRs")
	allowed(decide("okr.create", user("me"), under(null)), "anyone may create individual OKRs")
}

test_create_under_restricted_parent_by_grant if {
	allowed(decide("okr.create", user("friend"), under(restricted_parent)), "anyone may create individual OKRs")
}

test_create_under_restricted_parent_by_parent_owner if {
	allowed(decide("okr.create", user("boss"), under(restricted_parent)), "anyone may create individual OKRs")
}

test_create_under_restricted_parent_by_parent_delegate if {
	allowed(decide("okr.create", user("deputy"), under(restricted_parent)), "anyone may create individual OKRs")
}

test_create_under_restricted_parent_by_org_admin if {
	allowed(decide("okr.create", admin("me"), under(restricted_parent)), "anyone may create individual OKRs")
}

test_create_under_restricted_parent_denied_to_others if {
	denied(decide("okr.create", user("me"), under(restricted_parent)), parent_msg)
}

test_create_level_refusal_comes_first if {
	r := object.union(under(restricted_parent), {"level": "TEAM", "teams": [{"id": "t1", "okr_creation": "TEAM_OWNERS"}]})
	denied(decide("okr.create", user("me"), r), "only team owners may create OKRs in team t1")
}

test_unknown_okr_action_denied if {
	denied(decide("okr.fly", user("owner"), objective), "unknown action \"okr.fly\"")
}
