// Package doctor is `rampart doctor`: it checks a deployed instance against
// the hardening measures of docs/hardening.md, from the inside (the config
// file, the data directory, the installed systemd unit, the listening port)
// and from the outside (what the instance answers over the wire through its
// reverse proxy), and says for each check what it saw and how to fix it.
//
// Every check has an id, a verdict (pass, warn or fail), what it saw and the
// fix. The ids, what each covers, and the measure of docs/hardening.md it
// verifies:
//
//	CONFIG  config.Load refuses the file for a reason none of the checks
//	        below owns (an unknown key, a bad timeout, …). Load's lines about
//	        media_url go to S3; about secret_key, env and the file's mode to
//	        S9; about http.listen to S1. When every line went elsewhere,
//	        CONFIG passes and says so.
//	S1      listen (measure 1): http.listen is a loopback address or a unix
//	        socket (a socket others may connect to fails), and the port
//	        answers on none of this host's non-loopback addresses (each
//	        address of net.Interfaces gets a TCP connect, 2s at most).
//	S2      session cookie (measure 2): the Set-Cookie of GET /auth/sign_in
//	        has the __Host- prefix, Secure, HttpOnly, SameSite=Lax or Strict,
//	        Path=/ and no Domain.
//	S3      uploads on another origin (measure 3): media_url's host differs
//	        from url's; over the wire, the instance host answers 404 (and no
//	        image) for an upload path /<valid random key>.png; every media-host
//	        answer carries Content-Security-Policy httpsec.MediaCSP, nosniff
//	        and no Set-Cookie, and the media host answers 404 for the API
//	        (/api/v1/instance), pages (/auth/sign_in), ActivityPub documents
//	        (/users/x as application/activity+json) and unknown keys; its root
//	        / answers 404 or a plain-text page (Rampart's names the instance).
//	        A POST of 4 KiB to the media host, over the 1 KiB body limit of
//	        gen nginx's site (so the proxy answers 413 itself; Rampart alone
//	        answers it too), must carry the same sandbox CSP, nosniff and no
//	        cookie.
//	S4      security headers (measure 4): X-XSS-Protection 0,
//	        X-Permitted-Cross-Domain-Policies none, X-Frame-Options DENY,
//	        X-Content-Type-Options nosniff on a page (/), an API response
//	        (/api/v1/instance), a 404 (/doctor-404-probe), and the same 404
//	        request over HTTP/1.1 with a 16 KiB header: over nginx's header
//	        buffers, so the proxy answers 400 itself, and under Rampart's
//	        default http.max_header_bytes, so Rampart alone answers 404.
//	        S5–S7 look at the same four answers.
//	S5      HSTS (measure 5) and http→https: Strict-Transport-Security
//	        max-age of at least 31536000 on the same four answers and on the
//	        media host, and GET http://<host>/ (port 80) answers 301 or 308 to
//	        https://<host>. That redirect is the reverse proxy's job: a
//	        temporary redirect (302, 303, 307) or nothing listening on port 80
//	        warns (neither serves a page over plain http); any other answer
//	        fails.
//	S6      Content-Security-Policy (measure 4): default-src 'none',
//	        frame-ancestors 'none', base-uri 'none', no 'unsafe-…' keyword,
//	        and connect-src names wss://<instance host>, on the four answers.
//	S7      Referrer-Policy (measure 5): same-origin or no-referrer on the
//	        four answers.
//	S8      systemd unit (measure 6): the installed unit (default
//	        /etc/systemd/system/rampart.service, or --unit) has every seed
//	        directive at its value or stricter (deploy.CheckHardening, the
//	        checker the unit's own tests use: a missing or weaker seed
//	        directive fails, a missing Rampart addition warns), and, when
//	        systemd-analyze is on PATH, the exposure of `systemd-analyze
//	        security --offline=true`: up to 1.5 passes (the shipped unit
//	        scores 1.1 and its test allows 1.5), above 1.5 warns, above 5.0
//	        (systemd's MEDIUM and worse) fails. No unit file at the default
//	        path warns: there is nothing to check.
//	S9      env, secret and files (measures 7 and 2): env is prod; secret_key
//	        is set, valid and not the documentation's example; the config file
//	        is neither readable by others nor writable by its group (mode &
//	        0027 == 0, the rule config.Load applies in prod); data_dir (and
//	        media.dir when outside data_dir) is not accessible by others
//	        (mode & 0007 == 0). A data_dir that does not exist yet warns.
//	DB      PostgreSQL (database.driver = "postgres" only; a SQLite config
//	        leaves it out of the report): config.Load's lines about
//	        database.dsn and database.dsn_file; database.dsn_file, when set,
//	        exists and has the config file's rule (mode & 0027 == 0, so a
//	        systemd credential's 0440 passes); for each host of the DSN, the
//	        sslmode pgx will apply (read back from its TLS settings): a unix
//	        socket, localhost or a loopback address passes whatever the mode,
//	        any other host passes with verify-full and warns below it; then a
//	        connection with the DSN (5s at most) passes with the server's
//	        version, the database, the role and whether TLS is on, or fails
//	        with pgx's reason. A server older than 13 or a database not in
//	        UTF8 fails (serve refuses both); a superuser role, and a
//	        database.max_connections above what the server admits besides its
//	        reserved connections, warn. Neither the DSN nor its password
//	        appears in anything DB reports: errors pass through redact.
//	USER    the running Rampart's user (issue 9): the process that owns the
//	        socket listening on http.listen (from /proc/net/tcp, tcp6 or
//	        unix, then each process's open files in /proc/PID/fd), else a
//	        `rampart serve` whose command line names this config; its uids
//	        come from /proc/PID/status. Root (an effective, real or saved uid
//	        of 0) fails, another user passes, and no process found warns with
//	        the reason (nothing listens; only root may read another user's
//	        open files; another namespace or hidepid).
//	TLS     the certificates of the instance host and the media host pass
//	        normal verification (a bad one fails with the error) and do not
//	        expire within 14 days (within 14 days warns).
//	STREAM  the streaming API (Mastodon's WebSocket) through the proxy:
//	        urls.streaming_api of /api/v1/instance is wss://<url's host>
//	        (another host, a path, ws:// or no URL at all fails; ws:// with
//	        the http url of a dev config warns); at that host (the instance
//	        host when it names another), GET /api/v1/streaming/health answers
//	        200 OK, and a WebSocket handshake without a token (Upgrade:
//	        websocket, Sec-WebSocket-Key, Sec-WebSocket-Version: 13, over
//	        HTTP/1.1) to /api/v1/streaming reaches Rampart as one: its 401
//	        JSON error with WWW-Authenticate realm="rampart" and S4's headers
//	        (or a 101 with the right Sec-WebSocket-Accept when
//	        streaming.public_without_token is on). Rampart's 400 "This path
//	        is a WebSocket…" means the proxy dropped Upgrade or Connection;
//	        any other answer (nginx's 502, a 404) fails too. A 401 shows the
//	        Upgrade reached Rampart, not that the proxy relays the 101 that
//	        follows a token (proxy_http_version 1.1 is in the fix).
//
// A check that needed an answer which never came warns ("not checked"); the
// TLS check carries the failure.
//
// Without --url only the local checks run: CONFIG, S1, S3's config part, S8,
// S9, DB and USER as above, and S2, S4–S7 judged from the config alone (their "saw"
// says so); TLS and STREAM are left out.
//
// The config is read as `rampart serve` reads it, RAMPART_* variables of
// doctor's environment included. A config that config.Load refuses is still
// examined, as far as config.ParseLenient can read it.
//
// Every request has a timeout, reads at most 64 KiB of body, follows no
// redirect (the http→https check needs the first answer) and ignores
// HTTP(S)_PROXY. --connect sends the https requests to one address, whatever
// DNS says; the http:// probe goes to --connect-http, else to --connect's host
// at port 80.
package doctor

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/config"
)

