package authz

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The review facts convert like the rest of the input: pruned JSON.
func TestReviewInputValueIsPrunedJSON(t *testing.T) {
	inputs := []*Input{
		{Action: ActionReviewApprove, Subject: Subject{UserID: "u1", Role: "MEMBER", PerformanceAdmin: true, Reports: []string{"u2"}},
			Resource: Resource{ID: "r1",
				Review: &Review{Type: "MANAGER", Status: "SUBMITTED", Reviewee: "u2", Reviewer: "u3", Approvers: []string{"u1", "u4"}},
				Cycle:  &ReviewCycle{ID: "c1", Status: "ACTIVE", ApprovalRequired: true, ApproverRule: "SUPERVISOR_CHAIN"}}},
		{Action: ActionReviewManageCycle, Resource: Resource{Cycle: &ReviewCycle{}}},
		{Action: ActionReviewRead, Resource: Resource{Review: &Review{Approvers: []string{}}, Cycle: &ReviewCycle{ID: "c1", Status: "DRAFT"}}},
	}
	for i, in := range inputs {
		raw, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		want, err := ast.InterfaceToValue(pruneZeros(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := inputValue(in, &inputMemo{}); got.Compare(want) != 0 {
			t.Errorf("input %d:\n got %v\nwant %v", i, got, want)
		}
	}
}

// pruneZeros drops empty strings, false, null and empty objects from
// object members, recursively, as inputValue does (array elements stay).
func pruneZeros(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			x = pruneZeros(x)
			if m, ok := x.(map[string]any); (ok && len(m) == 0) || x == nil || x == false || x == "" {
				continue
			}
			out[k] = x
		}
		return out
	case []any:
		for i := range v {
			v[i] = pruneZeros(v[i])
		}
	}
	return v
}

// Review actions reach okrgraph.review through okrgraph.main.
func TestReviewDecisions(t *testing.T) {
	e, err := NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	in := &Input{
		Action:  ActionReviewApprove,
		Subject: Subject{UserID: "u-victor", Role: "MEMBER", Reports: []string{"u-sam", "u-steve"}},
		Resource: Resource{ID: "r1",
			Review: &Review{Type: "MANAGER", Status: "SUBMITTED", Reviewee: "u-steve", Reviewer: "u-sam", Approvers: []string{"u-victor"}},
			Cycle:  &ReviewCycle{ID: "c1", Status: "ACTIVE", ApprovalRequired: true, ApproverRule: "SUPERVISOR_CHAIN"}},
		Org: Org{ID: "org-1"},
	}
	d, err := e.Decide(context.Background(), in)
	if err != nil || !d.Allow || len(d.Reasons) != 1 || d.Reasons[0] != "approver of the review" {
		t.Fatalf("approve: %+v %v", d, err)
	}
	in.Resource.Review.Status = "IN_PROGRESS"
	d, err = e.Decide(context.Background(), in)
	if err != nil || d.Allow || d.Reasons[0] != "a review can only be approved after the manager submitted it" {
		t.Fatalf("approve before submission: %+v %v", d, err)
	}
	in.Action, in.Subject.Reports = ActionReviewRead, nil
	in.Resource.Review.Status = "SUBMITTED"
	in.Resource.Review.Approvers = nil
	d, err = e.Decide(context.Background(), in)
	if err != nil || d.Allow {
		t.Fatalf("read by a stranger: %+v %v", d, err)
	}
}
