package okr

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"okrgraph/ent"
	"okrgraph/internal/scope"
)

// fakeBuild builds a page statement from the scope and owner the way a
// builder might: mistake, when set, makes it misuse one of them.
func fakeBuild(mistake string) func(ctx context.Context, owner int) (*ent.PageStatements, error) {
	return func(ctx context.Context, owner int) (*ent.PageStatements, error) {
		sc := scope.From(ctx)
		st := &ent.PageStatements{
			Page:     "SELECT * FROM okr_items WHERE org_id = $1 AND (NOT private OR creator_id = $2) AND kind <> $3 AND owner = $4",
			PageArgs: []any{sc.OrgID, sc.UserID, "KEY_RESULT", owner},
		}
		switch mistake {
		case "text":
			st.Page += " AND id <> " + strconv.Itoa(sc.UserID)
		case "string":
			st.PageArgs = append(st.PageArgs, strconv.Itoa(sc.UserID))
			st.Page += " AND sub = $5"
		case "int64":
			st.PageArgs[1] = int64(sc.UserID)
		case "derived":
			st.PageArgs = append(st.PageArgs, sc.UserID/2)
			st.Page += " AND half = $5"
		case "shape":
			if sc.UserID%2 == 0 {
				st.Page += " AND private"
			}
		}
		return st, nil
	}
}

// TestPageMemoBinds: a template binds each request's own values where the
// stand-ins were, keeps the constants, and is built once per shape.
func TestPageMemoBinds(t *testing.T) {
	for _, in := range standIns {
		for _, v := range []int{in.viewer, in.org, in.owner} {
			if !strings.Contains(strconv.Itoa(v), standInDigits) {
				t.Errorf("stand-in %d is not written with %s", v, standInDigits)
			}
		}
	}
	var m pageMemo
	builds := 0
	build := func(ctx context.Context, owner int) (*ent.PageStatements, error) {
		builds++
		return fakeBuild("")(ctx, owner)
	}
	shape := pageShape{first: 20, owner: true}
	for _, r := range []struct{ user, org, owner int }{{7, 3, 7}, {9, 3, 11}, {7, 4, 9}} {
		ctx := scope.With(context.Background(), scope.Scope{UserID: r.user, OrgID: r.org})
		st, err := m.statements(ctx, shape, r.owner, build)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint([]any{r.org, r.user, "KEY_RESULT", r.owner})
		if got := fmt.Sprint(st.PageArgs); got != want {
			t.Errorf("viewer %d of org %d, owner %d: arguments %s, want %s", r.user, r.org, r.owner, got, want)
		}
		if st.Count != "" || st.CountArgs != nil {
			t.Errorf("a count where the build had none: %q %v", st.Count, st.CountArgs)
		}
	}
	if builds != len(standIns) {
		t.Errorf("%d builds for one shape, want %d (one per set of stand-ins)", builds, len(standIns))
	}
}

// TestPageMemoRefuses: a statement whose text or constants carry the
// viewer (or change with it) is refused, not kept for other viewers.
func TestPageMemoRefuses(t *testing.T) {
	ctx := scope.With(context.Background(), scope.Scope{UserID: 7, OrgID: 3})
	for _, mistake := range []string{"text", "string", "int64", "derived", "shape"} {
		var m pageMemo
		_, err := m.statements(ctx, pageShape{first: 20, owner: true}, 7, fakeBuild(mistake))
		if err == nil {
			t.Errorf("%s: a template was kept", mistake)
			continue
		}
		if n := m.n.Load(); n != 0 {
			t.Errorf("%s: %d shapes kept", mistake, n)
		}
		if !strings.Contains(err.Error(), "page statement") {
			t.Errorf("%s: %v", mistake, err)
		}
	}
}

// TestPageMemoBound: past maxPageShapes shapes, pages are built for each
// request and nothing more is kept.
func TestPageMemoBound(t *testing.T) {
	var m pageMemo
	ctx := scope.With(context.Background(), scope.Scope{UserID: 7, OrgID: 3})
	for first := 1; first <= maxPageShapes+10; first++ {
		st, err := m.statements(ctx, pageShape{first: first, owner: true}, 5, fakeBuild(""))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(st.PageArgs); got != "[3 7 KEY_RESULT 5]" {
			t.Fatalf("first %d: arguments %s", first, got)
		}
	}
	if n := m.n.Load(); n != maxPageShapes {
		t.Errorf("%d shapes kept, want %d", n, maxPageShapes)
	}
}
