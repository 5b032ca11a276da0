# METADATA
# title: The whole supervisor chain may edit
# description: |
#   By default only an owner's direct manager may edit their OKRs; this
#   grants editing and checking in to every manager up the chain.
package okrgraph.tenant.supervisor_chain

allow contains "a manager up the owner's supervisor chain" if {
	input.action in {"okr.update", "okr.checkin"}
	some owner in input.resource.owners
	owner in input.subject.reports
}
