// Package testdb gives a test a database of its own on the engine the run is
// for. A run is PostgreSQL's when TEST_POSTGRES names a server (scripts/test
// starts a throwaway cluster and sets it; see scripts/postgres), SQLite's
// otherwise. Only _test.go files import it; it needs only the standard
// library and pgx.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"       // registers "pgx"
	_ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3"
)

// EnvPostgres names the variable holding a superuser DSN to the cluster's
// maintenance database.
const EnvPostgres = "TEST_POSTGRES"

// EnvPostgresCA names the file of the cluster's test CA (for sslmode=verify-full).
const EnvPostgresCA = "TEST_POSTGRES_CA"

// EnvPostgresApp names the variable holding the DSN of the role without
// privileges that owns each test's database and that tests connect as.
const EnvPostgresApp = "TEST_POSTGRES_APP"

// EnvPostgresSocket names the directory of the cluster's unix socket.
const EnvPostgresSocket = "TEST_POSTGRES_SOCKET"

// Postgres reports whether this run is PostgreSQL's.
func Postgres() bool { return os.Getenv(EnvPostgres) != "" }

// Engine is "postgres" or "sqlite", as database.driver names them.
func Engine() string {
	if Postgres() {
		return "postgres"
	}
	return "sqlite"
}

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
)

func adminDB() (*sql.DB, error) {
	adminOnce.Do(func() {
		admin, adminErr = sql.Open("pgx", os.Getenv(EnvPostgres))
		if adminErr == nil {
			admin.SetMaxOpenConns(4)
		}
	})
	return admin, adminErr
}

// NewPostgres creates an empty database for the test and returns its DSN;
// the database is dropped when the test ends (its connections with it).
// It fails the test when this run is not PostgreSQL's.
func NewPostgres(t testing.TB) string {
	t.Helper()
	return newPostgres(t, "template0")
}

// appOwner is the OWNER clause and DSN for a new database: the role
// without privileges that tests connect as, when the cluster has one (no
// superuser, as Rampart runs on a real server), else the admin DSN.
func appOwner(base string) (owner, dsn string) {
	owner, dsn = "", base
	if app := os.Getenv(EnvPostgresApp); app != "" {
		if u, err := url.Parse(app); err == nil && u.User != nil {
			owner, dsn = " OWNER "+u.User.Username(), app
		}
	}
	return owner, dsn
}

// NewTemplate creates an empty database to be made a template of (by
// storetest, which migrates it once per test process) and returns its name
// and DSN. It stays until the cluster is thrown away.
func NewTemplate() (name, dsn string, err error) {
	base := os.Getenv(EnvPostgres)
	if base == "" {
		return "", "", fmt.Errorf("%s is not set: this run is SQLite's", EnvPostgres)
	}
	db, err := adminDB()
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", EnvPostgres, err)
	}
	name = "rampart_template_" + randomHex()
	owner, dsn := appOwner(base)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name+owner+` ENCODING 'UTF8' TEMPLATE template0`); err != nil {
		return "", "", fmt.Errorf("create template database: %w", err)
	}
	return name, WithDatabase(dsn, name), nil
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newPostgres is NewPostgres with the database copied from template (whose
// name comes from this package: no quoting needed).
func newPostgres(t testing.TB, template string) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Fatalf("%s is not set: this run is SQLite's", EnvPostgres)
	}
	db, err := adminDB()
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	name := "rampart_test_" + randomHex()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	owner, dsn := appOwner(base)
	create := `CREATE DATABASE ` + name + owner + ` ENCODING 'UTF8' TEMPLATE ` + template
	_, err = db.ExecContext(ctx, create)
	// A template's last connection may still be closing on the server side
	// ("source database is being accessed by other users"): a moment later
	// it is gone.
	for i := 0; err != nil && template != "template0" && strings.Contains(err.Error(), "55006") && i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		_, err = db.ExecContext(ctx, create)
	}
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		// A subtest's database may be its parent's data, opened again by a
		// later subtest (a restart): it stays until the cluster is thrown
		// away. A top-level test's goes with it.
		if strings.Contains(t.Name(), "/") {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return WithDatabase(dsn, name)
}

var byKey sync.Map // top-level test and key → DSN

// For is the PostgreSQL database that key (a test's data directory or
// database path) stands for in this test (its subtests share it): made on
// first use, dropped when the test that made it ends. Opening the same key
// again finds the same data; another test's same key is another database.
func For(t testing.TB, key string) string {
	t.Helper()
	return ForFrom(t, key, "template0")
}

// ForFrom is For, with a database made on first use as a copy of the
// database named template (NewTemplate's) rather than an empty one.
func ForFrom(t testing.TB, key, template string) string {
	t.Helper()
	top, _, _ := strings.Cut(t.Name(), "/")
	k := top + "\x00" + key
	if dsn, ok := byKey.Load(k); ok {
		return dsn.(string)
	}
	dsn, loaded := byKey.LoadOrStore(k, newPostgres(t, template))
	if !loaded && !strings.Contains(t.Name(), "/") { // a subtest's stays (NewPostgres)
		t.Cleanup(func() { byKey.Delete(k) })
	}
	return dsn.(string)
}

// ViaSocket is dsn (a URL) over the cluster's unix socket rather than TCP,
// for a process in a network namespace of its own, whose loopback is not
// the cluster's; dsn as it is when the socket is not known.
func ViaSocket(dsn string) string {
	dir := os.Getenv(EnvPostgresSocket)
	u, err := url.Parse(dsn)
	if dir == "" || err != nil || u.Scheme == "" {
		return dsn
	}
	q := u.Query()
	q.Set("host", dir)
	q.Set("port", u.Port())
	u.RawQuery = q.Encode()
	u.Host = ""
	return u.String()
}

// WithDatabase is dsn (a URL) pointed at database name.
func WithDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		// key=value words: the last dbname wins.
		return strings.TrimSpace(dsn) + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

// DB is a test's direct handle on the database it shares with the code
// under test, on either engine: statements are written with ? placeholders,
// as the store's are.
type DB struct {
	*sql.DB
	postgres bool
}

// Open opens the database at sqlitePath, or in a PostgreSQL run the
// database that path stands for (For); it is closed when the test ends.
func Open(t testing.TB, sqlitePath string) *DB {
	t.Helper()
	var db *sql.DB
	var err error
	if Postgres() {
		db, err = sql.Open("pgx", For(t, sqlitePath))
	} else {
		db, err = sql.Open("sqlite3", "file:"+(&url.URL{Path: sqlitePath}).EscapedPath()+"?_pragma=busy_timeout(5000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &DB{DB: db, postgres: Postgres()}
}

// rebind numbers ? placeholders for PostgreSQL (test statements put none
// inside quotes).
func (d *DB) rebind(q string) string {
	if !d.postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (d *DB) Exec(q string, args ...any) (sql.Result, error) { return d.DB.Exec(d.rebind(q), args...) }

func (d *DB) Query(q string, args ...any) (*sql.Rows, error) { return d.DB.Query(d.rebind(q), args...) }

func (d *DB) QueryRow(q string, args ...any) *sql.Row { return d.DB.QueryRow(d.rebind(q), args...) }

// Tables lists the database's tables by name.
func (d *DB) Tables() ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	if d.postgres {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`
	}
	rows, err := d.DB.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}
