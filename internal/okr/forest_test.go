package okr

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestEachDepthFirst: whatever order the rows come in, eachDepthFirst
// passes them on in the order of their path of zero-padded ids (what the
// forest statement sorted by before it left the ordering to Go), each
// exactly once, and stops at the first error.
func TestEachDepthFirst(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		rows, paths := randomForest(rnd, 1+rnd.IntN(60))
		want := slices.Clone(rows)
		slices.SortFunc(want, func(a, b *TreeRow) int { return strings.Compare(paths[a.ID], paths[b.ID]) })
		rnd.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		var got []*TreeRow
		if err := eachDepthFirst(rows, func(r *TreeRow) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: order %v, want %v", trial, ids(got), ids(want))
		}
		if len(rows) > 3 {
			stop := errors.New("stop")
			n := 0
			err := eachDepthFirst(rows, func(*TreeRow) error {
				if n++; n == 3 {
					return stop
				}
				return nil
			})
			if err != stop || n != 3 {
				t.Fatalf("trial %d: error %v after %d rows, want stop after 3", trial, err, n)
			}
		}
	}
}

// randomForest makes n rows of a forest with ids out of order: roots
// without a parent or under a parent that is not among the rows (as under
// a hidden item), each other row one level below its parent. paths gives
// each row's sort path.
func randomForest(rnd *rand.Rand, n int) ([]*TreeRow, map[int]string) {
	perm := rnd.Perm(10 * n)
	var rows []*TreeRow
	paths := map[int]string{}
	for k := range n {
		r := &TreeRow{ID: perm[k] + 1}
		if k == 0 || rnd.IntN(4) == 0 {
			if rnd.IntN(2) == 0 {
				hidden := 100*n + k // never a row's id
				r.ParentID = &hidden
			}
			paths[r.ID] = fmt.Sprintf("%019d", r.ID)
		} else {
			p := rows[rnd.IntN(len(rows))]
			r.ParentID, r.Depth = &p.ID, p.Depth+1
			paths[r.ID] = paths[p.ID] + fmt.Sprintf("%019d", r.ID)
		}
		rows = append(rows, r)
	}
	return rows, paths
}

func ids(rows []*TreeRow) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}
