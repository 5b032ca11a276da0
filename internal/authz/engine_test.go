package authz

import (
	"context"
	"testing"
)

func createInput() *Input {
	return &Input{
		Action: ActionOKRCreate,
		Subject: Subject{
			UserID: "u-ann", Role: "MEMBER",
			TeamRoles: map[string]string{"t-sales": "MEMBER"},
		},
		Resource: Resource{
			Kind: "OBJECTIVE", Level: "TEAM",
			Teams:  []Team{{ID: "t-sales", OKRCreation: "TEAM_MEMBERS"}},
			Owners: []string{"u-bob"}, Creator: "u-ann", CheckInOwner: "u-bob",
		},
		Org: Org{ID: "org-1", OKRCreation: "ADMINS", TeamCreation: "ADMINS"},
	}
}

func updateInput() *Input {
	return &Input{
		Action: ActionOKRUpdate,
		Subject: Subject{
			UserID: "u-dan", Role: "MEMBER",
			TeamRoles:     map[string]string{"t-sales": "MEMBER"},
			DirectReports: []string{"u-eve"},
		},
		Resource: Resource{
			ID: "okr-1", Kind: "KEY_RESULT", Level: "INDIVIDUAL",
			Owners: []string{"u-bob"}, OwnerManagers: []string{"u-carl"},
			Creator: "u-bob", CheckInOwner: "u-bob",
			Parent: &Parent{
				ID: "okr-0", Kind: "OBJECTIVE", Owners: []string{"u-bob"},
				Delegate: &Delegate{UserID: "u-dan", DelegateKeyResults: true},
			},
		},
		Org: Org{ID: "org-1"},
	}
}

func BenchmarkDecision(b *testing.B) {
	e, err := NewEngine()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		in   *Input
	}{
		{"create-individual", func() *Input { in := createInput(); in.Resource.Level = "INDIVIDUAL"; in.Resource.Teams = nil; return in }()},
		{"create-team", createInput()},
		{"update-manager", func() *Input { in := updateInput(); in.Subject.UserID = "u-carl"; return in }()},
		{"update-delegate", updateInput()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d, err := e.Decide(ctx, bc.in)
			if err != nil || !d.Allow {
				b.Fatalf("%+v %v", d, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				e.Decide(ctx, bc.in)
			}
		})
	}
}
