package okr

import (
	"sync/atomic"
	"testing"
)

// TestEachParallel: every index is called exactly once, whatever n, and a
// panic in one call reaches the caller after the others have returned.
func TestEachParallel(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 20, 257} {
		calls := make([]atomic.Int32, n)
		eachParallel(n, func(i int) { calls[i].Add(1) })
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Fatalf("n=%d: index %d called %d times", n, i, c)
			}
		}
	}
	var done atomic.Int32
	defer func() {
		r := recover()
		if r != "boom" {
			t.Fatalf("recovered %v, want boom", r)
		}
		if done.Load() != 19 {
			t.Fatalf("%d other calls returned before the panic was re-raised, want 19", done.Load())
		}
	}()
	eachParallel(20, func(i int) {
		if i == 7 {
			panic("boom")
		}
		done.Add(1)
	})
	t.Fatal("no panic")
}
