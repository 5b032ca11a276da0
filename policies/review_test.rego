package okrgraph.review_test

import data.okrgraph.main
import data.okrgraph.review

# Steve reports to Sam, Sam to Victor; Dora is a named approver; Hana a
# performance admin; Adam an org admin without the flag; Martha a peer.
steve := {"id": "steve", "role": "MEMBER"}

sam := {"id": "sam", "role": "MEMBER", "direct_reports": ["steve"], "reports": ["steve"]}

victor := {"id": "victor", "role": "MEMBER", "direct_reports": ["sam"], "reports": ["sam", "steve"]}

dora := {"id": "dora", "role": "MEMBER"}

hana := {"id": "hana", "role": "MEMBER", "performance_admin": true}

adam := {"id": "adam", "role": "ADMIN"}

martha := {"id": "martha", "role": "MEMBER"}

active := {"id": "c1", "status": "ACTIVE", "approval_required": true, "approver_rule": "SUPERVISOR_CHAIN"}

no_approval := {"id": "c1", "status": "ACTIVE"}

manager_review(status) := {"type": "MANAGER", "status": status, "reviewee": "steve", "reviewer": "sam", "approvers": ["victor"]}

self_review(status) := {"type": "SELF", "status": status, "reviewee": "steve", "reviewer": "steve", "approvers": ["victor"]}

named_review(status) := object.union(manager_review(status), {"approvers": ["dora"]})

decide(action, subject, rv, cycle) := d if {
	d := review.decide(input.action) with input as {
		"action": action,
		"subject": subject,
		"resource": {"id": "r1", "review": rv, "cycle": cycle},
		"org": {"id": "org1"},
	}
}

cycle_decision(action, subject, cycle) := d if {
	d := review.decide(input.action) with input as {
		"action": action,
		"subject": subject,
		"resource": {"cycle": cycle},
		"org": {"id": "org1"},
	}
}

allow(reason) := {"allow": true, "reasons": [reason]}

deny(reason) := {"allow": false, "reasons": [reason]}

# --- view_cycle

test_view_cycle_performance_admin_sees_drafts if {
	cycle_decision("review.view_cycle", hana, {"status": "DRAFT"}) == allow("performance admin")
}

test_view_cycle_members_see_launched_cycles if {
	cycle_decision("review.view_cycle", steve, {"status": "ACTIVE"}) == allow("every member may see a launched review cycle")
	cycle_decision("review.view_cycle", adam, {"status": "CLOSED"}).allow
}

test_view_cycle_members_do_not_see_drafts if {
	cycle_decision("review.view_cycle", adam, {"status": "DRAFT"}) == deny("only performance admins see review cycles before they are launched")
	not cycle_decision("review.view_cycle", steve, {}).allow
}

# --- manage_cycle

test_manage_cycle_performance_admin if {
	cycle_decision("review.manage_cycle", hana, {"status": "DRAFT"}) == allow("performance admin")
}

test_manage_cycle_org_admin_denied if {
	cycle_decision("review.manage_cycle", adam, {"status": "DRAFT"}) == deny("only performance admins may manage review cycles")
}

# --- read

test_read_performance_admin if {
	decide("review.read", hana, manager_review("NOT_STARTED"), active) == allow("performance admin")
}

test_read_author if {
	decide("review.read", sam, manager_review("IN_PROGRESS"), active) == allow("author of the review")
	decide("review.read", steve, self_review("IN_PROGRESS"), active) == allow("author of the review")
}

test_read_reviewee_once_shared if {
	decide("review.read", steve, manager_review("SHARED"), active) == allow("your review, shared with you")
}

test_read_reviewee_not_before_shared if {
	every status in {"NOT_STARTED", "IN_PROGRESS", "SUBMITTED", "APPROVED"} {
		decide("review.read", steve, manager_review(status), active) == deny("your review is shown to you once its results are shared")
	}
}

test_read_manager_of_reviewee_once_handed_in if {
	every status in {"SUBMITTED", "APPROVED", "SHARED"} {
		decide("review.read", victor, manager_review(status), active) == allow("manager of the reviewee")
	}
	decide("review.read", sam, self_review("SUBMITTED"), active) == allow("manager of the reviewee")
}

test_read_manager_not_drafts if {
	not decide("review.read", victor, manager_review("IN_PROGRESS"), active).allow
	not decide("review.read", sam, self_review("IN_PROGRESS"), active).allow
}