// Verdict is a check's outcome.
type Verdict string

const (
	Pass Verdict = "pass"
	Warn Verdict = "warn"
	Fail Verdict = "fail"
)

func (v Verdict) rank() int {
	switch v {
	case Fail:
		return 2
	case Warn:
		return 1
	}
	return 0
}

// Check is one line of the report.
type Check struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Verdict Verdict `json:"verdict"`
	Saw     string  `json:"saw"`
	Fix     string  `json:"fix"`
}

// Report is everything doctor found.
type Report struct {
	Checks []Check `json:"checks"`
	Failed int     `json:"failed"`
	Warned int     `json:"warned"`
	// Remote is false when no --url was given (S2, S4–S7 judged from the config, no TLS).
	Remote bool `json:"-"`
}

// Defaults.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultUnitPath = "/etc/systemd/system/rampart.service"
	// CertWarnDays is how close to expiry a certificate may come before TLS warns.
	CertWarnDays = 14
	// ExposureWarn and ExposureFail bound `systemd-analyze security`'s exposure (0 best, 10 worst).
	ExposureWarn = 1.5
	ExposureFail = 5.0
)

// Options are doctor's inputs (the command line's flags).
type Options struct {
	ConfigPath string   // the config file (required)
	Environ    []string // the process environment: RAMPART_* overrides apply as for serve
	// URL is the instance's public https origin to probe; empty runs the local checks only.
	URL string
	// UnitPath is the installed systemd unit. Empty means DefaultUnitPath,
	// whose absence only warns; a path given here must exist.
	UnitPath string
	// Connect, when set, is the HOST:PORT dialled for every https request
	// instead of the address DNS gives (like curl --connect-to).
	Connect string
	// ConnectHTTP is the HOST:PORT dialled for the plain-http probe; empty
	// means Connect's host at port 80 (or, without Connect, DNS at port 80).
	ConnectHTTP string
	// CAFile is a PEM file of CA certificates trusted besides RootCAs.
	CAFile string
	// RootCAs is the base trust pool; nil means the system's (which honours SSL_CERT_FILE).
	RootCAs *x509.CertPool
	// Timeout bounds each network request and the systemd-analyze run (default 10s).
	Timeout time.Duration
	// SystemdAnalyze is the tool's path; empty looks it up on PATH, "none" skips it.
	SystemdAnalyze string
	Now            func() time.Time
	// Log receives a recovered panic of a probe (with its stack); nil discards it.
	Log *slog.Logger
	// ProcDir is the proc filesystem USER reads (default /proc); tests
	// point it at a tree of their own.
	ProcDir string
}

