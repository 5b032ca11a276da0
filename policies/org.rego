# METADATA
# title: Organization administration
# description: |
#   Default rules (spec §4) for org settings and time periods, members and
#   roles, the tenant policy, and team creation.
package okrgraph.org

# METADATA
# title: Decision
# description: |
#   Org admins may do every org.* action; anyone may create teams when
#   org.team_creation is EVERYONE (empty means ADMINS); every member may
#   leave (the service keeps the last owner). Undefined for unknown org.*
#   actions.
decide(action) := {"allow": true, "reasons": ["every member may leave the organization"]} if {
	action == "org.leave"
} else := {"allow": true, "reasons": ["org admin"]} if {
	denials[action]
	input.subject.role in {"ADMIN", "OWNER"}
} else := {"allow": true, "reasons": ["team creation is open to everyone"]} if {
	action == "org.create_team"
	input.org.team_creation == "EVERYONE"
} else := {"allow": false, "reasons": [msg]} if {
	msg := denials[action]
}

denials := {
	"org.manage": "only org admins may manage the organization's settings and time periods",
	"org.manage_members": "only org admins may manage members and roles",
	"org.manage_policy": "only org admins may edit the organization's policy",
	"org.create_team": "only org admins may create teams",
}
