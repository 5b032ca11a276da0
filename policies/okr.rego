# METADATA
# title: OKR permissions
# description: |
#   Default rules (spec §4) for viewing, creating, editing, checking in on,
#   aligning under, cloning and commenting on objectives and key results,
#   one *_decision rule per group of okr.* actions (okrgraph.main maps
#   actions to them). okrgraph.main has already checked that the subject is
#   a member and, for anything but okr.view, not an observer.
#
#   input.resource is the item acted on: for okr.create the proposed item,
#   for okr.align the item aligned under. For a key result the caller
#   passes the effective privacy (its objective's) in private/viewers, and
#   the objective as parent. Zero-valued fields may be absent.
#
#   Each decision is an else-chain of constant answers, most common grant
#   first: evaluation stops at the first branch that holds, and OPA's rule
#   index skips branches on absent fields and constant comparisons. The
#   index examines every branch of a chain before evaluating the first, so
#   long chains keep their common cases in a short rule and continue in
#   another (private_view_decision, other_edit_decision...).
package okrgraph.okr

# ---------------------------------------------------------------------------
# View (also clone and comment).

# METADATA
# title: View decision
# description: |
#   Every member sees a non-private item. A private one only its owners,
#   creator, delegate, check-in owner and listed viewers; org admins too
#   only when listed. For a key result, the objective's owners and delegate
#   see it as well.
view_decision := {"allow": true, "reasons": ["every member may view an OKR that is not private"]} if {
	not input.resource.private
} else := private_view_decision

# Who sees a private item, and the refusal.
private_view_decision := {"allow": true, "reasons": ["owner of the item"]} if {
	input.subject.id in input.resource.owners
} else := {"allow": true, "reasons": ["creator of the item"]} if {
	input.subject.id == input.resource.creator
} else := {"allow": true, "reasons": ["delegate of the objective"]} if {
	input.subject.id == input.resource.delegate.id
} else := {"allow": true, "reasons": ["owner of the objective"]} if {
	input.resource.kind == "KEY_RESULT"
	input.subject.id in input.resource.parent.owners
} else := {"allow": true, "reasons": ["delegate of the objective"]} if {
	input.resource.kind == "KEY_RESULT"
	input.subject.id == input.resource.parent.delegate.id
} else := {"allow": true, "reasons": ["check-in owner"]} if {
	input.subject.id == input.resource.checkin_owner
} else := {"allow": true, "reasons": ["listed viewer"]} if {
	input.subject.id in input.resource.viewers
} else := {"allow": false, "reasons": ["this OKR is private: only its owners, creator, delegate, check-in owner and listed viewers may see it"]}

# ---------------------------------------------------------------------------
# Edit, owner-level actions, check in.

# METADATA
# title: Edit decision
# description: |
#   Update fields, weights, close, reopen, delete: owners, creator, org
#   admins, owners (team role OWNER) of its teams, any owner's manager,
#   owners of the parent OKR, edit grantees and the delegate.
edit_decision := {"allow": true, "reasons": ["owner of the item"]} if {
	input.subject.id in input.resource.owners
} else := {"allow": true, "reasons": ["creator of the item"]} if {
	input.subject.id == input.resource.creator
} else := {"allow": true, "reasons": ["org admin"]} if {
	input.subject.role in {"ADMIN", "OWNER"}
} else := other_edit_decision

# The less common edit grants, and the refusal.
other_edit_decision := {"allow": true, "reasons": ["owner of one of its teams"]} if {
	some team in input.resource.teams
	input.subject.team_roles[team.id] == "OWNER"
} else := {"allow": true, "reasons": ["manager of an owner"]} if {
	input.subject.id in input.resource.owner_managers
} else := {"allow": true, "reasons": ["manager of an owner"]} if {
	some report in input.subject.direct_reports
	report in input.resource.owners
} else := {"allow": true, "reasons": ["owner of the parent OKR"]} if {
	input.subject.id in input.resource.parent.owners
} else := edit_grantee if {
	input.subject.id in input.resource.grants.edit
} else := delegate_objective if {
	input.resource.kind == "OBJECTIVE"
	input.subject.id == input.resource.delegate.id
} else := delegate_key_result if {
	# The objective's delegate covers a key result when the delegation
	# includes key results and one of the objective's owners owns it.
	input.resource.kind == "KEY_RESULT"
	input.resource.parent.delegate.key_results == true
	input.subject.id == input.resource.parent.delegate.id
	some owner in input.resource.owners
	owner in input.resource.parent.owners
} else := {"allow": false, "reasons": ["a check-in owner may only check in and set the data link; ask an owner of the OKR for other changes"]} if {
	input.subject.id == input.resource.checkin_owner
} else := {"allow": false, "reasons": ["only its owners, creator, owners of its teams, org admins, owners' managers, owners of the parent OKR, users with an edit grant and the delegate may edit this OKR"]}

