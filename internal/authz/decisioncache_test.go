package authz

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// mutants returns inputs that each differ from base in one place: every
// string, bool and number changed, every list, map and pointer made nil,
// made empty, grown or reordered. They come from the type of Input, so a
// field added to it but not to the cache key fails TestCacheKeyIsExact.
func mutants(base *Input) []*Input {
	var out []*Input
	var paths [][]int
	var walk func(v reflect.Value, path []int)
	walk = func(v reflect.Value, path []int) {
		paths = append(paths, slices.Clone(path))
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i), append(path, i))
			}
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), append(path, 0))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i), append(path, i))
			}
		}
	}
	walk(reflect.ValueOf(base).Elem(), nil)
	at := func(in *Input, path []int) reflect.Value {
		v := reflect.ValueOf(in).Elem()
		for _, i := range path {
			switch v.Kind() {
			case reflect.Struct:
				v = v.Field(i)
			case reflect.Pointer:
				v = v.Elem()
			case reflect.Slice:
				v = v.Index(i)
			}
		}
		return v
	}
	for _, path := range paths {
		kind := at(base, path).Kind()
		for variant := range 4 {
			in := deepCopy(base)
			v := at(in, path)
			switch {
			case kind == reflect.String && variant == 0:
				v.SetString(v.String() + "x")
			case kind == reflect.Bool && variant == 0:
				v.SetBool(!v.Bool())
			case kind == reflect.Int64 && variant == 0:
				v.SetInt(v.Int() + 1)
			case kind == reflect.Pointer && variant == 0 && !v.IsNil():
				v.Set(reflect.Zero(v.Type()))
			case kind == reflect.Slice || kind == reflect.Map:
				switch variant {
				case 0: // nil
					if v.IsNil() {
						continue
					}
					v.Set(reflect.Zero(v.Type()))
				case 1: // empty
					if !v.IsNil() && v.Len() == 0 {
						continue
					}
					if kind == reflect.Slice {
						v.Set(reflect.MakeSlice(v.Type(), 0, 0))
					} else {
						v.Set(reflect.MakeMap(v.Type()))
					}
				case 2: // one more element
					if kind == reflect.Slice {
						e := reflect.New(v.Type().Elem()).Elem()
						if v.Len() > 0 {
							e.Set(deepValue(v.Index(0)))
						}
						v.Set(reflect.Append(v, e))
					} else {
						if v.IsNil() {
							v.Set(reflect.MakeMap(v.Type()))
						}
						v.SetMapIndex(reflect.ValueOf("new-key"), reflect.ValueOf("v"))
					}
				case 3: // reordered (slices), or a value changed (maps)
					if v.Len() < 2 && kind == reflect.Slice || v.Len() == 0 {
						continue
					}
					if kind == reflect.Slice {
						a, b := deepValue(v.Index(0)), deepValue(v.Index(v.Len()-1))
						v.Index(0).Set(b)
						v.Index(v.Len() - 1).Set(a)
					} else {
						k := v.MapKeys()[0]
						v.SetMapIndex(k, reflect.ValueOf(v.MapIndex(k).String()+"x"))
					}
				}
			default:
				continue
			}
			out = append(out, in)
		}
	}
	return out
}

func deepCopy(in *Input) *Input {
	c := deepValue(reflect.ValueOf(in).Elem()).Interface().(Input)
	return &c
}

func deepValue(v reflect.Value) reflect.Value {
	c := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			c.Field(i).Set(deepValue(v.Field(i)))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(deepValue(v.Elem()))
			c.Set(p)
		}
	case reflect.Slice:
		if !v.IsNil() {
			c.Set(reflect.MakeSlice(v.Type(), v.Len(), v.Len()))
			for i := range v.Len() {
				c.Index(i).Set(deepValue(v.Index(i)))
			}
		}
	case reflect.Map:
		if !v.IsNil() {
			c.Set(reflect.MakeMap(v.Type()))
			for _, k := range v.MapKeys() {
				c.SetMapIndex(k, deepValue(v.MapIndex(k)))
			}
		}
	default:
		c.Set(v)
	}
	return c
}

func cacheKey(kind byte, in *Input, actions []string) string {
	head, tail := appendKey(nil, kind, in, actions)
	return fmt.Sprintf("%q|%q", head, tail)
}

