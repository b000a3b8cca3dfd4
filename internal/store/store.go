// Package store is the only place that speaks SQL. It opens the database,
// applies the embedded migrations and offers typed operations to the
// services above it. SQLite (pure Go, no cgo, no JIT) is the embedded default;
// the dialect is a value so PostgreSQL can join behind the same API.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3"

	"github.com/rampart-social/rampart/internal/safely"
)

// Store is an open database: one writer connection and a pool of readers.
// SQLite allows one writer at a time; funnelling writes through one
// connection with BEGIN IMMEDIATE means no SQLITE_BUSY under load.
type Store struct {
	write           *pool
	read            *pool
	statements      atomic.Int64
	writes          atomic.Int64
	dialect         string
	path            string
	walLimit        int64     // walTruncateBytes; tests lower it
	fanOutOnRead    int64     // fanOutOnReadFollowers; tests lower it
	walSeen         time.Time // the WAL's mtime at the last passive round
	walRound        time.Time // when that round ran
	batches         writeBatches
	log             *slog.Logger
	stopCheckpoints func()
	// allowList: federation.mode = "allowlist" (UseAllowList).
	allowList atomic.Bool
	// process: the holder of this process's id worker lease (Process).
	process atomic.Value
}

// readConnections sizes the reader pool to the machine: SQLite readers in WAL
// mode run in parallel, one per core keeps every core busy, and a second
// per core covers a reader waiting on I/O. Every one stays open (kept idle):
// a new connection starts with a cold page cache and parses the schema again.
func readConnections() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// pageCacheKiB is each connection's page cache. SQLite's default (2 MiB) made
// the hot reads re-read index pages from the kernel on every request; 8 MiB
// per connection keeps the hot B-tree pages of a large instance resident while
// the pool stays well inside the memory budget. Memory-mapped I/O stays off:
// mapped pages would count against the process's RSS and grow with the
// database file, where the page cache is bounded per connection.
const pageCacheKiB = 8 * 1024

// OpenSQLite opens (creating if needed) the database file at path, in WAL
// mode, and brings its schema up to date.
func OpenSQLite(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("database directory: %w", err)
	}
	dsn := func(extra string) string {
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(ON)")
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", pageCacheKiB))
		q.Add("_pragma", "mmap_size(0)")
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode() + extra
	}
	// The writer never checkpoints on commit: a checkpoint copies hundreds of
	// pages and would stall whichever request crossed the threshold. The
	// checkpointer goroutine does it in the background instead.
	write, err := sql.Open("sqlite3", dsn("&_txlock=immediate&_pragma=wal_autocheckpoint(0)"))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	keepOpen(write, 1)
	read, err := sql.Open("sqlite3", dsn(""))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	keepOpen(read, readConnections())
	s := &Store{dialect: "sqlite", log: log, path: path, walLimit: walTruncateBytes, fanOutOnRead: fanOutOnReadFollowers}
	s.write, s.read = newPool(write, &s.statements, &s.writes), newPool(read, &s.statements)
	if err := s.write.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// The file may hold secrets later (sessions, keys): owner only.
	if err := os.Chmod(path, 0o600); err != nil {
		s.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	s.startCheckpoints(checkpointEvery)
	return s, nil
}

// keepOpen caps a pool at n connections and keeps all n once opened: Go's
// default keeps only 2 idle, so under concurrency connections were closed and
// reopened constantly (18 % of the home timeline's CPU).
func keepOpen(db *sql.DB, n int) {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
}

// Ping checks that a read reaches the database.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("database ping: %w", err)
	}
	return nil
}

// Close stops the checkpointer and closes both pools (the last connection
// to close checkpoints the WAL into the database).
func (s *Store) Close() error {
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
	}
	return errors.Join(s.read.close(), s.write.close())
}

// checkpointEvery is how often the background checkpointer copies the WAL
// into the database. PASSIVE never waits for readers or the writer. Often,
// because whatever a round leaves is copied by the next TRUNCATE, which
// holds the writer: at a second apart, posting wrote 100 MB of log between
// rounds and each truncation stalled every write for 150 ms (the posting
// benchmark's p99). A round with nothing new to copy is skipped.
const checkpointEvery = 100 * time.Millisecond

