# METADATA
# title: Service identities (API tokens)
# description: |
#   An org's API token acts as a service identity of the org (spec §7):
#   input.subject.type == "service", no role, input.subject.scopes lists
#   its scopes ("read" is the only one today). It reads what a service may
#   read — OKRs that are not private, and their trees — and never a
#   performance review; it changes nothing. Tenant policies may narrow it
#   further with deny rules (tenant grants never apply to it: it has no
#   role).
package okrgraph.service

# METADATA
# title: Decision
# description: |
#   okr.view of a non-private item with the "read" scope; every review.*
#   action, every private item and every other action are refused with a
#   sentence.
decide(action) := {"allow": false, "reasons": ["service identities (API tokens) never read performance reviews"]} if {
	startswith(action, "review.")
} else := {"allow": false, "reasons": ["service identities (API tokens) never see private OKRs"]} if {
	action == "okr.view"
	input.resource.private == true
} else := {"allow": true, "reasons": ["API tokens with the read scope read OKRs that are not private"]} if {
	action == "okr.view"
	"read" in input.subject.scopes
} else := {"allow": false, "reasons": ["this API token has no read scope"]} if {
	action == "okr.view"
} else := {"allow": false, "reasons": ["API tokens are read-only: they may read OKRs but never change anything"]}
