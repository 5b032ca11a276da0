package ent

// Hand-written (not generated): policy versions and audit entries have
// their GraphQL types written by hand (entgql.SkipAll in their schemas), so
// entgql does not make them Relay nodes. They still have universal ids, and
// the GraphQL layer resolves them through node(id:) with the policy
// service's access check.

// IsNode implements the Node interface check for GQLGen.
func (*PolicyVersion) IsNode() {}

// IsNode implements the Node interface check for GQLGen.
func (*PolicyAudit) IsNode() {}

// NodeTable returns the table a universal id belongs to, "" when none.
func NodeTable(id int) string {
	if id < 0 {
		return ""
	}
	return nodeTypes[int(id/(1<<32-1))<<32]
}
