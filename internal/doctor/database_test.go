package doctor

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-social/rampart/internal/deploy"
	"github.com/rampart-social/rampart/internal/testdb"
	"github.com/rampart-social/rampart/internal/testutil"
)

// testPassword is the password the DB tests put in their DSNs: no output
// of doctor may hold it, in any of its spellings.
const testPassword = "Sekr1t-PW_x9"

// pgConfig is how a DB test hands doctor its DSN.
type pgConfig struct {
	dsn      string      // in the config as database.dsn (when fileMode is 0)
	fileMode os.FileMode // non-zero: the DSN goes into database.dsn_file with this mode
	noFile   bool        // database.dsn_file names a file that does not exist
	extra    []string    // more lines of [database]
}

// pgDoctor runs doctor's local checks on a prod config whose database is
// PostgreSQL as c describes, and returns the report and everything doctor
// printed (the table and the JSON).
func pgDoctor(t *testing.T, c pgConfig) (*Report, string) {
	t.Helper()
	// DB reads the DSN as pgx does, PG* variables included; the test's own
	// environment must not change the mode it sees.
	for _, v := range []string{"PGSSLMODE", "PGSSLROOTCERT", "PGHOST", "PGPORT", "PGPASSWORD", "PGSERVICE", "PGSSLNEGOTIATION"} {
		t.Setenv(v, "")
	}
	dir := t.TempDir()
	db := []string{"[database]", `driver = "postgres"`}
	switch {
	case c.noFile:
		db = append(db, `dsn_file = "`+filepath.Join(dir, "absent.dsn")+`"`)
	case c.fileMode != 0:
		path := filepath.Join(dir, "database.dsn")
		if err := os.WriteFile(path, []byte(c.dsn+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, c.fileMode); err != nil {
			t.Fatal(err)
		}
		db = append(db, `dsn_file = "`+path+`"`)
	default:
		db = append(db, "dsn = "+strconv.Quote(c.dsn))
	}
	db = append(db, c.extra...)
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "rampart.toml")
	if err := os.WriteFile(cfgPath, []byte(testutil.ProdConfigText(dataDir, db...)), 0o600); err != nil {
		t.Fatal(err)
	}
	unit, err := deploy.SystemdUnit(deploy.DefaultUnitOptions())
	if err != nil {
		t.Fatal(err)
	}
	unitPath := filepath.Join(dir, "rampart.service")
	if err := os.WriteFile(unitPath, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := run(t, Options{ConfigPath: cfgPath, UnitPath: unitPath, SystemdAnalyze: "none",
		ProcDir: writeProc(t), Timeout: 3 * time.Second})
	var out bytes.Buffer
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	return rep, out.String()
}

// noSecret fails the test when out holds the password or the DSN, in any
// spelling a DSN or an error could give them.
func noSecret(t *testing.T, out, dsn string, passwords ...string) {
	t.Helper()
	for _, pw := range append(passwords, testPassword) {
		for _, form := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw), strconv.Quote(pw)[1 : len(strconv.Quote(pw))-1]} {
			if strings.Contains(out, form) {
				t.Errorf("doctor printed the password (%q):\n%s", form, out)
				return
			}
		}
	}
	if dsn != "" && strings.Contains(out, dsn) {
		t.Errorf("doctor printed the DSN:\n%s", out)
	}
}

func TestDatabaseLeftOutForSQLite(t *testing.T) {
	o := setup{}.deploy(t).opts
	o.URL = ""
	if _, ok := byID(run(t, o))["DB"]; ok {
		t.Error("DB is reported for a SQLite config")
	}
}

func TestClassifyDatabaseLoadLines(t *testing.T) {
	for line, want := range map[string]string{
		"/etc/rampart/rampart.toml: database.dsn: must be set for PostgreSQL (or …)":           "DB",
		"/etc/rampart/rampart.toml: database.dsn_file: set database.dsn or database.dsn_file…": "DB",
		`/etc/rampart/rampart.toml: database.dsn_file: "x" must be an absolute path`:           "DB",
		`database.driver: "mysql" is not available; …`:                                         "CONFIG",
		"database.max_connections: must be between 2 and 1000":                                 "CONFIG",
	} {
		if got := classifyLoadLine(line); got != want {
			t.Errorf("classifyLoadLine(%q) = %s, want %s", line, got, want)
		}
	}
}

