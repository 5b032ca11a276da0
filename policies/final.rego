# METADATA
# title: Final decision
# description: |
#   internal/authz queries data.okrgraph.final.decision: the default
#   decision of okrgraph.main combined with the organization's own policy,
#   whose modules live under okrgraph.tenant.<name> and may define
#   `deny contains msg if {...}` (refuse any action, with a message shown to
#   the user) and `allow contains reason if {...}` (grant OKR actions beyond
#   the defaults). Tenant denials win over everything; tenant grants only
#   add to a default refusal. Tenant rules never apply to org
#   administration and policy editing (so admins can always repair a bad
#   policy) nor to viewing OKRs (private items are filtered in SQL by the
#   default rule). Observers and non-members are never granted anything.
#   Decisions made by a tenant rule carry "by": "tenant".
package okrgraph.final

import data.okrgraph.main

# METADATA
# title: Decision
# description: '{"allow": bool, "reasons": [string]} plus "by": "tenant" when a tenant rule decided.'
decision := {"allow": false, "reasons": sort(tenant_denials), "by": "tenant"} if {
	count(tenant_denials) > 0
} else := main.decision if {
	main.decision.allow == true
} else := {"allow": true, "reasons": sort(tenant_grants), "by": "tenant"} if {
	count(tenant_grants) > 0
} else := main.decision

# METADATA
# title: Protected actions
# description: Actions tenant rules can neither deny nor grant.
protected if startswith(input.action, "org.")

protected if input.action == "okr.view"

# METADATA
# title: Tenant denials
# description: Messages of every tenant deny rule that holds, unless the action is protected.
tenant_denials contains msg if {
	not protected
	some msg in data.okrgraph.tenant[_].deny
}

# METADATA
# title: Tenant grants
# description: |
#   Reasons of every tenant allow rule that holds, for OKR actions of
#   members who may write (not observers).
tenant_grants contains reason if {
	startswith(input.action, "okr.")
	not protected
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	not input.subject.observer
	some reason in data.okrgraph.tenant[_].allow
}
