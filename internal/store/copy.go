package store

// Moving an instance from SQLite to PostgreSQL (rampart admin db migrate):
// every table the SQLite schema holds is copied, in one PostgreSQL
// transaction, into a database that holds nothing yet.
//
// The tables, their columns and the order they are copied in come from the
// source's own schema (sqlite_master and its pragmas), never from a list
// here: a table a later migration adds is moved with the rest.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// MoveReport says what MoveToPostgres did.
type MoveReport struct {
	// SourceVersion is the source's schema version as it was found;
	// SchemaVersion the version both databases have now. They differ when
	// the source was older: it was migrated first, as a start of this
	// binary would have done.
	SourceVersion, SchemaVersion int
	// Tables are the tables copied, in the order they were copied, with
	// their rows on each side (equal, or the move failed).
	Tables []TableRows
	// Sequences are the identity columns, each with the id it gives next.
	Sequences []SequenceNext
	// Warnings are worth the admin's attention but stopped nothing.
	Warnings []string
}

// TableRows is one table's row count on both sides of a move.
type TableRows struct {
	Table          string
	Source, Target int64
}

// SequenceNext is an identity column and the id its next insert gets.
type SequenceNext struct {
	Table, Column string
	Next          int64
}

// MoveProgress reports a move under way: Rows of Table copied so far, and
// whether the table is done; or, before the copy, a Warning (as in
// MoveReport.Warnings), so the admin reads it while there is time to stop.
type MoveProgress struct {
	Table   string
	Rows    int64
	Done    bool
	Warning string
}

// copyChunk is how many rows one COPY statement carries. The foreign-key
// checks of a statement are queued on the server until it ends; bounding
// the statement bounds that queue, whatever the table's size.
const copyChunk = 10_000

// fixupBatch is how many forward references one round trip sets.
const fixupBatch = 1_000

// moveLimits are copyChunk and fixupBatch, which tests lower to cross
// their bounds with a few rows.
type moveLimits struct{ chunk, fixups int }

// migrationRows are the tables into which this binary's migrations write
// rows of their own on an empty database: instance_stats's one row of
// zeros (0006_counters.sql). A fresh target holds them and nothing else; a
// migration that seeds another table makes every move refuse its fresh
// target, which the move's tests show at once.
var migrationRows = map[string]bool{"instance_stats": true}

// flatError is an error whose text is one line (pgx's connection errors
// list each address tried on a line of its own).
type flatError struct{ err error }

func (e flatError) Error() string {
	return strings.Join(strings.Fields(strings.ReplaceAll(e.err.Error(), "\n", "; ")), " ")
}
func (e flatError) Unwrap() error { return e.err }

// DescribeDSN names what dsn connects to, without its password, for the
// admin to read: user@host:port/database.
func DescribeDSN(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(a DSN that does not parse)"
	}
	return cfg.User + "@" + cfg.Host + ":" + strconv.Itoa(int(cfg.Port)) + "/" + cfg.Database
}

// MoveToPostgres copies the instance in the SQLite file at sqlitePath into
// the empty PostgreSQL database dsn names. The server must be stopped: the
// copy is of one moment of the file (one read transaction), and whatever a
// server wrote after it would not be moved.
//
// Nothing is written to a target that is not empty, nor to the source,
// when either is refused. A source older than this binary is migrated
// first, as `rampart serve` would migrate it; a newer one is refused. The
// target gets this binary's schema (OpenPostgres), then every row in one
// transaction: a failure leaves it with the schema alone, and a second run
// may go ahead.
func MoveToPostgres(ctx context.Context, sqlitePath, dsn string, log *slog.Logger, progress func(MoveProgress)) (*MoveReport, error) {
	return moveToPostgres(ctx, sqlitePath, dsn, log, progress, moveLimits{chunk: copyChunk, fixups: fixupBatch})
}

