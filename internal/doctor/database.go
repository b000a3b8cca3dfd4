package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rampart-social/rampart/internal/config"
)

// dbConnectTimeout bounds DB's connection and query: a database that does
// not answer within it is as good as down for Rampart's requests.
const dbConnectTimeout = 5 * time.Second

// minPostgresVersion is the oldest server store.OpenPostgres accepts (13),
// as server_version_num counts.
const minPostgresVersion = 130000

// fixDSNFileMode is DB's fix for a DSN file others may read or its group may change.
const fixDSNFileMode = "chmod 640 %s (owner root or rampart, group rampart), as the config file; 600 when systemd's LoadCredential= hands it to Rampart."

// fixSSLMode is DB's fix for a connection to another host that TLS does not protect fully.
const fixSSLMode = "add sslmode=verify-full and sslrootcert=<the file of the CA that signed the server's certificate> to the DSN (sslrootcert=system for a certificate from a public CA): only verify-full checks both the certificate and the host name, so that no machine in the middle can read the password and every query. A unix socket, localhost or a loopback address needs neither."

// fixConnect is DB's fix when the database does not answer.
const fixConnect = "check that PostgreSQL runs and listens where the DSN says (host, port), that pg_hba.conf admits this role from here, and the DSN's user, password and dbname; `rampart serve` connects the same way and will not start without it."

// checkDatabase is DB, for database.driver = "postgres" only (a SQLite
// config leaves it out of the report): the DSN file's mode, the TLS that
// protects the connection to a database on another host, and a real
// connection. Nothing it reports quotes the DSN or its password: it names
// only hosts, ports, the role and the database, and every error from the
// driver passes through redact first.
func (d *doctor) checkDatabase(ctx context.Context) {
	c := d.checks["DB"]
	for _, line := range d.loadLines["DB"] {
		c.fail(line, "set database.dsn_file to an absolute path of a file whose first line is the DSN (or database.dsn, or RAMPART_DATABASE_DSN), only one of them.")
	}
	if d.cfg == nil || d.cfg.Database.Driver != config.DriverPostgres {
		return
	}
	if !d.checkDSNFile(c) {
		return
	}
	dsn, err := d.cfg.DatabaseDSN()
	if err != nil {
		if len(d.loadLines["DB"]) == 0 {
			// config.DatabaseDSN's errors name the file, never its text.
			c.fail(err.Error(), "set database.dsn_file (or RAMPART_DATABASE_DSN) to the DSN.")
		}
		return
	}
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		c.fail("the DSN does not parse: "+parseErrorReason(err, dsn),
			"write it as a URL (postgres://rampart@db.example.net/rampart?sslmode=verify-full&sslrootcert=/etc/rampart/db-ca.pem) or as key=value words (host=/run/postgresql dbname=rampart user=rampart).")
		return
	}
	secrets := dsnSecrets(dsn, pc.Password)
	checkSSLModes(c, pc)
	d.connectDatabase(ctx, c, pc, secrets)
}

// checkDSNFile judges database.dsn_file by config.Load's rule for the config
// file (mode & 0027 == 0: its group may read it, others nothing), since it
// holds the database password as the config holds secret_key. A systemd
// credential passes: systemd writes it 0400 and lets the service's user
// read it through an ACL, whose mask stat shows as the group's read bit
// (0440). It reports whether DB can go on to read the file.
func (d *doctor) checkDSNFile(c *checker) bool {
	path := d.cfg.Database.DSNFile
	if path == "" || d.cfg.Database.DSN.IsSet() {
		return true // the DSN is in the config or the environment
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.fail(fmt.Sprintf("database.dsn_file %s does not exist", path),
			fmt.Sprintf("write the DSN on its first line: `sudo install -m 640 -o root -g rampart /dev/stdin %s` and type it; a systemd credential (/run/credentials/rampart.service/…) exists only while the service runs, so check again with Rampart running.", path))
		return false
	case err != nil:
		c.fail(fmt.Sprintf("cannot stat database.dsn_file %s: %v", path, errors.Unwrap(err)), "run doctor as root (sudo).")
		return false
	case !fi.Mode().IsRegular():
		c.fail(fmt.Sprintf("database.dsn_file %s is not a regular file", path), "point database.dsn_file at a file whose first line is the DSN.")
		return false
	}
	if m := fi.Mode().Perm(); m&0o027 != 0 {
		c.fail(fmt.Sprintf("database.dsn_file %s has mode %04o: others can read it or its group can change it, and it holds the database password", path, m),
			fmt.Sprintf(fixDSNFileMode, path))
	} else {
		c.pass("database.dsn_file %s has mode %04o", path, m)
	}
	f, err := os.Open(path)
	if err != nil {
		c.fail(fmt.Sprintf("cannot read database.dsn_file %s: %v", path, errors.Unwrap(err)),
			"run doctor as root (sudo); the file must be readable by root and by the user Rampart runs as.")
		return false
	}
	f.Close()
	return true
}

