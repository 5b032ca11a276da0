package graph_test

import (
	"encoding/json"
	"testing"

	"okrgraph/internal/testenv"
)

// FuzzMutationInputs sends fuzzed text through the real handler into the
// create and update inputs of OKRs, check-ins, comments and time periods,
// on SQLite (and PostgreSQL when configured). Whatever the text, the answer
// is never INTERNAL, a refused input writes nothing, and an accepted title
// reads back exactly as sent.
//
//	go test ./graph -run '^$' -fuzz FuzzMutationInputs -fuzztime 1m
func FuzzMutationInputs(f *testing.F) {
	for _, seed := range [][3]string{
		{"Grow revenue", "line one\nline two", "EUR"},
		{"a\x00b", "", ""},
		{"\u202eevil", "\x07", "\x1b[0m"},
		{"نمو", "\t", "%"},
		{"\xff\xfe", "\xed\xa0\x80", "x"}, // invalid UTF-8; an encoded lone surrogate
		{"", "   ", ""},
		{"%_\\", "'; DROP TABLE okr_items; --", "\u0085"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	var envs []*testenv.Env
	for _, b := range testenv.Backends() {
		envs = append(envs, testenv.New(f, b, testenv.Config{Demo: true}))
	}
	type created struct {
		CreateOKRItem struct{ Item struct{ ID, Title string } } `json:"createOKRItem"`
	}
	objectives := make([]string, len(envs))
	for i, e := range envs {
		var out created
		e.As("olivia", "acme").MustDo(f, `mutation { createOKRItem(input: {kind: OBJECTIVE, level: INDIVIDUAL, title: "Fuzzed"}) { item { id title } } }`, nil, &out)
		objectives[i] = out.CreateOKRItem.Item.ID
	}
	f.Fuzz(func(t *testing.T, title, text, unit string) {
		for i, e := range envs {
			c := e.As("olivia", "acme")
			ops := []struct {
				name, query string
				vars        map[string]any
			}{
				{"createOKRItem", `mutation($t: String!, $d: String, $u: String) { createOKRItem(input: {kind: KEY_RESULT, level: INDIVIDUAL, parentId: "` + objectives[i] + `", title: $t, description: $d, unit: $u, metricStart: 0, metricTarget: 10}) { item { id title } } }`,
					map[string]any{"t": title, "d": text, "u": unit}},
				{"updateOKRItem", `mutation($id: ID!, $t: String, $d: String) { updateOKRItem(input: {id: $id, title: $t, description: $d}) { item { id title } } }`,
					map[string]any{"id": objectives[i], "t": title, "d": text}},
				{"checkIn", `mutation($id: ID!, $n: String) { checkIn(input: {itemId: $id, progress: 0.5, note: $n}) { checkIn { id } } }`,
					map[string]any{"id": objectives[i], "n": text}},
				{"addComment", `mutation($id: ID!, $b: String!) { addComment(input: {itemId: $id, body: $b}) { comment { id } } }`,
					map[string]any{"id": objectives[i], "b": text}},
				{"createTimePeriod", `mutation($n: String!) { createTimePeriod(input: {name: $n, startsAt: "2027-01-01T00:00:00Z", endsAt: "2027-04-01T00:00:00Z"}) { timePeriod { id } } }`,
					map[string]any{"n": title}},
			}
			for _, op := range ops {
				before := rowCounts(t, e)
				r := c.Do(t, op.query, op.vars)
				for _, er := range r.Errors {
					if er.Code() == "INTERNAL" || er.Code() == "" {
						t.Fatalf("%s on %s: %+v", op.name, e.Backend, r.Errors)
					}
				}
				if len(r.Errors) > 0 {
					if after := rowCounts(t, e); after != before {
						t.Fatalf("%s on %s was refused (%s) but wrote:\nbefore %s\nafter  %s", op.name, e.Backend, r.Code(), before, after)
					}
					continue
				}
				if op.name == "createOKRItem" {
					var out created
					// What the client sent: JSON carries invalid UTF-8 as U+FFFD.
					var sent string
					raw, _ := json.Marshal(title)
					_ = json.Unmarshal(raw, &sent)
					if err := json.Unmarshal(r.Data, &out); err != nil || out.CreateOKRItem.Item.Title != sent {
						t.Fatalf("%s on %s: title %q read back as %q", op.name, e.Backend, sent, out.CreateOKRItem.Item.Title)
					}
				}
			}
		}
	})
}
