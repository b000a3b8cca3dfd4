package storetest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testdb"
)

// Migrating an empty database is most of what opening a store costs a test
// (42 migrations, about a second of CPU each time under the race detector,
// a third of internal/api's run). The store's migrations run once per test
// process into a template, and each new test database is a copy of it: a
// file copy for SQLite, CREATE DATABASE … TEMPLATE for PostgreSQL. The
// template is made by store.OpenSQLite / store.OpenPostgres themselves, so
// a migration that fails still fails every test; opening the copy runs the
// store's version check as any reopening does. What migrating does to an
// existing database is internal/store's own tests' business (counters_test,
// unconfirmed_follows_test, copy_test), and theirs open no template.

var sqliteTemplate struct {
	once  sync.Once
	bytes []byte
	err   error
}

// migratedSQLite is the bytes of a freshly migrated SQLite database, made
// once per process in a directory removed right after.
func migratedSQLite() ([]byte, error) {
	t := &sqliteTemplate
	t.once.Do(func() {
		dir, err := os.MkdirTemp("", "rampart-storetest-")
		if err != nil {
			t.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "template.db")
		st, err := store.OpenSQLite(context.Background(), path, slog.New(slog.DiscardHandler))
		if err != nil {
			t.err = fmt.Errorf("migrate the template database: %w", err)
			return
		}
		if err := st.Close(); err != nil {
			t.err = fmt.Errorf("close the template database: %w", err)
			return
		}
		// Closing the last connection checkpoints the WAL into the file
		// and removes it: the file alone is the database.
		for _, side := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(path + side); !errors.Is(err, fs.ErrNotExist) {
				t.err = fmt.Errorf("the template database left %s behind after closing (%v)", side, err)
				return
			}
		}
		t.bytes, t.err = os.ReadFile(path)
	})
	return t.bytes, t.err
}

// Seed puts the migrated template at the SQLite path a test is about to
// have code under test open (instance.Open on a config's database), when
// nothing is there yet. In a PostgreSQL run it does nothing: the database
// the path stands for (testutil.UseTestDatabase) is migrated by its opener.
func Seed(path string) {
	if !testdb.Postgres() {
		seedSQLite(path)
	}
}

// seedSQLite puts a copy of the migrated template at path when nothing is
// there yet; an existing database (a reopening) is left as it is. When it
// cannot, the path is left as it was and store.OpenSQLite does what it
// always did: create and migrate, or fail with its own error.
func seedSQLite(path string) {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	b, err := migratedSQLite()
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return
	}
	// O_EXCL: two openings racing for the same new path never write it twice.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
}

var pgTemplate struct {
	once sync.Once
	name string
	err  error
}

// postgresFor is testdb.For(t, path), with a database that does not exist
// yet made from a template database migrated once per process.
func postgresFor(t testing.TB, path string) string {
	t.Helper()
	tmpl := &pgTemplate
	tmpl.once.Do(func() {
		name, dsn, err := testdb.NewTemplate()
		if err != nil {
			tmpl.err = err
			return
		}
		st, err := store.OpenPostgres(context.Background(), dsn, Options, slog.New(slog.DiscardHandler))
		if err != nil {
			tmpl.err = fmt.Errorf("migrate the template database: %w", err)
			return
		}
		// No connection may stay on a database used as a template.
		if err := st.Close(); err != nil {
			tmpl.err = fmt.Errorf("close the template database: %w", err)
			return
		}
		tmpl.name = name
	})
	if tmpl.err != nil {
		t.Fatalf("storetest: %v", tmpl.err)
	}
	return testdb.ForFrom(t, path, tmpl.name)
}
