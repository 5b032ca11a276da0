package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"okrgraph/internal/authz"
)

func TestObserveDecision(t *testing.T) {
	t.Parallel()
	m := New()
	ctx := context.Background()
	in := &authz.Input{Action: authz.ActionOKRCreate, Subject: authz.Subject{UserID: "42"}, Org: authz.Org{ID: "7"}}
	m.ObserveDecision(ctx, &authz.Observation{Input: in, Decision: authz.Decision{Allow: true}, Elapsed: time.Millisecond})
	m.ObserveDecision(ctx, &authz.Observation{Input: in, Decision: authz.Decision{By: "tenant"}, Version: 3, Elapsed: time.Millisecond})
	m.ObserveDecision(ctx, &authz.Observation{Input: in, Version: 3, Err: context.DeadlineExceeded})
	m.ObserveDecision(ctx, &authz.Observation{Input: in, Err: errors.New("boom")})
	for labels, want := range map[[2]string]float64{
		{"allow", "default"}: 1, {"deny", "tenant"}: 1, {"error", "tenant"}: 1, {"error", "default"}: 1,
	} {
		if got := testutil.ToFloat64(m.decisions.WithLabelValues(labels[0], labels[1])); got != want {
			t.Errorf("decisions%v = %v, want %v", labels, got, want)
		}
	}
	if got := testutil.ToFloat64(m.failures.WithLabelValues("tenant", "timeout")); got != 1 {
		t.Errorf("tenant timeouts = %v", got)
	}
	if got := testutil.ToFloat64(m.failures.WithLabelValues("default", "error")); got != 1 {
		t.Errorf("default errors = %v", got)
	}
	var sb strings.Builder
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		sb.WriteString(mf.String())
	}
	if strings.Contains(sb.String(), "42") && strings.Contains(sb.String(), `value:"42"`) {
		t.Error("a label carries the user id")
	}
}

// BenchmarkObserveDecision: what metrics add to each decision.
func BenchmarkObserveDecision(b *testing.B) {
	m := New()
	ctx := context.Background()
	o := &authz.Observation{Input: &authz.Input{Action: authz.ActionOKRCreate}, Decision: authz.Decision{Allow: true}, Elapsed: 80 * time.Microsecond}
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveDecision(ctx, o)
	}
}

// The decision cache's counters follow authz's: a decision asked twice is
// one miss, then one hit.
func TestDecisionCacheMetrics(t *testing.T) {
	t.Parallel()
	m := New()
	e, err := authz.NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string) float64 {
		mfs, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				if c := mf.GetMetric()[0].GetCounter(); c != nil {
					return c.GetValue()
				}
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatalf("no metric %s", name)
		return 0
	}
	hits, misses := value("okrgraph_policy_decision_cache_hits_total"), value("okrgraph_policy_decision_cache_misses_total")
	in := &authz.Input{Action: authz.ActionOKRCreate, Subject: authz.Subject{UserID: "metrics-test", Type: authz.SubjectUser}, Org: authz.Org{ID: "7"}}
	for range 2 {
		if _, err := e.Decide(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	// Other tests decide alongside: the counters only grow.
	if h, mi := value("okrgraph_policy_decision_cache_hits_total"), value("okrgraph_policy_decision_cache_misses_total"); h < hits+1 || mi < misses+1 {
		t.Errorf("hits %v -> %v, misses %v -> %v", hits, h, misses, mi)
	}
	if b := value("okrgraph_policy_decision_cache_bytes"); b <= 0 {
		t.Errorf("cache bytes %v", b)
	}
}
