package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/store"
)

// runMain runs the command line in process and returns its output and
// exit status.
func runMain(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(context.Background(), args, IO{Stdin: strings.NewReader(""), Stdout: &o, Stderr: &e, Environ: env}, instance.Options{})
	return o.String(), e.String(), code
}

// oneLine checks a failure's contract: the status, one stderr line, and
// what it says.
func oneLine(t *testing.T, stderr string, code, wantCode int, want string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("exit %d, want %d (%q)", code, wantCode, stderr)
	}
	if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want one line with %q", stderr, want)
	}
}

func TestMigrateCommandLine(t *testing.T) {
	dir := t.TempDir()
	dsnFile := filepath.Join(dir, "dsn")
	if err := os.WriteFile(dsnFile, []byte("postgres://u:secret@127.0.0.1:1/db\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{envDSN + "=postgres://env:secret@127.0.0.1:1/db"}
	migrate := func(env []string, args ...string) (string, string, int) {
		t.Helper()
		return runMain(t, env, append([]string{"admin", "db", "migrate"}, args...)...)
	}

	_, stderr, code := migrate(nil, "--to", "postgres://x@h/db")
	oneLine(t, stderr, code, ExitUsage, "--from is required")
	_, stderr, code = migrate(nil, "--from", "postgres://x@h/db", "--to", "postgres://x@h/db")
	oneLine(t, stderr, code, ExitUsage, "only an SQLite database can be moved")
	_, stderr, code = migrate(nil, "--from", "sqlite:", "--to", "postgres://x@h/db")
	oneLine(t, stderr, code, ExitUsage, "--from sqlite: names no file")
	_, stderr, code = migrate(nil, "--from", "sqlite:a.db")
	oneLine(t, stderr, code, ExitUsage, "--to is required")
	_, stderr, code = migrate(nil, "--from", "sqlite:a.db", "--to", "mysql://root:hunter2@h/db")
	oneLine(t, stderr, code, ExitUsage, "the target must be PostgreSQL")
	if strings.Contains(stderr, "hunter2") {
		t.Errorf("a wrong --to is repeated with its password: %q", stderr)
	}
	_, stderr, code = migrate(nil, "--from", "sqlite:a.db", "--to", "postgres:")
	oneLine(t, stderr, code, ExitUsage, "--to postgres: names no DSN")
	_, stderr, code = migrate(env, "--from", "sqlite:a.db", "--to", "postgres:", "--to-dsn-file", dsnFile)
	oneLine(t, stderr, code, ExitUsage, "both set: give the DSN once")
	_, stderr, code = migrate(nil, "--from", "sqlite:a.db", "--to", "postgres:host=h", "--to-dsn-file", dsnFile)
	oneLine(t, stderr, code, ExitUsage, "give it once")
	_, stderr, code = migrate(nil, "--from", "sqlite:a.db", "--to", "postgres:", "--to-dsn-file", filepath.Join(dir, "absent"))
	oneLine(t, stderr, code, ExitError, "--to-dsn-file: open "+filepath.Join(dir, "absent")+": no such file or directory")
	_, stderr, code = migrate(nil, "--from", "sqlite:a.db", "--to", "postgres:", "extra")
	oneLine(t, stderr, code, ExitUsage, `unexpected argument "extra"`)

	// The source is checked before the target is reached.
	missing := filepath.Join(dir, "missing.db")
	_, stderr, code = migrate(env, "--from", "sqlite:"+missing, "--to", "postgres:")
	oneLine(t, stderr, code, ExitError, "the source: stat "+missing+": no such file or directory")
	if _, err := os.Stat(missing); err == nil {
		t.Error("the missing source was created")
	}
	// An unreachable target: one line, no password, the source untouched.
	src := filepath.Join(dir, "rampart.db")
	st, err := store.OpenSQLite(context.Background(), src, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	before, _ := os.ReadFile(src)
	stdout, stderr, code := migrate(nil, "--from", "sqlite:"+src, "--to", "postgres:", "--to-dsn-file", dsnFile)
	oneLine(t, stderr, code, ExitError, "the target: connect to PostgreSQL")
	if strings.Contains(stderr+stdout, "secret") {
		t.Errorf("the password is shown: %q %q", stdout, stderr)
	}
	if !strings.Contains(stdout, "to postgres: u@127.0.0.1:1/db") {
		t.Errorf("stdout %q does not name the target without its password", stdout)
	}
	if after, _ := os.ReadFile(src); !bytes.Equal(before, after) {
		t.Error("a refused move changed the source")
	}

	// The help says where the DSN is safe.
	_, stderr, code = migrate(nil, "-h")
	if code != ExitOK || !strings.Contains(stderr, "visible to every user of\nthis machine in the process list") || !strings.Contains(stderr, "-to-dsn-file") {
		t.Errorf("help: %d %q", code, stderr)
	}
}

func TestPostgresTargetForms(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "dsn")
	os.WriteFile(file, []byte("  host=/run/postgresql dbname=rampart  \n"), 0o600)
	for _, c := range []struct {
		to, file, env, want string
	}{
		{"postgres://u:p@db.example/rampart?sslmode=verify-full", "", "", "postgres://u:p@db.example/rampart?sslmode=verify-full"},
		{"postgresql://u@db.example/rampart", "", "", "postgresql://u@db.example/rampart"},
		{"postgres:postgres://u@h/db", "", "", "postgres://u@h/db"},
		{"postgres:host=h dbname=d", "", "", "host=h dbname=d"},
		{"postgres:host=h", "", "postgres://ignored", "host=h"},
		{"postgres:", file, "", "host=/run/postgresql dbname=rampart"},
		{"postgres:", "", "postgres://from-env/db", "postgres://from-env/db"},
	} {
		var env []string
		if c.env != "" {
			env = []string{envDSN + "=" + c.env}
		}
		got, err := postgresTarget(c.to, c.file, IO{Environ: env})
		if err != nil || got != c.want {
			t.Errorf("--to %q --to-dsn-file %q env %q: %q %v, want %q", c.to, c.file, c.env, got, err, c.want)
		}
	}
}

func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	cfgText, stderr, code := runMain(t, nil, "gen", "config", "--domain", "example.test", "--media-domain", "media.example.test")
	if code != 0 {
		t.Fatalf("gen config: %s", stderr)
	}
	cfg := filepath.Join(dir, "rampart.toml")
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	env := []string{"RAMPART_DATA_DIR=" + data}
	dest := filepath.Join(dir, "backup.db")

	_, stderr, code = runMain(t, env, "admin", "db", "backup", "--config", cfg)
	oneLine(t, stderr, code, ExitUsage, "--to FILE is required")

	_, stderr, code = runMain(t, append(env, "RAMPART_DATABASE_DRIVER=postgres", "RAMPART_DATABASE_DSN=postgres://u:secret@127.0.0.1:1/db"),
		"admin", "db", "backup", "--config", cfg, "--to", dest)
	oneLine(t, stderr, code, ExitError, "pg_dump --format=custom")
	if strings.Contains(stderr, "secret") {
		t.Errorf("the DSN's password is shown: %q", stderr)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Error("a PostgreSQL config's backup wrote a file")
	}

	_, stderr, code = runMain(t, env, "admin", "db", "backup", "--config", cfg, "--to", dest)
	oneLine(t, stderr, code, ExitError, "the database: stat "+filepath.Join(data, "rampart.db")+": no such file or directory")

	st, err := store.OpenSQLite(context.Background(), filepath.Join(data, "rampart.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetSetting(context.Background(), "k", "kept"); err != nil {
		t.Fatal(err)
	}
	defer st.Close() // open: the backup is taken beside a live store
	stdout, stderr, code := runMain(t, env, "admin", "db", "backup", "--config", cfg, "--to", dest)
	if code != 0 || !strings.Contains(stdout, "backed up "+filepath.Join(data, "rampart.db")) || !strings.Contains(stdout, "to "+dest) {
		t.Fatalf("backup: %d %q %q", code, stdout, stderr)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file %v %v, want mode 0600", fi, err)
	}
	b, err := store.OpenSQLite(context.Background(), dest, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := b.Setting(context.Background(), "k"); err != nil || !ok || v != "kept" {
		t.Errorf("the backup's setting: %q %v %v", v, ok, err)
	}
	b.Close()

	_, stderr, code = runMain(t, env, "admin", "db", "backup", "--config", cfg, "--to", dest)
	oneLine(t, stderr, code, ExitError, "exists already")
}
