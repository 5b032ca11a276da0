package authz

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadExample reads a tenant policy folder of examples/tenant-policies.
func loadExample(t testing.TB, dir string) []Module {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.rego"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no modules in %s: %v", dir, err)
	}
	var mods []Module
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, Module{Name: filepath.Base(f), Source: string(src)})
	}
	return mods
}

func TestExamplesValidateAndPassTheirTests(t *testing.T) {
	dirs, _ := filepath.Glob("../../examples/tenant-policies/*")
	var n int
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			mods := loadExample(t, dir)
			if p := ValidateTenant(mods); len(p) > 0 {
				t.Fatalf("problems: %v", p)
			}
			results, problems := RunTenantTests(context.Background(), mods, SyntheticSafetyFacts())
			if len(problems) > 0 {
				t.Fatalf("problems: %v", problems)
			}
			own, safety := 0, 0
			for _, r := range results {
				if !r.Passed {
					t.Errorf("%s.%s failed: %s", r.Package, r.Name, r.Message)
				}
				if r.Safety {
					safety++
				} else {
					own++
				}
			}
			if own == 0 || safety == 0 {
				t.Errorf("ran %d own and %d safety tests", own, safety)
			}
		})
	}
	if n < 5 {
		t.Fatalf("found %d examples, want 5", n)
	}
}

func TestValidateTenantRejects(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		mods []Module
		want string
		line int
	}{
		"syntax error":            {[]Module{{"p.rego", "package okrgraph.tenant.x\n\ndeny contains \"x\" if {\n\tinput.action ==\n}\n"}}, "unexpected", 5},
		"wrong package":           {[]Module{{"p.rego", "package okrgraph.main\n\ndeny contains \"x\" if true\n"}}, "outside the tenant namespace", 1},
		"http.send":               {[]Module{{"p.rego", "package okrgraph.tenant.x\n\ndeny contains \"x\" if {\n\thttp.send({\"method\": \"get\", \"url\": \"http://127.0.0.1\"})\n}\n"}}, "http.send", 4},
		"opa.runtime":             {[]Module{{"p.rego", "package okrgraph.tenant.x\n\ndeny contains msg if {\n\tmsg := opa.runtime().env.HOME\n}\n"}}, "opa.runtime", 4},
		"strict: unused variable": {[]Module{{"p.rego", "package okrgraph.tenant.x\n\ndeny contains \"x\" if {\n\tsome y\n\tinput.action == \"okr.create\"\n}\n"}}, "", 0},
		"too big":                 {[]Module{{"p.rego", "package okrgraph.tenant.x\n# " + strings.Repeat("x", 10<<20)}}, "limit", 0},
		"too many":                {manyModules(MaxTenantModules + 1), "limit", 0},
		"bad name":                {[]Module{{"../p.rego", "package okrgraph.tenant.x\n"}}, "file names", 0},
		"empty":                   {nil, "at least one module", 0},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			problems := ValidateTenant(tc.mods)
			if len(problems) == 0 {
				t.Fatal("accepted")
			}
			joined := ""
			for _, p := range problems {
				joined += p.String() + "\n"
			}
			if !strings.Contains(joined, tc.want) {
				t.Errorf("problems %q do not mention %q", joined, tc.want)
			}
			if tc.line > 0 && problems[0].Line != tc.line {
				t.Errorf("line %d, want %d (%s)", problems[0].Line, tc.line, joined)
			}
		})
	}
}

func manyModules(n int) []Module {
	var mods []Module
	for i := range n {
		mods = append(mods, Module{Name: "m" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + ".rego", Source: "package okrgraph.tenant.x\n"})
	}
	return mods
}

func TestAlwaysDenyFailsTheSafetySuite(t *testing.T) {
	t.Parallel()
	mods := []Module{{"p.rego", "package okrgraph.tenant.x\n\ndeny contains \"no\" if true\n"}}
	if p := ValidateTenant(mods); len(p) > 0 {
		t.Fatalf("problems: %v", p)
	}
	results, problems := RunTenantTests(context.Background(), mods, SyntheticSafetyFacts())
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	failed := 0
	for _, r := range results {
		if !r.Passed && r.Safety {
			failed++
		}
	}
	if failed == 0 {
		t.Fatalf("an always-deny policy passed the safety suite: %+v", results)
	}
}
