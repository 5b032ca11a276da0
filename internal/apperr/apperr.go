// Package apperr defines the errors the API shows to clients, each with a
// stable machine-readable code. Anything else that reaches the client is
// reported as INTERNAL without its text.
package apperr

import (
	"errors"
	"fmt"
)

// Codes, as they appear in extensions.code.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeConflict        = "CONFLICT"
	CodeInternal        = "INTERNAL"
)

// Error is a client-facing error.
type Error struct {
	Code    string
	Message string
	// Field names the offending input field, for BAD_USER_INPUT.
	Field string
	// Reasons are the policy's reasons, for FORBIDDEN.
	Reasons []string
}

func (e *Error) Error() string { return e.Message }

// BadInput reports invalid input in field.
func BadInput(field, format string, args ...any) *Error {
	return &Error{Code: CodeBadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that what (e.g. "team") with the given id does not exist
// in the caller's organization, or is not visible to the caller.
func NotFound(what string, id any) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("%s %v not found", what, id)}
}

// Forbidden reports a policy denial with its reasons.
func Forbidden(action string, reasons []string) *Error {
	return &Error{Code: CodeForbidden, Message: fmt.Sprintf("not allowed to %s", action), Reasons: reasons}
}

// Conflict reports a uniqueness or state conflict.
func Conflict(format string, args ...any) *Error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf(format, args...)}
}

// Unauthenticated reports a missing or invalid identity.
func Unauthenticated(msg string) *Error {
	return &Error{Code: CodeUnauthenticated, Message: msg}
}

// As returns the *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
