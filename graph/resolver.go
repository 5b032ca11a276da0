// Package graph is the GraphQL layer: the schema, thin resolvers that parse
// input, call a domain service and return, and the error presenter.
package graph

import (
	"okrgraph/ent"
	"okrgraph/internal/okr"
	"okrgraph/internal/org"
)

// Resolver holds the services resolvers call.
type Resolver struct {
	Client *ent.Client
	Orgs   *org.Service
	OKRs   *okr.Service
}