// RunError means doctor itself could not run (a missing config file, a bad
// --url, an unreadable --ca); the command exits 2.
type RunError struct{ msg string }

func (e *RunError) Error() string { return e.msg }

func runErr(format string, args ...any) error { return &RunError{fmt.Sprintf(format, args...)} }

// order is the report's order of checks, with their names.
var order = []struct{ id, name string }{
	{"CONFIG", "config file"},
	{"S1", "listen address"},
	{"S2", "session cookie"},
	{"S3", "media origin"},
	{"S4", "security headers"},
	{"S5", "HSTS and http→https"},
	{"S6", "Content-Security-Policy"},
	{"S7", "Referrer-Policy"},
	{"S8", "systemd unit"},
	{"S9", "env, secret, file modes"},
	{"DB", "PostgreSQL"},
	{"USER", "process user"},
	{"TLS", "certificates"},
	{"STREAM", "streaming API"},
}

// doctor holds one run's inputs and findings.
type doctor struct {
	o          Options
	cfg        *config.Config // nil when the file could not be read as TOML
	loaded     bool           // config.Load accepted the file
	loadLines  map[string][]string
	instURL    *url.URL // the origin probed (--url); nil without --url
	cfgInst    *url.URL // url from the config, when it parses
	cfgMedia   *url.URL // media_url from the config, when it parses
	unitPath   string
	unitGiven  bool
	roots      *x509.CertPool
	connectHTP string
	checks     map[string]*checker
	probes     map[string]*fetched
}