func moveToPostgres(ctx context.Context, sqlitePath, dsn string, log *slog.Logger, progress func(MoveProgress), lim moveLimits) (*MoveReport, error) {
	if progress == nil {
		progress = func(MoveProgress) {}
	}
	all, err := migrations(dialectSQLite)
	if err != nil {
		return nil, err
	}
	known := len(all)
	rep := &MoveReport{}
	// Checked before anything opens the file (an open makes the -wal).
	// A clean stop removes it; a server that runs, or stopped uncleanly,
	// leaves it. SQLite cannot tell those apart, so this only warns.
	if _, err := os.Stat(sqlitePath + "-wal"); err == nil {
		w := sqlitePath + "-wal exists: a server may still have the database open (or it stopped uncleanly). " +
			"Stop the server before moving: what it writes after the copy is not moved"
		rep.Warnings = append(rep.Warnings, w)
		progress(MoveProgress{Warning: w})
	}
	if rep.SourceVersion, err = inspectSQLite(ctx, sqlitePath, known); err != nil {
		return nil, err
	}
	if err := precheckPostgres(ctx, dsn, known); err != nil {
		return nil, err
	}
	src, err := OpenSQLite(ctx, sqlitePath, log)
	if err != nil {
		return nil, fmt.Errorf("the source: %w", err)
	}
	defer src.Close()
	dst, err := OpenPostgres(ctx, dsn, PostgresOptions{MaxConnections: 2}, log)
	if err != nil {
		return nil, fmt.Errorf("the target: %w", flatError{err})
	}
	defer dst.Close()
	if err := src.copyToPostgres(ctx, dst, rep, progress, lim); err != nil {
		return nil, err
	}
	// The planner has no statistics of rows that arrived by COPY until
	// autovacuum comes round: without them the first requests' plans read
	// whole tables. The move is committed; a failure here only says so.
	if _, err := dst.write.db.ExecContext(ctx, `ANALYZE`); err != nil {
		rep.Warnings = append(rep.Warnings, "ANALYZE after the move failed ("+err.Error()+"): run it by hand before serving")
	}
	return rep, nil
}

// inspectSQLite checks, without writing anything, that path is a Rampart
// SQLite database this binary may open, and returns its schema version.
func inspectSQLite(ctx context.Context, path string, known int) (int, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("the source: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("the source: %s is not a file", path)
	}
	// Query only: a file that is not Rampart's is left as it was, where
	// opening the store would give it Rampart's tables.
	db, err := openExisting(path, true)
	if err != nil {
		return 0, fmt.Errorf("the source: %w", err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil {
		return 0, fmt.Errorf("the source %s is not an SQLite database: %w", path, err)
	}
	if tables == 0 {
		return 0, fmt.Errorf("the source %s is not a Rampart database (it has no schema_migrations table)", path)
	}
	var version int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return 0, fmt.Errorf("the source %s: read its schema version: %w", path, err)
	}
	if version > known {
		return 0, fmt.Errorf("the source %s has schema version %d, newer than this binary knows (%d): move it with the Rampart that wrote it", path, version, known)
	}
	return version, nil
}

// precheckPostgres refuses, before the target's schema is touched, a
// target that cannot be reached or is not empty.
func precheckPostgres(ctx context.Context, dsn string, known int) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message redacts the password.
		return fmt.Errorf("the target's DSN: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("the target: connect to PostgreSQL: %w", flatError{pgError(err)})
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("the target: %w", pgError(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return checkTargetEmpty(ctx, tx, known, false)
}

// pgQuerier is a PostgreSQL connection or transaction.
type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// checkTargetEmpty refuses a target that holds anything beyond what this
// binary's migrations write into an empty database: no row in any table of
// its schema, except migrationRows' own, and schema_migrations holding
// versions 1 to at most known (exactly known once migrated). Tables that
// are not Rampart's count too: the target is a database for Rampart alone.
func checkTargetEmpty(ctx context.Context, q pgQuerier, known int, migrated bool) error {
	tables, err := pgStrings(ctx, q, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
	if err != nil {
		return fmt.Errorf("the target: list its tables: %w", err)
	}
	var full []string
	for _, t := range tables {
		switch {
		case t == "schema_migrations":
			var n, lo, hi int64
			if err := q.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MIN(version), 0), COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&n, &lo, &hi); err != nil {
				return fmt.Errorf("the target: read its schema version: %w", pgError(err))
			}
			if hi > int64(known) {
				return fmt.Errorf("the target's schema version %d is newer than this binary knows (%d): it is not an empty database", hi, known)
			}
			if n != hi || (n > 0 && lo != 1) || (migrated && hi != int64(known)) {
				return fmt.Errorf("the target's schema_migrations holds versions a fresh migration does not write: it is not an empty database")
			}
		case migrationRows[t]:
			fresh, err := freshRows(ctx, q, t)
			if err != nil {
				return err
			}
			if !fresh {
				full = append(full, t)
			}
		default:
			var has bool
			if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteIdent(t)+`)`).Scan(&has); err != nil {
				return fmt.Errorf("the target: read %s: %w", t, pgError(err))
			}
			if has {
				full = append(full, t)
			}
		}
	}
	if len(full) > 0 {
		shown := full[:min(len(full), 5)]
		more := ""
		if len(full) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(full)-len(shown))
		}
		return fmt.Errorf("the target database is not empty (rows in %s%s): move into a new, empty database; nothing was changed",
			strings.Join(shown, ", "), more)
	}
	return nil
}

