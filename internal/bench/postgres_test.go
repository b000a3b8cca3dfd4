//go:build linux

package bench

// BENCH_DB=postgres: the same dataset, seeded into SQLite as always (and
// cached in BENCH_SEED_DIR), moved into a fresh PostgreSQL database by the
// real binary's `admin db migrate`, as an operator moves an instance; then
// served by BENCH_PROCESSES `rampart serve` processes sharing it.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testdb"
)

// benchDB is the engine of this run: "sqlite" (the default) or "postgres".
// (BENCH_DB, not RAMPART_BENCH_DB: RAMPART_* names are the binary's config
// overrides; scripts/bench translates the RAMPART_BENCH_DB.)
func benchDB() (string, error) {
	switch v := os.Getenv("BENCH_DB"); v {
	case "", "sqlite":
		return "sqlite", nil
	case "postgres":
		return "postgres", nil
	default:
		return "", fmt.Errorf("BENCH_DB=%q: want sqlite or postgres", v)
	}
}

// skipOnPostgres skips the benchmarks that seed and start a server of their
// own (Streaming, Delivery): they are SQLite's only, and a figure labelled
// with the run's engine must be that engine's.
func skipOnPostgres(b *testing.B) {
	if db, _ := benchDB(); db == "postgres" {
		b.Skip("its own server is SQLite's; BENCH_DB=postgres covers the seeded server's benchmarks only")
	}
}

// pgRun is the run's own PostgreSQL database.
type pgRun struct {
	admin *sql.DB // BENCH_POSTGRES: the maintenance database, to create and drop it
	name  string
	dsn   string
	// postmaster is the cluster's postmaster pid when the cluster runs on
	// this machine (0 otherwise): the database's CPU is its processes'.
	postmaster int
}

// newPostgres creates an empty database for this run on the server
// BENCH_POSTGRES names (a DSN of a role that may create databases), so that
// every run starts from the same state, and says how the server is set up.
func newPostgres(ctx context.Context) (*pgRun, error) {
	base := os.Getenv("BENCH_POSTGRES")
	if base == "" {
		return nil, errors.New("BENCH_DB=postgres needs BENCH_POSTGRES, a DSN of a role that may create databases (scripts/bench starts a cluster of its own and sets it)")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return nil, fmt.Errorf("BENCH_POSTGRES: %w", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	p := &pgRun{admin: admin, name: "rampart_bench_" + hex.EncodeToString(b)}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+p.name+` ENCODING 'UTF8' TEMPLATE template0`); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create the run's database: %w", err)
	}
	p.dsn = testdb.WithDatabase(base, p.name)
	var version, fsync, syncCommit, fpw, buffers string
	var backend int
	if err := admin.QueryRowContext(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		current_setting('synchronous_commit'), current_setting('full_page_writes'), current_setting('shared_buffers'),
		pg_backend_pid()`).Scan(&version, &fsync, &syncCommit, &fpw, &buffers, &backend); err != nil {
		p.drop()
		return nil, err
	}
	// A backend's parent is the postmaster, when /proc shows it (the
	// cluster on this machine, in this pid namespace).
	if st, err := procStat(backend); err == nil && len(st) > 1 {
		p.postmaster, _ = strconv.Atoi(st[1])
	}
	logf("postgres: database %s on PostgreSQL %s (fsync %s, synchronous_commit %s, full_page_writes %s, shared_buffers %s); postmaster pid %d",
		p.name, version, fsync, syncCommit, fpw, buffers, p.postmaster)
	return p, nil
}

// move copies the SQLite database at dbPath into the run's database with
// `rampart admin db migrate`, then has PostgreSQL gather its statistics
// (VACUUM ANALYZE, what autovacuum would do within a minute or so of such
// a load), so that the first benchmark's plans are not made blind.
func (p *pgRun) move(ctx context.Context, binary, dbPath string) error {
	t := time.Now()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, "admin", "db", "migrate", "--from", "sqlite:"+dbPath, "--to", "postgres:")
	// The DSN through the environment: a command line is in the process list.
	cmd.Env = append(cleanEnv(), "RAMPART_DATABASE_DSN="+p.dsn)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("rampart admin db migrate: %v:\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	summary := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "moved ") {
			summary = l
		}
	}
	logf("postgres: rampart admin db migrate in %.1f s: %s", time.Since(t).Seconds(), summary)
	db, err := sql.Open("pgx", p.dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	t = time.Now()
	if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE)`); err != nil {
		return fmt.Errorf("VACUUM ANALYZE: %w", err)
	}
	var size int64
	if err := db.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&size); err != nil {
		return err
	}
	logf("postgres: VACUUM ANALYZE in %.1f s; database %.0f MiB", time.Since(t).Seconds(), float64(size)/(1<<20))
	return nil
}

// drop removes the run's database (and ends its sessions: the servers are
// stopped by then, this only makes sure).
func (p *pgRun) drop() {
	if p == nil || p.admin == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := p.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+p.name+` WITH (FORCE)`); err != nil {
		logf("postgres: drop %s: %v", p.name, err)
	}
	p.admin.Close()
	p.admin = nil
}

// cpu is the CPU time of the whole cluster so far: the postmaster's own and
// that of its children that ended (cutime, cstime), plus the live ones'
// (backends, the WAL writer, the checkpointer, autovacuum). A backend that
// ends between two readings moves its time from the second part to the
// first, so differences stay right. 0 when the cluster is not on this
// machine; other databases' work on the same cluster counts too.
func (p *pgRun) cpu() time.Duration {
	if p == nil || p.postmaster == 0 {
		return 0
	}
	st, err := procStat(p.postmaster)
	if err != nil || len(st) < 15 {
		return 0
	}
	ticks := statTicks(st, 11) + statTicks(st, 12) + statTicks(st, 13) + statTicks(st, 14)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == p.postmaster {
			continue
		}
		if st, err := procStat(pid); err == nil && len(st) >= 13 && st[1] == strconv.Itoa(p.postmaster) {
			ticks += statTicks(st, 11) + statTicks(st, 12)
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// procStat is /proc/pid/stat's fields after the command name: [0] the
// state, [1] the parent's pid, [11] and [12] utime and stime, [13] and [14]
// the ended children's.
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	return strings.Fields(s[i+1:]), nil
}

func statTicks(fields []string, i int) int64 {
	n, _ := strconv.ParseInt(fields[i], 10, 64)
	return n
}
