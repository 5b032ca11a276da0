# METADATA
# title: Final decision
# description: |
#   internal/authz queries data.okrgraph.final.decision (or decisions, for
#   several actions at once): the default decision of okrgraph.main
#   combined with the organization's own policy, whose modules live under
#   okrgraph.tenant.<name> and may define `deny contains msg if {...}`
#   (refuse any action, with a message shown to the user) and `allow
#   contains reason if {...}` (grant OKR actions beyond the defaults).
#   Tenant denials win over everything; tenant grants only add to a
#   default refusal. Tenant rules never apply to org administration and
#   policy editing (so admins can always repair a bad policy) nor to
#   viewing OKRs (private items are filtered in SQL by the default rule).
#   Observers and non-members are never granted anything. Decisions made
#   by a tenant rule carry "by": "tenant".
package okrgraph.final

import data.okrgraph.main

# METADATA
# title: Decision
# description: '{"allow": bool, "reasons": [string]} plus "by": "tenant" when a tenant rule decided.'
decision := combine(input.action, main.decision)

# METADATA
# title: Decisions
# description: |
#   The final decision on every action of input.actions in one evaluation,
#   {action: decision}, each equal to decision with input.action set to
#   it. The default decisions share their work (main.decisions); the
#   tenant rules, which read input.action, see each action in turn.
decisions := {action: combine(action, main.decisions[action]) | some action in input.actions}

# METADATA
# title: Combine
# description: |
#   The final decision on action given the default one, d. Tenant rules
#   are evaluated only when they can change the answer: deny unless the
#   action is protected, allow only when the default refuses.
combine(action, d) := {"allow": false, "reasons": denials, "by": "tenant"} if {
	not protected(action)
	denials := tenant_denials(action)
	denials != []
} else := d if {
	d.allow == true
} else := {"allow": true, "reasons": grants, "by": "tenant"} if {
	startswith(action, "okr.")
	not protected(action)
	input.subject.role in {"MEMBER", "ADMIN", "OWNER"}
	not input.subject.observer
	grants := tenant_grants(action)
	grants != []
} else := d

# METADATA
# title: Protected actions
# description: Actions tenant rules can neither deny nor grant.
protected(action) if startswith(action, "org.")

protected("okr.view")

# METADATA
# title: Tenant denials
# description: |
#   The messages of the tenant deny rules on action. Tenant rules read
#   input.action: in a batched evaluation (decisions) they see the input of
#   a decision on action alone (single_input), evaluated afresh for each
#   action; in a single decision, the input as it is.
tenant_denials(action) := [msg | some msg in data.okrgraph.tenant[_].deny] if {
	action == input.action
} else := denials if {
	denials := [msg | some msg in data.okrgraph.tenant[_].deny] with input as single_input(action)
}

# METADATA
# title: Tenant grants
# description: The reasons of the tenant allow rules on action (see tenant_denials).
tenant_grants(action) := [reason | some reason in data.okrgraph.tenant[_].allow] if {
	action == input.action
} else := grants if {
	grants := [reason | some reason in data.okrgraph.tenant[_].allow] with input as single_input(action)
}

# The input of a single decision on action: input with action as
# input.action and without the actions list of a batched evaluation.
single_input(action) := object.union(object.remove(input, {"actions"}), {"action": action})
