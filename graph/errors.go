package graph

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"okrgraph/internal/apperr"
)

// ErrorPresenter maps errors to GraphQL errors with a stable
// extensions.code. Domain errors (apperr) keep their code, message, field
// and reasons; invalid variable values become BAD_USER_INPUT; parse and
// validation errors keep gqlgen's codes; anything else is logged and shown
// only as INTERNAL, so SQL and stack traces never reach clients.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if !errors.As(err, &gqlErr) {
			gqlErr = gqlerror.WrapPath(graphql.GetPath(ctx), err)
		}
		if ae, ok := apperr.As(err); ok {
			ext := map[string]any{"code": ae.Code}
			if ae.Field != "" {
				ext["field"] = ae.Field
			}
			if ae.Code == apperr.CodeForbidden {
				reasons := ae.Reasons
				if reasons == nil {
					reasons = []string{}
				}
				ext["reasons"] = reasons
			}
			return &gqlerror.Error{Message: ae.Message, Path: gqlErr.Path, Locations: gqlErr.Locations, Extensions: ext}
		}
		if code, ok := gqlErr.Extensions["code"].(string); ok {
			// Variable values that do not fit their types (an unknown enum
			// value, a string for an Int) are bad input, not a bad document.
			if code == errcode.ValidationFailed && (gqlErr.Rule == "" || gqlErr.Rule == "ValuesOfCorrectType") {
				gqlErr.Extensions["code"] = apperr.CodeBadUserInput
			}
			return gqlErr
		}
		if gqlErr.Err == nil {
			// Errors gqlgen raised itself while coercing input.
			gqlErr.Extensions = map[string]any{"code": apperr.CodeBadUserInput}
			return gqlErr
		}
		log.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String())
		return &gqlerror.Error{
			Message:    "internal error",
			Path:       gqlErr.Path,
			Locations:  gqlErr.Locations,
			Extensions: map[string]any{"code": apperr.CodeInternal},
		}
	}
}
