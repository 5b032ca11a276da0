package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

func newTransportHandler(tr Transport) http.Handler {
	srv := handler.New(newTestSchema(nil))
	srv.AddTransport(tr)
	srv.Use(extension.Introspection{})
	srv.SetRecoverFunc(func(context.Context, any) error { return codedError(CodeInternal, "internal server error") })
	return srv
}

func get(query string, params ...string) request {
	v := url.Values{}
	if query != "" {
		v.Set("query", query)
	}
	for i := 0; i+1 < len(params); i += 2 {
		v.Add(params[i], params[i+1])
	}
	return request{method: http.MethodGet, target: "/graphql?" + v.Encode()}
}

func post(body string) request { return request{body: body} }

// TestTransportStatusCodes checks every status-code rule per response media type.
func TestTransportStatusCodes(t *testing.T) {
	t.Parallel()
	h := newTransportHandler(Transport{})

	const mixedDoc = `query Q { hello } mutation M { setGreeting(text: "x") }`
	const mixedJSON = `query Q { hello } mutation M { setGreeting(text: \"x\") }`
	cases := []struct {
		name     string
		req      request
		grj      int // status with Accept: application/graphql-response+json
		json     int // status with Accept: application/json
		code     string
		wantData bool
	}{
		// POST, well-formed and successful.
		{name: "query", req: post(`{"query":"{ hello }"}`), grj: 200, json: 200, wantData: true},
		{name: "variables", req: post(`{"query":"query($n: String) { hello(name: $n) }","variables":{"n":"bob"}}`), grj: 200, json: 200, wantData: true},
		{name: "null optional params", req: post(`{"query":"{ hello }","operationName":null,"variables":null,"extensions":null}`), grj: 200, json: 200, wantData: true},
		{name: "unknown fields ignored", req: post(`{"query":"{ hello }","foo":[1]}`), grj: 200, json: 200, wantData: true},
		{name: "operationName", req: post(`{"query":"` + mixedJSON + `","operationName":"M"}`), grj: 200, json: 200, wantData: true},
		{name: "mutation", req: post(`{"query":"mutation { setGreeting(text: \"hi\") }"}`), grj: 200, json: 200, wantData: true},
		{name: "field error keeps data", req: post(`{"query":"{ hello fail }"}`), grj: 200, json: 200, code: CodeNotFound, wantData: true},
		{name: "charset utf-8", req: request{body: `{"query":"{ hello }"}`, contentType: "application/json; charset=UTF-8"}, grj: 200, json: 200, wantData: true},

		// POST, not a well-formed GraphQL-over-HTTP request: 4xx for both media types.
		{name: "invalid JSON", req: post(`{"query":`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "empty body", req: post(``), grj: 400, json: 400, code: CodeBadRequest},
		{name: "body not an object", req: post(`["{ hello }"]`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "body null", req: post(`null`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "trailing data", req: post(`{"query":"{ hello }"} {}`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "missing query", req: post(`{"qeury":"{ hello }"}`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "null query", req: post(`{"query":null}`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "query number", req: post(`{"query":1}`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "query object", req: post(`{"query":{}}`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "operationName number", req: post(`{"query":"{ hello }","operationName":1}`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "variables array", req: post(`{"query":"{ hello }","variables":[7]}`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "variables string", req: post(`{"query":"{ hello }","variables":"{}"}`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "extensions number", req: post(`{"query":"{ hello }","extensions":1}`), grj: 400, json: 400, code: CodeBadRequest},

		// POST, GraphQL request errors: 4xx only for application/graphql-response+json.
		{name: "document parse error", req: post(`{"query":"{"}`), grj: 400, json: 200, code: "GRAPHQL_PARSE_FAILED"},
		{name: "empty document", req: post(`{"query":""}`), grj: 400, json: 200},
		{name: "validation error", req: post(`{"query":"{ nope }"}`), grj: 400, json: 200, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "unknown operationName", req: post(`{"query":"query A { hello }","operationName":"B"}`), grj: 400, json: 200, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "ambiguous operation", req: post(`{"query":"` + mixedJSON + `"}`), grj: 400, json: 200, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable coercion failure", req: post(`{"query":"mutation($t: String!) { setGreeting(text: $t) }","variables":{}}`), grj: 400, json: 200, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "subscription", req: post(`{"query":"subscription { tick }"}`), grj: 400, json: 200, code: CodeOperationNotSupported},

		// POST media types.
		{name: "no content type", req: request{body: `{"query":"{ hello }"}`, contentType: "-"}, grj: 415, json: 415, code: CodeBadRequest},
		{name: "text/plain", req: request{body: `{"query":"{ hello }"}`, contentType: "text/plain"}, grj: 415, json: 415, code: CodeBadRequest},
		{name: "application/graphql", req: request{body: `{ hello }`, contentType: "application/graphql"}, grj: 415, json: 415, code: CodeBadRequest},
		{name: "form", req: request{body: `query=%7Bhello%7D`, contentType: "application/x-www-form-urlencoded"}, grj: 415, json: 415, code: CodeBadRequest},
		{name: "non-utf-8 charset", req: request{body: `{"query":"{ hello }"}`, contentType: "application/json; charset=iso-8859-1"}, grj: 415, json: 415, code: CodeBadRequest},
		{name: "content encoding", req: request{body: `{"query":"{ hello }"}`, header: http.Header{"Content-Encoding": {"gzip"}}}, grj: 415, json: 415, code: CodeBadRequest},

		// GET.
		{name: "GET query", req: get("{ hello }"), grj: 200, json: 200, wantData: true},
		{name: "GET variables", req: get("query($n: String) { hello(name: $n) }", "variables", `{"n":"x"}`), grj: 200, json: 200, wantData: true},
		{name: "GET empty optional params", req: get("{ hello }", "variables", "", "extensions", "", "operationName", ""), grj: 200, json: 200, wantData: true},
		{name: "GET selects query", req: get(mixedDoc, "operationName", "Q"), grj: 200, json: 200, wantData: true},
		{name: "GET mutation", req: get(`mutation { setGreeting(text: "x") }`), grj: 405, json: 405, code: CodeBadRequest},
		{name: "GET selects mutation", req: get(mixedDoc, "operationName", "M"), grj: 405, json: 405, code: CodeBadRequest},
		{name: "GET mutation with bad variables", req: get(`mutation($t: String!) { setGreeting(text: $t) }`), grj: 405, json: 405, code: CodeBadRequest},
		{name: "GET subscription", req: get("subscription { tick }"), grj: 405, json: 405, code: CodeBadRequest},
		{name: "GET missing query", req: get(""), grj: 400, json: 400, code: CodeBadRequest},
		{name: "GET variables not JSON", req: get("{ hello }", "variables", "{"), grj: 400, json: 400, code: CodeBadRequest},
		{name: "GET variables array", req: get("{ hello }", "variables", "[1]"), grj: 400, json: 400, code: CodeBadRequest},
		{name: "GET extensions string", req: get("{ hello }", "extensions", `"x"`), grj: 400, json: 400, code: CodeBadRequest},
		{name: "GET repeated query", req: get("{ hello }", "query", "{ viewer }"), grj: 400, json: 400, code: CodeBadRequest},
		{name: "GET malformed query string", req: request{method: http.MethodGet, target: "/graphql?query=%zz"}, grj: 400, json: 400, code: CodeBadRequest},
		{name: "GET parse error", req: get("{"), grj: 400, json: 200, code: "GRAPHQL_PARSE_FAILED"},
		{name: "GET validation error", req: get("{ nope }"), grj: 400, json: 200, code: "GRAPHQL_VALIDATION_FAILED"},

		// Other methods.
		{name: "PUT", req: request{method: http.MethodPut, body: `{"query":"{ hello }"}`}, grj: 405, json: 405, code: CodeBadRequest},
		{name: "DELETE", req: request{method: http.MethodDelete}, grj: 405, json: 405, code: CodeBadRequest},
		{name: "PATCH", req: request{method: http.MethodPatch}, grj: 405, json: 405, code: CodeBadRequest},
	}
	for _, tc := range cases {
		for _, mt := range []string{MediaTypeGraphQLResponse, MediaTypeJSON} {
			want := tc.grj
			if mt == MediaTypeJSON {
				want = tc.json
			}
			t.Run(tc.name+"/"+mt, func(t *testing.T) {
				t.Parallel()
				rq := tc.req
				rq.accept = mt
				res := serve(t, h, rq)
				if res.status != want {
					t.Fatalf("status = %d, want %d; body %s", res.status, want, res.raw)
				}
				if got := res.header.Get("Content-Type"); got != mt+"; charset=utf-8" {
					t.Errorf("Content-Type = %q, want %q", got, mt+"; charset=utf-8")
				}
				if v := res.header.Values("Vary"); len(v) != 1 || v[0] != "Accept" {
					t.Errorf("Vary = %q, want Accept", res.header.Values("Vary"))
				}
				if res.hasData() != tc.wantData {
					t.Errorf("data present = %v, want %v; body %s", res.hasData(), tc.wantData, res.raw)
				}
				if !tc.wantData && len(res.errors) == 0 {
					t.Errorf("no errors in a response without data: %s", res.raw)
				}
				if tc.code != "" && res.code() != tc.code {
					t.Errorf("code = %q, want %q; body %s", res.code(), tc.code, res.raw)
				}
				switch want {
				case http.StatusMethodNotAllowed:
					allow := res.header.Get("Allow")
					if rq.method == http.MethodGet {
						if allow != "POST" {
							t.Errorf("Allow = %q, want POST", allow)
						}
					} else if allow != allowedMethods {
						t.Errorf("Allow = %q, want %q", allow, allowedMethods)
					}
				}
			})
		}
	}
}

func TestTransportResponseData(t *testing.T) {
	t.Parallel()
	h := newTransportHandler(Transport{})
	res := serve(t, h, post(`{"query":"query($n: String) { a: hello(name: $n) b: hello introspectionEnabled }","variables":{"n":"ann"}}`))
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.raw)
	}
	if res.data["a"] != "hello, ann" || res.data["b"] != "hello, world" || res.data["introspectionEnabled"] != true {
		t.Errorf("data = %v", res.data)
	}
	if res.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("default media type (no Accept): Content-Type = %q", res.header.Get("Content-Type"))
	}
}

func TestTransportNegotiation(t *testing.T) {
	t.Parallel()
	h := newTransportHandler(Transport{})
	cases := []struct {
		accept string
		want   string // "" = 406
	}{
		// Legacy clients: no Accept, or only wildcards, get application/json.
		{"", MediaTypeJSON},
		{"*/*", MediaTypeJSON},
		{"application/*", MediaTypeJSON},
		{"text/html, application/xhtml+xml, */*;q=0.8", MediaTypeJSON},
		{"application/*, */*", MediaTypeJSON},
		{"application/graphql-response+json, */*", MediaTypeGraphQLResponse},
		{"application/json, */*", MediaTypeJSON},
		{"application/graphql-response+json;q=0.9, */*", MediaTypeJSON},
		{"application/graphql-response+json, application/*", MediaTypeGraphQLResponse},
		{"application/json", MediaTypeJSON},
		{"application/graphql-response+json", MediaTypeGraphQLResponse},
		{"application/graphql-response+json, application/json;q=0.9", MediaTypeGraphQLResponse},
		{"application/json, application/graphql-response+json", MediaTypeGraphQLResponse},
		{"application/graphql-response+json;q=0.5, application/json", MediaTypeJSON},
		{"text/html, application/json;q=0.1", MediaTypeJSON},
		{"Application/JSON; charset=utf-8", MediaTypeJSON},
		{"*/*;q=0.1, application/graphql-response+json;q=0", MediaTypeJSON},
		{"application/json;q=0, */*", MediaTypeGraphQLResponse},
		{"text/html", ""},
		{"application/json;q=0", ""},
		{"application/xml, text/*", ""},
		{"application/json; charset=iso-8859-1", ""},
		{"garbage;;", ""},
	}
	for _, tc := range cases {
		t.Run(tc.accept, func(t *testing.T) {
			t.Parallel()
			for _, rq := range []request{post(`{"query":"{ hello }"}`), get("{ hello }")} {
				rq.accept = tc.accept
				res := serve(t, h, rq)
				if tc.want == "" {
					if res.status != http.StatusNotAcceptable {
						t.Fatalf("%s: status = %d, want 406", rq.method, res.status)
					}
					continue
				}
				if res.status != 200 {
					t.Fatalf("%s: status = %d: %s", rq.method, res.status, res.raw)
				}
				if got := res.header.Get("Content-Type"); got != tc.want+"; charset=utf-8" {
					t.Errorf("%s: Content-Type = %q, want %q", rq.method, got, tc.want)
				}
			}
		})
	}
}

func TestTransportOptionsAndHead(t *testing.T) {
	t.Parallel()
	h := newTransportHandler(Transport{})
	res := serve(t, h, request{method: http.MethodOptions})
	if res.status != http.StatusNoContent || res.header.Get("Allow") != allowedMethods {
		t.Errorf("OPTIONS: status %d Allow %q", res.status, res.header.Get("Allow"))
	}
	res = serve(t, h, request{method: http.MethodHead})
	if res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != allowedMethods {
		t.Errorf("HEAD: status %d Allow %q", res.status, res.header.Get("Allow"))
	}
}

func TestTransportBodyLimit(t *testing.T) {
	t.Parallel()
	h := newTransportHandler(Transport{MaxBodyBytes: 64})
	exact := `{"query":"{ hello }"}`
	exact += strings.Repeat(" ", 64-len(exact))
	big := `{"query":"{ hello }","variables":{"pad":"` + strings.Repeat("x", 100) + `"}}`
	cases := []struct {
		name string
		req  request
		want int
	}{
		{"at limit", request{body: exact}, 200},
		{"at limit, unsized", request{body: exact, unsized: true}, 200},
		{"over limit", request{body: big}, 413},
		{"over limit, unsized", request{body: big, unsized: true}, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, mt := range []string{MediaTypeGraphQLResponse, MediaTypeJSON} {
				rq := tc.req
				rq.accept = mt
				res := serve(t, h, rq)
				if res.status != tc.want {
					t.Fatalf("%s: status = %d, want %d: %s", mt, res.status, tc.want, res.raw)
				}
				if tc.want == 413 && res.code() != CodeBadRequest {
					t.Errorf("%s: code = %q", mt, res.code())
				}
			}
		})
	}
}

func TestTransportStatusOverrides(t *testing.T) {
	t.Parallel()
	h := newTransportHandler(Transport{
		PartialSuccessStatus: 294,
		StatusForCode:        map[string]int{"GRAPHQL_VALIDATION_FAILED": 422},
	})
	cases := []struct {
		name       string
		req        request
		grj, jsonS int
	}{
		{"partial success", post(`{"query":"{ hello fail }"}`), 294, 200},
		{"validation", post(`{"query":"{ nope }"}`), 422, 200},
		{"parse", post(`{"query":"{"}`), 400, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rq := tc.req
			rq.accept = MediaTypeGraphQLResponse
			if res := serve(t, h, rq); res.status != tc.grj {
				t.Errorf("graphql-response+json: status = %d, want %d", res.status, tc.grj)
			}
			rq.accept = MediaTypeJSON
			if res := serve(t, h, rq); res.status != tc.jsonS {
				t.Errorf("json: status = %d, want %d", res.status, tc.jsonS)
			}
		})
	}
}

func TestTransportExecutorPanic(t *testing.T) {
	t.Parallel()
	h := newTransportHandler(Transport{})
	for _, mt := range []string{MediaTypeGraphQLResponse, MediaTypeJSON} {
		res := serve(t, h, request{body: `{"query":"{ boom }"}`, accept: mt})
		if res.status != 500 {
			t.Fatalf("%s: status = %d: %s", mt, res.status, res.raw)
		}
		if res.header.Get("Content-Type") != mt+"; charset=utf-8" || res.hasData() || len(res.errors) != 1 {
			t.Errorf("%s: unexpected response %q %s", mt, res.header.Get("Content-Type"), res.raw)
		}
	}
}

func TestTransportStatusForErrors(t *testing.T) {
	t.Parallel()
	tr := Transport{StatusForCode: map[string]int{"TEAPOT": 418}}
	mk := func(codes ...string) (l gqlerror.List) {
		for _, c := range codes {
			l = append(l, codedError(c, "x"))
		}
		return l
	}
	cases := []struct {
		codes []string
		want  int
	}{
		{nil, 400},
		{[]string{""}, 400},
		{[]string{"WHATEVER"}, 400},
		{[]string{CodeForbidden}, 403},
		{[]string{CodeInternal, CodeNotFound}, 404},
		{[]string{CodeInternal}, 500},
		{[]string{"TEAPOT"}, 418},
		{[]string{CodeUnauthenticated}, 401},
	}
	for _, tc := range cases {
		if got := tr.statusForErrors(mk(tc.codes...)); got != tc.want {
			t.Errorf("%v: got %d, want %d", tc.codes, got, tc.want)
		}
	}
}
