package okrgraph.tenant.authors_correct_checkins_test

import data.okrgraph.final

org := {"id": "1", "okr_creation": "EVERYONE", "team_creation": "ADMINS"}

author := {"id": "2", "role": "MEMBER", "observer": false, "team_roles": {}, "direct_reports": [], "reports": []}

other := object.union(author, {"id": "3"})

item(age) := {
	"id": "10", "kind": "KEY_RESULT", "level": "INDIVIDUAL", "owners": ["4"], "creator": "4", "teams": [],
	"checkin": {"id": "20", "author": "2", "age_seconds": age},
}

decide(action, subject, resource) := d if {
	d := final.decision with input as {"action": action, "subject": subject, "resource": resource, "org": org}
}

test_author_corrects_within_a_day if {
	d := decide("okr.checkin.update", author, item(3600))
	d.allow
	d.reasons == ["the author, within a day of checking in"]
	decide("okr.checkin.delete", author, item(86399)).allow
}

test_author_not_after_a_day if {
	not decide("okr.checkin.update", author, item(86400)).allow
}

test_others_may_not if {
	not decide("okr.checkin.delete", other, item(60)).allow
}

test_observer_author_may_not if {
	not decide("okr.checkin.update", object.union(author, {"observer": true}), item(60)).allow
}
