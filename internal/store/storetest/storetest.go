// Package storetest opens a store for a test outside package store, on the
// engine the run is for (internal/testdb): the SQLite file at path, or a
// PostgreSQL database of the test's own that path stands for, so that
// opening the same path again finds the same data. Only _test.go files
// import it.
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

// OpenErr opens the store for path and returns the error as it is.
func OpenErr(t testing.TB, path string, log *slog.Logger) (*store.Store, error) {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !testdb.Postgres() {
		return store.OpenSQLite(context.Background(), path, log)
	}
	return store.OpenPostgres(context.Background(), testdb.For(t, path), Options, log)
}