test_read_approver_once_handed_in if {
	decide("review.read", dora, named_review("SUBMITTED"), active) == allow("approver of the review")
	not decide("review.read", dora, named_review("IN_PROGRESS"), active).allow
}

test_read_others_denied if {
	d := "only performance admins, the reviewer, the reviewee once shared, and the reviewee's managers and the review's approvers once it is submitted may read this review"
	decide("review.read", adam, manager_review("SHARED"), active) == deny(d)
	decide("review.read", martha, manager_review("SUBMITTED"), active) == deny(d)
	decide("review.read", dora, manager_review("SUBMITTED"), active) == deny(d)
}

# --- track

test_track_allowed if {
	decide("review.track", hana, manager_review("NOT_STARTED"), active) == allow("performance admin")
	decide("review.track", sam, manager_review("NOT_STARTED"), active) == allow("author of the review")
	decide("review.track", steve, manager_review("IN_PROGRESS"), active) == allow("your review")
	decide("review.track", victor, manager_review("NOT_STARTED"), active) == allow("manager of the reviewee")
	decide("review.track", dora, named_review("IN_PROGRESS"), active) == allow("approver of the review")
}

test_track_others_denied if {
	d := "only performance admins, the reviewer, the reviewee, the reviewee's managers and the review's approvers may follow this review"
	decide("review.track", adam, manager_review("SUBMITTED"), active) == deny(d)
	decide("review.track", martha, manager_review("IN_PROGRESS"), active) == deny(d)
}

# --- write

test_write_reviewer if {
	decide("review.write", sam, manager_review("NOT_STARTED"), active) == allow("author of the review")
	decide("review.write", steve, self_review("IN_PROGRESS"), no_approval) == allow("author of the review")
}

test_write_performance_admin if {
	decide("review.write", hana, manager_review("IN_PROGRESS"), active) == allow("performance admin")
}

test_write_others_denied if {
	decide("review.write", victor, manager_review("IN_PROGRESS"), active) == deny("only the reviewer and performance admins may edit this review")
	decide("review.write", steve, manager_review("IN_PROGRESS"), active).allow == false
}

test_write_not_after_submission if {
	every status in {"SUBMITTED", "APPROVED", "SHARED"} {
		decide("review.write", sam, manager_review(status), active) == deny("the review was submitted: it can be edited again only once sent back")
	}
}

test_write_only_in_active_cycles if {
	decide("review.write", sam, manager_review("IN_PROGRESS"), object.union(active, {"status": "CLOSED"})) == deny("the review cycle is closed")
	decide("review.write", sam, manager_review("IN_PROGRESS"), object.union(active, {"status": "DRAFT"})) == deny("the review cycle has not been launched")
	decide("review.write", sam, manager_review("IN_PROGRESS"), {"id": "c1"}) == deny("the review cycle is not active")
}

# --- submit

test_submit_reviewer if {
	decide("review.submit", sam, manager_review("IN_PROGRESS"), active) == allow("author of the review")
}

test_submit_no_skipping if {
	decide("review.submit", sam, manager_review("NOT_STARTED"), active) == deny("fill in the review before submitting it")
}

test_submit_once if {
	decide("review.submit", sam, manager_review("SUBMITTED"), active) == deny("the review was already submitted")
}

test_submit_others_denied if {
	decide("review.submit", hana, manager_review("IN_PROGRESS"), active) == deny("only the reviewer may submit this review")
}

test_submit_only_in_active_cycles if {
	decide("review.submit", sam, manager_review("IN_PROGRESS"), object.union(active, {"status": "CLOSED"})) == deny("the review cycle is closed")
}

# --- approve

test_approve_approver if {
	decide("review.approve", victor, manager_review("SUBMITTED"), active) == allow("approver of the review")
}

test_approve_performance_admin if {
	decide("review.approve", hana, manager_review("SUBMITTED"), object.union(active, {"approver_rule": "PERFORMANCE_ADMINS"})) == allow("performance admin")
}

test_approve_only_after_submission if {
	every status in {"NOT_STARTED", "IN_PROGRESS"} {
		decide("review.approve", victor, manager_review(status), active) == deny("a review can only be approved after the manager submitted it")
	}
}

test_approve_once if {
	decide("review.approve", victor, manager_review("APPROVED"), active) == deny("the review was already approved")
	decide("review.approve", victor, manager_review("SHARED"), active).allow == false
}

test_approve_only_manager_reviews if {
	decide("review.approve", victor, self_review("SUBMITTED"), active) == deny("only manager reviews are approved")
}