// walTruncateBytes is the WAL size past which the checkpointer takes the
// writer's turn. A PASSIVE checkpoint copies frames back but never restarts
// the log: under sustained writes the writer always appends during it, the
// log never starts over, and it grew without bound (433 MB after three
// minutes of seeding, and a "disk I/O error" near 1 GB). Past this size one
// TRUNCATE checkpoint on the writer connection copies what the passive
// rounds have not and empties the file; the writes queued meanwhile wait for
// it. Small, so that what it copies is little.
const walTruncateBytes = 4 << 20

// walTruncateWait bounds how long that checkpoint may hold the writer: it
// waits for readers still on older snapshots, and past this it gives up
// (the next round tries again) so writes are never held longer.
const walTruncateWait = 250 * time.Millisecond

// startCheckpoints runs PASSIVE checkpoints on a reader connection, so writes
// go on meanwhile, and a TRUNCATE one on the writer whenever the log has
// grown past s.walLimit, until Close.
func (s *Store) startCheckpoints(every time.Duration) {
	stop, done := make(chan struct{}), make(chan struct{})
	// Once: a second Close (a test's cleanup after a failed reopen) is a no-op.
	s.stopCheckpoints = sync.OnceFunc(func() { close(stop); <-done })
	_ = safely.NewGroup(s.log).Go("WAL checkpoints", func() error {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return nil
			case <-t.C:
				s.checkpoint()
			}
		}
	})
}

// checkpoint runs one round of startCheckpoints. It goes to the pools' own
// databases, past the statement counts: those are what requests run.
func (s *Store) checkpoint() {
	fi, err := os.Stat(s.path + "-wal")
	if err == nil && fi.Size() > s.walLimit {
		ctx, cancel := context.WithTimeout(context.Background(), walTruncateWait)
		defer cancel()
		var busy, frames, copied int
		if err := s.write.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil {
			s.log.Warn("WAL checkpoint (truncate)", "err", err, "wal_bytes", fi.Size())
		} else if busy != 0 {
			s.log.Warn("WAL checkpoint (truncate) could not finish: readers held the log", "wal_bytes", fi.Size())
		}
		return
	}
	if err == nil {
		// Nothing written since the last round: nothing to copy. A round
		// still runs each second, as a filesystem with coarse timestamps
		// may not move the mtime for a write in the same tick.
		if fi.ModTime().Equal(s.walSeen) && time.Since(s.walRound) < time.Second {
			return
		}
		s.walSeen, s.walRound = fi.ModTime(), time.Now()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.read.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		s.log.Warn("WAL checkpoint", "err", err)
	}
}

// JournalMode reports the connection's journal mode ("wal" when healthy).
func (s *Store) JournalMode(ctx context.Context) (string, error) {
	var mode string
	err := s.read.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	return mode, err
}

// Setting reads an instance setting; ok is false when it is not set.
func (s *Store) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = s.read.QueryRowContext(ctx, "SELECT value FROM instance_settings WHERE key = ?", key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read setting %q: %w", key, err)
	}
	return value, true, nil
}

// SettingOnce stores value under key unless the key is set already, and
// returns what is stored: the first writer wins, so processes sharing a
// database agree on a value made once (the instance actor's key).
func (s *Store) SettingOnce(ctx context.Context, key, value string) (string, error) {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO instance_settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		key, value, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return "", fmt.Errorf("write setting %q: %w", key, err)
	}
	var stored string
	if err := s.write.QueryRowContext(ctx, "SELECT value FROM instance_settings WHERE key = ?", key).Scan(&stored); err != nil {
		return "", fmt.Errorf("read setting %q: %w", key, err)
	}
	return stored, nil
}

// SetSetting stores an instance setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO instance_settings (key, value, updated_at) VALUES (?, ?, ?)
		 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("write setting %q: %w", key, err)
	}
	return nil
}
