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
#   team.manage_members by team owners, team admins and org admins;
#   team.manage_settings by team owners and org admins. Undefined for
#   unknown team.* actions.
decision := {"allow": false, "reasons": ["no team given"]} if {
	denials[input.action]
	not input.resource.teams[0].id
} else := {"allow": true, "reasons": ["owner of the team"]} if {
	denials[input.action]
	input.subject.team_roles[input.resource.teams[0].id] == "OWNER"
} else := {"allow": true, "reasons": ["admin of the team"]} if {
	input.action == "team.manage_members"
	input.subject.team_roles[input.resource.teams[0].id] == "ADMIN"
} else := {"allow": true, "reasons": ["org admin"]} if {
	denials[input.action]
	input.subject.role in {"ADMIN", "OWNER"}
} else := {"allow": false, "reasons": [sprintf(denials[input.action], [okr.team_label(input.resource.teams[0])])]}

denials := {
	"team.manage_members": "only team owners, team admins and org admins may manage the members of %s",
	"team.manage_settings": "only team owners and org admins may change the settings of %s",
}
