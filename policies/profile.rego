# METADATA
# title: Profiles
# description: |
#   Default rule (spec §4) for editing a profile (name, email): the user
#   themself, unless the membership was provisioned through SSO.
#   input.resource.user is the profile's user.
package okrgraph.profile

# METADATA
# title: Decision
# description: |
#   profile.update by the profile's own user unless provisioned through
#   SSO. Undefined for unknown profile.* actions.
decide(action) := {"allow": false, "reasons": ["only the user themself may edit a profile"]} if {
	action == "profile.update"
	not input.subject.id == input.resource.user
} else := {"allow": false, "reasons": ["profiles provisioned through SSO are edited at the identity provider"]} if {
	action == "profile.update"
	input.subject.sso == true
} else := {"allow": true, "reasons": ["editing your own profile"]} if {
	action == "profile.update"
}
