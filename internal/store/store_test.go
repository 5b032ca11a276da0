package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"okrgraph/internal/scope"
	"okrgraph/internal/store"
)

// TestMigrateNormalizesSQLiteTimes: a SQLite file written before times had
// one sortable form holds Go's time.String() (zone name, monotonic
// reading); migrating rewrites it in the form Open writes, which sorts as
// text in time order, and leaves values already in that form alone.
func TestMigrateNormalizesSQLiteTimes(t *testing.T) {
	ctx := scope.System(context.Background())
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := store.Open("sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i, slug := range []string{"old", "new"} {
		if err := db.Client.Organization.Create().SetName(slug).SetSlug(slug).Exec(ctx); err != nil {
			t.Fatalf("org %d: %v", i, err)
		}
	}
	if _, err := db.SQL.ExecContext(ctx, `UPDATE organizations SET created_at = '2026-12-02 00:24:03.155 +0000 UTC m=+0.156' WHERE slug = 'old'`); err != nil {
		t.Fatal(err)
	}
	var newBefore string
	if err := db.SQL.QueryRowContext(ctx, `SELECT CAST(created_at AS TEXT) FROM organizations WHERE slug = 'new'`).Scan(&newBefore); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var old, newAfter string
	if err := db.SQL.QueryRowContext(ctx, `SELECT CAST(created_at AS TEXT) FROM organizations WHERE slug = 'old'`).Scan(&old); err != nil {
		t.Fatal(err)
	}
	if err := db.SQL.QueryRowContext(ctx, `SELECT CAST(created_at AS TEXT) FROM organizations WHERE slug = 'new'`).Scan(&newAfter); err != nil {
		t.Fatal(err)
	}
	if old != "2026-12-02 00:24:03.155+00:00" {
		t.Errorf("migrated time: %q", old)
	}
	if newAfter != newBefore || len(newAfter) < 20 || newAfter[19] != '.' && newAfter[19] != '+' {
		t.Errorf("a time in the new form: %q before, %q after", newBefore, newAfter)
	}
	// The migrated row reads back as the same instant.
	o, err := db.Client.Organization.Query().All(ctx)
	if err != nil || len(o) != 2 {
		t.Fatalf("orgs: %v %v", o, err)
	}
}