// freshRows reports whether table holds at most the one row the migrations
// write: its id column, and a zero in every other.
func freshRows(ctx context.Context, q pgQuerier, table string) (bool, error) {
	cols, err := pgColumns(ctx, q, table)
	if err != nil {
		return false, err
	}
	var zeros []string
	for _, c := range cols {
		if c != "id" {
			zeros = append(zeros, quoteIdent(c)+" = 0")
		}
	}
	cond := "true"
	if len(zeros) > 0 {
		cond = strings.Join(zeros, " AND ")
	}
	var n, other int64
	if err := q.QueryRow(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT (`+cond+`)) FROM `+quoteIdent(table)).Scan(&n, &other); err != nil {
		return false, fmt.Errorf("the target: read %s: %w", table, pgError(err))
	}
	return n <= 1 && other == 0, nil
}

// copyTable is one table to move.
type copyTable struct {
	name     string
	columns  []string
	pk       []string // primary key columns, in key order
	deps     []string // the other tables its foreign keys name
	selfRefs []string // its columns that reference its own primary key
}

// quoteIdent quotes a name as both engines read it.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// sqliteTables reads the tables to move, and what each references, from
// the source's schema in tx: every table but SQLite's own and
// schema_migrations (each engine records its own migrations).
func sqliteTables(ctx context.Context, tx *sql.Tx) ([]copyTable, error) {
	names, err := sqlStrings(ctx, tx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'schema_migrations' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("the source: list its tables: %w", err)
	}
	tables := make([]copyTable, 0, len(names))
	for _, name := range names {
		t := copyTable{name: name}
		rows, err := tx.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`, name)
		if err != nil {
			return nil, fmt.Errorf("the source: columns of %s: %w", name, err)
		}
		pkAt := map[int]string{}
		for rows.Next() {
			var col string
			var pk int
			if err := rows.Scan(&col, &pk); err != nil {
				rows.Close()
				return nil, fmt.Errorf("the source: columns of %s: %w", name, err)
			}
			t.columns = append(t.columns, col)
			if pk > 0 {
				pkAt[pk] = col
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("the source: columns of %s: %w", name, err)
		}
		for i := 1; i <= len(pkAt); i++ {
			t.pk = append(t.pk, pkAt[i])
		}
		rows, err = tx.QueryContext(ctx, `SELECT "table", "from", "to" FROM pragma_foreign_key_list(?)`, name)
		if err != nil {
			return nil, fmt.Errorf("the source: foreign keys of %s: %w", name, err)
		}
		for rows.Next() {
			var parent, from string
			var to sql.NullString
			if err := rows.Scan(&parent, &from, &to); err != nil {
				rows.Close()
				return nil, fmt.Errorf("the source: foreign keys of %s: %w", name, err)
			}
			if parent != name {
				if !slices.Contains(t.deps, parent) {
					t.deps = append(t.deps, parent)
				}
				continue
			}
			// A reference to the table itself: only to a one-column key
			// can it be copied first and set after (copyToPostgres).
			if len(t.pk) != 1 || (to.Valid && to.String != t.pk[0]) {
				rows.Close()
				return nil, fmt.Errorf("the source: %s.%s references its own table other than by its one-column primary key; the move cannot order it", name, from)
			}
			t.selfRefs = append(t.selfRefs, from)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("the source: foreign keys of %s: %w", name, err)
		}
		tables = append(tables, t)
	}
	return copyOrder(tables)
}