// TestCacheKeyIsExact: two inputs have the same key exactly when they are
// deeply equal (nil and empty told apart), over every one-place change of
// a fully filled input and of a sparse one, for both kinds of key.
func TestCacheKeyIsExact(t *testing.T) {
	t.Parallel()
	var full Input
	n := 0
	fill(reflect.ValueOf(&full).Elem(), &n)
	for _, base := range []*Input{&full, updateInput()} {
		ins := append(mutants(base), base)
		if len(ins) < 50 {
			t.Fatalf("only %d mutants", len(ins))
		}
		for _, kind := range []byte{keySingle, keyAll} {
			keys := make([]string, len(ins))
			for i, in := range ins {
				keys[i] = cacheKey(kind, in, viewerCanActions)
			}
			for i := range ins {
				for j := i + 1; j < len(ins); j++ {
					if same, equal := keys[i] == keys[j], reflect.DeepEqual(ins[i], ins[j]); same != equal {
						t.Fatalf("inputs %d and %d: same key %v, deeply equal %v:\n%+v\n%+v", i, j, same, equal, ins[i], ins[j])
					}
				}
			}
		}
	}
	in := updateInput()
	if cacheKey(keySingle, in, nil) == cacheKey(keyAll, in, nil) ||
		cacheKey(keyAll, in, []string{"a", "b"}) == cacheKey(keyAll, in, []string{"ab"}) ||
		cacheKey(keyAll, in, nil) == cacheKey(keyAll, in, []string{}) {
		t.Error("kinds or action lists share a key")
	}
}

// uncachedEngine is the default policy without a cache, for comparisons.
var (
	uncachedOnce sync.Once
	uncached     *Engine
)

func uncachedEngine(t testing.TB) *Engine {
	t.Helper()
	uncachedOnce.Do(func() {
		var err error
		if uncached, err = NewEngine(WithDecisionCache(-1, 0)); err != nil {
			t.Fatal(err)
		}
	})
	return uncached
}

// assertSameAnswers: the cached engine answers in exactly as the uncached
// one, before and after the answer is cached, and a caller changing the
// answer it got does not change the next one.
func assertSameAnswers(t *testing.T, cached, plain *Engine, in *Input, actions []string) {
	t.Helper()
	ctx := context.Background()
	want, wantErr := plain.Decide(ctx, in)
	for pass := range 2 {
		got, err := cached.Decide(ctx, in)
		if !reflect.DeepEqual(got, want) || (err == nil) != (wantErr == nil) {
			t.Fatalf("pass %d, Decide %+v: %+v %v, uncached %+v %v", pass, in, got, err, want, wantErr)
		}
		if len(got.Reasons) > 0 {
			got.Reasons[0] = "changed by the caller"
		}
	}
	wantAll, wantErr := plain.DecideAll(ctx, in, actions)
	for pass := range 2 {
		got, err := cached.DecideAll(ctx, in, actions)
		if !reflect.DeepEqual(got, wantAll) || (err == nil) != (wantErr == nil) {
			t.Fatalf("pass %d, DecideAll %v %+v: %+v %v, uncached %+v %v", pass, actions, in, got, err, wantAll, wantErr)
		}
		for i := range got {
			if len(got[i].Reasons) > 0 {
				got[i].Reasons[0] = "changed by the caller"
			}
		}
	}
}

