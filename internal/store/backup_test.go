package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A backup taken while posts are written is a consistent database holding
// what was committed before it began; an existing file is never replaced.
// (SQLite's own machinery: the same in a PostgreSQL run.)
func TestBackupSQLiteWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.db")
	s, err := OpenSQLite(ctx, path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			s.Close()
		}
	}()
	at := time.Now()
	if err := s.CreateLocalAccount(ctx, &Account{ID: 1, Username: "alice", URI: "https://example.test/users/alice",
		URL: "https://example.test/@alice", CreatedAt: at, UpdatedAt: at},
		&User{Email: "alice@example.test", PasswordHash: "x", Role: "user", Approved: true, Locale: "en", DefaultPrivacy: "public", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	post := func(id int64) error {
		return s.CreateStatus(ctx, NewStatus{Status: &Status{ID: id, URI: fmt.Sprintf("https://example.test/s/%d", id), AccountID: 1,
			Local: true, Visibility: Public, Text: "post", CreatedAt: time.Now()}, Words: []string{"post"}})
	}
	for id := int64(100); id < 150; id++ {
		if err := post(id); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for id := int64(1000); ; id++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := post(id); err != nil {
				writeErr = err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	dest := filepath.Join(dir, "backup.db")
	rep, err := BackupSQLite(ctx, path, dest)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if writeErr != nil {
		t.Fatalf("writing during the backup: %v", writeErr)
	}
	all, _ := migrations(dialectSQLite)
	if rep.Path != dest || rep.SchemaVersion != len(all) || rep.Bytes == 0 {
		t.Errorf("report %+v", rep)
	}
	fi, err := os.Stat(dest)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v, want mode 0600", fi, err)
	}
	b, err := OpenSQLite(ctx, dest, quietLog())
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer b.Close()
	var posts, total, check string
	if err := b.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM statuses WHERE id < 150`).Scan(&posts); err != nil || posts != "50" {
		t.Errorf("the backup holds %s of the 50 posts written before it (%v)", posts, err)
	}
	// Consistent: every status has its counted post and its words.
	if err := b.read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM statuses) || '/' || (SELECT local_posts FROM instance_stats) || '/' ||
		(SELECT COUNT(*) FROM status_words)`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if f := strings.Split(total, "/"); f[0] != f[1] || f[0] != f[2] {
		t.Errorf("statuses/counted/words in the backup: %s", total)
	}
	if err := b.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q %v", check, err)
	}

	before, _ := os.ReadFile(dest)
	if _, err := BackupSQLite(ctx, path, dest); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("a backup onto an existing file: %v", err)
	}
	if after, _ := os.ReadFile(dest); string(after) != string(before) {
		t.Error("the existing file was changed")
	}
	missing := filepath.Join(dir, "missing.db")
	if _, err := BackupSQLite(ctx, missing, filepath.Join(dir, "b2.db")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a backup of a missing database: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b2.db")); err == nil {
		t.Error("a failed backup left a file")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a backup created the missing database")
	}
	if _, err := BackupSQLite(ctx, path, filepath.Join(dir, "no", "dir", "b.db")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a backup into a missing directory: %v", err)
	}

	// A backup of a stopped instance leaves no -wal or -shm beside it.
	closed = true
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := BackupSQLite(ctx, path, filepath.Join(dir, "stopped.db")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("a backup left %s", f)
		}
	}
}
