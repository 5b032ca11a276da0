package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

var (
	engineOnce sync.Once
	engine     *Engine
	engineErr  error
)

// testEngine is the engine with the embedded policies, compiled once for
// all tests.
func testEngine(t testing.TB) *Engine {
	t.Helper()
	engineOnce.Do(func() { engine, engineErr = NewEngine() })
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

// engineWith compiles a custom okrgraph.main, for failure tests.
func engineWith(t *testing.T, src string, opts ...Option) *Engine {
	t.Helper()
	caps := Capabilities()
	m, err := parseModule("test.rego", src, caps)
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEngine(newConfig(opts), caps, []*ast.Module{m})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func member(id string) Subject { return Subject{UserID: id, Role: "MEMBER"} }

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

func createIndividualInput() *Input {
	in := createInput()
	in.Resource.Level, in.Resource.Teams = "INDIVIDUAL", nil
	return in
}

func updateInput() *Input {
	return &Input{
		Action: ActionOKRUpdate,
		Subject: Subject{
			UserID: "u-bob", Role: "MEMBER",
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

func with(in *Input, f func(*Input)) *Input { f(in); return in }

var decisionCases = []struct {
	name   string
	in     *Input
	allow  bool
	reason string
}{
	{"create individual", createIndividualInput(), true, "anyone may create individual OKRs"},
	{"create team as team member", createInput(), true, "member of the team"},
	{"create team outside the team", with(createInput(), func(in *Input) { in.Subject.TeamRoles = nil }),
		false, "only members of team t-sales may create OKRs in it"},
	{"create org OKR restricted to admins", with(createInput(), func(in *Input) { in.Resource.Level = "ORGANIZATION" }),
		false, "only org admins may create organization OKRs"},
	{"create org OKR as org owner", with(createInput(), func(in *Input) { in.Resource.Level = "ORGANIZATION"; in.Subject.Role = "OWNER" }),
		true, "org admin"},
	{"create under restricted parent", with(createIndividualInput(), func(in *Input) {
		in.Resource.Parent = &Parent{ID: "p", Owners: []string{"u-carl"}, Restricted: true}
	}), false, "alignment under the parent OKR is restricted to the users its owners granted"},
	{"update as owner", updateInput(), true, "owner of the item"},
	{"update as owner's manager", with(updateInput(), func(in *Input) { in.Subject = member("u-carl") }), true, "manager of an owner"},
	{"update as delegate of the objective", with(updateInput(), func(in *Input) { in.Subject = member("u-dan") }),
		true, "delegate of the objective (key results included)"},
	{"update as stranger", with(updateInput(), func(in *Input) { in.Subject = member("u-zed") }),
		false, "only its owners, creator, owners of its teams, org admins, owners' managers, owners of the parent OKR, users with an edit grant and the delegate may edit this OKR"},
	{"delegate may not change owners", with(updateInput(), func(in *Input) { in.Action = ActionOKRChangeOwners; in.Subject = member("u-dan") }),
		false, "the delegate may not change the owners of this OKR"},
	{"check-in owner checks in", with(updateInput(), func(in *Input) {
		in.Action = ActionOKRCheckIn
		in.Resource.CheckInOwner = "u-zed"
		in.Subject = member("u-zed")
	}),
		true, "check-in owner"},
	{"private OKR hidden from org admin", with(updateInput(), func(in *Input) {
		in.Action, in.Resource.Private, in.Subject = ActionOKRView, true, Subject{UserID: "u-boss", Role: "ADMIN"}
	}), false, "this OKR is private: only its owners, creator, delegate, check-in owner and listed viewers may see it"},
	{"private OKR seen by listed viewer", with(updateInput(), func(in *Input) {
		in.Action, in.Resource.Private, in.Resource.Viewers, in.Subject = ActionOKRView, true, []string{"u-zed"}, member("u-zed")
	}), true, "listed viewer"},
	{"observer may view", with(updateInput(), func(in *Input) { in.Action = ActionOKRView; in.Subject.Observer = true }),
		true, "every member may view an OKR that is not private"},
	{"observer may not write", with(updateInput(), func(in *Input) { in.Subject.Observer = true }), false, "observers are read-only"},
	{"non-member gets nothing", with(updateInput(), func(in *Input) { in.Subject.Role = "" }), false, "not a member of this organization"},
	{"org admin manages members", with(updateInput(), func(in *Input) { in.Action = ActionOrgManageMember; in.Subject.Role = "ADMIN" }),
		true, "org admin"},
	{"member may not edit the policy", with(updateInput(), func(in *Input) { in.Action = ActionOrgManagePolicy }),
		false, "only org admins may edit the organization's policy"},
	{"team admin manages members", &Input{Action: ActionTeamManageMembers,
		Subject:  Subject{UserID: "u1", Role: "MEMBER", TeamRoles: map[string]string{"t1": "ADMIN"}},
		Resource: Resource{Teams: []Team{{ID: "t1"}}}}, true, "admin of the team"},
	{"SSO user may not edit own profile", &Input{Action: ActionProfileUpdate,
		Subject: Subject{UserID: "u1", Role: "MEMBER", SSO: true}, Resource: Resource{User: "u1"}},
		false, "profiles provisioned through SSO are edited at the identity provider"},
	{"unknown action", with(updateInput(), func(in *Input) { in.Action = "okr.teleport" }), false, `unknown action "okr.teleport"`},
}

func TestDecide(t *testing.T) {
	e := testEngine(t)
	for _, tc := range decisionCases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := e.Decide(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			want := Decision{Allow: tc.allow, Reasons: []string{tc.reason}}
			if fmt.Sprint(d) != fmt.Sprint(want) {
				t.Errorf("got %+v, want %+v", d, want)
			}
			// The policy must answer the same for the JSON form of the
			// input, where zero values are present rather than absent.
			if j := decideJSON(t, e, tc.in); fmt.Sprint(j) != fmt.Sprint(d) {
				t.Errorf("JSON input: got %+v, AST input: %+v", j, d)
			}
		})
	}
}

// decideJSON evaluates the prepared query on json.Marshal(in).
func decideJSON(t *testing.T, e *Engine, in *Input) Decision {
	t.Helper()
	var doc any
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	rs, err := e.query.Eval(context.Background(), rego.EvalInput(doc))
	if err != nil || len(rs) != 1 {
		t.Fatalf("eval JSON input: %v %v", rs, err)
	}
	var d Decision
	raw, _ = json.Marshal(rs[0].Expressions[0].Value)
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// prune drops null, false, "" and empty objects from JSON objects, which
// is what inputValue leaves out.
func prune(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			x = prune(x)
			if m, ok := x.(map[string]any); (ok && len(m) == 0) || x == nil || x == false || x == "" {
				continue
			}
			out[k] = x
		}
		return out
	case []any:
		for i := range v {
			v[i] = prune(v[i])
		}
	}
	return v
}

func TestInputValueIsPrunedJSON(t *testing.T) {
	full := &Input{
		Action: ActionOKRSetDelegate,
		Subject: Subject{UserID: "u1", Role: "OWNER", Observer: true, PerformanceAdmin: true, SSO: true,
			TeamRoles: map[string]string{"t1": "OWNER", "t2": "", "t3": "ADMIN"}, DirectReports: []string{"u2"}, Reports: []string{"u2", "u3"}},
		Resource: Resource{ID: "o1", Kind: "OBJECTIVE", Level: "TEAM",
			Teams:  []Team{{ID: "t1", OKRCreation: "LISTED", Listed: []string{"u1", "u9"}}, {}, {ID: "t2", Listed: []string{}}},
			Owners: []string{"u1", "u1"}, OwnerManagers: []string{}, Creator: "u1",
			Delegate: &Delegate{UserID: "u4", DelegateKeyResults: true, NotifyOwner: true}, CheckInOwner: "u5",
			Private: true, Viewers: []string{"u6"}, Grants: Grants{Edit: []string{"u7"}, CheckIn: []string{}, Align: []string{"u8"}},
			AlignmentRestricted: true, Parent: &Parent{ID: "p1", Kind: "KEY_RESULT", Owners: []string{"u9"},
				Delegate: &Delegate{}, Restricted: true, AlignGrant: []string{"u1"}},
			User: "u1", Closed: true, TimePeriodClosed: true},
		Org: Org{ID: "org1", OKRCreation: "LISTED", OKRCreationListed: []string{"u1"}, TeamCreation: "EVERYONE"},
	}
	var filled Input
	fill(reflect.ValueOf(&filled).Elem(), new(int))
	inputs := []*Input{&filled, full, {}, {Resource: Resource{Teams: []Team{}, Parent: &Parent{}}}, {Resource: Resource{CheckIn: &CheckInFacts{}}}, createInput(), updateInput()}
	for i, in := range inputs {
		raw, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		want, err := ast.InterfaceToValue(prune(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := inputValue(in, &inputMemo{}); got.Compare(want) != 0 {
			t.Errorf("input %d:\n got %v\nwant %v", i, got, want)
		}
	}
}

// fill sets every field reachable from v to a distinct non-zero value, so
// that a field added to Input but not to inputValue fails the test above.
func fill(v reflect.Value, n *int) {
	switch v.Kind() {
	case reflect.String:
		*n++
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		*n++
		v.SetInt(int64(*n))
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), n)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, n)
		fill(e, n)
		v.SetMapIndex(k, e)
	default:
		panic("fill: unsupported kind " + v.Kind().String())
	}
}

func TestMemoIsExact(t *testing.T) {
	var m inputMemo
	s := Subject{UserID: "u1", Role: "MEMBER", TeamRoles: map[string]string{"t1": "OWNER"}}
	first := m.subject(&s)
	if again := m.subject(&Subject{UserID: "u1", Role: "MEMBER", TeamRoles: map[string]string{"t1": "OWNER"}}); again != first {
		t.Error("equal subject not memoized")
	}
	s.TeamRoles["t1"] = "MEMBER" // the caller changes its map: the memo kept a copy
	if changed := m.subject(&s); changed == first || !strings.Contains(changed.String(), `"MEMBER"`) {
		t.Errorf("changed subject answered with stale term %v", changed)
	}
	if equalSubject(&Subject{Reports: nil}, &Subject{Reports: []string{}}) {
		t.Error("nil and empty reports must differ (null vs [])")
	}
	o := Org{ID: "org1", OKRCreationListed: []string{"u1"}}
	if m.org(&o) != m.org(&Org{ID: "org1", OKRCreationListed: []string{"u1"}}) {
		t.Error("equal org not memoized")
	}
	if m.org(&o) == m.org(&Org{ID: "org1", OKRCreationListed: []string{"u2"}}) {
		t.Error("different orgs share a term")
	}
}

func TestConcurrentDecisions(t *testing.T) {
	e := testEngine(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				tc := decisionCases[(g*7+i)%len(decisionCases)]
				d, err := e.Decide(context.Background(), tc.in)
				if err != nil || d.Allow != tc.allow || d.Reasons[0] != tc.reason {
					t.Errorf("%s: %+v %v", tc.name, d, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestVirtualCacheFrames exercises the pooled rule cache with `with`, which
// evaluates rules in a frame of their own.
func TestVirtualCacheFrames(t *testing.T) {
	e := engineWith(t, `package okrgraph.main

action := input.action

other := a if {
	a := action with input.action as "other"
}

decision := {"allow": true, "reasons": [action, other, action, other]}`)
	for range 3 { // the pooled cache must come back clean
		d, err := e.Decide(context.Background(), updateInput())
		if err != nil || fmt.Sprint(d.Reasons) != "[okr.update other okr.update other]" {
			t.Fatalf("%+v %v", d, err)
		}
	}
}

// ---------------------------------------------------------------------------
// Fail closed.

func assertFailClosed(t *testing.T, d Decision, err error, cause error) {
	t.Helper()
	if err == nil || !errors.Is(err, ErrPolicyEvaluation) {
		t.Fatalf("err = %v, want ErrPolicyEvaluation", err)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("err = %v, want it to wrap %v", err, cause)
	}
	if d.Allow || len(d.Reasons) != 1 || !strings.HasPrefix(d.Reasons[0], "policy evaluation failed: ") {
		t.Errorf("decision = %+v, want a denial explaining the failure", d)
	}
}

func quietEngine(t *testing.T, src string, opts ...Option) (*Engine, *bytes.Buffer) {
	var logs bytes.Buffer
	opts = append(opts, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if src == "" {
		e, err := NewEngine(opts...)
		if err != nil {
			t.Fatal(err)
		}
		return e, &logs
	}
	return engineWith(t, src, opts...), &logs
}

func TestFailClosedOnCancelledContext(t *testing.T) {
	e, logs := quietEngine(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := e.Decide(ctx, updateInput())
	assertFailClosed(t, d, err, context.Canceled)
	if !strings.Contains(logs.String(), "policy evaluation failed") || !strings.Contains(logs.String(), "action=okr.update") {
		t.Errorf("failure not logged: %q", logs)
	}
}

func TestFailClosedOnExpiredContext(t *testing.T) {
	e, _ := quietEngine(t, "")
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	d, err := e.Decide(ctx, updateInput())
	assertFailClosed(t, d, err, context.DeadlineExceeded)
}

// slowPolicy iterates for seconds unless cancelled.
const slowPolicy = `package okrgraph.main

r := numbers.range(1, 400)

decision := {"allow": true, "reasons": [sprintf("%d", [n])]} if {
	n := count([1 | some a in r; some b in r; some c in r])
}`

func TestFailClosedOnTimeout(t *testing.T) {
	e, _ := quietEngine(t, slowPolicy, WithTimeout(5*time.Millisecond))
	start := time.Now()
	d, err := e.Decide(context.Background(), updateInput())
	assertFailClosed(t, d, err, context.DeadlineExceeded)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v despite a 5ms deadline", took)
	}
}

func TestFailClosedOnContextDeadlineSoonerThanTimeout(t *testing.T) {
	e, _ := quietEngine(t, slowPolicy, WithTimeout(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	d, err := e.Decide(ctx, updateInput())
	assertFailClosed(t, d, err, context.DeadlineExceeded)
}

func TestFailClosedOnBadDecisions(t *testing.T) {
	for name, src := range map[string]string{
		"undefined":         `decision := {"allow": true, "reasons": []} if input.nothing`,
		"allow not boolean": `decision := {"allow": "yes", "reasons": []}`,
		"reason not string": `decision := {"allow": true, "reasons": [1]}`,
		"reasons not array": `decision := {"allow": true, "reasons": "ok"}`,
		"extra key":         `decision := {"allow": true, "reasons": [], "also": 1, "more": 2}`,
		"by not string":     `decision := {"allow": true, "reasons": [], "by": 1}`,
		"third key not by":  `decision := {"allow": true, "reasons": [], "also": 1}`,
		"missing key":       `decision := {"allow": true, "why": []}`,
		"not an object":     `decision := true`,
		"conflict":          "decision := {\"allow\": true, \"reasons\": []}\n\ndecision := {\"allow\": false, \"reasons\": []} if input.action",
	} {
		t.Run(name, func(t *testing.T) {
			e, _ := quietEngine(t, "package okrgraph.main\n\n"+src)
			d, err := e.Decide(context.Background(), updateInput())
			assertFailClosed(t, d, err, nil)
			// Never cached: the same input evaluates (and fails) again.
			d, err = e.Decide(context.Background(), updateInput())
			assertFailClosed(t, d, err, nil)
			if st := e.CacheStats(); !st.Enabled || st.Hits != 0 || st.Entries != 0 || st.Misses != 2 {
				t.Errorf("cache after two failures: %+v", st)
			}
		})
	}
}

func TestFailClosedOnNil(t *testing.T) {
	e, _ := quietEngine(t, "")
	d, err := e.Decide(context.Background(), nil)
	assertFailClosed(t, d, err, nil)
	var none *Engine
	d, err = none.Decide(context.Background(), updateInput())
	assertFailClosed(t, d, err, nil)
	// A nil context is taken as context.Background().
	d, err = e.Decide(nil, updateInput()) //nolint:staticcheck // on purpose
	if err != nil || !d.Allow {
		t.Errorf("nil context: %+v %v", d, err)
	}
}

// ---------------------------------------------------------------------------
// Compilation.

func TestCapabilitiesAreRestricted(t *testing.T) {
	caps := Capabilities()
	have := map[string]bool{}
	for _, b := range caps.Builtins {
		have[b.Name] = true
	}
	for _, name := range []string{"http.send", "net.lookup_ip_addr", "net.cidr_contains", "opa.runtime",
		"rego.parse_module", "trace", "time.now_ns", "rand.intn", "uuid.rfc4122"} {
		if have[name] {
			t.Errorf("%s is allowed", name)
		}
	}
	for _, name := range []string{"startswith", "sprintf", "count", "internal.member_2"} {
		if !have[name] {
			t.Errorf("%s is missing", name)
		}
	}
	if caps.AllowNet == nil || len(caps.AllowNet) != 0 {
		t.Errorf("AllowNet = %#v, want empty", caps.AllowNet)
	}
}

func TestExtraModules(t *testing.T) {
	tenant := "package okrgraph.tenant.acme\n\ndeny contains \"closed on Sundays\" if input.action == \"okr.create\"\n"
	if _, err := NewEngine(withExtraModule("acme.rego", tenant)); err != nil {
		t.Errorf("tenant module refused: %v", err)
	}
	for name, src := range map[string]string{
		"outside the namespace":  "package okrgraph.main\n\nx := 1\n",
		"the namespace itself":   "package okrgraph.tenant\n\nx := 1\n",
		"network access":         "package okrgraph.tenant.acme\n\nx := http.send({\"method\": \"GET\", \"url\": \"http://example.com\"})\n",
		"clock access":           "package okrgraph.tenant.acme\n\nx := time.now_ns()\n",
		"strict mode":            "package okrgraph.tenant.acme\n\nx if {\n\ty := 1\n\ttrue\n}\n",
		"syntax error":           "package okrgraph.tenant.acme\n\nx := \n",
		"rego v0 syntax":         "package okrgraph.tenant.acme\n\nx { true }\n",
		"runtime introspection":  "package okrgraph.tenant.acme\n\nx := opa.runtime()\n",
		"environment via parser": "package okrgraph.tenant.acme\n\nx := rego.parse_module(\"a\", \"package a\")\n",
	} {
		if _, err := NewEngine(withExtraModule("bad.rego", src)); err == nil {
			t.Errorf("%s: module accepted", name)
		}
	}
}

func TestNoopAuthorizer(t *testing.T) {
	var a Authorizer = NoopAuthorizer{}
	d, err := a.Decide(context.Background(), nil)
	if err != nil || !d.Allow || d.Reasons[0] != "no-op" {
		t.Errorf("%+v %v", d, err)
	}
}

// ---------------------------------------------------------------------------

func ExampleEngine_Decide() {
	e, err := NewEngine()
	if err != nil {
		panic(err)
	}
	in := &Input{
		Action:  ActionOKRChangeOwners,
		Subject: Subject{UserID: "phil", Role: "MEMBER"},
		Resource: Resource{
			ID: "okr-1", Kind: "OBJECTIVE", Level: "INDIVIDUAL",
			Owners: []string{"reed"}, Creator: "reed",
			Delegate: &Delegate{UserID: "phil"},
		},
		Org: Org{ID: "acme"},
	}
	d, _ := e.Decide(context.Background(), in)
	fmt.Println(d.Allow, d.Reasons)

	in.Action = ActionOKRUpdate
	d, _ = e.Decide(context.Background(), in)
	fmt.Println(d.Allow, d.Reasons)
	// Output:
	// false [the delegate may not change the owners of this OKR]
	// true [delegate of the objective]
}

// BenchmarkDecision measures decisions end to end (input conversion,
// evaluation, decoding). create-individual and update-owner are the typical
// create and update; the others walk further down the rules. The subject
// and org terms are memoized across calls, as for the many decisions of one
// request; update-owner-cold defeats that memo by cycling through more
// subjects than it holds.
//
// The decision cache is off: this measures evaluations (BenchmarkViewerCan
// compares with hits).
func BenchmarkDecision(b *testing.B) {
	e, err := NewEngine(WithDecisionCache(-1, 0))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		in   *Input
	}{
		{"create-individual", createIndividualInput()},
		{"update-owner", updateInput()},
		{"create-team-member", createInput()},
		{"update-manager", with(updateInput(), func(in *Input) { in.Subject = member("u-carl") })},
		{"update-delegate", with(updateInput(), func(in *Input) { in.Subject = member("u-dan") })},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if d, err := e.Decide(ctx, bc.in); err != nil || !d.Allow {
				b.Fatalf("%+v %v", d, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = e.Decide(ctx, bc.in)
			}
		})
	}
	b.Run("update-owner-cold", func(b *testing.B) {
		ins := make([]*Input, 4*memoSlots)
		for i := range ins {
			ins[i] = updateInput()
			ins[i].Subject.TeamRoles = map[string]string{fmt.Sprintf("t%d", i): "MEMBER"}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_, _ = e.Decide(ctx, ins[i%len(ins)])
			i++
		}
	})
	b.Run("noop", func(b *testing.B) {
		var a Authorizer = NoopAuthorizer{}
		in := updateInput()
		b.ReportAllocs()
		for b.Loop() {
			_, _ = a.Decide(ctx, in)
		}
	})
}