// TestCachedAnswersEqualUncached over the decision table, the DecideAll
// inputs and their one-place mutants, with the default policy and a tenant
// one.
func TestCachedAnswersEqualUncached(t *testing.T) {
	t.Parallel()
	e, err := NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	plain := uncachedEngine(t)
	var ins []*Input
	for _, c := range decisionCases {
		ins = append(ins, c.in)
	}
	ins = append(ins, decideAllInputs()...)
	ins = append(ins, mutants(updateInput())...)
	for _, in := range ins {
		assertSameAnswers(t, e, plain, in, allOKRActions)
	}
	st := e.CacheStats()
	if !st.Enabled || st.Hits < uint64(2*len(ins)) || st.Entries == 0 {
		t.Errorf("cache not exercised: %+v", st)
	}

	ten, err := NewTenantEngine(typicalTenant(t), WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	tenPlain, err := NewTenantEngine(typicalTenant(t), WithTimeout(time.Minute), WithDecisionCache(-1, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range decideAllInputs() {
		assertSameAnswers(t, ten, tenPlain, in, allOKRActions)
	}
	if st := ten.CacheStats(); st.Hits == 0 {
		t.Errorf("tenant cache not exercised: %+v", st)
	}
	if tenPlain.CacheStats().Enabled {
		t.Error("WithDecisionCache(-1, 0) left a cache")
	}
}

// A module calling a non-deterministic built-in (compiled here against
// every built-in; the capabilities never offer them) disables the cache.
func TestNondeterministicPolicyIsNotCached(t *testing.T) {
	t.Parallel()
	for _, call := range []string{"time.now_ns()", `rand.intn("x", 10)`, `uuid.rfc4122("x")`, `[x | x := time.now_ns()]`} {
		e, err := NewEngine(withAllBuiltins(), withExtraModule("t.rego", "package okrgraph.tenant.t\n\nv := "+call+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := e.Decide(context.Background(), updateInput()); err != nil {
				t.Fatal(err)
			}
		}
		if st := e.CacheStats(); st.Enabled || st.Hits != 0 || st.Entries != 0 {
			t.Errorf("%s: %+v", call, st)
		}
	}
	e, err := NewEngine(withAllBuiltins(), withExtraModule("t.rego", "package okrgraph.tenant.t\n\nv := upper(\"x\")\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !e.CacheStats().Enabled {
		t.Error("a deterministic module disabled the cache")
	}
}

// Tenant modules can call no non-deterministic built-in, and the
// capabilities every engine compiles against hold none.
func TestTenantBuiltinsAreDeterministic(t *testing.T) {
	t.Parallel()
	for _, name := range TenantBuiltins() {
		if b := ast.BuiltinMap[name]; b == nil || b.Nondeterministic || removedBuiltins[name] {
			t.Errorf("tenant built-in %s: %+v", name, b)
		}
	}
	for _, b := range Capabilities().Builtins {
		if b.Nondeterministic || removedBuiltins[b.Name] || strings.HasPrefix(b.Name, "net.") {
			t.Errorf("capabilities offer %s", b.Name)
		}
	}
}

// Failures are never cached: the next identical decision evaluates again.
func TestFailuresAreNotCached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	noEntries := func(t *testing.T, e *Engine, misses uint64) {
		t.Helper()
		if st := e.CacheStats(); st.Entries != 0 || st.Hits != 0 || st.Misses != misses {
			t.Errorf("%+v, want no entry, no hit, %d misses", st, misses)
		}
	}
	t.Run("deadline", func(t *testing.T) {
		// A tenant rule that runs for seconds on one input: both decisions
		// time out.
		e, err := NewTenantEngine([]Module{{Name: "slow.rego", Source: `package okrgraph.tenant.slow

r := numbers.range(1, 400)

deny contains "slow" if {
	input.resource.id == "slow"
	count([1 | some a in r; some b in r; some c in r]) > 0
}
`}}, WithTimeout(20*time.Millisecond), WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		slow := with(updateInput(), func(in *Input) { in.Resource.ID = "slow" })
		for range 2 {
			d, err := e.Decide(ctx, slow)
			assertFailClosed(t, d, err, context.DeadlineExceeded)
			if _, err := e.DecideAll(ctx, slow, viewerCanActions); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("DecideAll: %v", err)
			}
		}
		noEntries(t, e, 4)
	})
	t.Run("cancelled and expired", func(t *testing.T) {
		e, _ := quietEngine(t, "")
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		expired, cancel2 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel2()
		for _, c := range []context.Context{cancelled, expired} {
			d, err := e.Decide(c, updateInput())
			assertFailClosed(t, d, err, nil)
			if _, err := e.DecideAll(c, updateInput(), viewerCanActions); err == nil {
				t.Fatal("DecideAll succeeded on a dead context")
			}
		}
		noEntries(t, e, 4)
		// The same input, now on a live context: evaluated, then cached.
		for range 2 {
			if d, err := e.Decide(ctx, updateInput()); err != nil || !d.Allow {
				t.Fatalf("%+v %v", d, err)
			}
		}
		if st := e.CacheStats(); st.Hits != 1 || st.Entries != 1 {
			t.Errorf("%+v", st)
		}
	})
	t.Run("busy gate", func(t *testing.T) {
		g := NewGate(1, 1, 10*time.Millisecond, 0)
		e, err := NewTenantEngine(typicalTenant(t), WithGate(g), WithTimeout(time.Minute), WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		in := updateInput()
		run, err := g.enter(ctx, in.Org.ID, func() {})
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.Decide(ctx, in)
		assertFailClosed(t, d, err, ErrTenantBusy)
		run.leave()
		noEntries(t, e, 1)
		if _, err := e.Decide(ctx, in); err != nil {
			t.Fatal(err)
		}
		if st := e.CacheStats(); st.Misses != 2 || st.Entries != 1 {
			t.Errorf("%+v", st)
		}
	})
	t.Run("error on one action", func(t *testing.T) {
		// A conflict on okr.delete: Decide fails, and DecideAll's other
		// answers are right but the batch is not kept.
		e, err := NewTenantEngine([]Module{{Name: "x.rego", Source: "package okrgraph.tenant.x\n\npick := \"a\" if input.action == \"okr.delete\"\n\npick := \"b\" if input.action == \"okr.delete\"\n\ndeny contains pick if input.action == \"okr.delete\"\n"}},
			WithTimeout(time.Minute), WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		in := with(updateInput(), func(in *Input) { in.Action = ActionOKRDelete })
		for range 2 {
			if _, err := e.Decide(ctx, in); err == nil {
				t.Fatal("conflict not reported")
			}
			if _, err := e.DecideAll(ctx, in, viewerCanActions); err == nil {
				t.Fatal("conflict not reported")
			}
		}
		noEntries(t, e, 4)
	})
}

// The cache holds at most two generations of the configured entries and
// bytes, however many distinct inputs it sees, and releases its bytes. Not
// parallel: it checks the process-wide count, which only it changes
// meanwhile (or lowers: caches of collected engines).
func TestDecisionCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	for _, lim := range []struct {
		entries int
		bytes   int64
	}{{64, 1 << 20}, {1 << 20, 32 << 10}} {
		e, err := NewEngine(WithDecisionCache(lim.entries, lim.bytes))
		if err != nil {
			t.Fatal(err)
		}
		maxEntries := 2 * max(lim.entries/cacheShards, 1) * cacheShards
		for i := range 600 {
			in := with(updateInput(), func(in *Input) {
				in.Resource.ID = fmt.Sprintf("okr-%d", i)
				in.Subject.Reports = []string{strings.Repeat("r", i%7*100)}
			})
			if _, err := e.Decide(ctx, in); err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				if _, err := e.DecideAll(ctx, in, viewerCanActions); err != nil {
					t.Fatal(err)
				}
			}
			if st := e.CacheStats(); st.Entries > maxEntries || st.Bytes > 2*lim.bytes {
				t.Fatalf("limits %+v: after %d inputs %+v", lim, i+1, st)
			}
		}
		st := e.CacheStats()
		if st.Entries == 0 || st.Bytes == 0 {
			t.Fatalf("nothing cached: %+v", st)
		}
		_, _, before := DecisionCacheStats()
		e.releaseCache()
		if st := e.CacheStats(); st.Entries != 0 || st.Bytes != 0 {
			t.Errorf("released cache holds %+v", st)
		}
		if _, _, after := DecisionCacheStats(); before-after < st.Bytes {
			t.Errorf("process bytes %d -> %d after releasing %d", before, after, st.Bytes)
		}
		if _, err := e.Decide(ctx, updateInput()); err != nil {
			t.Fatal(err)
		}
		if st := e.CacheStats(); st.Entries != 0 {
			t.Errorf("a released cache kept an entry: %+v", st)
		}
	}
	// Past the process budget nothing new is kept.
	SetDecisionCacheBudget(0)
	defer SetDecisionCacheBudget(DefaultDecisionCacheBudget)
	e, err := NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.Decide(ctx, updateInput()); err != nil {
			t.Fatal(err)
		}
	}
	if st := e.CacheStats(); st.Entries != 0 || st.Hits != 0 {
		t.Errorf("over budget: %+v", st)
	}
}

// A hit in the previous generation moves the entry to the current one, so
// entries in use survive a rotation.
func TestDecisionCachePromotes(t *testing.T) {
	t.Parallel()
	c := newDecisionCache(cacheShards*4, 1<<20)
	ds := []Decision{{Allow: true, Reasons: []string{"r"}}}
	key := func(i int) ([]byte, []byte) { return []byte("subject"), fmt.Appendf(nil, "tail-%d", i) }
	h, t0 := key(0) // every key shares one head, so one shard
	c.put(h, t0, ds)
	for i := 1; i < 200; i++ {
		h, ti := key(i)
		c.put(h, ti, ds)
		if c.get(key(0)) == nil {
			t.Fatalf("entry 0 lost after %d others", i)
		}
	}
	if c.get(key(1)) != nil {
		t.Error("an unused entry survived many rotations")
	}
}

// Concurrent decisions on a small cache (rotating all the time) answer
// exactly as an uncached engine; run with -race.
func TestDecisionCacheConcurrent(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(WithDecisionCache(cacheShards*2, 0))
	if err != nil {
		t.Fatal(err)
	}
	plain := uncachedEngine(t)
	ins := decideAllInputs()
	want := make([][]Decision, len(ins))
	for i, in := range ins {
		if want[i], err = plain.DecideAll(context.Background(), in, viewerCanActions); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 60 {
				k := (g*5 + i) % len(ins)
				got, err := e.DecideAll(context.Background(), ins[k], viewerCanActions)
				if err != nil || !reflect.DeepEqual(got, want[k]) {
					t.Errorf("input %d: %+v %v, want %+v", k, got, err, want[k])
					return
				}
				got[0].Reasons = append(got[0].Reasons[:0], "changed")
			}
		})
	}
	wg.Wait()
	if st := e.CacheStats(); st.Hits == 0 {
		t.Errorf("no hit: %+v", st)
	}
}

// The Router releases the cache of every engine it stops using: a new
// version noticed, one installed, one evicted. The next decision on the
// same input comes from the new policy.
func TestRouterReleasesReplacedEngines(t *testing.T) {
	t.Parallel()
	def, err := NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src := &fakeSource{active: map[string]int{}, versions: map[string]map[int][]Module{}}
	r := &Router{Default: def, Source: src, MaxTenants: 1, CheckEvery: time.Hour}
	engineOf := func(org string) *Engine {
		e, _, err := r.Engine(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// decide asks twice (the second from the cache) and returns the answer.
	decide := func(org string) Decision {
		d, err := r.Decide(ctx, orgInput(org))
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := r.Decide(ctx, orgInput(org)); !reflect.DeepEqual(again, d) {
			t.Fatalf("%s: %+v, then %+v", org, d, again)
		}
		return d
	}
	released := func(e *Engine) bool { st := e.CacheStats(); return st.Entries == 0 && st.Bytes == 0 }

	src.set("a", 1, denyCreate)
	if decide("a").Allow {
		t.Fatal("version 1 ignored")
	}
	v1 := engineOf("a")
	if st := v1.CacheStats(); st.Hits == 0 || st.Entries == 0 {
		t.Fatalf("version 1 cache: %+v", st)
	}
	// A new version, noticed through Invalidate.
	src.set("a", 2, "package okrgraph.tenant.x\n\nallow contains \"fine\" if false\n")
	r.Invalidate("a")
	if !decide("a").Allow {
		t.Fatal("version 2 not seen on the next decision")
	}
	v2 := engineOf("a")
	if v2 == v1 || !released(v1) || released(v2) {
		t.Fatalf("v1 %+v, v2 %+v", v1.CacheStats(), v2.CacheStats())
	}
	// Installed by this process.
	v3, err := NewTenantEngine([]Module{{Name: "p.rego", Source: denyCreate}})
	if err != nil {
		t.Fatal(err)
	}
	r.Install("a", 3, v3)
	if decide("a").Allow || !released(v2) {
		t.Fatalf("after Install: v2 %+v", v2.CacheStats())
	}
	// Evicted: MaxTenants is 1, so org b's engine pushes a's out.
	src.set("b", 1, denyCreate)
	decide("b")
	if !released(v3) || r.Tenants() != 1 {
		t.Fatalf("evicted engine holds %+v (%d tenants)", v3.CacheStats(), r.Tenants())
	}
}
