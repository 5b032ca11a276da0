# METADATA
# title: Performance reviews
# description: |
#   Default rules (spec §5) for review cycles and reviews. okrgraph.main
#   has already checked that the subject is a member and not an observer.
#
#   input.resource.cycle is the review cycle (id, status, approval_required,
#   approver_rule); for the actions on one review, input.resource.review is
#   the review (type SELF or MANAGER, status, reviewee, reviewer and the
#   approvers fixed at launch: the named approver or the manager's
#   supervisors, none for the PERFORMANCE_ADMINS rule). Zero-valued fields
#   may be absent.
#
#   Review statuses go NOT_STARTED → IN_PROGRESS → SUBMITTED → APPROVED
#   (manager reviews of cycles requiring approval) → SHARED; sending back
#   returns a review to IN_PROGRESS. The rules below enforce who may move a
#   review, and from which status.
#
#   The SQL filters of ent/schema/review.go and reviewcycle.go mirror
#   review.read and review.view_cycle: change them together.
package okrgraph.review

# METADATA
# title: Decision
# description: |
#   The answer for a review.* action; undefined for unknown ones.
decide(action) := view_cycle_decision if {
	action == "review.view_cycle"
} else := manage_cycle_decision if {
	action == "review.manage_cycle"
} else := read_decision if {
	action == "review.read"
} else := track_decision if {
	action == "review.track"
} else := write_decision if {
	action == "review.write"
} else := submit_decision if {
	action == "review.submit"
} else := approve_decision if {
	action == "review.approve"
} else := send_back_decision if {
	action == "review.send_back"
} else := share_decision if {
	action == "review.share"
}

# Statuses in which the reviewer has handed the review in.
handed_in := {"SUBMITTED", "APPROVED", "SHARED"}

perf_admin if input.subject.performance_admin == true

# The refusal for a cycle that is not ACTIVE.
inactive := {"allow": false, "reasons": [msg]} if {
	msg := inactive_reasons[input.resource.cycle.status]
} else := {"allow": false, "reasons": ["the review cycle is not active"]}

inactive_reasons := {
	"DRAFT": "the review cycle has not been launched",
	"CLOSED": "the review cycle is closed",
}

# ---------------------------------------------------------------------------
# Cycles.

# METADATA
# title: View cycle decision
# description: |
#   Performance admins see every cycle; every member sees launched ones.
view_cycle_decision := {"allow": true, "reasons": ["performance admin"]} if {
	perf_admin
} else := {"allow": true, "reasons": ["every member may see a launched review cycle"]} if {
	input.resource.cycle.status in {"ACTIVE", "CLOSED"}
} else := {"allow": false, "reasons": ["only performance admins see review cycles before they are launched"]}

# METADATA
# title: Manage cycle decision
# description: |
#   Create, configure, launch, close a cycle and share its results:
#   performance admins.
manage_cycle_decision := {"allow": true, "reasons": ["performance admin"]} if {
	perf_admin
} else := {"allow": false, "reasons": ["only performance admins may manage review cycles"]}

# ---------------------------------------------------------------------------
# Reading and following reviews.

# METADATA
# title: Read decision
# description: |
#   Ratings, comments and achievements: performance admins; the reviewer;
#   the reviewee once shared; once handed in, the reviewee's managers
#   (direct and indirect) and the review's approvers. Nobody else, org
#   admins included.
read_decision := {"allow": true, "reasons": ["performance admin"]} if {
	perf_admin
} else := {"allow": true, "reasons": ["author of the review"]} if {
	input.subject.id == input.resource.review.reviewer
} else := {"allow": true, "reasons": ["your review, shared with you"]} if {
	input.subject.id == input.resource.review.reviewee
	input.resource.review.status == "SHARED"
} else := {"allow": false, "reasons": ["your review is shown to you once its results are shared"]} if {
	input.subject.id == input.resource.review.reviewee
} else := {"allow": true, "reasons": ["manager of the reviewee"]} if {
	input.resource.review.status in handed_in
	input.resource.review.reviewee in input.subject.reports
} else := {"allow": true, "reasons": ["approver of the review"]} if {
	input.resource.review.status in handed_in
	input.subject.id in input.resource.review.approvers
} else := {"allow": false, "reasons": ["only performance admins, the reviewer, the reviewee once shared, and the reviewee's managers and the review's approvers once it is submitted may read this review"]}

# METADATA
# title: Track decision
# description: |
#   A review's status (cycle progress): performance admins, the reviewer,
#   the reviewee, the reviewee's managers (direct and indirect) and the
#   review's approvers.
track_decision := {"allow": true, "reasons": ["performance admin"]} if {
	perf_admin
} else := {"allow": true, "reasons": ["author of the review"]} if {
	input.subject.id == input.resource.review.reviewer
} else := {"allow": true, "reasons": ["your review"]} if {
	input.subject.id == input.resource.review.reviewee
} else := {"allow": true, "reasons": ["manager of the reviewee"]} if {
	input.resource.review.reviewee in input.subject.reports
} else := {"allow": true, "reasons": ["approver of the review"]} if {
	input.subject.id in input.resource.review.approvers
} else := {"allow": false, "reasons": ["only performance admins, the reviewer, the reviewee, the reviewee's managers and the review's approvers may follow this review"]}

