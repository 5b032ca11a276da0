package authz

import (
	"context"
	"time"
)

// Observation is one decision the Router made, as its observers see it.
type Observation struct {
	Input    *Input
	Decision Decision
	// Version is the org's tenant policy version that decided, 0 when only
	// the default policy applies.
	Version int
	// Err is the evaluation failure, if any (the decision then denies).
	Err error
	// Elapsed is how long the decision took, loading the tenant engine
	// included.
	Elapsed time.Duration
	// Enforced: the request's outcome rests on this decision (the caller
	// marked ctx with Enforcing), as opposed to a hint such as viewerCan.
	Enforced bool
}

// Observer is told of every decision of a Router, after it is made, on the
// request's goroutine: it must return quickly and never block (the
// decision log queues; metrics count). It must not keep in beyond the call
// unless it copies it or knows nobody changes it.
type Observer interface {
	ObserveDecision(ctx context.Context, o *Observation)
}

// Observers fans a decision out to several observers.
type Observers []Observer

// ObserveDecision tells each observer in turn.
func (os Observers) ObserveDecision(ctx context.Context, o *Observation) {
	for _, x := range os {
		x.ObserveDecision(ctx, o)
	}
}

type enforcingKey struct{}

// Enforcing marks ctx as carrying a decision the request depends on (it is
// refused when denied). Observers log such decisions; hints evaluated for
// display (what the viewer could do) stay unmarked.
func Enforcing(ctx context.Context) context.Context {
	if IsEnforcing(ctx) {
		return ctx
	}
	return context.WithValue(ctx, enforcingKey{}, true)
}

// IsEnforcing reports whether ctx was marked by Enforcing.
func IsEnforcing(ctx context.Context) bool {
	v, _ := ctx.Value(enforcingKey{}).(bool)
	return v
}
