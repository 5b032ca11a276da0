// Package metrics exposes okrgraph's operational metrics in the Prometheus
// text format (github.com/prometheus/client_golang): GraphQL request
// latency by operation type, errors by code (queries refused as too costly
// among them), policy decisions by outcome and decider, decision latency,
// policy evaluation failures and timeouts, and the decision log's drops.
//
// No metric is labelled with anything a user chooses or identifies (user,
// org, operation name): label values come from small fixed sets, so a
// client cannot blow up the number of series.
package metrics

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"okrgraph/internal/authz"
)

// CodeQueryTooCostly is the error code of a query refused before execution
// because it would cost too much.
const CodeQueryTooCostly = "QUERY_TOO_COSTLY"

// knownCodes are the error codes counted by name; any other is "OTHER".
var knownCodes = map[string]bool{
	"UNAUTHENTICATED": true, "FORBIDDEN": true, "NOT_FOUND": true,
	"BAD_USER_INPUT": true, "CONFLICT": true, "INTERNAL": true,
	"GRAPHQL_PARSE_FAILED": true, "GRAPHQL_VALIDATION_FAILED": true,
	"COMPLEXITY_LIMIT_EXCEEDED": true, "PERSISTED_QUERY_NOT_FOUND": true,
	CodeQueryTooCostly: true,
}

// Metrics holds the collectors of one process (or one test app).
type Metrics struct {
	Registry *prometheus.Registry

	requests        *prometheus.HistogramVec
	errors          *prometheus.CounterVec
	tooCostly       prometheus.Counter
	decisions       *prometheus.CounterVec
	decisionLatency *prometheus.HistogramVec
	failures        *prometheus.CounterVec
	// The decisions' series, bound once: a dashboard page observes a few
	// hundred decisions, and looking a series up by its labels hashes
	// them each time.
	decided        [3][2]prometheus.Counter // by outcome (allow, deny, error), by decider (default, tenant)
	latency        [2]prometheus.Observer   // by policy (default, tenant)
	logDropped     prometheus.Counter
	logWriteErrors prometheus.Counter
}

// New registers the collectors (and the Go and process collectors) on a
// registry of their own.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "okrgraph_graphql_request_duration_seconds",
			Help:    "Time to answer a GraphQL operation, by operation type (query, mutation, subscription; invalid when none was selected).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "okrgraph_graphql_errors_total",
			Help: "GraphQL errors answered, by extensions.code (OTHER for codes not known here).",
		}, []string{"code"}),
		tooCostly: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "okrgraph_graphql_rejected_too_costly_total",
			Help: "Operations refused before execution because they would be too costly.",
		}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "okrgraph_policy_decisions_total",
			Help: "Policy decisions, by outcome (allow, deny, error) and by the policy that decided (default, tenant).",
		}, []string{"outcome", "decided_by"}),
		decisionLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "okrgraph_policy_decision_duration_seconds",
			Help:    "Time to make one policy decision, by policy (default: the org has no tenant policy; tenant: it has one).",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1},
		}, []string{"policy"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "okrgraph_policy_evaluation_failures_total",
			Help: "Policy evaluations that failed and so denied, by policy (default, tenant) and kind (timeout, error).",
		}, []string{"policy", "kind"}),
		logDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "okrgraph_decision_log_dropped_total",
			Help: "Decision log entries dropped because the log's queue was full.",
		}),
		logWriteErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "okrgraph_decision_log_write_failures_total",
			Help: "Decision log entries lost because their batch could not be written.",
		}),
	}
	for i, outcome := range []string{"allow", "deny", "error"} {
		for j, by := range []string{"default", "tenant"} {
			m.decided[i][j] = m.decisions.WithLabelValues(outcome, by)
		}
	}
	for i, policy := range []string{"default", "tenant"} {
		m.latency[i] = m.decisionLatency.WithLabelValues(policy)
	}
	reg.MustRegister(m.requests, m.errors, m.tooCostly, m.decisions, m.decisionLatency, m.failures,
		m.logDropped, m.logWriteErrors,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "okrgraph_policy_decision_cache_hits_total",
			Help: "Decisions answered from an engine's decision cache (whole DecideAll batches count once), process-wide.",
		}, func() float64 { h, _, _ := authz.DecisionCacheStats(); return float64(h) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "okrgraph_policy_decision_cache_misses_total",
			Help: "Decision cache look-ups that had to evaluate the policy, process-wide.",
		}, func() float64 { _, m, _ := authz.DecisionCacheStats(); return float64(m) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "okrgraph_policy_decision_cache_bytes",
			Help: "Bytes held by all decision caches, as counted against their budget.",
		}, func() float64 { _, _, b := authz.DecisionCacheStats(); return float64(b) }),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics. With a token, requests must carry
// "Authorization: Bearer <token>" (compared in constant time).
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(strings.TrimSpace(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// RejectedTooCostly counts a query refused as too costly; the cost check
// may call it directly, though responses with the code QUERY_TOO_COSTLY
// are counted anyway.
func (m *Metrics) RejectedTooCostly() { m.tooCostly.Inc() }

// LogDropped counts a decision log entry dropped (decisionlog.Config.OnDrop).
func (m *Metrics) LogDropped() { m.logDropped.Inc() }

// LogWriteFailed counts decision log entries lost to a failed write.
func (m *Metrics) LogWriteFailed(n int) { m.logWriteErrors.Add(float64(n)) }

// ObserveDecision counts a policy decision (an authz.Observer).
func (m *Metrics) ObserveDecision(_ context.Context, o *authz.Observation) {
	policy, policyName := 0, "default"
	if o.Version > 0 {
		policy, policyName = 1, "tenant"
	}
	outcome := 1 // deny
	switch {
	case o.Err != nil:
		outcome = 2
		kind := "error"
		if errors.Is(o.Err, context.DeadlineExceeded) {
			kind = "timeout"
		}
		m.failures.WithLabelValues(policyName, kind).Inc()
	case o.Decision.Allow:
		outcome = 0
	}
	by := 0
	if o.Version > 0 && (o.Decision.By == "tenant" || o.Err != nil) {
		by = 1
	}
	m.decided[outcome][by].Inc()
	m.latency[policy].Observe(o.Elapsed.Seconds())
}

var _ authz.Observer = (*Metrics)(nil)

// Extension is the gqlgen handler extension timing operations and counting
// their errors by code.
func (m *Metrics) Extension() graphql.HandlerExtension { return extension{m} }

type extension struct{ m *Metrics }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = extension{}

func (extension) ExtensionName() string                   { return "Metrics" }
func (extension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse times the operation and counts the errors of its
// response (request errors included: parse, validation, cost).
func (x extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	op := "invalid"
	if graphql.HasOperationContext(ctx) {
		if oc := graphql.GetOperationContext(ctx); oc != nil && oc.Operation != nil {
			switch oc.Operation.Operation {
			case ast.Query:
				op = "query"
			case ast.Mutation:
				op = "mutation"
			case ast.Subscription:
				op = "subscription"
			}
		}
	}
	x.m.requests.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if resp != nil {
		for _, e := range resp.Errors {
			code, _ := e.Extensions["code"].(string)
			if !knownCodes[code] {
				code = "OTHER"
			}
			if code == CodeQueryTooCostly {
				x.m.tooCostly.Inc()
			}
			x.m.errors.WithLabelValues(code).Inc()
		}
	}
	return resp
}