test_approve_only_when_required if {
	decide("review.approve", victor, manager_review("SUBMITTED"), no_approval) == deny("this review cycle does not require approval")
}

test_approve_only_in_active_cycles if {
	decide("review.approve", victor, manager_review("SUBMITTED"), object.union(active, {"status": "CLOSED"})) == deny("the review cycle is closed")
}

test_approve_not_own_writing if {
	decide("review.approve", object.union(sam, {"performance_admin": true}), manager_review("SUBMITTED"), active) == deny("you may not approve a review you wrote")
}

test_approve_not_own_review if {
	decide("review.approve", object.union(steve, {"performance_admin": true}), manager_review("SUBMITTED"), active) == deny("you may not approve your own review")
}

test_approve_others_denied if {
	decide("review.approve", martha, manager_review("SUBMITTED"), active) == deny("only the review's approvers and performance admins may approve it")
	decide("review.approve", dora, manager_review("SUBMITTED"), active).allow == false
}

# --- send back

test_send_back_approver if {
	decide("review.send_back", victor, manager_review("SUBMITTED"), active) == allow("approver of the review")
}

test_send_back_performance_admin if {
	decide("review.send_back", hana, manager_review("APPROVED"), active) == allow("performance admin")
	decide("review.send_back", hana, self_review("SUBMITTED"), no_approval) == allow("performance admin")
}

test_send_back_approved_only_by_performance_admins if {
	decide("review.send_back", victor, manager_review("APPROVED"), active) == deny("only performance admins may send back an approved review")
}

test_send_back_only_handed_in if {
	every status in {"NOT_STARTED", "IN_PROGRESS", "SHARED"} {
		decide("review.send_back", hana, manager_review(status), active) == deny("only a submitted or approved review can be sent back")
	}
}

test_send_back_only_in_active_cycles if {
	decide("review.send_back", hana, manager_review("SUBMITTED"), object.union(active, {"status": "CLOSED"})) == deny("the review cycle is closed")
}

test_send_back_others_denied if {
	d := "only the review's approvers and performance admins may send it back"
	decide("review.send_back", martha, manager_review("SUBMITTED"), active) == deny(d)
	decide("review.send_back", victor, manager_review("SUBMITTED"), no_approval) == deny(d)
	decide("review.send_back", victor, self_review("SUBMITTED"), active) == deny(d)
}

# --- share

test_share_performance_admin if {
	decide("review.share", hana, manager_review("APPROVED"), active) == allow("performance admin")
	decide("review.share", hana, manager_review("SUBMITTED"), no_approval) == allow("performance admin")
	decide("review.share", hana, self_review("SUBMITTED"), active) == allow("performance admin")
	decide("review.share", hana, self_review("SUBMITTED"), object.union(active, {"status": "CLOSED"})).allow
}

test_share_only_performance_admins if {
	decide("review.share", adam, manager_review("APPROVED"), active) == deny("only performance admins may share review results")
	decide("review.share", victor, manager_review("APPROVED"), active).allow == false
}

test_share_once if {
	decide("review.share", hana, manager_review("SHARED"), active) == deny("the review was already shared")
}

test_share_only_handed_in if {
	every status in {"NOT_STARTED", "IN_PROGRESS"} {
		decide("review.share", hana, self_review(status), active) == deny("only a submitted review can be shared")
	}
}

test_share_manager_review_after_approval if {
	decide("review.share", hana, manager_review("SUBMITTED"), active) == deny("the manager review must be approved before it is shared")
}

# --- dispatch

test_unknown_review_action_undefined if {
	not decide("review.fly", hana, manager_review("SUBMITTED"), active)
}

main_decide(action, subject) := d if {
	d := main.decision with input as {
		"action": action,
		"subject": subject,
		"resource": {"id": "r1", "review": manager_review("SUBMITTED"), "cycle": active},
		"org": {"id": "org1"},
	}
}

test_review_actions_dispatched_to_review if {
	every action in {
		"review.view_cycle", "review.manage_cycle", "review.read", "review.track", "review.write",
		"review.submit", "review.approve", "review.send_back", "review.share",
	} {
		main_decide(action, hana) == decide(action, hana, manager_review("SUBMITTED"), active)
	}
	main_decide("review.approve", victor) == allow("approver of the review")
}

test_observers_get_no_review_action if {
	main_decide("review.read", object.union(hana, {"observer": true})) == deny("observers are read-only")
}

test_non_members_get_no_review_action if {
	main_decide("review.read", {"id": "hana", "role": "", "performance_admin": true}) == deny("not a member of this organization")
}