# ---------------------------------------------------------------------------
# Writing and submitting.

# METADATA
# title: Write decision
# description: |
#   Fill in ratings and comments while the cycle is active and the review
#   not handed in: its reviewer, and performance admins.
write_decision := inactive if {
	not input.resource.cycle.status == "ACTIVE"
} else := {"allow": false, "reasons": ["the review was submitted: it can be edited again only once sent back"]} if {
	not input.resource.review.status in {"NOT_STARTED", "IN_PROGRESS"}
} else := {"allow": true, "reasons": ["author of the review"]} if {
	input.subject.id == input.resource.review.reviewer
} else := {"allow": true, "reasons": ["performance admin"]} if {
	perf_admin
} else := {"allow": false, "reasons": ["only the reviewer and performance admins may edit this review"]}

# METADATA
# title: Submit decision
# description: |
#   Hand in a review in progress (no skipping from NOT_STARTED): its
#   reviewer only.
submit_decision := inactive if {
	not input.resource.cycle.status == "ACTIVE"
} else := {"allow": false, "reasons": ["fill in the review before submitting it"]} if {
	input.resource.review.status == "NOT_STARTED"
} else := {"allow": false, "reasons": ["the review was already submitted"]} if {
	not input.resource.review.status == "IN_PROGRESS"
} else := {"allow": true, "reasons": ["author of the review"]} if {
	input.subject.id == input.resource.review.reviewer
} else := {"allow": false, "reasons": ["only the reviewer may submit this review"]}

# ---------------------------------------------------------------------------
# Approving, sending back, sharing.

# METADATA
# title: Approve decision
# description: |
#   A submitted manager review of a cycle requiring approval: its approvers
#   and performance admins, never its reviewer or reviewee.
approve_decision := {"allow": false, "reasons": ["only manager reviews are approved"]} if {
	not input.resource.review.type == "MANAGER"
} else := {"allow": false, "reasons": ["this review cycle does not require approval"]} if {
	not input.resource.cycle.approval_required == true
} else := inactive if {
	not input.resource.cycle.status == "ACTIVE"
} else := {"allow": false, "reasons": ["a review can only be approved after the manager submitted it"]} if {
	input.resource.review.status in {"NOT_STARTED", "IN_PROGRESS"}
} else := {"allow": false, "reasons": ["the review was already approved"]} if {
	not input.resource.review.status == "SUBMITTED"
} else := {"allow": false, "reasons": ["you may not approve a review you wrote"]} if {
	input.subject.id == input.resource.review.reviewer
} else := {"allow": false, "reasons": ["you may not approve your own review"]} if {
	input.subject.id == input.resource.review.reviewee
} else := {"allow": true, "reasons": ["approver of the review"]} if {
	input.subject.id in input.resource.review.approvers
} else := {"allow": true, "reasons": ["performance admin"]} if {
	perf_admin
} else := {"allow": false, "reasons": ["only the review's approvers and performance admins may approve it"]}

# METADATA
# title: Send back decision
# description: |
#   Return a handed-in review to IN_PROGRESS while the cycle is active:
#   performance admins (submitted or approved reviews), and the approvers
#   of a submitted manager review.
send_back_decision := inactive if {
	not input.resource.cycle.status == "ACTIVE"
} else := {"allow": false, "reasons": ["only a submitted or approved review can be sent back"]} if {
	not input.resource.review.status in {"SUBMITTED", "APPROVED"}
} else := {"allow": true, "reasons": ["performance admin"]} if {
	perf_admin
} else := {"allow": false, "reasons": ["only performance admins may send back an approved review"]} if {
	input.resource.review.status == "APPROVED"
} else := {"allow": true, "reasons": ["approver of the review"]} if {
	input.resource.review.type == "MANAGER"
	input.resource.cycle.approval_required == true
	input.subject.id in input.resource.review.approvers
} else := {"allow": false, "reasons": ["only the review's approvers and performance admins may send it back"]}

# METADATA
# title: Share decision
# description: |
#   Show a review's results to its reviewee: performance admins, once the
#   review is submitted, and approved when the cycle requires approval of
#   manager reviews.
share_decision := {"allow": false, "reasons": ["only performance admins may share review results"]} if {
	not perf_admin
} else := {"allow": false, "reasons": ["the review was already shared"]} if {
	input.resource.review.status == "SHARED"
} else := {"allow": false, "reasons": ["only a submitted review can be shared"]} if {
	not input.resource.review.status in {"SUBMITTED", "APPROVED"}
} else := {"allow": false, "reasons": ["the manager review must be approved before it is shared"]} if {
	input.resource.review.type == "MANAGER"
	input.resource.cycle.approval_required == true
	input.resource.review.status == "SUBMITTED"
} else := {"allow": true, "reasons": ["performance admin"]}
