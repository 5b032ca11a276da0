// Package okrgraph is the root of the okrgraph module. Its only code is the
// single code-generation entry point: `go generate ./...` regenerates the
// ent model, the GraphQL schema derived from it, and gqlgen's executor.
package okrgraph

//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen --config gqlgen.yml
