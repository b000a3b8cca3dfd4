package store

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testdb"
)

// open opens the test's store at path: the SQLite file there, or, in a
// PostgreSQL run, a database of the test's own that the path stands for, so
// that opening the same path again finds the same data.
func open(t testing.TB, path string) *Store {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testdb.Postgres() {
		s, err := OpenPostgres(context.Background(), testdb.For(t, path), testPostgresOptions, log)
		if err != nil {
			t.Fatalf("OpenPostgres: %v", err)
		}
		return s
	}
	s, err := OpenSQLite(context.Background(), path, log)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	return s
}

var testPostgresOptions = PostgresOptions{MaxConnections: 8, StatementTimeout: time.Minute}

// sqliteOnly skips a test of SQLite's own behaviour (its file, its WAL, its
// planner) in a PostgreSQL run, saying why.
func sqliteOnly(t testing.TB, why string) {
	t.Helper()
	if testdb.Postgres() {
		t.Skip("SQLite only: " + why)
	}
}

func TestOpenMigratesOnceAndPersists(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "rampart.db")
	s := open(t, path)
	sqlite := s.Engine() == dialectSQLite
	if mode, err := s.JournalMode(ctx); sqlite && (err != nil || mode != "wal") {
		t.Errorf("journal mode %q, %v; want wal", mode, err)
	}
	all, _ := migrations(s.Engine())
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(all) {
		t.Errorf("schema version %d, %v; want %d", v, err, len(all))
	}
	if err := s.SetSetting(ctx, "k", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, "k", "v2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if sqlite {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("database file mode %04o, want 0600", fi.Mode().Perm())
		}
	}

	s = open(t, path) // reopen: nothing to migrate, data kept
	defer s.Close()
	if v, ok, err := s.Setting(ctx, "k"); err != nil || !ok || v != "v2" {
		t.Errorf("Setting after reopen = %q %v %v", v, ok, err)
	}
	if _, ok, err := s.Setting(ctx, "missing"); err != nil || ok {
		t.Errorf("missing setting: ok=%v err=%v", ok, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Error(err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	s := open(t, path)
	if _, err := s.write.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future.sql', 'x')"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var err error
	if testdb.Postgres() {
		_, err = OpenPostgres(ctx, testdb.For(t, path), testPostgresOptions, slog.New(slog.DiscardHandler))
	} else {
		_, err = OpenSQLite(ctx, path, slog.New(slog.DiscardHandler))
	}
	if err == nil || !strings.Contains(err.Error(), "schema version 999 is newer than this binary knows") {
		t.Fatalf("err = %v", err)
	}
}

func TestNotADatabase(t *testing.T) {
	sqliteOnly(t, "a file that is not a database")
	path := filepath.Join(t.TempDir(), "rampart.db")
	os.WriteFile(path, []byte(strings.Repeat("this is not sqlite\n", 100)), 0o600)
	_, err := OpenSQLite(context.Background(), path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want one naming the path", err)
	}
}

func TestCheckpointsLeaveTheWriterAndSurviveClose(t *testing.T) {
	sqliteOnly(t, "WAL checkpoints")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	s := open(t, path)
	var auto int
	if err := s.write.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Errorf("the writer checkpoints on commit (wal_autocheckpoint = %d, %v); requests would stall on it", auto, err)
	}
	for i := 0; i < 500; i++ {
		if err := s.SetSetting(ctx, "k"+strings.Repeat("x", i%7), strings.Repeat("v", 200)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetSetting(ctx, "last", "kept"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the WAL was left with %d bytes after Close", fi.Size())
	}
	s = open(t, path)
	defer s.Close()
	if v, ok, err := s.Setting(ctx, "last"); err != nil || !ok || v != "kept" {
		t.Errorf("after reopen: %q %v %v", v, ok, err)
	}
}

// Past its size limit a checkpoint round empties the log: a PASSIVE one alone
// never restarts it under writes that never pause, so the file only grew.
// Below the limit a round leaves the file to the writer.
func TestCheckpointPastTheLimitEmptiesTheWAL(t *testing.T) {
	sqliteOnly(t, "WAL checkpoints")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	s := open(t, path)
	defer s.Close()
	s.stopCheckpoints() // rounds run only when the test says
	s.stopCheckpoints = nil
	s.walLimit = 1 << 20
	// Start from an empty log: the migrations alone may have written a MiB.
	if _, err := s.write.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	walSize := func() int64 {
		t.Helper()
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	write := func(bytes int) {
		t.Helper()
		value := strings.Repeat("v", 16<<10)
		for i := 0; i < bytes/len(value); i++ {
			if err := s.SetSetting(ctx, "k"+strconv.Itoa(i%50), value); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(128 << 10)
	before := walSize()
	s.checkpoint()
	if got := walSize(); got != before || before == 0 {
		t.Errorf("below the limit: the WAL went from %d to %d bytes; a PASSIVE round leaves the file", before, got)
	}
	write(4 << 20)
	if before = walSize(); before <= s.walLimit {
		t.Fatalf("the WAL holds %d bytes after 4 MiB of writes; the test needs it past the limit", before)
	}
	s.checkpoint()
	if got := walSize(); got != 0 {
		t.Errorf("past the limit: the WAL went from %d to %d bytes; the round must empty it", before, got)
	}
	if v, ok, err := s.Setting(ctx, "k1"); err != nil || !ok || len(v) != 16<<10 {
		t.Errorf("after the truncation: %d bytes, %v, %v", len(v), ok, err)
	}
}
