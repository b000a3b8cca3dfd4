package storetest

import (
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testdb"
)

// schema is what a database holds before any row of a test's: its tables,
// and on SQLite every object's definition.
func schema(t *testing.T, db *testdb.DB) []string {
	t.Helper()
	out, err := db.Tables()
	if err != nil {
		t.Fatal(err)
	}
	if !testdb.Postgres() {
		rows, err := db.Query(`SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master ORDER BY type, name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A database made from the template is the one migrating an empty database
// makes: the same schema, at the same version.
func TestTemplateIsAFreshlyMigratedDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	copied := filepath.Join(dir, "copied.db")
	st := Open(t, copied, nil)
	copiedVersion, err := st.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	// The same migrations, run on an empty database without the template.
	migrated := filepath.Join(dir, "migrated.db")
	if testdb.Postgres() {
		st, err = store.OpenPostgres(ctx, testdb.For(t, migrated), Options, slog.New(slog.DiscardHandler))
	} else {
		st, err = store.OpenSQLite(ctx, migrated, slog.New(slog.DiscardHandler))
	}
	if err != nil {
		t.Fatal(err)
	}
	migratedVersion, err := st.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	if copiedVersion != migratedVersion || copiedVersion == 0 {
		t.Fatalf("schema version %d from the template, %d migrated", copiedVersion, migratedVersion)
	}
	got, want := schema(t, testdb.Open(t, copied)), schema(t, testdb.Open(t, migrated))
	if len(want) < 40 {
		t.Fatalf("a migrated database holds only %v", want)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the template's copy differs from a migrated database:\n%v\n%v", got, want)
	}
}

// Opening a path again finds what was written there: the template is only
// for a database that does not exist yet.
func TestReopeningKeepsTheData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	st := Open(t, path, nil)
	if err := st.SetSetting(ctx, "storetest.kept", "yes"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st = Open(t, path, nil)
	defer st.Close()
	v, ok, err := st.Setting(ctx, "storetest.kept")
	if err != nil || !ok || v != "yes" {
		t.Fatalf("after reopening: %q, %v, %v", v, ok, err)
	}
	// And another new database starts empty of it.
	other := Open(t, filepath.Join(t.TempDir(), "rampart.db"), nil)
	defer other.Close()
	if _, ok, err := other.Setting(ctx, "storetest.kept"); err != nil || ok {
		t.Fatalf("a new database holds another's setting: %v, %v", ok, err)
	}
}
