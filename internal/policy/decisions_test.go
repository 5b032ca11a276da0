package policy

import "testing"

// One impact analysis per organization, MaxConcurrentImpacts in all.
func TestImpactSlots(t *testing.T) {
	t.Parallel()
	var s impactSlots
	if !s.acquire(1) || s.acquire(1) {
		t.Fatal("an org ran two analyses at once")
	}
	for org := 2; org <= MaxConcurrentImpacts; org++ {
		if !s.acquire(org) {
			t.Fatalf("org %d refused below the limit", org)
		}
	}
	if s.acquire(MaxConcurrentImpacts + 1) {
		t.Fatal("more analyses than the limit")
	}
	s.release(1)
	if !s.acquire(1) {
		t.Fatal("a released slot stays taken")
	}
}