// copyOrder puts every table after the tables it references, so each row's
// references exist when it arrives; ties go by name.
func copyOrder(tables []copyTable) ([]copyTable, error) {
	known := map[string]bool{}
	for _, t := range tables {
		known[t.name] = true
	}
	for _, t := range tables {
		for _, d := range t.deps {
			if !known[d] {
				return nil, fmt.Errorf("the source: %s references %s, which is not a table to copy", t.name, d)
			}
		}
	}
	done := map[string]bool{}
	out := make([]copyTable, 0, len(tables))
	for len(out) < len(tables) {
		progressed := false
		for _, t := range tables {
			if done[t.name] || slices.ContainsFunc(t.deps, func(d string) bool { return !done[d] }) {
				continue
			}
			out, done[t.name], progressed = append(out, t), true, true
		}
		if !progressed {
			var left []string
			for _, t := range tables {
				if !done[t.name] {
					left = append(left, t.name)
				}
			}
			return nil, fmt.Errorf("the source: the foreign keys of %s form a cycle; the move cannot order them", strings.Join(left, ", "))
		}
	}
	return out, nil
}

// selectSQL reads the table for COPY. A reference to its own table whose
// target has a higher key than the row (a remote reply older than what it
// answers, a reblog of a status dated later) is left NULL and set after the
// table is in (forwardRefs): rows arrive in key order, so every other
// reference names a row that arrived before it, or in the same COPY
// statement, whose checks run at its end.
func (t copyTable) selectSQL() string {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = quoteIdent(c)
		if slices.Contains(t.selfRefs, c) {
			cols[i] = "CASE WHEN " + quoteIdent(c) + " > " + quoteIdent(t.pk[0]) + " THEN NULL ELSE " + quoteIdent(c) + " END"
		}
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(t.name)
	if len(t.selfRefs) > 0 {
		q += " ORDER BY " + quoteIdent(t.pk[0])
	}
	return q
}

// copyToPostgres copies every table of s (SQLite) into dst (PostgreSQL,
// migrated to the same version, empty): one read transaction on s, so the
// copy is of one moment, and one transaction on dst, so the target gets all
// of it or nothing.
func (s *Store) copyToPostgres(ctx context.Context, dst *Store, rep *MoveReport, progress func(MoveProgress), lim moveLimits) error {
	if s.dialect != dialectSQLite || dst.dialect != dialectPostgres {
		return errors.New("a move goes from SQLite to PostgreSQL")
	}
	if progress == nil {
		progress = func(MoveProgress) {}
	}
	all, err := migrations(dialectSQLite)
	if err != nil {
		return err
	}
	known := len(all)
	rtx, err := s.read.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("the source: %w", err)
	}
	defer rtx.Rollback()
	// The snapshot starts at the first read: this one.
	if err := rtx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&rep.SchemaVersion); err != nil {
		return fmt.Errorf("the source: read its schema version: %w", err)
	}
	if rep.SchemaVersion != known {
		return fmt.Errorf("the source's schema version is %d, this binary's %d", rep.SchemaVersion, known)
	}
	tables, err := sqliteTables(ctx, rtx)
	if err != nil {
		return err
	}
	conn, err := dst.write.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("the target: %w", flatError{pgError(err)})
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the target: not a pgx connection (%T)", dc)
		}
		tx, err := c.Conn().Begin(ctx)
		if err != nil {
			return fmt.Errorf("the target: %w", pgError(err))
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		if err := moveRows(ctx, rtx, tx, tables, known, rep, progress, lim); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("the target: commit: %w", pgError(err))
		}
		return nil
	})
}

