# METADATA
# title: Authors correct their own check-ins for a day
# description: |
#   By default only org admins correct or delete check-ins. This grant lets
#   the author of a check-in correct or delete it within 24 hours of making
#   it (input.resource is the item, input.resource.checkin the check-in).
package okrgraph.tenant.authors_correct_checkins

allow contains "the author, within a day of checking in" if {
	input.action in {"okr.checkin.update", "okr.checkin.delete"}
	input.resource.checkin.author == input.subject.id
	input.resource.checkin.age_seconds < 86400
}
