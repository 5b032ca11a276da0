package authz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// allOKRActions are every okr.* action the policy knows, plus a few that
// are not item actions (they must come out exactly as Decide says too).
var allOKRActions = []string{
	ActionOKRView, ActionOKRCreate, ActionOKRUpdate, ActionOKRDelete, ActionOKRChangeOwners,
	ActionOKRSetDelegate, ActionOKRSetCheckInOwner, ActionOKRCheckIn, ActionOKRCheckInUpdate,
	ActionOKRCheckInDelete, ActionOKRAlign, ActionOKRClone, ActionOKRComment, ActionOKRManageGrants,
	ActionOrgManage, "okr.nonsense",
}

// decideAllInputs varies the subject over the one item of updateInput:
// owner, stranger, admin, observer, the delegate, a service token, a
// non-member.
func decideAllInputs() []*Input {
	var ins []*Input
	for _, f := range []func(*Input){
		func(*Input) {},
		func(in *Input) { in.Subject.UserID = "u-zed" },
		func(in *Input) { in.Subject.UserID, in.Subject.Role = "u-zed", "ADMIN" },
		func(in *Input) { in.Subject.Observer = true },
		func(in *Input) { in.Subject.UserID = "u-dan" },
		func(in *Input) { in.Subject.UserID = "u-carl"; in.Resource.Private = true },
		func(in *Input) { in.Subject = Subject{Type: SubjectService, Scopes: []string{"read"}} },
		func(in *Input) { in.Subject.Role = "" },
	} {
		ins = append(ins, with(updateInput(), f))
	}
	return ins
}

// assertDecideAllMatches: DecideAll answers for each action exactly what
// Decide answers for it alone (allow, reasons, by).
func assertDecideAllMatches(t *testing.T, name string, all func(*Input, []string) ([]Decision, error), one func(*Input) (Decision, error), failing ...bool) {
	t.Helper()
	allows, denies := 0, 0
	for i, in := range decideAllInputs() {
		ds, err := all(in, allOKRActions)
		if err != nil && len(failing) == 0 {
			t.Fatalf("%s input %d: %v", name, i, err)
		}
		for j, a := range allOKRActions {
			single := *in
			single.Action = a
			want, err := one(&single)
			if err != nil {
				t.Fatalf("%s input %d %s: %v", name, i, a, err)
			}
			if !reflect.DeepEqual(ds[j], want) {
				t.Errorf("%s input %d %s: DecideAll %+v, Decide %+v", name, i, a, ds[j], want)
			}
			if want.Allow {
				allows++
			} else {
				denies++
			}
		}
	}
	if allows == 0 || denies == 0 {
		t.Errorf("%s: %d allows, %d denies: the inputs do not exercise both", name, allows, denies)
	}
}

func TestDecideAllEqualsDecide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := testEngine(t)
	assertDecideAllMatches(t, "default",
		func(in *Input, as []string) ([]Decision, error) { return e.DecideAll(ctx, in, as) },
		func(in *Input) (Decision, error) { return e.Decide(ctx, in) })

	// A tenant policy that denies some actions and grants others: each
	// flag follows it exactly as the single decision does.
	const tenant = `package okrgraph.tenant.x

deny contains "no deleting here" if input.action == "okr.delete"

deny contains "frozen" if {
	input.action == "okr.checkin"
	input.subject.id == "u-bob"
}

allow contains "everyone edits" if input.action in {"okr.update", "okr.change_owners"}

# Tenant rules see the input of a single decision, never the batched
# form's list of actions.
deny contains "saw a batch" if input.actions
`
	te, err := NewTenantEngine([]Module{{Name: "x.rego", Source: tenant}}, WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	assertDecideAllMatches(t, "tenant",
		func(in *Input, as []string) ([]Decision, error) { return te.DecideAll(ctx, in, as) },
		func(in *Input) (Decision, error) { return te.Decide(ctx, in) })
	ds, _ := te.DecideAll(ctx, with(updateInput(), func(in *Input) { in.Subject.UserID = "u-zed" }),
		[]string{ActionOKRDelete, ActionOKRUpdate, ActionOKRManageGrants})
	if ds[0].Allow || ds[0].By != "tenant" || !ds[1].Allow || ds[1].By != "tenant" || ds[2].Allow {
		t.Errorf("tenant flags: %+v", ds)
	}
}

