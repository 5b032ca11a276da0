package authz

// Actions the policies decide. Names are "<concern>.<verb>"; the concern
// selects the Rego package (policies/<concern>.rego).
const (
	// OKR items.
	ActionOKRView            = "okr.view"
	ActionOKRCreate          = "okr.create"
	ActionOKRUpdate          = "okr.update" // update fields, weights, close, reopen
	ActionOKRDelete          = "okr.delete"
	ActionOKRChangeOwners    = "okr.change_owners"
	ActionOKRSetDelegate     = "okr.set_delegate"
	ActionOKRSetCheckInOwner = "okr.set_checkin_owner"
	ActionOKRCheckIn         = "okr.checkin"        // also: set a data link
	ActionOKRCheckInUpdate   = "okr.checkin.update" // correct a check-in (resource.checkin is the check-in)
	ActionOKRCheckInDelete   = "okr.checkin.delete" // delete a check-in
	ActionOKRAlign           = "okr.align"          // align a child under this item (resource = parent)
	ActionOKRClone           = "okr.clone"
	ActionOKRComment         = "okr.comment" // comment, like, follow, share
	ActionOKRManageGrants    = "okr.manage_grants"

	// Organization administration.
	ActionOrgManage       = "org.manage" // settings, time periods
	ActionOrgManageMember = "org.manage_members"
	ActionOrgManagePolicy = "org.manage_policy"
	ActionOrgCreateTeam   = "org.create_team"
	ActionOrgLeave        = "org.leave" // leave the organization oneself

	// Teams (resource.teams holds the one team).
	ActionTeamManageMembers  = "team.manage_members"
	ActionTeamManageSettings = "team.manage_settings"
	ActionTeamDelete         = "team.delete"

	// Profiles (resource.user is the profile's user).
	ActionProfileUpdate = "profile.update"

	// Performance reviews. resource.cycle is the review cycle; for the
	// actions on one review, resource.review is the review.
	ActionReviewViewCycle   = "review.view_cycle"
	ActionReviewManageCycle = "review.manage_cycle" // create, configure, launch, close, share a cycle's results
	ActionReviewRead        = "review.read"         // ratings, comments, achievements
	ActionReviewTrack       = "review.track"        // the review's status, for progress
	ActionReviewWrite       = "review.write"        // fill in ratings and comments
	ActionReviewSubmit      = "review.submit"
	ActionReviewApprove     = "review.approve"
	ActionReviewSendBack    = "review.send_back"
	ActionReviewShare       = "review.share"
)

// Input is everything a policy may look at. It is plain data: the caller
// (a domain service) gathers the facts; the policy decides.
type Input struct {
	Action   string   `json:"action"`
	Subject  Subject  `json:"subject"`
	Resource Resource `json:"resource"`
	Org      Org      `json:"org"`
}

// Subject types.
const (
	SubjectUser    = "user"    // a person, acting through their membership
	SubjectService = "service" // an org's API token: never a member, never a person
)

// Subject is who acts: a member of the org (type "user") or the service
// identity of one of the org's API tokens (type "service", no role, with
// the token's scopes).
type Subject struct {
	Type             string            `json:"type"`   // SubjectUser or SubjectService
	Scopes           []string          `json:"scopes"` // a service identity's scopes, e.g. ["read"]
	UserID           string            `json:"id"`
	Role             string            `json:"role"` // MEMBER, ADMIN, OWNER ("" when not a member)
	Observer         bool              `json:"observer"`
	PerformanceAdmin bool              `json:"performance_admin"`
	SSO              bool              `json:"sso"`
	TeamRoles        map[string]string `json:"team_roles"` // team id -> MEMBER/ADMIN/OWNER
	// Reports: user ids whose supervisor chain contains the subject
	// (direct and indirect). DirectReports: those whose manager is the subject.
	DirectReports []string `json:"direct_reports"`
	Reports       []string `json:"reports"`
}

// Delegate of an objective.
type Delegate struct {
	UserID             string `json:"id"`
	DelegateKeyResults bool   `json:"key_results"`
	NotifyOwner        bool   `json:"notify_owner"`
}

// Grants are explicit per-item permissions given by its owners.
type Grants struct {
	Edit    []string `json:"edit"`
	CheckIn []string `json:"checkin"`
	Align   []string `json:"align"`
}

// Team facts used by team-level creation and team administration.
type Team struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// OKRCreation: EVERYONE, TEAM_MEMBERS, TEAM_OWNERS, LISTED.
	OKRCreation string   `json:"okr_creation"`
	Listed      []string `json:"listed"`
}