delegate_objective := {"allow": true, "reasons": ["delegate of the objective"]}

delegate_key_result := {"allow": true, "reasons": ["delegate of the objective (key results included)"]}

edit_grantee := {"allow": true, "reasons": ["has an edit grant"]}

# METADATA
# title: Manage decision
# description: |
#   Change owners, set the delegate, the check-in owner, manage grants:
#   everyone who may edit except the delegate and edit grantees (who could
#   otherwise replace the owners and keep their grant).
manage_decision(action) := d if {
	d := edit_decision
	d.allow == true
	not d in {delegate_objective, delegate_key_result, edit_grantee}
} else := {"allow": false, "reasons": [sprintf("an edit grant does not allow to %s this OKR", [manage_verbs[action]])]} if {
	edit_decision == edit_grantee
} else := {"allow": false, "reasons": [sprintf("the delegate may not %s this OKR", [manage_verbs[action]])]} if {
	edit_decision.allow == true
} else := {"allow": false, "reasons": [sprintf(
	"only its owners, creator, owners of its teams, org admins, owners' managers, owners of the parent OKR and users with an edit grant may %s this OKR",
	[manage_verbs[action]],
)]}

manage_verbs := {
	"okr.change_owners": "change the owners of",
	"okr.set_delegate": "set the delegate of",
	"okr.set_checkin_owner": "set the check-in owner of",
	"okr.manage_grants": "manage the grants of",
}

# METADATA
# title: Check-in decision
# description: |
#   Check in and set a data link: the check-in owner, everyone who may
#   edit, and check-in grantees.
checkin_decision := {"allow": true, "reasons": ["check-in owner"]} if {
	input.subject.id == input.resource.checkin_owner
} else := d if {
	d := edit_decision
	d.allow == true
} else := {"allow": true, "reasons": ["has a check-in grant"]} if {
	input.subject.id in input.resource.grants.checkin
} else := {"allow": false, "reasons": ["only those who may edit this OKR, its check-in owner and users with a check-in grant may check in on it"]}

# METADATA
# title: Check-in correction decision
# description: |
#   Correct (okr.checkin.update) or delete (okr.checkin.delete) a check-in:
#   org admins (seed: they "can create, edit and delete any Objectives or
#   Check-ins"). input.resource is the check-in's item and
#   input.resource.checkin the check-in (id, author, age_seconds), so a
#   tenant policy can widen it, e.g. to the author within a day.
checkin_correction_decision(action) := {"allow": true, "reasons": ["org admin"]} if {
	input.subject.role in {"ADMIN", "OWNER"}
} else := {"allow": false, "reasons": [sprintf("only org admins may %s a check-in", [correction_verbs[action]])]}

correction_verbs := {
	"okr.checkin.update": "correct",
	"okr.checkin.delete": "delete",
}

# ---------------------------------------------------------------------------
# Align under input.resource.

# METADATA
# title: Align decision
# description: |
#   Anyone who can view the item may align under it, unless its alignment
#   is restricted: then only alignment grantees and those who may edit it
#   (its owners included).
align_decision := {"allow": false, "reasons": ["you cannot view this OKR"]} if {
	view_decision.allow == false
} else := {"allow": true, "reasons": ["anyone who can view it may align under it"]} if {
	not input.resource.alignment_restricted
} else := {"allow": true, "reasons": ["has an alignment grant"]} if {
	input.subject.id in input.resource.grants.align
} else := d if {
	d := edit_decision
	d.allow == true
} else := {"allow": false, "reasons": ["alignment under this OKR is restricted to the users its owners granted"]}

# ---------------------------------------------------------------------------
# Create.

# METADATA
# title: Create decision
# description: |
#   Also asked, with input.resource.previous set, when an item changes
#   level or teams: the item is judged as created at its new level.
#   The level's rule (level_decision) must allow it and, with a parent, the
#   subject must be allowed to align under the parent: open unless the
#   parent restricts alignment, then its alignment grantees, its owners, its
#   delegate and org admins (the parent facts say no more of who may edit
#   it).
create_decision := {"allow": true, "reasons": ["anyone may create individual OKRs"]} if {
	# the most common case, without a detour through level_decision
	input.resource.level == "INDIVIDUAL"
	not input.resource.parent.alignment_restricted
} else := d if {
	input.resource.level == "TEAM"
	not input.resource.parent.alignment_restricted
	d := team_level_decision
} else := d if {
	not input.resource.parent.alignment_restricted
	d := level_decision
} else := restricted_parent_create_decision

# Creating under a parent that restricts alignment: the level's refusal
# first, then who may align under the parent.
restricted_parent_create_decision := d if {
	d := level_decision
	d.allow == false
} else := level_decision if {
	input.subject.id in input.resource.parent.align_grants
} else := level_decision if {
	input.subject.id in input.resource.parent.owners
} else := level_decision if {
	input.subject.id == input.resource.parent.delegate.id
} else := level_decision if {
	input.subject.role in {"ADMIN", "OWNER"}
} else := {"allow": false, "reasons": ["alignment under the parent OKR is restricted to the users its owners granted"]}

