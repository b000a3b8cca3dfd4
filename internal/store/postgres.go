package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgresOptions sizes and bounds a PostgreSQL store.
type PostgresOptions struct {
	// MaxConnections is this process's share of the server's connections,
	// readers and writers together (at least 2).
	MaxConnections int
	// StatementTimeout ends any statement that runs longer (the server's
	// statement_timeout); 0 leaves the server's setting.
	StatementTimeout time.Duration
}

// Advisory lock keys. Every Rampart process sharing a database uses the
// same numbers, so the server serializes what they guard across processes.
const (
	// lockKeyWrites is taken by every write transaction (lockWrites).
	lockKeyWrites int64 = 0x52414d50_00000001
	// lockKeyMigrate is held while one process brings the schema up to date.
	lockKeyMigrate int64 = 0x52414d50_00000002
)

// lockWrites makes a write transaction wait for every other one, in this
// process and in the others on the same database, until it ends. The store's
// write paths were written for SQLite, where one writer at a time is the
// engine's rule: a transaction reads, decides, then writes, and no other
// commits in between. Holding PostgreSQL to that rule (one transaction-level
// advisory lock) keeps every such read-then-write correct across processes
// without a retry loop at each of them; reads never take it and run in
// parallel. Single statements outside a transaction are atomic on their own
// and do not take it.
func lockWrites(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKeyWrites); err != nil {
		return fmt.Errorf("wait for the write lock: %w", err)
	}
	return nil
}

// writeConnections is the write pool's size on PostgreSQL: transactions
// wait for the write lock in turn, so more would only wait; a few let single
// statements (a lease renewed, a token touched) pass a transaction waiting
// for the lock.
const writeConnections = 4

// OpenPostgres connects to the PostgreSQL database dsn names (a URL or
// key=value words, sslmode and the other libpq settings honoured) and brings
// its schema up to date, one process at a time.
func OpenPostgres(ctx context.Context, dsn string, opts PostgresOptions, log *slog.Logger) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx quotes the string, masking the password only where it can
		// find it; a string that does not parse may show it. Nothing of
		// it is repeated here.
		return nil, errors.New("database.dsn: not a PostgreSQL connection string (a URL, postgres://…, or key=value words); its text is not shown, as it may hold the password")
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "rampart"
	if opts.StatementTimeout > 0 {
		ms := strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
		cfg.RuntimeParams["statement_timeout"] = ms
		// A transaction left open (a process stopped mid-way) must not keep
		// the write lock: the server ends such a session.
		cfg.RuntimeParams["idle_in_transaction_session_timeout"] = ms
	}
	// Text is compared byte by byte, as in SQLite: the schema declares
	// COLLATE "C" on every text column, and the session's own literals
	// follow the database's encoding, which must be UTF-8.
	cfg.RuntimeParams["client_encoding"] = "UTF8"
	total := max(opts.MaxConnections, 2)
	writers := min(writeConnections, max(1, total/2))
	readers := max(1, total-writers)

	write := stdlib.OpenDB(*cfg)
	keepOpenPostgres(write, writers)
	read := stdlib.OpenDB(*cfg)
	keepOpenPostgres(read, readers)
	s := &Store{dialect: dialectPostgres, log: log, walLimit: walTruncateBytes, fanOutOnRead: fanOutOnReadFollowers}
	s.write, s.read = newPool(write, &s.statements, &s.writes), newPool(read, &s.statements)
	tr := &translations{}
	s.write.pg, s.read.pg = tr, tr
	s.write.writeLock = true
	if err := s.write.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", pgError(err))
	}
	if err := s.checkPostgres(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrateLocked(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// keepOpenPostgres caps a pool at n connections. Unlike SQLite's, idle ones
// are let go after a while: the server's connections are shared with the
// other processes.
func keepOpenPostgres(db *sql.DB, n int) {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
}

// checkPostgres refuses a server too old for the schema, or a database whose
// encoding is not UTF-8 (text from the fediverse is Unicode).
func (s *Store) checkPostgres(ctx context.Context) error {
	var version int
	var encoding string
	if err := s.read.db.QueryRowContext(ctx, `SELECT current_setting('server_version_num')::int, pg_encoding_to_char(encoding)
		FROM pg_database WHERE datname = current_database()`).Scan(&version, &encoding); err != nil {
		return fmt.Errorf("PostgreSQL: %w", pgError(err))
	}
	if version < 130000 {
		return fmt.Errorf("PostgreSQL %d.%d is too old: Rampart needs 13 or newer", version/10000, version%10000/100)
	}
	if encoding != "UTF8" {
		return fmt.Errorf("the database's encoding is %s: create it with ENCODING 'UTF8'", encoding)
	}
	return nil
}

// migrateLocked runs migrate while holding a session-level advisory lock on
// a connection of its own: processes starting together take turns, the
// first applies what is missing and the others find the schema current.
// The lock's connection is a reader's: with database.max_connections at 2
// or 3 the write pool has one connection, which migrate needs.
func (s *Store) migrateLocked(ctx context.Context) error {
	conn, err := s.read.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockKeyMigrate); err != nil {
		return fmt.Errorf("migrations: wait for the migration lock: %w", pgError(err))
	}
	defer func() {
		// A failed unlock ends with the connection: the lock is the session's.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKeyMigrate); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return s.migrate(ctx)
}

// pgError adds the server's detail and hint to its error, where it gave one.
func pgError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Detail != "" || pe.Hint != "") {
		return fmt.Errorf("%w (%s %s)", err, pe.Detail, pe.Hint)
	}
	return err
}

// Engine names the database engine: "sqlite" or "postgres".
func (s *Store) Engine() string { return s.dialect }

// lockKeyPrefix starts the keys of Exclusively's named locks.
const lockKeyPrefix int64 = 0x52414d50 << 32

// Exclusively runs fn unless another process sharing the database is
// running work of the same name: periodic work (the janitor's round) runs
// in one process at a time. On PostgreSQL it holds a session-level advisory
// lock, tried without waiting, on a connection of its own for fn's
// duration; ran is false when another process holds it. SQLite has one
// serving process, so fn always runs.
func (s *Store) Exclusively(ctx context.Context, name string, fn func(ctx context.Context) error) (ran bool, err error) {
	if s.dialect != dialectPostgres {
		return true, fn(ctx)
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	key := lockKeyPrefix | int64(h.Sum32())
	conn, err := s.read.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		return false, fmt.Errorf("%s: lock: %w", name, err)
	}
	if !got {
		return false, nil
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// The lock is the session's: a connection that cannot unlock is
			// closed, and the server lets go with it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return true, fn(ctx)
}
