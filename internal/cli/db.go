package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/store"
)

// The `admin db` commands: moving an instance from SQLite to PostgreSQL,
// and an online backup of SQLite. The work is the store's
// (store.MoveToPostgres, store.BackupSQLite); these parse and print.

const migrateHelp = `Usage: rampart admin db migrate --from sqlite:PATH --to postgres:[DSN] [--to-dsn-file FILE]

Copies a whole instance from its SQLite database into an empty PostgreSQL
database in one transaction, then compares every table's rows on both
sides. Stop the server first: what it writes after the copy is not moved.
A source older than this binary is migrated to its schema first, as
'rampart serve' would do (take a backup before: rampart admin db backup).
The uploads stay in data_dir: keep the same data_dir in the new config.

A DSN on the command line, password and all, is visible to every user of
this machine in the process list. Give --to postgres: alone, with the DSN
in --to-dsn-file or in RAMPART_DATABASE_DSN.

Flags:
`

// progressEvery is how often a big table's copy reports on stderr.
const progressEvery = 100_000

func runAdminDBMigrate(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs := newFlags("admin db migrate", io)
	from := fs.String("from", "", "the instance's SQLite database, as sqlite:PATH (required)")
	to := fs.String("to", "", "the empty PostgreSQL database, as postgres:DSN (a URL or key=value words), or postgres: alone\n"+
		"with the DSN from --to-dsn-file or $RAMPART_DATABASE_DSN (required; a DSN here is visible in the process list)")
	dsnFile := fs.String("to-dsn-file", "", "a file whose first line is the target's DSN (with --to postgres:)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), migrateHelp)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	path, err := sqliteSource(*from)
	if err != nil {
		return err
	}
	dsn, err := postgresTarget(*to, *dsnFile, io)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	target := store.DescribeDSN(dsn)
	fmt.Fprintf(io.Stdout, "moving sqlite:%s to postgres: %s\n", path, target)
	rep, err := store.MoveToPostgres(ctx, path, dsn, log, func(p store.MoveProgress) {
		if p.Warning != "" {
			fmt.Fprintf(io.Stderr, "WARNING: %s\n", p.Warning)
		} else if !p.Done && p.Rows%progressEvery == 0 {
			fmt.Fprintf(io.Stderr, "copying %s: %d rows so far\n", p.Table, p.Rows)
		}
	})
	if err != nil {
		return err
	}
	if rep.SourceVersion != rep.SchemaVersion {
		fmt.Fprintf(io.Stdout, "the source was migrated from schema version %d to %d first\n", rep.SourceVersion, rep.SchemaVersion)
	}
	width := len("total")
	var total int64
	for _, t := range rep.Tables {
		width = max(width, len(t.Table))
		total += t.Target
	}
	fmt.Fprintf(io.Stdout, "%-*s %10s %10s\n", width, "table", "sqlite", "postgres")
	for _, t := range rep.Tables {
		fmt.Fprintf(io.Stdout, "%-*s %10d %10d\n", width, t.Table, t.Source, t.Target)
	}
	fmt.Fprintf(io.Stdout, "%-*s %10d %10d\n", width, "total", total, total)
	var seqs []string
	for _, s := range rep.Sequences {
		seqs = append(seqs, fmt.Sprintf("%s.%s next %d", s.Table, s.Column, s.Next))
	}
	if len(seqs) > 0 {
		fmt.Fprintf(io.Stdout, "identity sequences: %s\n", strings.Join(seqs, ", "))
	}
	fmt.Fprintf(io.Stdout, "moved %d rows in %d tables (schema version %d); every table's rows match.\n", total, len(rep.Tables), rep.SchemaVersion)
	fmt.Fprintln(io.Stdout, `next: set database.driver = "postgres" and the DSN (database.dsn_file or RAMPART_DATABASE_DSN) in the config,`+
		" keep data_dir (the uploads stay there), start the server; keep the SQLite file as the backup of this moment")
	return nil
}

// sqliteSource reads --from sqlite:PATH.
func sqliteSource(from string) (string, error) {
	if from == "" {
		return "", usageError{"--from is required: --from sqlite:PATH (the instance's database file)"}
	}
	path, ok := strings.CutPrefix(from, "sqlite:")
	if !ok {
		return "", usageError{fmt.Sprintf("--from %q: only an SQLite database can be moved; give --from sqlite:PATH", from)}
	}
	if path == "" {
		return "", usageError{"--from sqlite: names no file; give --from sqlite:PATH"}
	}
	return path, nil
}

// postgresTarget reads --to postgres:DSN, or --to postgres: with the DSN
// from --to-dsn-file or RAMPART_DATABASE_DSN (exactly one of them).
func postgresTarget(to, dsnFile string, io IO) (string, error) {
	if to == "" {
		return "", usageError{"--to is required: --to postgres:DSN, or --to postgres: with --to-dsn-file or " + envDSN}
	}
	var dsn string
	switch {
	case strings.HasPrefix(to, "postgres://"), strings.HasPrefix(to, "postgresql://"):
		dsn = to // a URL DSN whole: its scheme is the prefix
	case strings.HasPrefix(to, "postgres:"):
		dsn = strings.TrimPrefix(to, "postgres:")
	default:
		return "", usageError{fmt.Sprintf("--to %q: the target must be PostgreSQL: --to postgres:DSN, or --to postgres: with --to-dsn-file or %s", redactTo(to), envDSN)}
	}
	env := io.getenv(envDSN)
	switch {
	case dsn != "" && dsnFile != "":
		return "", usageError{"--to names a DSN and --to-dsn-file another: give it once"}
	case dsn != "":
		return dsn, nil
	case dsnFile != "" && env != "":
		return "", usageError{"--to-dsn-file and " + envDSN + " are both set: give the DSN once"}
	case dsnFile != "":
		data, err := os.ReadFile(dsnFile)
		if err != nil {
			return "", fmt.Errorf("--to-dsn-file: %w", err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		if line = strings.TrimSpace(line); line == "" {
			return "", fmt.Errorf("--to-dsn-file: the first line of %s is empty", dsnFile)
		}
		return line, nil
	case env != "":
		return strings.TrimSpace(env), nil
	}
	return "", usageError{"--to postgres: names no DSN: give --to-dsn-file FILE or set " + envDSN + " (or --to postgres:DSN)"}
}

// envDSN is the variable the server reads its DSN from, read here too.
const envDSN = config.EnvVarPrefix + "DATABASE_DSN"

// redactTo shows a wrong --to without what may be a password in it.
func redactTo(to string) string {
	if scheme, _, ok := strings.Cut(to, ":"); ok {
		return scheme + ":…"
	}
	return to
}

func runAdminDBBackup(ctx context.Context, args []string, io IO, _ instance.Options) error {
	fs, cfgPath := adminFlags("admin db backup", io)
	to := fs.String("to", "", "the backup file to write: a new file, created with mode 0600 (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return usageError{"--to FILE is required: the new file to write the backup to"}
	}
	cfg, _, err := loadConfig(*cfgPath, io)
	if err != nil {
		return err
	}
	if cfg.Database.Driver == config.DriverPostgres {
		return errors.New(`database.driver is "postgres": back it up with PostgreSQL's own tool, e.g. ` +
			`pg_dump --format=custom --file=rampart.dump "$DSN" (restore with pg_restore); nothing was done`)
	}
	rep, err := store.BackupSQLite(ctx, cfg.DatabasePath(), *to)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "backed up %s (schema version %d) to %s: %d bytes, mode 0600, SQLite's check ok\n",
		cfg.DatabasePath(), rep.SchemaVersion, rep.Path, rep.Bytes)
	fmt.Fprintf(io.Stdout, "the uploads in %s are not in it: back them up after the database\n", cfg.MediaDir())
	return nil
}
