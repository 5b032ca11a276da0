package model

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"okrgraph/internal/apperr"
	"okrgraph/internal/textcheck"
)

// MarshalIntID writes an id as a GraphQL ID (a JSON string).
func MarshalIntID(id int) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(strconv.Itoa(id)))
	})
}

// UnmarshalIntID reads a GraphQL ID; ids are decimal integers, given as a
// string or a number. Anything else is bad input.
func UnmarshalIntID(v any) (int, error) {
	switch v := v.(type) {
	case string:
		id, err := strconv.Atoi(v)
		if err != nil || id <= 0 {
			return 0, apperr.BadInput("id", "%q is not a valid id", v)
		}
		return id, nil
	case int:
		if v > 0 {
			return v, nil
		}
	case int64:
		if v > 0 {
			return int(v), nil
		}
	case interface{ Int64() (int64, error) }: // json.Number
		if id, err := v.Int64(); err == nil && id > 0 {
			return int(id), nil
		}
	}
	return 0, apperr.BadInput("id", "%v is not a valid id", v)
}

// MarshalTime writes a time in RFC 3339 with nanoseconds, in UTC.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.MarshalTime(t.UTC())
}

// UnmarshalTime reads an RFC 3339 time; anything else is bad input.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.BadInput("time", "%v is not an RFC 3339 time", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, apperr.BadInput("time", "%q is not an RFC 3339 time", s)
	}
	if p := textcheck.TimeProblem(t); p != "" {
		return time.Time{}, apperr.BadInput("time", "%s %s", s, p)
	}
	return t, nil
}