// Run performs every check and returns the report. An error means doctor
// could not run at all (see RunError); failed checks are in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &doctor{o: o, checks: map[string]*checker{}}
	for _, c := range order {
		d.checks[c.id] = &checker{id: c.id, name: c.name}
	}
	if err := d.prepare(); err != nil {
		return nil, err
	}

	d.checkConfig()
	d.checkListen()
	d.checkMediaConfig()
	if d.instURL != nil {
		d.probeAll(ctx)
		d.probeStreaming(ctx) // where /api/v1/instance says the streaming API is
		d.checkCookie()
		d.checkMediaRemote()
		d.checkHeaders()
		d.checkHSTS()
		d.checkCSP()
		d.checkReferrer()
		d.checkTLS()
		d.checkStreaming()
	} else {
		d.configOnly()
	}
	d.checkUnit(ctx)
	d.checkFiles()
	d.checkDatabase(ctx)
	d.checkUser()

	rep := &Report{Checks: []Check{}, Remote: d.instURL != nil}
	for _, c := range order {
		ch := d.checks[c.id]
		if len(ch.items) == 0 {
			continue // TLS and STREAM without --url, DB for SQLite
		}
		res := ch.result()
		switch res.Verdict {
		case Fail:
			rep.Failed++
		case Warn:
			rep.Warned++
		}
		rep.Checks = append(rep.Checks, res)
	}
	return rep, nil
}

func (d *doctor) prepare() error {
	o := d.o
	if o.ConfigPath == "" {
		return runErr("no config file: pass --config FILE or set %s", config.EnvVarConfig)
	}
	data, err := os.ReadFile(o.ConfigPath)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return runErr("config file: %v (run doctor as root or as the user Rampart runs as)", err)
		}
		return runErr("config file: %v", err)
	}
	d.loadLines = map[string][]string{}
	cfg, lerr := config.Load(o.ConfigPath, o.Environ)
	if lerr == nil {
		d.cfg, d.loaded = cfg, true
	} else {
		for _, line := range strings.Split(lerr.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				id := classifyLoadLine(line)
				d.loadLines[id] = append(d.loadLines[id], strings.TrimPrefix(line, o.ConfigPath+": "))
			}
		}
		d.cfg, _ = config.ParseLenient(data, o.Environ)
	}
	if d.cfg != nil {
		d.cfgInst = parseOrigin(d.cfg.URL)
		d.cfgMedia = parseOrigin(d.cfg.MediaURL)
	}

	if o.URL != "" {
		u, err := url.Parse(o.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.Hostname() == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return runErr("--url: %q must be the instance's public https origin, like https://example.net", o.URL)
		}
		u.Path, u.Host = "", strings.ToLower(u.Host)
		if d.cfgInst != nil && !sameHost(d.cfgInst.Hostname(), u.Hostname()) {
			return runErr("--url names %s but the config's url is %s; doctor checks the instance its config describes", u.Host, d.cfgInst.Host)
		}
		d.instURL = u
	}

	d.unitPath = o.UnitPath
	if d.unitPath == "" {
		d.unitPath = DefaultUnitPath
	} else {
		d.unitGiven = true
		if _, err := os.Stat(d.unitPath); err != nil {
			return runErr("--unit: %v", err)
		}
	}

	for flag, addr := range map[string]string{"--connect": o.Connect, "--connect-http": o.ConnectHTTP} {
		if addr == "" {
			continue
		}
		if h, p, err := net.SplitHostPort(addr); err != nil || h == "" || p == "" {
			return runErr("%s: %q must be HOST:PORT, like 203.0.113.7:443", flag, addr)
		}
	}
	d.connectHTP = o.ConnectHTTP
	if d.connectHTP == "" && o.Connect != "" {
		h, _, _ := net.SplitHostPort(o.Connect)
		d.connectHTP = net.JoinHostPort(h, "80")
	}

	d.roots = o.RootCAs
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return runErr("--ca: %v", err)
		}
		if d.roots == nil {
			if d.roots, err = x509.SystemCertPool(); err != nil || d.roots == nil {
				d.roots = x509.NewCertPool()
			}
		} else {
			d.roots = d.roots.Clone()
		}
		if !d.roots.AppendCertsFromPEM(pem) {
			return runErr("--ca: %s holds no PEM certificate", o.CAFile)
		}
	}
	return nil
}

