# METADATA
# title: Finance OKRs come from Finance's owners
# description: Only owners of the team named "Finance" create its TEAM-level OKRs.
package okrgraph.tenant.finance

deny contains "only owners of the Finance team may create its OKRs" if {
	input.action == "okr.create"
	some team in input.resource.teams
	team.name == "Finance"
	not owns(team.id)
}

owns(team_id) if input.subject.team_roles[team_id] == "OWNER"
