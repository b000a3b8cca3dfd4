// Package storetest opens a store for a test outside package store, on the
// engine the run is for (internal/testdb): the SQLite file at path, or a
// PostgreSQL database of the test's own that path stands for, so that
// opening the same path again finds the same data. Only _test.go files
// import it.
//
// A new database starts as a copy of one migrated once per test process
// (template.go): the migrations run once, not in every test, and every
// opening still runs the store's own check of the schema's version.
package storetest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testdb"
)

// Options bound a test's PostgreSQL store.
var Options = store.PostgresOptions{MaxConnections: 8, StatementTimeout: time.Minute}

// Open opens the store for path, or fails the test.
func Open(t testing.TB, path string, log *slog.Logger) *store.Store {
	t.Helper()
	st, err := OpenErr(t, path, log)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}

// OpenErr opens the store for path and returns the error as it is. A
// database that does not exist yet is made from the migrated template.
func OpenErr(t testing.TB, path string, log *slog.Logger) (*store.Store, error) {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !testdb.Postgres() {
		seedSQLite(path)
		return store.OpenSQLite(context.Background(), path, log)
	}
	return store.OpenPostgres(context.Background(), postgresFor(t, path), Options, log)
}
