// Package change holds the value types of the activity log's JSON
// columns. It imports nothing, so the generated ent code may use it.
package change

// Change is one field of an item or check-in before and after a change,
// as display text; nil when the field was empty (or the row did not yet,
// or no longer, exist).
type Change struct {
	Field  string  `json:"field"`
	Before *string `json:"before,omitempty"`
	After  *string `json:"after,omitempty"`
}