// trigger is a user trigger on the target.
type trigger struct{ table, name string }

// moveRows does the copy inside the target's transaction tx.
func moveRows(ctx context.Context, rtx *sql.Tx, tx pgx.Tx, tables []copyTable, known int, rep *MoveReport, progress func(MoveProgress), lim moveLimits) error {
	// A move is one long transaction, run once by hand: the server's
	// limits for requests do not apply to it.
	for _, q := range []string{`SET LOCAL statement_timeout = 0`, `SET LOCAL idle_in_transaction_session_timeout = 0`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("the target: %s: %w", q, pgError(err))
		}
	}
	// A server started on the target meanwhile waits for the move's end.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKeyWrites); err != nil {
		return fmt.Errorf("the target: wait for the write lock: %w", pgError(err))
	}
	if err := checkTargetEmpty(ctx, tx, known, true); err != nil {
		return err
	}
	for _, t := range tables {
		cols, err := pgColumns(ctx, tx, t.name)
		if err != nil {
			return err
		}
		if len(cols) == 0 {
			return fmt.Errorf("the target has no table %s: the two engines' schemas differ", t.name)
		}
		if !slices.Equal(cols, t.columns) {
			return fmt.Errorf("table %s: the columns differ: SQLite has (%s), PostgreSQL (%s)", t.name,
				strings.Join(t.columns, ", "), strings.Join(cols, ", "))
		}
	}
	triggers, err := userTriggers(ctx, tx, tables)
	if err != nil {
		return err
	}
	// The counters' triggers would count every copied row again on top
	// of the copied counters (account_stats, instance_stats), and the
	// account trigger would insert the account_stats rows the copy
	// brings. They are off for this transaction only: ALTER TABLE is
	// transactional, and a table's owner may do it (no superuser, as
	// managed databases give none; session_replication_role would need
	// one). Foreign keys are still checked: they are not user triggers.
	for _, tr := range triggers {
		if _, err := tx.Exec(ctx, `ALTER TABLE `+quoteIdent(tr.table)+` DISABLE TRIGGER `+quoteIdent(tr.name)); err != nil {
			return fmt.Errorf("the target: turn off trigger %s on %s for the copy (the DSN's user must own Rampart's tables): %w", tr.name, tr.table, pgError(err))
		}
	}
	// The migrations' own rows make way for the source's.
	for _, t := range tables {
		if migrationRows[t.name] {
			if _, err := tx.Exec(ctx, `DELETE FROM `+quoteIdent(t.name)); err != nil {
				return fmt.Errorf("the target: clear %s: %w", t.name, pgError(err))
			}
		}
	}
	copied := make([]int64, len(tables))
	for i, t := range tables {
		if copied[i], err = copyRows(ctx, rtx, tx, t, progress, lim.chunk); err != nil {
			return err
		}
		if err := forwardRefs(ctx, rtx, tx, t, lim.fixups); err != nil {
			return err
		}
	}
	for _, tr := range triggers {
		if _, err := tx.Exec(ctx, `ALTER TABLE `+quoteIdent(tr.table)+` ENABLE TRIGGER `+quoteIdent(tr.name)); err != nil {
			return fmt.Errorf("the target: turn trigger %s on %s back on: %w", tr.name, tr.table, pgError(err))
		}
	}
	if rep.Sequences, err = setSequences(ctx, tx); err != nil {
		return err
	}
	// Counted again on both sides, in the same snapshot and transaction
	// as the copy: a difference fails the move before it commits.
	var differ []string
	for i, t := range tables {
		r := TableRows{Table: t.name}
		if err := rtx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(t.name)).Scan(&r.Source); err != nil {
			return fmt.Errorf("the source: count %s: %w", t.name, err)
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+quoteIdent(t.name)).Scan(&r.Target); err != nil {
			return fmt.Errorf("the target: count %s: %w", t.name, pgError(err))
		}
		if r.Source != r.Target || r.Source != copied[i] {
			differ = append(differ, fmt.Sprintf("%s: %d in SQLite, %d copied, %d in PostgreSQL", t.name, r.Source, copied[i], r.Target))
		}
		rep.Tables = append(rep.Tables, r)
	}
	if len(differ) > 0 {
		return fmt.Errorf("the row counts differ, nothing was kept: %s", strings.Join(differ, "; "))
	}
	return nil
}

