package decisionlog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"okrgraph/internal/authz"
)

func obs(action string, allow, enforced bool, version int, err error) *authz.Observation {
	return &authz.Observation{
		Input:    &authz.Input{Action: action, Subject: authz.Subject{UserID: "7"}, Org: authz.Org{ID: "3"}},
		Decision: authz.Decision{Allow: allow},
		Version:  version,
		Err:      err,
		Enforced: enforced,
	}
}

func TestKeep(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		o    *authz.Observation
		want bool
	}{
		{"hint (viewerCan) denial", obs(authz.ActionOKRUpdate, false, false, 0, nil), false},
		{"hint under a tenant policy", obs(authz.ActionOKRUpdate, true, false, 2, nil), false},
		{"enforced denial", obs(authz.ActionOKRView, false, true, 0, nil), true},
		{"enforced failure", obs(authz.ActionOKRView, true, true, 0, errors.New("x")), true},
		{"enforced read allowed, default policy", obs(authz.ActionOKRView, true, true, 0, nil), false},
		{"enforced read allowed, tenant policy", obs(authz.ActionOKRView, true, true, 1, nil), true},
		{"enforced write allowed, default policy", obs(authz.ActionOKRCreate, true, true, 0, nil), true},
		{"enforced review read allowed", obs(authz.ActionReviewRead, true, true, 0, nil), false},
		{"nil", nil, false},
	} {
		if got := Keep(c.o); got != c.want {
			t.Errorf("%s: Keep = %v, want %v", c.name, got, c.want)
		}
	}
}

// A full queue drops and counts; it never blocks the request.
func TestFullQueueDrops(t *testing.T) {
	t.Parallel()
	drops := 0
	l := New(Config{QueueSize: 3, OnDrop: func() { drops++ }}) // not started: nothing drains
	for range 10 {
		l.ObserveDecision(context.Background(), obs(authz.ActionOKRCreate, false, true, 0, nil))
	}
	if l.Queued() != 3 || l.Dropped() != 7 || drops != 7 {
		t.Fatalf("queued %d, dropped %d (hook %d); want 3 and 7", l.Queued(), l.Dropped(), drops)
	}
}

func TestSubjectType(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"subject":{"id":"1"}}`:                   "user",
		`{"subject":{"id":"s1","type":"service"}}`: "service",
		`{"truncated":true}`:                       "user",
		`not json`:                                 "user",
	} {
		if got := SubjectType([]byte(in)); got != want {
			t.Errorf("SubjectType(%s) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkObserveDecision: the cost a logged decision adds to a request
// (marshal the input, queue it).
func BenchmarkObserveDecision(b *testing.B) {
	l := New(Config{QueueSize: 1024})
	o := obs(authz.ActionOKRCreate, true, true, 0, nil)
	o.Input.Subject.Reports = []string{"1", "2", "3", "4", "5", "6", "7", "8"}
	o.Input.Resource = authz.Resource{Kind: "OBJECTIVE", Level: "ORGANIZATION", Owners: []string{"7"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		l.ObserveDecision(ctx, o)
		if l.Queued() == 1024 {
			for len(l.queue) > 0 {
				<-l.queue
			}
		}
	}
}

// Review decisions keep no facts: not even org admins read reviews.
func TestReviewFactsRedacted(t *testing.T) {
	t.Parallel()
	l := New(Config{QueueSize: 4})
	o := obs(authz.ActionReviewRead, false, true, 0, nil)
	o.Input.Resource.Review = &authz.Review{Reviewee: "11", Reviewer: "12", Status: "SUBMITTED"}
	l.ObserveDecision(context.Background(), o)
	l.ObserveDecision(context.Background(), obs(authz.ActionOKRCreate, false, true, 0, nil))
	review, create := <-l.queue, <-l.queue
	if s := string(review.facts); strings.Contains(s, "11") || strings.Contains(s, "SUBMITTED") || !strings.Contains(s, "redacted") {
		t.Errorf("review facts %s", s)
	}
	if s := string(create.facts); !strings.Contains(s, `"action":"okr.create"`) || strings.Contains(s, "redacted") {
		t.Errorf("create facts %s", s)
	}
}
