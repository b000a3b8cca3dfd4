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
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	return s
}

func TestOpenMigratesOnceAndPersists(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "rampart.db")
	s := open(t, path)
	if mode, err := s.JournalMode(ctx); err != nil || mode != "wal" {
		t.Errorf("journal mode %q, %v; want wal", mode, err)
	}
	all, _ := migrations("sqlite")
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
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %04o, want 0600", fi.Mode().Perm())
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
	_, err := OpenSQLite(ctx, path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "schema version 999 is newer than this binary knows") {
		t.Fatalf("err = %v", err)
	}
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampart.db")
	os.WriteFile(path, []byte(strings.Repeat("this is not sqlite\n", 100)), 0o600)
	_, err := OpenSQLite(context.Background(), path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want one naming the path", err)
	}
}

func TestCheckpointsLeaveTheWriterAndSurviveClose(t *testing.T) {
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

// Under writes that never pause, the log stays bounded: a PASSIVE
// checkpoint alone never restarts it, so past the limit the checkpointer
// truncates it on the writer's turn.
func TestWALStaysBoundedUnderSustainedWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	s := open(t, path)
	defer s.Close()
	s.stopCheckpoints()
	s.walLimit = 1 << 20
	s.startCheckpoints(20 * time.Millisecond)
	value := strings.Repeat("v", 16<<10)
	var peak int64
	deadline := time.Now().Add(2 * time.Second)
	var written int64
	for i := 0; time.Now().Before(deadline); i++ {
		if err := s.SetSetting(ctx, "k"+strconv.Itoa(i%50), value); err != nil {
			t.Fatal(err)
		}
		written += int64(len(value))
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > peak {
			peak = fi.Size()
		}
	}
	if written < 128<<20 {
		t.Skipf("only %d MiB written in 2 s: too slow a machine to tell", written>>20)
	}
	// The bound is generous (the checkpointer runs between writes when the
	// machine lets it); without the truncation the log holds every write.
	if peak > 64<<20 {
		t.Errorf("the WAL reached %d MiB under %d MiB of writes; the limit is 1 MiB", peak>>20, written>>20)
	}
	// And once a round runs past the limit, the log is empty.
	s.checkpoint()
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() > s.walLimit {
		t.Errorf("after a checkpoint round past the limit the WAL holds %v bytes (%v)", fi.Size(), err)
	}
	t.Logf("WAL peak %.1f MiB under %d MiB of writes", float64(peak)/(1<<20), written>>20)
}