// copyRows streams table t from the source into the target, chunk rows per
// COPY statement, and returns how many it copied.
func copyRows(ctx context.Context, rtx *sql.Tx, tx pgx.Tx, t copyTable, progress func(MoveProgress), chunk int) (int64, error) {
	rows, err := rtx.QueryContext(ctx, t.selectSQL())
	if err != nil {
		return 0, fmt.Errorf("the source: read %s: %w", t.name, err)
	}
	defer rows.Close()
	src := newRowSource(rows, len(t.columns))
	for src.fetch() {
		src.left = chunk
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, src); err != nil {
			if src.err != nil {
				return 0, fmt.Errorf("the source: read %s: %w", t.name, src.err)
			}
			return 0, fmt.Errorf("copy %s (after %d rows): %w", t.name, src.n, pgError(err))
		}
		progress(MoveProgress{Table: t.name, Rows: src.n})
	}
	if src.err != nil {
		return 0, fmt.Errorf("the source: read %s: %w", t.name, src.err)
	}
	progress(MoveProgress{Table: t.name, Rows: src.n, Done: true})
	return src.n, nil
}

// rowSource hands the rows of one source query to COPY (pgx.CopyFromSource)
// one at a time, at most left per statement: memory holds one row.
type rowSource struct {
	rows *sql.Rows
	vals []any
	ptrs []any
	held bool  // vals holds a row not handed over yet
	left int   // rows the current statement may still take
	n    int64 // rows handed over
	err  error
}

func newRowSource(rows *sql.Rows, columns int) *rowSource {
	r := &rowSource{rows: rows, vals: make([]any, columns), ptrs: make([]any, columns)}
	for i := range r.vals {
		r.ptrs[i] = &r.vals[i]
	}
	return r
}

// fetch makes sure a row is held, reading the next if none is: false when
// the rows are done (or failed, in err).
func (r *rowSource) fetch() bool {
	if r.held {
		return true
	}
	if r.err != nil || !r.rows.Next() {
		if r.err == nil {
			r.err = r.rows.Err()
		}
		return false
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		r.err = err
		return false
	}
	r.held = true
	return true
}

func (r *rowSource) Next() bool {
	if r.left <= 0 || !r.fetch() {
		return false
	}
	r.held = false
	r.left--
	r.n++
	return true
}

func (r *rowSource) Values() ([]any, error) { return r.vals, nil }

func (r *rowSource) Err() error { return r.err }

