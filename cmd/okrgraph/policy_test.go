package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"okrgraph/internal/testenv"
)

// TestPolicyCommands: an admin keeping the policy in git validates, tests,
// pushes and activates it from the command line; a running server enforces
// it; non-admins are refused; rollback and deactivate work by number.
func TestPolicyCommands(t *testing.T) {
	const dir = "../../examples/tenant-policies/org-objectives-owners-only"
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			e := testenv.New(t, b, testenv.Config{Demo: true})
			t.Setenv("OKRGRAPH_DATABASE_URL", e.URL)
			run := func(args ...string) (string, error) {
				var out bytes.Buffer
				err := policyCmd(context.Background(), args, &out)
				return out.String(), err
			}
			mustRun := func(want string, args ...string) {
				t.Helper()
				out, err := run(args...)
				if err != nil || !strings.Contains(out, want) {
					t.Fatalf("policy %v: %v\n%s", args, err, out)
				}
			}
			mustRun("valid", "validate", dir)
			mustRun("8 tests passed", "test", dir)
			if out, err := run("test", "../../policies"); err == nil {
				t.Fatalf("the default policy passed as a tenant's: %s", out)
			}
			if _, err := run("push", "--org", "acme", "--as", "steve@acme.example", dir); err == nil || !strings.Contains(err.Error(), "forbidden") {
				t.Fatalf("a member pushed: %v", err)
			}
			mustRun("saved version 1", "push", "--org", "acme", "--as", "adam@acme.example", "--comment", "from git", dir)
			mustRun("version 1 is active", "activate", "--org", "acme", "--as", "adam@acme.example", "--version", "1")
			mustRun("saved version 2", "push", dir, "--org", "acme", "--as", "adam@acme.example")
			mustRun("saved version 3 (draft)\nversion 3 is active", "activate", "--org", "acme", "--as", "adam@acme.example", dir)

			// The running server picks the activation up.
			steve := e.As("steve", "acme")
			create := func() string {
				return steve.Do(t, `mutation { createOKRItem(input: {kind: OBJECTIVE, level: ORGANIZATION, title: "x"}) { item { id } } }`, nil).Code()
			}
			deadline := time.Now().Add(2 * time.Second)
			for create() != "FORBIDDEN" {
				if time.Now().After(deadline) {
					t.Fatal("the server did not enforce the policy within 2s")
				}
				time.Sleep(50 * time.Millisecond)
			}

			mustRun("version 1 is active", "rollback", "--org", "acme", "--as", "adam@acme.example", "--version", "1")
			out, _ := run("list", "--org", "acme", "--as", "adam@acme.example")
			if !strings.Contains(out, "1\tACTIVE") || !strings.Contains(out, "2\tDRAFT") || !strings.Contains(out, "3\tARCHIVED") {
				t.Fatalf("list:\n%s", out)
			}
			mustRun("version 1 deactivated", "deactivate", "--org", "acme", "--as", "adam@acme.example")
			if _, err := run("rollback", "--org", "acme", "--as", "adam@acme.example", "--version", "9"); err == nil || !strings.Contains(err.Error(), "not found") {
				t.Fatalf("rollback to a missing version: %v", err)
			}
		})
	}
}
