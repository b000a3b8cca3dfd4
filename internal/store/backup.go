package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// BackupReport says what BackupSQLite wrote.
type BackupReport struct {
	Path          string // the backup, absolute
	Bytes         int64
	SchemaVersion int
}

// BackupSQLite writes a consistent copy of the SQLite database at path to
// the new file dest, while a server may go on reading and writing it:
// VACUUM INTO reads one snapshot (in WAL mode, writers are not held up)
// and writes a compact database of it. dest is created 0600 by this
// process before SQLite writes into it (the copy holds password hashes,
// token hashes and private keys), and an existing file is refused. The
// source is only read, and not migrated: a backup taken before an
// upgrade is of the schema it had.
func BackupSQLite(ctx context.Context, path, dest string) (*BackupReport, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("the database: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("the database %s is not a file", path)
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return nil, fmt.Errorf("the backup %s: %w", dest, err)
	}
	// Not read-only: VACUUM INTO needs a connection that may write (to the
	// new file; nothing here writes the source).
	src, err := openExisting(path, false)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	rep := &BackupReport{Path: abs}
	if err := src.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&rep.SchemaVersion); err != nil {
		return nil, fmt.Errorf("the database %s is not a Rampart database: %w", path, err)
	}
	// O_EXCL: an existing file, or one that appears meanwhile, is never
	// overwritten. VACUUM INTO accepts an empty file and keeps its mode.
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("the backup %s exists already: give a new file name", abs)
	}
	if err != nil {
		return nil, fmt.Errorf("the backup: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(abs)
		return nil, fmt.Errorf("the backup: %w", err)
	}
	if err := vacuumInto(ctx, src, abs); err != nil {
		os.Remove(abs)
		return nil, err
	}
	if rep.Bytes, err = checkBackup(ctx, abs); err != nil {
		return nil, err
	}
	return rep, nil
}

// openExisting opens the SQLite file at path, never creating it, and with
// queryOnly refuses every write through the connection. Not mode=ro: a
// read-only connection to a database in WAL mode makes the -wal and -shm
// files and, unable to checkpoint, leaves them at close, where a
// read-write one that is the last to close removes them as the server does.
func openExisting(path string, queryOnly bool) (*sql.DB, error) {
	q := "?mode=rw&_pragma=busy_timeout(10000)"
	if queryOnly {
		q += "&_pragma=query_only(1)"
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+q)
	if err != nil {
		return nil, fmt.Errorf("the database %s: %w", path, err)
	}
	return db, nil
}

func vacuumInto(ctx context.Context, src *sql.DB, dest string) error {
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("the backup: %w", err)
	}
	// SQLite does not sync what VACUUM INTO writes: a backup must
	// survive a crash right after the command says it is done.
	f, err := os.OpenFile(dest, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("the backup: %w", err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("the backup: sync: %w", err)
	}
	return nil
}

// checkBackup opens the written copy and has SQLite check it.
func checkBackup(ctx context.Context, path string) (int64, error) {
	db, err := openExisting(path, true)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var verdict string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&verdict); err != nil {
		return 0, fmt.Errorf("the backup %s: check it: %w", path, err)
	}
	if verdict != "ok" {
		return 0, fmt.Errorf("the backup %s fails SQLite's check: %s", path, verdict)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("the backup: %w", err)
	}
	return fi.Size(), nil
}