// tlsMode is how pgx protects one attempt to reach a host, in libpq's words.
type tlsMode int

const (
	tlsDisable tlsMode = iota
	tlsAllow
	tlsPrefer
	tlsRequire
	tlsVerifyCA
	tlsVerifyFull
)

func (m tlsMode) String() string {
	return [...]string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}[m]
}

// risk says what a mode below verify-full leaves open.
func (m tlsMode) risk() string {
	switch m {
	case tlsDisable:
		return "not encrypted: queries, answers and, with md5 or password authentication, the password cross the network in the clear"
	case tlsAllow, tlsPrefer:
		return "encrypted only when the server offers it, and the server's certificate is not checked: a machine in the middle can refuse TLS or present its own certificate"
	case tlsRequire:
		return "encrypted, but the server's certificate is not checked: a machine in the middle can present its own"
	case tlsVerifyCA:
		return "the certificate is checked against the CA but not against the host name: any server with a certificate from that CA can stand in"
	}
	return ""
}

// dbTarget is one host the DSN names, with every TLS setting pgx would try
// on it, in order.
type dbTarget struct {
	host string
	port uint16
	tls  []*tls.Config // nil: plain
}

func (t dbTarget) String() string {
	if t.unix() {
		network, addr := pgconn.NetworkAddress(t.host, t.port)
		return network + " socket " + addr
	}
	return net.JoinHostPort(t.host, strconv.Itoa(int(t.port)))
}

func (t dbTarget) unix() bool {
	network, _ := pgconn.NetworkAddress(t.host, t.port)
	return network == "unix"
}

// local reports whether the connection stays on this machine: a unix
// socket, localhost or a loopback address. TLS adds nothing there.
func (t dbTarget) local() bool {
	return t.unix() || config.IsLoopbackHost(t.host)
}

// mode reads pgx's TLS settings for one host back into the sslmode that
// made them. pgconn keeps no sslmode: ParseConfig turns it into a TLS
// config per attempt (nil for plain), InsecureSkipVerify for the modes that
// skip Go's verification, and for verify-ca (and require with sslrootcert)
// its own chain check in VerifyPeerCertificate, without the host name.
// Reading the result, not the text, also covers PGSSLMODE, a service file
// and sslrootcert=system, which raise or set the mode.
func (t dbTarget) mode() tlsMode {
	switch {
	case len(t.tls) == 2 && t.tls[0] == nil:
		return tlsAllow
	case len(t.tls) == 2 && t.tls[1] == nil:
		return tlsPrefer
	}
	weakest := tlsVerifyFull
	for _, tc := range t.tls {
		m := tlsVerifyFull
		switch {
		case tc == nil:
			m = tlsDisable
		case tc.InsecureSkipVerify && tc.VerifyPeerCertificate != nil:
			m = tlsVerifyCA
		case tc.InsecureSkipVerify:
			m = tlsRequire
		}
		weakest = min(weakest, m)
	}
	return weakest
}

