# METADATA
# title: Organization objectives are the owners' job
# description: Only organization owners create ORGANIZATION-level objectives.
package okrgraph.tenant.org_objectives

deny contains "only organization owners may create organization-level objectives" if {
	input.action == "okr.create"
	input.resource.level == "ORGANIZATION"
	input.resource.kind == "OBJECTIVE"
	input.subject.role != "OWNER"
}