// classifyLoadLine names the check that owns one line of config.Load's error.
func classifyLoadLine(line string) string {
	switch {
	case strings.Contains(line, "media_url:"):
		return "S3"
	case strings.Contains(line, " has mode "):
		return "S9"
	case strings.Contains(line, "secret_key:"), strings.Contains(line, ": env:"), strings.HasPrefix(line, "env:"):
		return "S9"
	case strings.Contains(line, "http.listen:"):
		return "S1"
	case strings.Contains(line, "database.dsn"):
		return "DB" // database.dsn and database.dsn_file
	}
	return "CONFIG"
}

// parseOrigin reads a configured origin without validating it; nil when it has no host.
func parseOrigin(raw string) *url.URL {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil
	}
	u.Host = strings.ToLower(u.Host)
	return u
}

func sameHost(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

// log is where a recovered panic of a probe goes.
func (d *doctor) log() *slog.Logger {
	if d.o.Log != nil {
		return d.o.Log
	}
	return slog.New(slog.DiscardHandler)
}

// configName is how fixes name the config file.
func (d *doctor) configName() string { return d.o.ConfigPath }

// checker collects one check's findings.
type checker struct {
	id, name string
	items    []finding
}

type finding struct {
	verdict  Verdict
	saw, fix string
}

func (c *checker) pass(format string, args ...any) {
	c.items = append(c.items, finding{verdict: Pass, saw: fmt.Sprintf(format, args...)})
}

func (c *checker) warn(saw, fix string) { c.items = append(c.items, finding{Warn, saw, fix}) }
func (c *checker) fail(saw, fix string) { c.items = append(c.items, finding{Fail, saw, fix}) }

func (c *checker) result() Check {
	res := Check{ID: c.id, Name: c.name, Verdict: Pass}
	var saws, fixes []string
	seen, seenSaw := map[string]bool{}, map[string]bool{}
	// What went wrong first, then what was fine.
	for _, want := range []Verdict{Fail, Warn, Pass} {
		for _, it := range c.items {
			if it.verdict != want {
				continue
			}
			if it.verdict.rank() > res.Verdict.rank() {
				res.Verdict = it.verdict
			}
			if it.saw != "" && !seenSaw[it.saw] {
				seenSaw[it.saw] = true
				saws = append(saws, it.saw)
			}
			if it.fix != "" && !seen[it.fix] {
				seen[it.fix] = true
				fixes = append(fixes, it.fix)
			}
		}
	}
	res.Saw = strings.Join(saws, "; ")
	res.Fix = strings.Join(fixes, " ")
	return res
}

// WriteJSON writes the report for monitoring: {"checks":[…],"failed":n,"warned":n}.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteTable writes the report for people: one line per check, the fix under
// every check that did not pass, and a summary.
func (r *Report) WriteTable(w io.Writer) error {
	idW, nameW := len("ID"), len("CHECK")
	for _, c := range r.Checks {
		idW, nameW = max(idW, len(c.ID)), max(nameW, len([]rune(c.Name)))
	}
	pad := func(s string, n int) string { return s + strings.Repeat(" ", max(0, n-len([]rune(s)))) }
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  %s  %s\n", pad("ID", idW), pad("VERDICT", 7), pad("CHECK", nameW), "SAW")
	indent := strings.Repeat(" ", idW+2+7+2)
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%s  %s  %s  %s\n", pad(c.ID, idW), pad(strings.ToUpper(string(c.Verdict)), 7), pad(c.Name, nameW), c.Saw)
		if c.Verdict != Pass && c.Fix != "" {
			fmt.Fprintf(&b, "%sfix: %s\n", indent, c.Fix)
		}
	}
	passed := len(r.Checks) - r.Failed - r.Warned
	fmt.Fprintf(&b, "\n%d passed, %d warned, %d failed\n", passed, r.Warned, r.Failed)
	if !r.Remote {
		b.WriteString("No --url: S2 and S4–S7 were judged from the config only, and TLS and STREAM were not checked. Pass --url https://<instance> to check over the wire.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