// dbTargets lists the hosts of a parsed DSN in the order pgx tries them,
// each with its TLS attempts (several hosts, and sslmode allow or prefer,
// become pgx's fallbacks).
func dbTargets(pc *pgx.ConnConfig) []dbTarget {
	attempts := append([]*pgconn.FallbackConfig{{Host: pc.Host, Port: pc.Port, TLSConfig: pc.TLSConfig}}, pc.Fallbacks...)
	var out []dbTarget
	for _, a := range attempts {
		if n := len(out); n > 0 && out[n-1].host == a.Host && out[n-1].port == a.Port {
			out[n-1].tls = append(out[n-1].tls, a.TLSConfig)
			continue
		}
		out = append(out, dbTarget{host: a.Host, port: a.Port, tls: []*tls.Config{a.TLSConfig}})
	}
	return out
}

// checkSSLModes is DB's TLS part: verify-full passes, a weaker mode passes
// on a local connection and warns for any other host.
func checkSSLModes(c *checker, pc *pgx.ConnConfig) {
	for _, t := range dbTargets(pc) {
		m := t.mode()
		switch {
		case t.unix():
			c.pass("%s: local, TLS not needed", t)
		case m == tlsVerifyFull:
			c.pass("%s: sslmode=verify-full (certificate and host name checked)", t)
		case t.local():
			c.pass("%s: local, sslmode=%s is enough", t, m)
		default:
			c.warn(fmt.Sprintf("%s is another host, reached with sslmode=%s: %s", t, m, m.risk()), fixSSLMode)
		}
	}
}

// connectDatabase is DB's connection: it connects with the DSN, as `rampart
// serve` would, and reads what the server says of itself and of the role.
func (d *doctor) connectDatabase(ctx context.Context, c *checker, pc *pgx.ConnConfig, secrets []string) {
	ctx, cancel := context.WithTimeout(ctx, min(d.o.Timeout, dbConnectTimeout))
	defer cancel()
	pc.RuntimeParams["application_name"] = "rampart-doctor"
	where := dbTargets(pc)[0].String()
	if n := len(dbTargets(pc)); n > 1 {
		where += fmt.Sprintf(" (or the %d other hosts the DSN names)", n-1)
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		c.fail(fmt.Sprintf("the database does not answer at %s: %s", where, redact(err.Error(), secrets)), fixConnect)
		return
	}
	defer conn.Close(context.Background())

	var (
		role, database, version, encoding string
		versionNum                        int
		superuser, encrypted              bool
		maxConns, reserved                int
	)
	// pg_stat_ssl shows every backend's row to every role; reserved_connections
	// is PostgreSQL 16's (missing_ok gives NULL before).
	err = conn.QueryRow(ctx, `SELECT current_user, current_database(),
		current_setting('server_version'), current_setting('server_version_num')::int,
		(SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()),
		COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false),
		COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false),
		current_setting('max_connections')::int,
		current_setting('superuser_reserved_connections')::int
			+ COALESCE(current_setting('reserved_connections', true), '0')::int`).
		Scan(&role, &database, &version, &versionNum, &encoding, &superuser, &encrypted, &maxConns, &reserved)
	if err != nil {
		c.fail(fmt.Sprintf("the database at %s answers, but a query of its settings failed: %s", where, redact(err.Error(), secrets)), fixConnect)
		return
	}
	over := "without TLS"
	if encrypted {
		over = "over TLS"
	}
	at := conn.PgConn().Conn().RemoteAddr()
	c.pass("PostgreSQL %s answers at %s %s (database %s, role %s, %s)", version, at.Network(), at, database, role, over)

	// store.OpenPostgres refuses both, so serve would not start.
	if versionNum < minPostgresVersion {
		c.fail(fmt.Sprintf("PostgreSQL %s is older than 13, the oldest Rampart runs on", version),
			"upgrade the server to PostgreSQL 13 or newer (Debian 12 ships 15).")
	}
	if encoding != "UTF8" {
		c.fail(fmt.Sprintf("database %s has encoding %s, and Rampart needs UTF8", database, encoding),
			fmt.Sprintf("create the database again with UTF8 (docs/deployment.md, PostgreSQL): `createdb --encoding=UTF8 --locale=C.UTF-8 --template=template0 --owner=rampart %s`.", database))
	}
	if superuser {
		c.warn(fmt.Sprintf("role %s is a superuser: a flaw in Rampart or a leaked DSN could read any database of the server and run programs on its host (COPY … TO PROGRAM)", role),
			fmt.Sprintf("connect as a role of its own that is no superuser and owns database %s (docs/deployment.md, PostgreSQL): `CREATE ROLE rampart LOGIN;` and `ALTER DATABASE %s OWNER TO rampart;`; tables created while connected as %s stay its own, so give them to rampart too (`ALTER TABLE … OWNER TO rampart`), then name rampart in the DSN.", database, database, role))
	}
	usable := maxConns - reserved
	pool := int(d.cfg.Database.MaxConnections)
	if pool > usable {
		c.warn(fmt.Sprintf("database.max_connections = %d, but the server admits only %d connections besides the %d it keeps for superusers (max_connections %d)", pool, usable, reserved, maxConns),
			fmt.Sprintf("lower database.max_connections to at most %d, less what other clients and other Rampart processes use, or raise max_connections in postgresql.conf and restart PostgreSQL.", usable))
	} else {
		c.pass("database.max_connections = %d of the %d connections the server admits (max_connections %d, %d reserved)", pool, usable, maxConns, reserved)
	}
}

