// Package textcheck decides which strings okrgraph accepts from clients.
// It is the one definition used by the GraphQL input check (graph) and the
// ent write hook (store), so what the API refuses and what the database
// would be handed cannot drift apart.
package textcheck

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits on client strings, in bytes.
const (
	// MaxText bounds any string: the size of a whole tenant policy, so
	// that a policy module over its own limit (64 KiB) still reaches the
	// policy validator, which lists the problem.
	MaxText = 256 << 10
	// MaxFilter bounds a string of a where filter (titleContains, ...).
	MaxFilter = 1 << 10
)

// Dates outside these years are refused (no period, review or filter
// needs them, and some drivers and formats cannot hold them).
const (
	MinYear = 1900
	MaxYear = 9999
)

// Problem says what is wrong with s, "" when nothing is. Every string must
// be valid UTF-8 (no lone surrogates) without NUL, other C0 control
// characters than tab, line feed and carriage return, C1 control characters
// or the invisible bidirectional embedding, override and isolate controls
// (which make text display differently from what it contains). singleLine
// also refuses tab, line feed and carriage return (titles and names).
func Problem(s string, singleLine bool) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text (invalid bytes or a lone surrogate)"
	}
	for _, r := range s {
		switch {
		case r == 0:
			return "contains a NUL character"
		case r == '\t' || r == '\n' || r == '\r':
			if singleLine {
				return fmt.Sprintf("must be a single line without control characters (found %U)", r)
			}
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return fmt.Sprintf("contains the control character %U", r)
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return fmt.Sprintf("contains the invisible bidirectional control %U", r)
		}
	}
	return ""
}

// TimeProblem says what is wrong with t, "" when nothing is.
func TimeProblem(t time.Time) string {
	if y := t.UTC().Year(); y < MinYear || y > MaxYear {
		return fmt.Sprintf("must be between the years %d and %d", MinYear, MaxYear)
	}
	return ""
}