// forwardRefs sets the references to its own table that selectSQL left
// NULL, now that every row they name is in.
func forwardRefs(ctx context.Context, rtx *sql.Tx, tx pgx.Tx, t copyTable, batchSize int) error {
	for _, col := range t.selfRefs {
		pk, c := quoteIdent(t.pk[0]), quoteIdent(col)
		rows, err := rtx.QueryContext(ctx, `SELECT `+pk+`, `+c+` FROM `+quoteIdent(t.name)+` WHERE `+c+` > `+pk+` ORDER BY `+pk)
		if err != nil {
			return fmt.Errorf("the source: read %s.%s: %w", t.name, col, err)
		}
		update := `UPDATE ` + quoteIdent(t.name) + ` SET ` + c + ` = $2 WHERE ` + pk + ` = $1`
		batch := &pgx.Batch{}
		send := func() error {
			if batch.Len() == 0 {
				return nil
			}
			br := tx.SendBatch(ctx, batch)
			for range batch.Len() {
				if ct, err := br.Exec(); err != nil {
					br.Close()
					return fmt.Errorf("copy %s.%s: %w", t.name, col, pgError(err))
				} else if ct.RowsAffected() != 1 {
					br.Close()
					return fmt.Errorf("copy %s.%s: a row to update is missing", t.name, col)
				}
			}
			batch = &pgx.Batch{}
			return br.Close()
		}
		for rows.Next() {
			var id, ref any
			if err := rows.Scan(&id, &ref); err != nil {
				rows.Close()
				return fmt.Errorf("the source: read %s.%s: %w", t.name, col, err)
			}
			batch.Queue(update, id, ref)
			if batch.Len() >= batchSize {
				if err := send(); err != nil {
					rows.Close()
					return err
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("the source: read %s.%s: %w", t.name, col, err)
		}
		if err := send(); err != nil {
			return err
		}
	}
	return nil
}

// userTriggers lists the enabled user triggers on the tables to copy.
func userTriggers(ctx context.Context, tx pgx.Tx, tables []copyTable) ([]trigger, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
		AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("the target: list its triggers: %w", pgError(err))
	}
	defer rows.Close()
	var out []trigger
	for rows.Next() {
		var tr trigger
		if err := rows.Scan(&tr.table, &tr.name); err != nil {
			return nil, fmt.Errorf("the target: list its triggers: %w", pgError(err))
		}
		if slices.ContainsFunc(tables, func(t copyTable) bool { return t.name == tr.table }) {
			out = append(out, tr)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("the target: list its triggers: %w", pgError(err))
	}
	return out, nil
}

// setSequences moves each identity column's sequence past the highest id
// copied: rows came with their ids, which a sequence does not see.
func setSequences(ctx context.Context, tx pgx.Tx) ([]SequenceNext, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		WHERE a.attidentity <> '' AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind = 'r'
		AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("the target: list its identity columns: %w", pgError(err))
	}
	var seqs []SequenceNext
	for rows.Next() {
		var s SequenceNext
		if err := rows.Scan(&s.Table, &s.Column); err != nil {
			rows.Close()
			return nil, fmt.Errorf("the target: list its identity columns: %w", pgError(err))
		}
		seqs = append(seqs, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("the target: list its identity columns: %w", pgError(err))
	}
	for i, s := range seqs {
		// is_called false: the next nextval returns the value itself.
		if err := tx.QueryRow(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(`+quoteIdent(s.Column)+`) FROM `+
			quoteIdent(s.Table)+`), 0) + 1, false)`, quoteIdent(s.Table), s.Column).Scan(&seqs[i].Next); err != nil {
			return nil, fmt.Errorf("the target: set the sequence of %s.%s: %w", s.Table, s.Column, pgError(err))
		}
	}
	return seqs, nil
}

// pgColumns lists table's columns on the target, in order; none when the
// table is missing.
func pgColumns(ctx context.Context, q pgQuerier, table string) ([]string, error) {
	cols, err := pgStrings(ctx, q, `SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1)
		AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, quoteIdent(table))
	if err != nil {
		return nil, fmt.Errorf("the target: columns of %s: %w", table, err)
	}
	return cols, nil
}

func pgStrings(ctx context.Context, q pgQuerier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, pgError(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, pgError(err)
}

func sqlStrings(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
