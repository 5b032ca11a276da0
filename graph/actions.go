package graph

import (
	"okrgraph/graph/model"
	"okrgraph/internal/authz"
)

// okrActions maps the GraphQL OKRAction enum to policy actions.
var okrActions = map[model.OKRAction]string{
	model.OKRActionView:            authz.ActionOKRView,
	model.OKRActionUpdate:          authz.ActionOKRUpdate,
	model.OKRActionDelete:          authz.ActionOKRDelete,
	model.OKRActionChangeOwners:    authz.ActionOKRChangeOwners,
	model.OKRActionSetDelegate:     authz.ActionOKRSetDelegate,
	model.OKRActionSetCheckinOwner: authz.ActionOKRSetCheckInOwner,
	model.OKRActionCheckIn:         authz.ActionOKRCheckIn,
	model.OKRActionAlign:           authz.ActionOKRAlign,
	model.OKRActionClone:           authz.ActionOKRClone,
	model.OKRActionComment:         authz.ActionOKRComment,
	model.OKRActionManageGrants:    authz.ActionOKRManageGrants,
}