// dsnSecrets are the strings DB never prints: the DSN itself, the password
// pgx found (in it, in PGPASSWORD or in a passfile), and that password as a
// URL writes it.
func dsnSecrets(dsn, password string) []string {
	out := []string{dsn}
	if password != "" {
		out = append(out, password, url.QueryEscape(password), url.PathEscape(password),
			(&url.URL{User: url.UserPassword("", password)}).User.String()[1:])
	}
	return out
}

// redact replaces every secret in s with [redacted], in one pass.
func redact(s string, secrets []string) string {
	secrets = slices.Clone(secrets)
	// strings.Replacer takes the first of the olds matching at a position,
	// so the longest go first: a secret holding another is replaced whole.
	slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for i, sec := range secrets {
		if sec != "" && (i == 0 || sec != secrets[i-1]) {
			pairs = append(pairs, sec, "[redacted]")
		}
	}
	if len(pairs) == 0 {
		return s
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// passwordWord finds password=… in key=value words, quoted or not.
var passwordWord = regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']+)`)

// quoted is a double-quoted fragment of an error message.
var quoted = regexp.MustCompile(`"[^"]*"`)

// parseErrorReason is pgx's reason for refusing the DSN, without the DSN.
// pgx's ParseConfigError quotes the connection string with the password
// masked "best effort" (its own words) and may quote a fragment of a
// malformed one, so: the quoted connection string is cut, and then every
// password DB can find in the text, and every double-quoted fragment that
// is a piece of the DSN, is replaced.
func parseErrorReason(err error, dsn string) string {
	msg := err.Error()
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		// "cannot parse `<connection string>`: <reason>"
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			msg = msg[i+len("`: "):]
		}
	}
	secrets := []string{dsn}
	if u, err := url.Parse(dsn); err == nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	if i := strings.Index(dsn, "://"); i >= 0 {
		// A URL url.Parse refused: what lies between the scheme's user and '@'.
		rest := dsn[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				secrets = append(secrets, pw)
			}
		}
	}
	for _, m := range passwordWord.FindAllStringSubmatch(dsn, -1) {
		secrets = append(secrets, m[1], strings.Trim(m[1], "'"))
	}
	msg = redact(msg, secrets)
	msg = quoted.ReplaceAllStringFunc(msg, func(q string) string {
		if inner := q[1 : len(q)-1]; len(inner) > 1 && strings.Contains(dsn, inner) {
			return `"[redacted]"`
		}
		return q
	})
	return msg
}
