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
decision := {"allow": false, "reasons": denials, "by": "tenant"} if {
	not protected
	denials := [msg | some msg in data.okrgraph.tenant[_].deny]
	denials != []
} else := d if {
	d := main.decision
	d.allow == true
} else := {"allow": true, "reasons": grants, "by": "tenant"} if {
	startswith(input.action, "okr.")
	not protected
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	not input.subject.observer
	grants := [reason | some reason in data.okrgraph.tenant[_].allow]
	grants != []
} else := main.decision

# METADATA
# title: Protected actions
# description: Actions tenant rules can neither deny nor grant.
protected if startswith(input.action, "org.")

protected if input.action == "okr.view"
