// Package policies holds okrgraph's default Rego policy (spec §4): one
// package per concern (okrgraph.okr, okrgraph.org, okrgraph.team,
// okrgraph.profile) and the entry point okrgraph.main, whose rule decision
// internal/authz queries.
//
// Check them with the opa CLI:
//
//	go tool opa fmt --list policies
//	go tool opa check --strict policies
//	go tool opa test policies --coverage
package policies

import "embed"

// FS holds every .rego file of this directory, the _test.rego files
// included (embed patterns cannot exclude them); loaders skip files whose
// name ends in "_test.rego".
//
//go:embed *.rego
var FS embed.FS