// A PostgreSQL config without a DSN: config.Load's line goes to DB, and
// CONFIG says that is the only reason.
func TestDatabaseWithoutDSN(t *testing.T) {
	rep, out := pgDoctor(t, pgConfig{dsn: ""})
	c := byID(rep)
	if c["DB"].Verdict != Fail || !strings.Contains(c["DB"].Saw, "database.dsn: must be set") || !strings.Contains(c["DB"].Fix, "database.dsn_file") {
		t.Errorf("DB = %s %q fix %q", c["DB"].Verdict, c["DB"].Saw, c["DB"].Fix)
	}
	if c["CONFIG"].Verdict != Pass || !strings.Contains(c["CONFIG"].Saw, "reported under DB") {
		t.Errorf("CONFIG = %s %q\n%s", c["CONFIG"].Verdict, c["CONFIG"].Saw, out)
	}
}

// unreachable is a DSN doctor's connection fails on at once: nothing
// listens on port 1 of loopback.
var unreachable = "postgres://rampart:" + testPassword + "@127.0.0.1:1/rampart?sslmode=disable"

func TestDSNFileMode(t *testing.T) {
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o640, true}, // root:rampart, as the config file
		{0o440, true}, // a systemd credential: 0400 and an ACL for the service's user, whose mask stat shows as group read
		{0o644, false},
		{0o604, false},
		{0o660, false},
		{0o620, false},
		{0o666, false},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			rep, out := pgDoctor(t, pgConfig{dsn: unreachable, fileMode: tc.mode})
			c := byID(rep)["DB"]
			refused := strings.Contains(c.Saw, "others can read it or its group can change it")
			if tc.ok {
				if refused || !strings.Contains(c.Saw, "has mode "+fmtMode(tc.mode)) || strings.Contains(c.Fix, "chmod") {
					t.Errorf("mode %04o: DB saw %q fix %q", tc.mode, c.Saw, c.Fix)
				}
			} else {
				if c.Verdict != Fail || !refused || !strings.Contains(c.Saw, "has mode "+fmtMode(tc.mode)) || !strings.Contains(c.Fix, "chmod 640 ") {
					t.Errorf("mode %04o: DB %s saw %q fix %q", tc.mode, c.Verdict, c.Saw, c.Fix)
				}
			}
			// The connection is still tried (and fails here): the mode is one finding among others.
			if !strings.Contains(c.Saw, "does not answer at 127.0.0.1:1") {
				t.Errorf("no connection finding: %q", c.Saw)
			}
			noSecret(t, out, unreachable)
		})
	}
}

func fmtMode(m os.FileMode) string { return "0" + strconv.FormatUint(uint64(m.Perm()), 8) }

func TestDSNFileMissingOrEmpty(t *testing.T) {
	rep, _ := pgDoctor(t, pgConfig{noFile: true})
	c := byID(rep)["DB"]
	if c.Verdict != Fail || !strings.Contains(c.Saw, "absent.dsn does not exist") || !strings.Contains(c.Fix, "install -m 640") {
		t.Errorf("missing file: DB %s saw %q fix %q", c.Verdict, c.Saw, c.Fix)
	}
	if strings.Contains(c.Saw, "does not answer") {
		t.Errorf("missing file: a connection was tried without a DSN: %q", c.Saw)
	}

	rep, _ = pgDoctor(t, pgConfig{dsn: "", fileMode: 0o600})
	c = byID(rep)["DB"]
	if c.Verdict != Fail || !strings.Contains(c.Saw, "is empty") {
		t.Errorf("empty file: DB %s saw %q", c.Verdict, c.Saw)
	}
}

