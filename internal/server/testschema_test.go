package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// A tiny hand-executed schema: top-level fields only, enough to drive the
// HTTP layer through gqlgen's executor.
const testSDL = `
type Query {
  hello(name: String): String!
  viewer: String
  fail: String
  internalErr: String
  requestErr: String
  introspectionEnabled: Boolean!
  slow: String!
  boom: String
}
type Mutation {
  setGreeting(text: String!): String!
}
type Subscription {
  tick: Int!
}
`

var testAST = gqlparser.MustLoadSchema(&ast.Source{Name: "test.graphql", Input: testSDL})

type orgKey struct{}

// newTestSchema returns an ExecutableSchema for testSDL. slow, when not nil,
// runs while resolving the "slow" field.
func newTestSchema(slow func()) graphql.ExecutableSchema {
	return &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return testAST },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 0, false
		},
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			opCtx := graphql.GetOperationContext(ctx)
			typeName := "Query"
			if opCtx.Operation.Operation == ast.Mutation {
				typeName = "Mutation"
			}
			done := false
			// Like generated code, resolve lazily inside the response context.
			return func(ctx context.Context) *graphql.Response {
				if done {
					return nil
				}
				done = true
				var buf bytes.Buffer
				buf.WriteByte('{')
				for i, f := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{typeName}) {
					var v any
					switch f.Name {
					case "__typename":
						v = typeName
					case "hello":
						name, _ := f.ArgumentMap(opCtx.Variables)["name"].(string)
						if name == "" {
							name = "world"
						}
						v = "hello, " + name
					case "viewer":
						c, _ := ClaimsFrom(ctx)
						org, _ := ctx.Value(orgKey{}).(string)
						v = c.Subject + "@" + org
					case "fail":
						graphql.AddError(ctx, &gqlerror.Error{
							Message:    "no such thing",
							Path:       ast.Path{ast.PathName(f.Alias)},
							Extensions: map[string]any{"code": CodeNotFound},
						})
					case "internalErr":
						graphql.AddError(ctx, errors.New(`pq: relation "secret_table" does not exist`))
					case "requestErr":
						graphql.AddError(ctx, &RequestError{Code: CodeConflict, Message: "version conflict"})
					case "introspectionEnabled":
						v = !opCtx.DisableIntrospection
					case "slow":
						if slow != nil {
							slow()
						}
						v = "done"
					case "boom":
						panic("kaboom: secret internals")
					case "setGreeting":
						v, _ = f.ArgumentMap(opCtx.Variables)["text"].(string)
					}
					if i > 0 {
						buf.WriteByte(',')
					}
					k, _ := json.Marshal(f.Alias)
					val, _ := json.Marshal(v)
					buf.Write(k)
					buf.WriteByte(':')
					buf.Write(val)
				}
				buf.WriteByte('}')
				return &graphql.Response{Data: buf.Bytes()}
			}
		},
	}
}

// --- request helpers ------------------------------------------------------

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type result struct {
	status int
	header http.Header
	raw    string
	fields map[string]json.RawMessage // top-level keys of the body
	errors []gqlError
	data   map[string]any
}

func (r result) code() string {
	if len(r.errors) == 0 {
		return ""
	}
	c, _ := r.errors[0].Extensions["code"].(string)
	return c
}

func (r result) hasData() bool {
	_, ok := r.fields["data"]
	return ok
}

type request struct {
	method      string // default POST
	target      string // default /graphql
	body        string
	contentType string // default application/json for POST; "-" for none
	accept      string // "" = no Accept header
	header      http.Header
	unsized     bool // send the body without Content-Length
}

func (rq request) build(t *testing.T) *http.Request {
	t.Helper()
	method, target := rq.method, rq.target
	if method == "" {
		method = http.MethodPost
	}
	if target == "" {
		target = "/graphql"
	}
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
		if rq.unsized {
			body = io.NopCloser(body)
		}
	}
	req := httptest.NewRequest(method, target, body)
	if rq.unsized {
		req.ContentLength = -1
	}
	switch {
	case rq.contentType == "-":
	case rq.contentType != "":
		req.Header.Set("Content-Type", rq.contentType)
	case method == http.MethodPost:
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.accept != "" {
		req.Header.Set("Accept", rq.accept)
	}
	for k, vs := range rq.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req
}

func serve(t *testing.T, h http.Handler, rq request) result {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, rq.build(t))
	return parseResult(t, rec.Code, rec.Header(), rec.Body.Bytes())
}

func parseResult(t *testing.T, status int, h http.Header, body []byte) result {
	t.Helper()
	res := result{status: status, header: h, raw: string(body)}
	if len(body) == 0 || !strings.Contains(h.Get("Content-Type"), "json") {
		return res
	}
	if err := json.Unmarshal(body, &res.fields); err != nil {
		t.Fatalf("response body is not a JSON object: %v\n%s", err, body)
	}
	if e, ok := res.fields["errors"]; ok {
		if err := json.Unmarshal(e, &res.errors); err != nil {
			t.Fatalf("errors: %v", err)
		}
	}
	if d, ok := res.fields["data"]; ok {
		_ = json.Unmarshal(d, &res.data)
	}
	return res
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
