# METADATA
# title: Closed periods are frozen
# description: No new OKRs in a closed time period.
package okrgraph.tenant.frozen_periods

deny contains "this time period is closed: no new OKRs" if {
	input.action == "okr.create"
	input.resource.time_period_closed == true
}