// Parent is the item a resource sits under (the objective of a key result,
// or the objective/key result an objective is aligned to).
type Parent struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Owners     []string  `json:"owners"`
	Delegate   *Delegate `json:"delegate"`
	Restricted bool      `json:"alignment_restricted"`
	AlignGrant []string  `json:"align_grants"`
}

// Resource describes the thing acted on. For okr.create it is the proposed
// item; for team.* the team; for profile.update the profile's user.
type Resource struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"`  // OBJECTIVE, KEY_RESULT
	Level         string    `json:"level"` // ORGANIZATION, TEAM, INDIVIDUAL
	Teams         []Team    `json:"teams"`
	Owners        []string  `json:"owners"`
	OwnerManagers []string  `json:"owner_managers"` // direct managers of the owners
	Creator       string    `json:"creator"`
	Delegate      *Delegate `json:"delegate"`
	CheckInOwner  string    `json:"checkin_owner"`
	Private       bool      `json:"private"`
	Viewers       []string  `json:"viewers"`
	Grants        Grants    `json:"grants"`
	// AlignmentRestricted: only users with an align grant may align under it.
	AlignmentRestricted bool    `json:"alignment_restricted"`
	Parent              *Parent `json:"parent"`
	// User: for profile.update, the profile's user id.
	User string `json:"user"`
	// Closed is true for closed items; TimePeriodClosed for closed periods.
	Closed           bool `json:"closed"`
	TimePeriodClosed bool `json:"time_period_closed"`
	// HasMetric: a start and a target are set; Milestone: a 0/1 milestone.
	HasMetric bool `json:"has_metric"`
	Milestone bool `json:"milestone"`
	// CheckIn: for okr.checkin.update and okr.checkin.delete, the check-in
	// corrected or deleted (the rest describes its item).
	CheckIn *CheckInFacts `json:"checkin"`
	// Review and Cycle: for review.* actions.
	// Previous is the item as it is when okr.create is asked about a
	// level or team change (the proposed item is the rest of Resource).
	Previous *Previous `json:"previous"`
	// TeamMember is the team membership a team.manage_members action
	// touches.
	TeamMember *TeamMember `json:"team_member"`

	Review *Review      `json:"review"`
	Cycle  *ReviewCycle `json:"cycle"`
}

// CheckInFacts describe one check-in of an item.
type CheckInFacts struct {
	ID     string `json:"id"`
	Author string `json:"author"`
	// AgeSeconds is how long ago it was made (whole seconds), so a policy
	// can limit corrections in time without reading the clock.
	AgeSeconds int64 `json:"age_seconds"`
}

// Review facts: one performance review.
// Previous describes an item before a level or team change.
type Previous struct {
	Level string   `json:"level"`
	Teams []string `json:"teams"` // team ids
}

// TeamMember is the target of team.manage_members: Role is the user's
// current team role ("" when not in the team), NewRole the role asked for
// ("" when removing).
type TeamMember struct {
	User    string `json:"user"`
	Role    string `json:"role"`
	NewRole string `json:"new_role"`
}

type Review struct {
	Type     string `json:"type"`   // SELF, MANAGER
	Status   string `json:"status"` // NOT_STARTED, IN_PROGRESS, SUBMITTED, APPROVED, SHARED
	Reviewee string `json:"reviewee"`
	Reviewer string `json:"reviewer"`
	// Approvers are fixed at launch: the named approver or the manager's
	// supervisors (none for the PERFORMANCE_ADMINS rule).
	Approvers []string `json:"approvers"`
}

// ReviewCycle facts.
type ReviewCycle struct {
	ID               string `json:"id"`
	Status           string `json:"status"` // DRAFT, ACTIVE, CLOSED
	ApprovalRequired bool   `json:"approval_required"`
	ApproverRule     string `json:"approver_rule"` // PERFORMANCE_ADMINS, SUPERVISOR_CHAIN, NAMED_USER
}

// Org holds the org-level settings the default policy reads.
type Org struct {
	ID string `json:"id"`
	// OKRCreation for ORGANIZATION level: EVERYONE, ADMINS, LISTED.
	OKRCreation       string   `json:"okr_creation"`
	OKRCreationListed []string `json:"okr_creation_listed"`
	// TeamCreation: ADMINS or EVERYONE.
	TeamCreation string `json:"team_creation"`
}

// Decision is the policy's answer. Reasons say which rule granted (allow)
// or why the action was refused (deny); they are shown to users.
type Decision struct {
	Allow   bool     `json:"allow"`
	Reasons []string `json:"reasons"`
	// By is "tenant" when the organization's own policy decided, and
	// empty when the default policy did.
	By string `json:"by,omitempty"`
}
