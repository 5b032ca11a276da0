# METADATA
# title: Team administration
# description: |
#   Default rules (spec §4) for managing a team's members and settings.
#   input.resource.teams[0] is the team.
package okrgraph.team

import data.okrgraph.okr

# METADATA
# title: Decision
# description: |
#   team.manage_members by team owners, org admins and team admins, the
#   last only for the team roles MEMBER and ADMIN (input.resource.team_member:
#   the target's current role and the new one, "" for none): never to make,
#   demote or remove an OWNER. team.manage_settings and team.delete by team
#   owners and org admins. Undefined for unknown team.* actions.
decide(action) := {"allow": false, "reasons": ["no team given"]} if {
	denials[action]
	not input.resource.teams[0].id
} else := {"allow": true, "reasons": ["owner of the team"]} if {
	denials[action]
	input.subject.team_roles[input.resource.teams[0].id] == "OWNER"
} else := {"allow": true, "reasons": ["org admin"]} if {
	denials[action]
	input.subject.role in {"ADMIN", "OWNER"}
} else := {"allow": false, "reasons": [sprintf("team admins may not make, demote or remove an owner of %s", [okr.team_label(input.resource.teams[0])])]} if {
	action == "team.manage_members"
	input.subject.team_roles[input.resource.teams[0].id] == "ADMIN"
	owner_role_involved
} else := {"allow": true, "reasons": ["admin of the team"]} if {
	action == "team.manage_members"
	input.subject.team_roles[input.resource.teams[0].id] == "ADMIN"
} else := {"allow": false, "reasons": [sprintf(denials[action], [okr.team_label(input.resource.teams[0])])]}

# The change touches the OWNER team role: the target is an owner, or is
# to become one.
owner_role_involved if input.resource.team_member.role == "OWNER"

owner_role_involved if input.resource.team_member.new_role == "OWNER"

denials := {
	"team.manage_members": "only team owners, team admins and org admins may manage the members of %s",
	"team.manage_settings": "only team owners and org admins may change the settings of %s",
	"team.delete": "only team owners and org admins may delete %s",
}
