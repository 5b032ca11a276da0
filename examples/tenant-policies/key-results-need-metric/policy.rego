# METADATA
# title: Key results are measurable
# description: A key result needs a metric (start and target) unless it is a 0/1 milestone.
package okrgraph.tenant.measurable

deny contains "a key result needs a metric (start and target) or must be a milestone" if {
	input.action == "okr.create"
	input.resource.kind == "KEY_RESULT"
	not input.resource.has_metric
	not input.resource.milestone
}
