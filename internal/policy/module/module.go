// Package module holds the stored form of one Rego file of a tenant
// policy version. It imports nothing so the ent model can store it.
package module

// Module is one Rego file of a tenant policy version, as stored in
// policy_versions.modules (a JSON list of {name, source}).
type Module struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}