// The sslmode each DSN gives pgx, read back from its TLS settings, and
// DB's verdict on it: anything below verify-full warns for another host,
// and passes for a unix socket, localhost or a loopback address.
func TestSSLModes(t *testing.T) {
	for _, v := range []string{"PGSSLMODE", "PGSSLROOTCERT", "PGHOST", "PGSSLNEGOTIATION"} {
		t.Setenv(v, "")
	}
	ca, _, _ := testutil.SelfSignedCert(t, t.TempDir(), "db.example.net")
	for _, tc := range []struct {
		dsn  string
		want []string // per host: the mode
		warn bool
	}{
		{"host=db.example.net sslmode=disable", []string{"disable"}, true},
		{"host=db.example.net sslmode=allow", []string{"allow"}, true},
		{"host=db.example.net sslmode=prefer", []string{"prefer"}, true},
		{"host=db.example.net", []string{"prefer"}, true}, // libpq's default
		{"host=db.example.net sslmode=require", []string{"require"}, true},
		{"host=db.example.net sslmode=verify-ca sslrootcert=" + ca, []string{"verify-ca"}, true},
		{"host=db.example.net sslmode=require sslrootcert=" + ca, []string{"verify-ca"}, true}, // libpq: require with a root certificate checks it
		{"host=db.example.net sslmode=verify-full sslrootcert=" + ca, []string{"verify-full"}, false},
		{"host=db.example.net sslmode=verify-full", []string{"verify-full"}, false}, // the system's roots
		{"host=db.example.net sslrootcert=system", []string{"verify-full"}, false},  // libpq: system roots imply verify-full
		{"postgres://rampart:" + testPassword + "@db.example.net/rampart?sslmode=verify-full&sslrootcert=" + ca, []string{"verify-full"}, false},
		{"postgres://rampart:" + testPassword + "@db.example.net/rampart?sslmode=require", []string{"require"}, true},
		{"postgres://rampart@192.0.2.10:6432/rampart?sslmode=require", []string{"require"}, true},
		{"postgres://rampart@[2001:db8::5]/rampart?sslmode=verify-ca&sslrootcert=" + ca, []string{"verify-ca"}, true},
		// Local: passes whatever the mode.
		{"host=localhost sslmode=disable", []string{"disable"}, false},
		{"host=127.0.0.1 sslmode=prefer", []string{"prefer"}, false},
		{"host=127.0.0.53 sslmode=disable", []string{"disable"}, false},
		{"host=::1 sslmode=require", []string{"require"}, false},
		{"postgres://rampart:" + testPassword + "@localhost/rampart", []string{"prefer"}, false},
		{"host=/run/postgresql dbname=rampart", []string{"disable"}, false}, // pgx uses no TLS on a unix socket
		{"postgres:///rampart?host=/run/postgresql", []string{"disable"}, false},
		// Several hosts: each judged on its own.
		{"host=127.0.0.1,db.example.net sslmode=prefer", []string{"prefer", "prefer"}, true},
		{"host=/run/postgresql,db.example.net sslmode=verify-full sslrootcert=" + ca, []string{"disable", "verify-full"}, false},
	} {
		t.Run(tc.dsn, func(t *testing.T) {
			pc, err := pgx.ParseConfig(tc.dsn)
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			targets := dbTargets(pc)
			var got []string
			for _, tg := range targets {
				got = append(got, tg.mode().String())
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("modes %v, want %v", got, tc.want)
			}
			c := &checker{id: "DB"}
			checkSSLModes(c, pc)
			res := c.result()
			if tc.warn {
				if res.Verdict != Warn || !strings.Contains(res.Fix, "sslmode=verify-full") || !strings.Contains(res.Fix, "sslrootcert=") ||
					!strings.Contains(res.Saw, "is another host, reached with sslmode="+tc.want[len(tc.want)-1]) {
					t.Errorf("want a warning: %s %q fix %q", res.Verdict, res.Saw, res.Fix)
				}
			} else if res.Verdict != Pass || res.Fix != "" {
				t.Errorf("want a pass: %s %q fix %q", res.Verdict, res.Saw, res.Fix)
			}
			noSecret(t, res.Saw+res.Fix, tc.dsn)
		})
	}
}

