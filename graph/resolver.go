// Package graph is the GraphQL layer: the schema, thin resolvers that parse
// input, call a domain service and return, and the error presenter.
package graph

import (
	"okrgraph/ent"
	"okrgraph/internal/okr"
	"okrgraph/internal/org"
	"okrgraph/internal/policy"
	"okrgraph/internal/review"
)

// Resolver holds the services resolvers call.
type Resolver struct {
	Client *ent.Client
	Orgs   *org.Service
	OKRs   *okr.Service
	// ReviewService: performance review cycles and reviews (named so that
	// it does not clash with the Query.reviews resolver).
	ReviewService *review.Service
	// Policies: the organization's own Rego policy (graph/policy.graphqls).
	Policies *policy.Service
}
