package server

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// checkMarshal: marshalResponse writes what json.Marshal writes for the
// wire response, for compact data.
func checkMarshal(t *testing.T, resp *graphql.Response) {
	t.Helper()
	want, werr := json.Marshal(wireResponse{Errors: resp.Errors, Data: resp.Data, Label: resp.Label, Path: resp.Path, HasNext: resp.HasNext, Extensions: resp.Extensions})
	got, gerr := marshalResponse(resp)
	if werr != nil {
		return // invalid data: json.Marshal refuses, the splice trusts gqlgen
	}
	if gerr != nil || !bytes.Equal(got, want) {
		t.Fatalf("marshalResponse:\n%s (%v)\njson.Marshal:\n%s", got, gerr, want)
	}
}

func TestMarshalResponse(t *testing.T) {
	yes := true
	datas := []string{"", `null`, `{}`, `{"a":1}`, `{"t":"<b>&amp;</b> \u2028 \u2029 é 😀 \\\" \\u0001"}`, "{\"bad\":\"\xff\xfe\xe2\x80\"}", "{\"x\":\"\xe2\x80\xa8\xe2\x80\xa9\"}", `[1,2.5e-7,true,false,null]`}
	for _, d := range datas {
		for _, errs := range []gqlerror.List{nil, {{Message: "<no>", Path: ast.Path{ast.PathName("a"), ast.PathIndex(1)}, Extensions: map[string]any{"code": "X"}}}} {
			for _, ext := range []map[string]any{nil, {"cost": 3, "html": "<&>"}} {
				resp := &graphql.Response{Data: json.RawMessage(d), Errors: errs, Extensions: ext}
				checkMarshal(t, resp)
				resp.HasNext, resp.Label, resp.Path = &yes, "l<", ast.Path{ast.PathName("p")}
				checkMarshal(t, resp)
			}
		}
	}
}

func FuzzMarshalResponse(f *testing.F) {
	f.Add(`{"a":"<\u2028>"}`, "m")
	f.Add("{\"b\":\"\xe2\x80\xa9&\"}", "")
	f.Fuzz(func(t *testing.T, data, msg string) {
		var c bytes.Buffer
		if json.Compact(&c, []byte(data)) != nil || c.String() != data {
			return // the data gqlgen writes is compact JSON
		}
		resp := &graphql.Response{Data: json.RawMessage(data)}
		if msg != "" {
			resp.Errors = gqlerror.List{{Message: msg}}
		}
		checkMarshal(t, resp)
	})
}