func TestDatabaseDoesNotAnswer(t *testing.T) {
	rep, out := pgDoctor(t, pgConfig{dsn: unreachable, fileMode: 0o600})
	c := byID(rep)["DB"]
	if c.Verdict != Fail || !strings.Contains(c.Saw, "the database does not answer at 127.0.0.1:1: ") ||
		!strings.Contains(c.Saw, "connection refused") || !strings.Contains(c.Fix, "pg_hba.conf") {
		t.Errorf("DB = %s %q fix %q", c.Verdict, c.Saw, c.Fix)
	}
	if !strings.Contains(c.Saw, "127.0.0.1:1: local, sslmode=disable is enough") {
		t.Errorf("loopback not judged local: %q", c.Saw)
	}
	noSecret(t, out, unreachable)
	if rep.Failed != 1 {
		t.Errorf("failed %v, want only DB\n%s", verdicts(rep, Fail), out)
	}
}

// Another host, weakly protected and not answering: both are said, and
// neither the DSN nor the password is. The host is one of this machine's
// own non-loopback addresses, where a closed port refuses at once.
func TestRemoteDatabaseDoesNotAnswer(t *testing.T) {
	ips, err := nonLoopbackIPs()
	if err != nil || len(ips) == 0 {
		t.Skipf("no non-loopback address here (%v)", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ips[0].IP.String(), "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ips[0].IP, err)
	}
	addr := ln.Addr().String()
	ln.Close() // now closed: a connection is refused
	dsn := "postgres://rampart:" + testPassword + "@" + addr + "/rampart?sslmode=require"
	rep, out := pgDoctor(t, pgConfig{dsn: dsn, fileMode: 0o600})
	c := byID(rep)["DB"]
	if c.Verdict != Fail || !strings.Contains(c.Saw, "the database does not answer at "+addr) ||
		!strings.Contains(c.Saw, addr+" is another host, reached with sslmode=require") || !strings.Contains(c.Fix, "sslmode=verify-full") {
		t.Errorf("DB = %s %q fix %q", c.Verdict, c.Saw, c.Fix)
	}
	noSecret(t, out, dsn)
}

// DSNs pgx refuses, some of them with the password where pgx's parser
// might quote it: DB fails with the reason, and never prints it.
func TestDSNThatDoesNotParseIsNotPrinted(t *testing.T) {
	pw := testPassword
	for i, dsn := range []string{
		"postgres://rampart:" + pw + "@db.example.net:notaport/rampart",
		"postgres://rampart:" + pw + "%zz@db.example.net/rampart",
		"postgres://rampart:" + pw + "@[::1/rampart",
		"postgres://rampart:" + pw + "@db.example.net/rampart?sslmode=bogus",
		"postgres://rampart:" + pw + "@db.example.net/rampart?sslmode",
		"postgres://rampart:" + pw + "@db.example.net/rampart?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
		"postgres://" + pw + "@db.example.net:5432:5433/rampart",
		"host=db.example.net password=" + pw + " sslmode=bogus",
		"host=db.example.net password='" + pw,
		"host=db.example.net password=" + pw + " junk",
		"host=db.example.net " + pw,
		pw,
		"password = " + pw + " host",
		"host=db.example.net port=" + pw,
		"host=db.example.net sslrootcert=/nonexistent/ca.pem password=" + pw,
	} {
		// Not named by the DSN: the test's name is in its temporary paths, which doctor prints.
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			for _, mode := range []os.FileMode{0, 0o600} {
				rep, out := pgDoctor(t, pgConfig{dsn: dsn, fileMode: mode})
				c := byID(rep)["DB"]
				if c.Verdict != Fail || !strings.Contains(c.Saw, "the DSN does not parse: ") {
					t.Errorf("%s: DB = %s %q", dsn, c.Verdict, c.Saw)
				}
				noSecret(t, out, dsn)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	secrets := dsnSecrets("postgres://u:p%40ss w@h/d", "p@ss w")
	got := redact("a postgres://u:p%40ss w@h/d b p@ss w c p%40ss+w d p%40ss%20w e", secrets)
	if want := "a [redacted] b [redacted] c [redacted] d [redacted] e"; got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
	if got := redact("nothing to hide", dsnSecrets("host=h", "")); got != "nothing to hide" {
		t.Errorf("redact without a password = %q", got)
	}
}

// pgRole is a role of its own, no superuser, with a password, and a
// database it owns: what deployment.md sets up for Rampart. Both are
// dropped when the test ends. It skips outside a PostgreSQL run.
func pgRole(t *testing.T) (role, password, database string) {
	t.Helper()
	if !testdb.Postgres() {
		t.Skipf("%s is not set: this needs a PostgreSQL server", testdb.EnvPostgres)
	}
	admin, err := sql.Open("pgx", os.Getenv(testdb.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	suffix := hex.EncodeToString(b)
	role, database, password = "rampart_doctor_"+suffix, "rampart_doctor_"+suffix, "pw-"+suffix+"-"+testPassword
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, q := range []string{
		`CREATE ROLE ` + role + ` LOGIN PASSWORD '` + password + `'`,
		`CREATE DATABASE ` + database + ` OWNER ` + role + ` ENCODING 'UTF8' TEMPLATE template0`,
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", strings.Fields(q)[:3], err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, q := range []string{`DROP DATABASE IF EXISTS ` + database + ` WITH (FORCE)`, `DROP ROLE IF EXISTS ` + role} {
			if _, err := admin.ExecContext(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	return role, password, database
}

// serverAddr is the test server's host and port, from TEST_POSTGRES.
func serverAddr(t *testing.T) (host, port string) {
	t.Helper()
	pc, err := pgx.ParseConfig(os.Getenv(testdb.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	return pc.Host, strconv.Itoa(int(pc.Port))
}

// The deployment the docs describe: a role of its own, the DSN in a file
// only its owner reads. DB passes, and says what answered.
func TestDatabaseAnswers(t *testing.T) {
	role, password, database := pgRole(t)
	host, port := serverAddr(t)
	dsn := "postgres://" + role + ":" + password + "@" + net.JoinHostPort(host, port) + "/" + database + "?sslmode=disable"
	rep, out := pgDoctor(t, pgConfig{dsn: dsn, fileMode: 0o600})
	c := byID(rep)["DB"]
	if c.Verdict != Pass || c.Fix != "" {
		t.Errorf("DB = %s %q fix %q", c.Verdict, c.Saw, c.Fix)
	}
	for _, want := range []string{"has mode 0600", "local, sslmode=disable is enough", "answers at tcp " + net.JoinHostPort(host, port),
		"(database " + database + ", role " + role + ", without TLS)", "database.max_connections = 16 of the "} {
		if !strings.Contains(c.Saw, want) {
			t.Errorf("DB saw %q, want it to mention %q", c.Saw, want)
		}
	}
	noSecret(t, out, dsn, password)
}

// verify-full over TCP to the server's name, with the test CA: the
// connection is TLS, and DB says so.
func TestDatabaseOverVerifiedTLS(t *testing.T) {
	role, password, database := pgRole(t)
	ca := os.Getenv(testdb.EnvPostgresCA)
	if ca == "" {
		t.Skipf("%s is not set", testdb.EnvPostgresCA)
	}
	_, port := serverAddr(t)
	dsn := "host=localhost port=" + port + " dbname=" + database + " user=" + role + " password=" + password + " sslmode=verify-full sslrootcert=" + ca
	rep, out := pgDoctor(t, pgConfig{dsn: dsn})
	c := byID(rep)["DB"]
	if c.Verdict != Pass || !strings.Contains(c.Saw, "localhost:"+port+": sslmode=verify-full (certificate and host name checked)") ||
		!strings.Contains(c.Saw, "role "+role+", over TLS)") {
		t.Errorf("DB = %s %q fix %q", c.Verdict, c.Saw, c.Fix)
	}
	noSecret(t, out, dsn, password)
}

// Through the server's unix socket, as host=/run/postgresql on Debian.
func TestDatabaseOverUnixSocket(t *testing.T) {
	role, password, database := pgRole(t)
	var dirs string
	admin, err := pgx.Connect(context.Background(), os.Getenv(testdb.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	err = admin.QueryRow(context.Background(), `SELECT current_setting('unix_socket_directories')`).Scan(&dirs)
	admin.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir, _, _ := strings.Cut(dirs, ",")
	if dir = strings.TrimSpace(dir); !strings.HasPrefix(dir, "/") {
		t.Skipf("the server has no unix socket directory (%q)", dirs)
	}
	_, port := serverAddr(t)
	dsn := "host=" + dir + " port=" + port + " dbname=" + database + " user=" + role + " password=" + password
	rep, out := pgDoctor(t, pgConfig{dsn: dsn, fileMode: 0o600})
	c := byID(rep)["DB"]
	sock := filepath.Join(dir, ".s.PGSQL."+port)
	if c.Verdict != Pass || !strings.Contains(c.Saw, "unix socket "+sock+": local, TLS not needed") || !strings.Contains(c.Saw, "answers at unix "+sock) {
		t.Errorf("DB = %s %q fix %q", c.Verdict, c.Saw, c.Fix)
	}
	noSecret(t, out, dsn, password)
}

func TestDatabaseWrongPassword(t *testing.T) {
	role, password, database := pgRole(t)
	host, port := serverAddr(t)
	wrong := "not-" + password
	dsn := "postgres://" + role + ":" + wrong + "@" + net.JoinHostPort(host, port) + "/" + database + "?sslmode=disable"
	rep, out := pgDoctor(t, pgConfig{dsn: dsn, fileMode: 0o600})
	c := byID(rep)["DB"]
	if c.Verdict != Fail || !strings.Contains(c.Saw, "the database does not answer at "+net.JoinHostPort(host, port)) ||
		!strings.Contains(c.Saw, "password authentication failed") {
		t.Errorf("DB = %s %q fix %q", c.Verdict, c.Saw, c.Fix)
	}
	noSecret(t, out, dsn, wrong, password)
}

// A database that is not UTF8: serve refuses it, so DB fails.
func TestDatabaseNotUTF8(t *testing.T) {
	role, password, database := pgRole(t)
	ascii := database + "_ascii"
	admin, err := sql.Open("pgx", os.Getenv(testdb.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec(`CREATE DATABASE ` + ascii + ` OWNER ` + role + ` ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Before pgRole's cleanup drops the role (cleanups run last first).
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + ascii + ` WITH (FORCE)`); err != nil {
			t.Error(err)
		}
	})
	host, port := serverAddr(t)
	dsn := "postgres://" + role + ":" + password + "@" + net.JoinHostPort(host, port) + "/" + ascii + "?sslmode=disable"
	rep, out := pgDoctor(t, pgConfig{dsn: dsn, fileMode: 0o600})
	c := byID(rep)["DB"]
	if c.Verdict != Fail || !strings.Contains(c.Saw, "database "+ascii+" has encoding SQL_ASCII, and Rampart needs UTF8") ||
		!strings.Contains(c.Fix, "createdb --encoding=UTF8") {
		t.Errorf("DB = %s %q fix %q", c.Verdict, c.Saw, c.Fix)
	}
	noSecret(t, out, dsn, password)
}

// The test server's own superuser, and a pool larger than the server
// admits: both warn, with the fix.
func TestDatabaseSuperuserAndPoolWarn(t *testing.T) {
	if !testdb.Postgres() {
		t.Skipf("%s is not set: this needs a PostgreSQL server", testdb.EnvPostgres)
	}
	dsn := os.Getenv(testdb.EnvPostgres)
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	rep, out := pgDoctor(t, pgConfig{dsn: dsn, fileMode: 0o600, extra: []string{"max_connections = 1000"}})
	c := byID(rep)["DB"]
	if c.Verdict != Warn || !strings.Contains(c.Saw, "role "+pc.User+" is a superuser") || !strings.Contains(c.Fix, "CREATE ROLE rampart LOGIN;") ||
		!strings.Contains(c.Saw, "database.max_connections = 1000, but the server admits only") || !strings.Contains(c.Fix, "lower database.max_connections") {
		t.Errorf("DB = %s %q fix %q", c.Verdict, c.Saw, c.Fix)
	}
	noSecret(t, out, dsn, pc.Password)
}
