package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"okrgraph/ent"
	"okrgraph/internal/access"
	"okrgraph/internal/apperr"
	"okrgraph/internal/authz"
	"okrgraph/internal/policy"
	"okrgraph/internal/store"
)

const policyUsage = `usage:
  okrgraph policy validate DIR            check the *.rego files of DIR (no database)
  okrgraph policy test DIR                run their tests and the safety suite (no database)
  okrgraph policy push --org SLUG --as EMAIL [--comment C] DIR
                                          save DIR as the organization's next draft version
  okrgraph policy activate --org SLUG --as EMAIL (--version N | [--comment C] DIR)
                                          activate version N, or push DIR and activate it
  okrgraph policy rollback --org SLUG --as EMAIL --version N
                                          re-activate version N, which was active before
  okrgraph policy deactivate --org SLUG --as EMAIL
                                          return to the default policy only
  okrgraph policy list --org SLUG --as EMAIL
                                          list the versions

DIR holds Rego v1 modules in packages under okrgraph.tenant.<name>; files
named *_test.rego hold the tests. --as names an org admin: the database
commands act as that user, through the same checks as the GraphQL API.
`

// policyCmd runs `okrgraph policy ...` with the internal/policy service.
func policyCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, policyUsage)
		return errors.New("policy: a subcommand is required")
	}
	sub := args[0]
	fs := flag.NewFlagSet("policy "+sub, flag.ContinueOnError)
	org := fs.String("org", "", "organization slug")
	as := fs.String("as", "", "email of the org admin acting")
	version := fs.Int("version", 0, "policy version number")
	comment := fs.String("comment", "", "comment saved with the version")
	// Flags may come before or after DIR.
	var dirs []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(dirs) > 1 {
		return fmt.Errorf("policy %s: one DIR, not %d", sub, len(dirs))
	}
	dir := ""
	if len(dirs) == 1 {
		dir = dirs[0]
	}
	needDir := func() error {
		if dir == "" {
			return fmt.Errorf("policy %s: DIR is required", sub)
		}
		return nil
	}

	switch sub {
	case "validate":
		if err := needDir(); err != nil {
			return err
		}
		mods, err := policy.ReadDir(dir)
		if err != nil {
			return err
		}
		v := policy.Check(mods)
		for _, p := range v.Problems {
			fmt.Fprintln(out, p.String())
		}
		if !v.Valid {
			return fmt.Errorf("%s: %d problems", dir, len(v.Problems))
		}
		fmt.Fprintf(out, "%s: %d modules, valid\n", dir, len(mods))
		return nil
	case "test":
		if err := needDir(); err != nil {
			return err
		}
		mods, err := policy.ReadDir(dir)
		if err != nil {
			return err
		}
		return printTests(out, dir, policy.RunTests(ctx, mods, authz.SyntheticSafetyFacts()))
	case "push", "activate", "rollback", "deactivate", "list":
	case "-h", "--help", "help":
		fmt.Fprint(out, policyUsage)
		return nil
	default:
		fmt.Fprint(os.Stderr, policyUsage)
		return fmt.Errorf("policy: unknown subcommand %q", sub)
	}

	if *org == "" || *as == "" {
		return fmt.Errorf("policy %s: --org and --as are required", sub)
	}
	db, err := store.Open(databaseURL(), nil)
	if err != nil {
		return err
	}
	defer db.Close()
	engine, err := authz.NewEngine(authz.WithLogger(logger()))
	if err != nil {
		return err
	}
	// The default engine decides org.manage_policy: tenant rules never
	// apply to it.
	svc := &policy.Service{Client: db.Client, Guard: &access.Guard{Decider: engine, Log: logger()}}
	ctx, err = policy.ActAs(ctx, db.Client, *org, *as)
	if err != nil {
		return cliError(err)
	}
	byNumber := func() (*ent.PolicyVersion, error) {
		if *version <= 0 {
			return nil, fmt.Errorf("policy %s: --version N is required", sub)
		}
		return svc.VersionNumber(ctx, *version)
	}
	push := func() (*ent.PolicyVersion, error) {
		mods, err := policy.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		v, err := svc.SaveDraft(ctx, mods, comment)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "saved version %d (draft)\n", v.Number)
		return v, nil
	}

	var v *ent.PolicyVersion
	switch sub {
	case "push":
		if err := needDir(); err != nil {
			return err
		}
		_, err = push()
	case "activate":
		switch {
		case *version > 0 && dir != "":
			return errors.New("policy activate: give --version N or DIR, not both")
		case *version > 0:
			v, err = byNumber()
		case dir != "":
			v, err = push()
		default:
			return errors.New("policy activate: give --version N or DIR")
		}
		if err == nil {
			if v, err = svc.Activate(ctx, v.ID); err == nil {
				fmt.Fprintf(out, "version %d is active\n", v.Number)
			}
		}
	case "rollback":
		if v, err = byNumber(); err == nil {
			if v, err = svc.Rollback(ctx, v.ID); err == nil {
				fmt.Fprintf(out, "rolled back: version %d is active\n", v.Number)
			}
		}
	case "deactivate":
		if v, err = svc.Deactivate(ctx); err == nil {
			if v == nil {
				fmt.Fprintln(out, "no version was active: the default policy applies")
			} else {
				fmt.Fprintf(out, "version %d deactivated: the default policy applies\n", v.Number)
			}
		}
	case "list":
		var vs []*ent.PolicyVersion
		if vs, err = svc.Versions(ctx); err == nil {
			for _, v := range vs {
				fmt.Fprintf(out, "%d\t%s\t%s\tauthor %d\t%s\n", v.Number, v.Status, v.CreatedAt.UTC().Format("2006-01-02 15:04:05Z"), v.AuthorID, v.Comment)
			}
		}
	}
	return cliError(err)
}

// printTests prints a test run, the safety suite first.
func printTests(out io.Writer, dir string, run policy.TestRun) error {
	for _, p := range run.Problems {
		fmt.Fprintln(out, p.String())
	}
	if len(run.Problems) > 0 {
		return fmt.Errorf("%s: does not compile (%d problems)", dir, len(run.Problems))
	}
	for _, r := range run.Results {
		status, suite := "PASS", ""
		if !r.Passed {
			status = "FAIL"
		}
		if r.Safety {
			suite = " (safety)"
		}
		line := fmt.Sprintf("%s %s.%s%s", status, r.Package, r.Name, suite)
		if r.Message != "" {
			line += ": " + r.Message
		}
		fmt.Fprintln(out, line)
	}
	if !run.Passed {
		return fmt.Errorf("%s: %d of %d tests failed", dir, len(run.Failed()), len(run.Results))
	}
	fmt.Fprintf(out, "%s: %d tests passed\n", dir, len(run.Results))
	return nil
}

// cliError words a domain error for the terminal, with the policy's reasons.
func cliError(err error) error {
	ae, ok := apperr.As(err)
	if !ok {
		return err
	}
	msg := strings.ToLower(ae.Code) + ": " + ae.Message
	if len(ae.Reasons) > 0 {
		msg += " (" + strings.Join(ae.Reasons, "; ") + ")"
	}
	return errors.New(msg)
}