// A tenant rule that fails on one action only (here a conflict) fails the
// batched evaluation: each action is then decided alone, so only that
// action is denied, with the error, as Decide would.
func TestDecideAllFallsBackOnActionFailure(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	e, err := NewTenantEngine([]Module{{Name: "x.rego", Source: `package okrgraph.tenant.x

pick := "a" if input.action == "okr.delete"

pick := "b" if input.action == "okr.delete"

deny contains pick if input.action == "okr.delete"
`}}, WithTimeout(time.Minute), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	assertDecideAllMatches(t, "conflict",
		func(in *Input, as []string) ([]Decision, error) { return e.DecideAll(ctx, in, as) },
		func(in *Input) (Decision, error) {
			d, err := e.Decide(ctx, in)
			if in.Action == ActionOKRDelete && errors.Is(err, ErrPolicyEvaluation) {
				err = nil // expected: compared through DecideAll's answer
			}
			return d, err
		}, true)
	ds, err := e.DecideAll(ctx, updateInput(), []string{ActionOKRUpdate, ActionOKRDelete, ActionOKRView})
	if !errors.Is(err, ErrPolicyEvaluation) || !ds[0].Allow || ds[1].Allow || !ds[2].Allow {
		t.Errorf("%+v, %v", ds, err)
	}
	if !strings.Contains(logs.String(), "okr.delete") {
		t.Error("the failure of okr.delete was not logged")
	}
}

func TestDecideAllFailsClosed(t *testing.T) {
	t.Parallel()
	e, logs := quietEngine(t, "package okrgraph.tenant.x\n\nhang := true\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ds, err := e.DecideAll(ctx, updateInput(), []string{ActionOKRUpdate, ActionOKRView})
	if !errors.Is(err, ErrPolicyEvaluation) || len(ds) != 2 || ds[0].Allow || ds[1].Allow || len(ds[1].Reasons) == 0 {
		t.Fatalf("cancelled: %+v, %v", ds, err)
	}
	if logs.Len() == 0 {
		t.Error("failure not logged")
	}
	if ds, err := e.DecideAll(context.Background(), updateInput(), nil); err != nil || len(ds) != 0 {
		t.Errorf("no actions: %v %v", ds, err)
	}
	var nilEngine *Engine
	if ds, err := nilEngine.DecideAll(context.Background(), updateInput(), []string{ActionOKRView}); err == nil || ds[0].Allow {
		t.Errorf("nil engine: %+v %v", ds, err)
	}
}

// The Router answers DecideAll from the org's engine and tells its
// observer of each action as of a single decision.
func TestRouterDecideAll(t *testing.T) {
	t.Parallel()
	def, err := NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{active: map[string]int{}, versions: map[string]map[int][]Module{}}
	src.set("b", 4, "package okrgraph.tenant.x\n\ndeny contains \"tenant says no\" if input.action == \"okr.update\"\n")
	rec := &recorder{}
	// Generous deadlines: a loaded machine must not time one side out.
	r := &Router{Default: def, Source: src, Observer: Observers{rec}, Options: []Option{WithTimeout(time.Minute)}}
	ctx := context.Background()
	actions := []string{ActionOKRUpdate, ActionOKRView}
	for _, org := range []string{"a", "b"} {
		in := updateInput()
		in.Org.ID = org
		ds, err := r.DecideAll(ctx, in, actions)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range actions {
			one := *in
			one.Action = a
			want, _ := r.decide(ctx, &one)
			if !reflect.DeepEqual(ds[i], want) {
				t.Errorf("org %s %s: %+v, single %+v", org, a, ds[i], want)
			}
		}
		if org == "b" && (ds[0].Allow || !ds[1].Allow) {
			t.Errorf("org b: %+v", ds)
		}
	}
	if len(rec.got) != 4 {
		t.Fatalf("%d observations", len(rec.got))
	}
	for i, o := range rec.got {
		if o.Input.Action != actions[i%2] || o.Enforced || (o.Version == 4) != (i >= 2) || o.Decision.Allow != (i != 2) {
			t.Errorf("observation %d: %+v", i, o)
		}
	}
}

// viewerCanActions are the actions of an item's viewerCan field.
var viewerCanActions = []string{
	ActionOKRUpdate, ActionOKRDelete, ActionOKRChangeOwners, ActionOKRSetDelegate, ActionOKRSetCheckInOwner,
	ActionOKRCheckIn, ActionOKRAlign, ActionOKRComment, ActionOKRClone, ActionOKRManageGrants,
}

// BenchmarkViewerCan compares the ten flags of one item's viewerCan as ten
// decisions (one input each) and as one DecideAll (one input, one
// evaluation), with the default policy and with a typical tenant policy,
// evaluated every time (each, all: the decision cache off), answered from
// the decision cache (each-hit, all-hit), and missing it (all-miss: a new
// item every time, so the key is built, the policy evaluated and the
// answer stored).
func BenchmarkViewerCan(b *testing.B) {
	engines := func(opts ...Option) (*Engine, *Engine) {
		def, err := NewEngine(opts...)
		if err != nil {
			b.Fatal(err)
		}
		ten, err := NewTenantEngine(typicalTenant(b), append(opts, WithTimeout(time.Minute))...)
		if err != nil {
			b.Fatal(err)
		}
		return def, ten
	}
	def, ten := engines(WithDecisionCache(-1, 0))
	cdef, cten := engines()
	ctx := context.Background()
	for _, in := range []struct {
		name  string
		input *Input
	}{
		{"owner", updateInput()},
		{"stranger", with(updateInput(), func(in *Input) { in.Subject = member("u-zed") })},
	} {
		for _, e := range []struct {
			name          string
			engine, cache *Engine
		}{{"default", def, cdef}, {"tenant", ten, cten}} {
			each := func(e *Engine) func(b *testing.B) {
				return func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						for _, a := range viewerCanActions {
							one := *in.input
							one.Action = a
							if _, err := e.Decide(ctx, &one); err != nil {
								b.Fatal(err)
							}
						}
					}
				}
			}
			all := func(e *Engine) func(b *testing.B) {
				return func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := e.DecideAll(ctx, in.input, viewerCanActions); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			b.Run(in.name+"/"+e.name+"/each", each(e.engine))
			b.Run(in.name+"/"+e.name+"/all", all(e.engine))
			b.Run(in.name+"/"+e.name+"/each-hit", each(e.cache))
			b.Run(in.name+"/"+e.name+"/all-hit", all(e.cache))
			b.Run(in.name+"/"+e.name+"/all-miss", func(b *testing.B) {
				one := *in.input
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					one.Resource.ID = strconv.Itoa(i)
					if _, err := e.cache.DecideAll(ctx, &one, viewerCanActions); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDecisionCacheParallel: cache hits from every P at once (a
// dashboard's 20 items for 50 viewers), to show the shard locks do not
// serialize them; compare ns/op with -cpu 1,2.
func BenchmarkDecisionCacheParallel(b *testing.B) {
	e, err := NewEngine()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var ins []*Input
	for u := range 50 {
		for i := range 20 {
			ins = append(ins, with(updateInput(), func(in *Input) {
				in.Subject.UserID = fmt.Sprintf("u-%d", u)
				in.Resource.ID = fmt.Sprintf("okr-%d", i)
			}))
		}
	}
	for _, in := range ins {
		if _, err := e.DecideAll(ctx, in, viewerCanActions); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := e.DecideAll(ctx, ins[i%len(ins)], viewerCanActions); err != nil {
				b.Error(err)
				return
			}
			i += 7
		}
	})
	if st := e.CacheStats(); st.Misses != uint64(len(ins)) {
		b.Errorf("%+v: the timed decisions were not all hits", st)
	}
}