# METADATA
# title: Level decision
# description: |
#   INDIVIDUAL: anyone, for any owners. TEAM: see team_level_decision.
#   ORGANIZATION: see org_level_decision.
level_decision := {"allow": true, "reasons": ["anyone may create individual OKRs"]} if {
	input.resource.level == "INDIVIDUAL"
} else := team_level_decision if {
	input.resource.level == "TEAM"
} else := org_level_decision if {
	input.resource.level == "ORGANIZATION"
} else := {"allow": false, "reasons": ["unknown OKR level"]}

# METADATA
# title: Team level decision
# description: |
#   A team OKR names one team or more (a shared OKR). Org admins may create
#   it; anyone else only if every team allows it (team_decision).
team_level_decision := {"allow": false, "reasons": ["a team OKR needs at least one team"]} if {
	not input.resource.teams[0]
} else := {"allow": true, "reasons": ["org admin"]} if {
	input.subject.role in {"ADMIN", "OWNER"}
} else := team_decision(input.resource.teams[0]) if {
	not input.resource.teams[1]
} else := {"allow": false, "reasons": denials} if {
	denials := [msg |
		some team in input.resource.teams
		d := team_decision(team)
		d.allow == false
		some msg in d.reasons
	]
	count(denials) > 0
} else := {"allow": true, "reasons": reasons} if {
	reasons := [sprintf("%s: %s", [team_label(team), msg]) |
		some team in input.resource.teams
		some msg in team_decision(team).reasons
	]
}

# METADATA
# title: Organization level decision
# description: |
#   Org admins may create organization OKRs; others as org.okr_creation
#   says: EVERYONE (or empty), ADMINS, LISTED (org.okr_creation_listed).
org_level_decision := {"allow": true, "reasons": ["org admin"]} if {
	input.subject.role in {"ADMIN", "OWNER"}
} else := {"allow": true, "reasons": ["organization OKR creation is open to everyone"]} if {
	not input.org.okr_creation
} else := {"allow": true, "reasons": ["organization OKR creation is open to everyone"]} if {
	input.org.okr_creation in {"", "EVERYONE"}
} else := {"allow": true, "reasons": ["listed organization OKR creator"]} if {
	input.org.okr_creation == "LISTED"
	input.subject.id in input.org.okr_creation_listed
} else := {"allow": false, "reasons": ["only org admins may create organization OKRs"]} if {
	input.org.okr_creation == "ADMINS"
} else := {"allow": false, "reasons": ["only org admins and listed users may create organization OKRs"]} if {
	input.org.okr_creation == "LISTED"
} else := {"allow": false, "reasons": [sprintf("unknown organization OKR creation setting %q", [input.org.okr_creation])]}

# METADATA
# title: Team decision
# description: |
#   May the subject create an OKR in team? Team owners always; otherwise as
#   team.okr_creation says: EVERYONE (or empty), TEAM_MEMBERS (any role in
#   the team), TEAM_OWNERS, LISTED (team.listed).
team_decision(team) := {"allow": true, "reasons": ["owner of the team"]} if {
	input.subject.team_roles[team.id] == "OWNER"
} else := {"allow": true, "reasons": ["OKR creation in the team is open to everyone"]} if {
	not team.okr_creation
} else := {"allow": true, "reasons": ["OKR creation in the team is open to everyone"]} if {
	team.okr_creation in {"", "EVERYONE"}
} else := {"allow": true, "reasons": ["member of the team"]} if {
	team.okr_creation == "TEAM_MEMBERS"
	input.subject.team_roles[team.id] != ""
} else := {"allow": true, "reasons": ["listed OKR creator of the team"]} if {
	team.okr_creation == "LISTED"
	input.subject.id in team.listed
} else := {"allow": false, "reasons": [sprintf("only members of %s may create OKRs in it", [team_label(team)])]} if {
	team.okr_creation == "TEAM_MEMBERS"
} else := {"allow": false, "reasons": [sprintf("only team owners may create OKRs in %s", [team_label(team)])]} if {
	team.okr_creation == "TEAM_OWNERS"
} else := {"allow": false, "reasons": [sprintf("only listed users may create OKRs in %s", [team_label(team)])]} if {
	team.okr_creation == "LISTED"
} else := {"allow": false, "reasons": [sprintf("%s has an unknown OKR creation setting %q", [team_label(team), team.okr_creation])]}

# METADATA
# title: Team label
# description: |
#   How reasons name a team: by its name, quoted (team "Sales"); by its id
#   only when the facts carry no name.
team_label(team) := sprintf("team %q", [team.name]) if {
	team.name != ""
} else := sprintf("team %s", [team.id])
