package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/deploy"
	"github.com/rampart-social/rampart/internal/httpsec"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// allIDs are the checks a run with --url reports, in order.
var allIDs = []string{"CONFIG", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "USER", "TLS", "STREAM"}

// rampartUID is the uid of the process the fake proc trees show serving:
// an unprivileged one, as the shipped unit's User=rampart gives.
const rampartUID = 998

// fakeProcess is one process of a fake proc tree.
type fakeProcess struct {
	pid     int
	name    string
	uids    [4]int   // real, effective, saved, filesystem
	listen  string   // http.listen of the socket it owns; "" none
	cmdline []string // default: none
	hideFDs bool     // its fd directory cannot be read
	status  string   // the status file's text; default from name and uids
}

// procAddr writes ip:port as /proc/net/tcp{,6} does: each 32-bit word of
// the address little-endian, in hex, then the port in hex.
func procAddr(t *testing.T, hostPort string) (table, addr string) {
	t.Helper()
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		t.Fatal(err)
	}
	ip := net.ParseIP(host)
	raw, table := []byte(ip.To4()), "tcp"
	if raw == nil {
		raw, table = []byte(ip.To16()), "tcp6"
	}
	var b strings.Builder
	for w := 0; w < len(raw); w += 4 {
		for i := 3; i >= 0; i-- {
			fmt.Fprintf(&b, "%02X", raw[w+i])
		}
	}
	p, _ := strconv.Atoi(port)
	return table, fmt.Sprintf("%s:%04X", b.String(), p)
}

// writeProc builds a proc tree of these processes (each listening socket's
// inode is 10000+pid) and returns its root.
func writeProc(t *testing.T, procs ...fakeProcess) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(root, "net"), 0o755))
	tables := map[string]string{
		"tcp":  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
		"tcp6": "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
		"unix": "Num       RefCount Protocol Flags    Type St Inode Path\n",
	}
	// A socket of another program, on another port, and a connection (not
	// listening) on no port at all: neither is Rampart's.
	tables["tcp"] += "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0\n"
	for i, p := range procs {
		inode := 10000 + p.pid
		dir := filepath.Join(root, strconv.Itoa(p.pid))
		must(os.MkdirAll(dir, 0o755))
		if p.hideFDs {
			must(os.WriteFile(filepath.Join(dir, "fd"), nil, 0o600)) // reading it as a directory fails
		} else {
			must(os.Mkdir(filepath.Join(dir, "fd"), 0o755))
			must(os.Symlink("/dev/null", filepath.Join(dir, "fd", "0")))
			must(os.Symlink("pipe:[5]", filepath.Join(dir, "fd", "1")))
			if p.listen != "" {
				must(os.Symlink(fmt.Sprintf("socket:[%d]", inode), filepath.Join(dir, "fd", "7")))
			}
		}
		switch {
		case p.listen == "":
		case strings.HasPrefix(p.listen, "unix:"):
			tables["unix"] += fmt.Sprintf("0000000000000000: 00000002 00000000 00010000 0001 01 %d %s\n", inode, strings.TrimPrefix(p.listen, "unix:"))
		default:
			table, addr := procAddr(t, p.listen)
			tables[table] += fmt.Sprintf("%4d: %s 00000000:0000 0A 00000000:00000000 00:00000000 00000000 %5d        0 %d 1 0000000000000000 100 0 0 10 0\n", i+1, addr, p.uids[1], inode)
		}
		status := p.status
		if status == "" {
			status = fmt.Sprintf("Name:\t%s\nUmask:\t0077\nState:\tS (sleeping)\nPid:\t%d\nUid:\t%d\t%d\t%d\t%d\nGid:\t998\t998\t998\t998\n",
				p.name, p.pid, p.uids[0], p.uids[1], p.uids[2], p.uids[3])
		}
		must(os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o644))
		cmdline := ""
		if len(p.cmdline) > 0 {
			cmdline = strings.Join(p.cmdline, "\x00") + "\x00"
		}
		must(os.WriteFile(filepath.Join(dir, "cmdline"), []byte(cmdline), 0o644))
	}
	for name, text := range tables {
		must(os.WriteFile(filepath.Join(root, "net", name), []byte(text), 0o644))
	}
	return root
}

// setup is one deployment for doctor to examine.
type setup struct {
	listenHost string        // where the instance binds: "127.0.0.1" (default) or "0.0.0.0"
	cfgListen  string        // http.listen in doctor's config; default the bound address
	security   []string      // lines of the instance's [security] section
	certNames  []string      // default example.test and media.example.test
	certLife   time.Duration // default 90 days
	redirect   int           // the http listener's status: 0 means 308; -1 means no listener
	unit       string        // unit text; default the shipped unit
	editConfig func(string) string
	configMode os.FileMode // default 0600
	// front, when set, stands between the TLS listener and Rampart's
	// handler, as a reverse proxy would: it may answer itself or change
	// what Rampart answers.
	front func(rampart http.Handler) http.Handler
	// proxy, when set, puts a real reverse proxy before Rampart instead:
	// Rampart serves plain http on its loopback listener, as behind nginx,
	// and an httptest TLS server running httputil.ReverseProxy (Host kept,
	// X-Forwarded-* set, upgrades passed through) is what doctor reaches.
	// The function may change the proxy (its Rewrite, ModifyResponse) as a
	// misconfigured one would.
	proxy     func(p *httputil.ReverseProxy)
	streaming []string // lines of the instance's [streaming] section
}

type deployment struct {
	opts Options
}

// deploy runs an instance over TLS on loopback, as the proxy would present
// it, an http listener that redirects like the proxy, and writes doctor's
// config and unit files.
func (s setup) deploy(t *testing.T) deployment {
	t.Helper()
	host := s.listenHost
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	listen := net.JoinHostPort(host, port)
	if s.cfgListen != "" {
		listen = strings.ReplaceAll(s.cfgListen, "PORT", port)
	}
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	extra := []string{"[http]", `listen = "` + listen + `"`}
	if len(s.security) > 0 {
		extra = append(append(extra, "[security]"), s.security...)
	}
	if len(s.streaming) > 0 {
		extra = append(append(extra, "[streaming]"), s.streaming...)
	}
	text := testutil.ProdConfigText(dataDir, extra...)

	// The instance serves the config as written; doctor may read an edited copy.
	cfg, err := config.Parse([]byte(text), nil)
	if err != nil {
		t.Fatalf("instance config: %v", err)
	}
	testutil.UseTestDatabase(t, cfg)
	storetest.Seed(cfg.DatabasePath())
	ctx, cancel := context.WithCancel(context.Background())
	inst, err := instance.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), instance.Options{KeyPairs: testutil.RSAKeyPair})
	if err != nil {
		t.Fatal(err)
	}
	names := s.certNames
	if names == nil {
		names = []string{"example.test", "media.example.test"}
	}
	life := s.certLife
	if life == 0 {
		life = 90 * 24 * time.Hour
	}
	cert, pool := testutil.SelfSignedTLS(t, life, names...)
	done := make(chan error, 1)
	connect := net.JoinHostPort("127.0.0.1", port)
	tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if s.proxy != nil {
		go func() { done <- inst.Serve(ctx, ln) }()
		connect = startProxy(t, "http://"+ln.Addr().String(), cert, s.proxy)
	} else if s.front == nil {
		go func() { done <- inst.Serve(ctx, tlsLn) }()
	} else {
		srv := &http.Server{Handler: s.front(inst.Handler()), ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
		go func() { done <- srv.Serve(tlsLn) }()
		go func() { <-ctx.Done(); srv.Close() }()
	}
	t.Cleanup(func() {
		cancel()
		<-done
		inst.Close()
	})

	connectHTTP := "127.0.0.1:1" // nothing listens on port 1
	if s.redirect >= 0 {
		status := s.redirect
		if status == 0 {
			status = http.StatusPermanentRedirect
		}
		hl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if status == http.StatusOK {
				io.WriteString(w, "plain http page")
				return
			}
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), status)
		}), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(hl)
		t.Cleanup(func() { srv.Close() })
		connectHTTP = hl.Addr().String()
	}

	if s.editConfig != nil {
		text = s.editConfig(text)
	}
	cfgPath := filepath.Join(dir, "rampart.toml")
	mode := s.configMode
	if mode == 0 {
		mode = 0o600
	}
	if err := os.WriteFile(cfgPath, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cfgPath, mode); err != nil {
		t.Fatal(err)
	}
	unit := s.unit
	if unit == "" {
		if unit, err = deploy.SystemdUnit(deploy.DefaultUnitOptions()); err != nil {
			t.Fatal(err)
		}
	}
	unitPath := filepath.Join(dir, "rampart.service")
	if err := os.WriteFile(unitPath, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	// USER reads a proc tree in which an unprivileged process serves the
	// listener, whoever runs the tests; TestUserOfTheRunningInstance reads
	// the real one.
	procDir := writeProc(t, fakeProcess{pid: 4242, name: "rampart", uids: [4]int{rampartUID, rampartUID, rampartUID, rampartUID}, listen: listen})
	return deployment{opts: Options{
		ConfigPath: cfgPath, URL: "https://example.test", UnitPath: unitPath,
		Connect: connect, ConnectHTTP: connectHTTP,
		RootCAs: pool, Timeout: 5 * time.Second, ProcDir: procDir,
	}}
}

// startProxy runs a reverse proxy over TLS (cert) to the Rampart at
// backend, changed by edit, and returns its address. It keeps the Host, sets
// X-Forwarded-For and -Proto, and passes a WebSocket upgrade through.
func startProxy(t *testing.T, backend string, cert tls.Certificate, edit func(*httputil.ReverseProxy)) string {
	t.Helper()
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// A connection to Rampart per request, as nginx's default: none is left
	// idle for Rampart's shutdown to wait on (5s for one never used).
	transport.DisableKeepAlives = true
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: transport,
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	edit(rp)
	// The whole request body is read before Rampart is called, as nginx
	// does by default (proxy_request_buffering): streamed, a body Rampart
	// refuses (413, and it closes the connection) could still be on its way,
	// and the reset would make this proxy answer 502 instead.
	buffered := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			http.Error(w, "reading the body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	})
	srv := httptest.NewUnstartedServer(buffered)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func run(t *testing.T, o Options) *Report {
	t.Helper()
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func byID(rep *Report) map[string]Check {
	m := map[string]Check{}
	for _, c := range rep.Checks {
		m[c.ID] = c
	}
	return m
}

// verdicts lists the ids with verdict v.
func verdicts(rep *Report, v Verdict) []string {
	var ids []string
	for _, c := range rep.Checks {
		if c.Verdict == v {
			ids = append(ids, c.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func dump(rep *Report) string {
	var b bytes.Buffer
	rep.WriteTable(&b)
	return b.String()
}

func TestCorrectDeploymentPassesEveryCheck(t *testing.T) {
	d := setup{}.deploy(t)
	rep := run(t, d.opts)
	var ids []string
	for _, c := range rep.Checks {
		ids = append(ids, c.ID)
		if c.Verdict != Pass || c.Fix != "" || c.Saw == "" {
			t.Errorf("%s: %s %q (fix %q)", c.ID, c.Verdict, c.Saw, c.Fix)
		}
	}
	if strings.Join(ids, " ") != strings.Join(allIDs, " ") {
		t.Errorf("checks %v, want %v", ids, allIDs)
	}
	if rep.Failed != 0 || rep.Warned != 0 {
		t.Errorf("failed %d, warned %d\n%s", rep.Failed, rep.Warned, dump(rep))
	}
	c := byID(rep)
	for id, want := range map[string][]string{
		"S2":   {"__Host-rampart_session; Secure; HttpOnly; SameSite=Lax; Path=/; no Domain"},
		"S3":   {"media host media.example.test answers / with a plain-text page and 404 for /api/v1/instance, /auth/sign_in, /users/x", "instance host answers 404 for an upload path"},
		"S4":   {"on /, /api/v1/instance, " + path404},
		"S5":   {"media host /", "http://example.test/ answers 308 to https://example.test/"},
		"S6":   {"connect-src names wss://example.test"},
		"S7":   {"Referrer-Policy same-origin"},
		"USER": {"pid 4242 (rampart, owner of the socket listening on 127.0.0.1:", fmt.Sprintf("uid %d", rampartUID), "not root"},
		"TLS":  {"example.test: TLS 1.3", "media.example.test: TLS 1.3"},
		"STREAM": {"/api/v1/instance advertises urls.streaming_api wss://example.test", "https://example.test/api/v1/streaming/health answers OK",
			`a WebSocket handshake without a token to https://example.test/api/v1/streaming reaches Rampart as one: its 401 "Missing access token"`},
	} {
		for _, w := range want {
			if !strings.Contains(c[id].Saw, w) {
				t.Errorf("%s saw %q, want it to mention %q", id, c[id].Saw, w)
			}
		}
	}
	if t.Failed() {
		t.Log(dump(rep))
	}
}

// headerEditor changes the headers of the instance host's answers just
// before they are sent, as a misconfigured proxy would.
type headerEditor struct {
	http.ResponseWriter
	edit  func(http.Header)
	wrote bool
}

func (w *headerEditor) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.edit(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *headerEditor) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// editAppHeaders is a front that passes every request to Rampart and edits
// the headers of the instance host's answers (the media host's stay).
func editAppHeaders(edit func(http.Header)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.Host, "media.") {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(&headerEditor{ResponseWriter: w, edit: edit}, r)
		})
	}
}

// editCookie rewrites the session cookie's Set-Cookie line.
func editCookie(edit func(string) string) func(http.Header) {
	return func(h http.Header) {
		for i, v := range h.Values("Set-Cookie") {
			if strings.HasPrefix(v, "__Host-rampart_session=") {
				h["Set-Cookie"][i] = edit(v)
			}
		}
	}
}

// proxyOwnErrors is a front that answers, like nginx, a header line over
// 8 KiB with 400 and a body over 1 KiB on the media host with 413, by
// itself, with the given headers for each host (nil: none), and passes
// everything else to Rampart.
func proxyOwnErrors(appSet, mediaSet http.Header) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			media := strings.HasPrefix(r.Host, "media.")
			answer := func(status int) {
				set := appSet
				if media {
					set = mediaSet
				}
				for k, v := range set {
					w.Header()[k] = v
				}
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>\n", status, http.StatusText(status))
			}
			for _, vals := range r.Header {
				for _, v := range vals {
					if len(v) > 8<<10 {
						answer(http.StatusBadRequest)
						return
					}
				}
			}
			if media && r.ContentLength > 1<<10 {
				answer(http.StatusRequestEntityTooLarge)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Each broken setup has one fault; exactly the checks it breaks fail, each
// with the fix for that fault.
func TestBrokenSetups(t *testing.T) {
	weakUnit := "[Unit]\nDescription=Rampart\n[Service]\nExecStart=/usr/local/bin/rampart serve\nUser=rampart\nPrivateTmp=yes\n"
	cases := []struct {
		name     string
		setup    setup
		fails    []string // exactly these checks fail
		check    string   // and this one's saw and fix say
		saw, fix string
	}{
		{"public bind", setup{listenHost: "0.0.0.0"}, []string{"S1"}, "S1",
			"is not a loopback address", `set http.listen = "127.0.0.1:8080"`},
		{"session cookie without prefix", setup{security: []string{"secure_cookies = false"}}, []string{"S2"}, "S2",
			"rampart_session: no __Host- prefix", "security.secure_cookies is false"},
		{"media on the instance origin", setup{editConfig: func(s string) string {
			return strings.Replace(s, `media_url = "https://media.example.test"`, `media_url = "https://example.test:8443"`, 1)
		}}, []string{"S3"}, "S3", "media_url: https://example.test:8443 is on the instance's own host", "serve uploads from a host name of their own"},
		{"security layer off", setup{security: []string{"headers = false"}}, []string{"S4", "S5", "S6", "S7"}, "S4",
			"X-Frame-Options missing", "security.headers is false"},
		{"HSTS off", setup{security: []string{"sts = false"}}, []string{"S5"}, "S5",
			"no Strict-Transport-Security on /", "security.sts is false"},
		{"unit without the seed directives", setup{unit: weakUnit}, []string{"S8"}, "S8",
			"NoNewPrivileges= is missing", "rampart gen systemd"},
		{"world-readable config", setup{configMode: 0o644}, []string{"S9"}, "S9",
			"has mode 0644", "chmod 640"},
		{"plain http served", setup{redirect: http.StatusOK}, []string{"S5"}, "S5",
			"http://example.test/ answers 200 instead of redirecting", "return 301 https://$host$request_uri"},
		{"certificate without the media host", setup{certNames: []string{"example.test"}}, []string{"TLS"}, "TLS",
			"media.example.test: tls: failed to verify certificate", "names include both the instance host and the media host"},
		{"unknown key", setup{editConfig: func(s string) string { return "listen_ip = \"0.0.0.0\"\n" + s }}, []string{"CONFIG"}, "CONFIG",
			`unknown key "listen_ip"`, "rampart config check"},
		{"example secret", setup{editConfig: func(s string) string {
			return strings.Replace(s, testutil.Secret, config.ExampleSecret, 1)
		}}, []string{"S9"}, "S9", "secret_key: is the documentation's example", "fresh secret"},
		// What only a proxy (or a broken Rampart) can do: the config refuses it.
		{"session cookie without HttpOnly", setup{front: editAppHeaders(editCookie(func(v string) string {
			return strings.Replace(v, "; HttpOnly", "", 1)
		}))}, []string{"S2"}, "S2", "__Host-rampart_session: no HttpOnly", "proxy_cookie"},
		{"session cookie with Domain", setup{front: editAppHeaders(editCookie(func(v string) string { return v + "; Domain=example.test" }))},
			[]string{"S2"}, "S2", "__Host-rampart_session: Domain=example.test", "proxy_cookie"},
		{"CSP with unsafe-inline", setup{front: editAppHeaders(func(h http.Header) {
			h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), "script-src 'self'", "script-src 'self' 'unsafe-inline'", 1))
		})}, []string{"S6"}, "S6", "script-src allows 'unsafe-inline'", "pass Content-Security-Policy through unchanged"},
		{"CSP with unsafe-inline in a second policy", setup{front: editAppHeaders(func(h http.Header) {
			h.Add("Content-Security-Policy", "style-src 'self' 'unsafe-inline'")
		})}, []string{"S6"}, "S6", "style-src allows 'unsafe-inline'", "add none of its own"},
		{"HSTS of a day", setup{front: editAppHeaders(func(h http.Header) {
			h.Set("Strict-Transport-Security", "max-age=86400; includeSubDomains")
		})}, []string{"S5"}, "S5", "max-age=86400 on /, want at least 31536000", "pass it through unchanged"},
		{"HSTS just under a year", setup{front: editAppHeaders(func(h http.Header) {
			h.Set("Strict-Transport-Security", "max-age=31535999")
		})}, []string{"S5"}, "S5", "max-age=31535999 on /api/v1/instance", "pass it through unchanged"},
		// The proxy's own answers, without Rampart's headers (nginx before
		// gen nginx gave its error pages the headers).
		{"proxy's own error on the instance host without headers", setup{front: proxyOwnErrors(nil, mediaSet(t))}, []string{"S4", "S5", "S6", "S7"}, "S4",
			proxyErrLabel + " (400): X-XSS-Protection missing", "rampart gen nginx"},
		{"proxy's own error on the media host without headers", setup{front: proxyOwnErrors(appSet(t), nil)}, []string{"S3"}, "S3",
			"media host " + mediaBodyLabel + " answered 413 with Content-Security-Policy", "gives nginx's own error answers the media host's headers"},
		{"data_dir open to others", setup{editConfig: func(s string) string {
			for _, line := range strings.Split(s, "\n") {
				if dir, ok := strings.CutPrefix(line, `data_dir = "`); ok {
					os.Chmod(strings.TrimSuffix(dir, `"`), 0o755)
				}
			}
			return s
		}}, []string{"S9"}, "S9", "has mode 0755: other users can reach", "chmod 700"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := run(t, tc.setup.deploy(t).opts)
			if got := verdicts(rep, Fail); strings.Join(got, " ") != strings.Join(tc.fails, " ") {
				t.Errorf("failing checks %v, want %v", got, tc.fails)
			}
			if rep.Failed != len(tc.fails) {
				t.Errorf("failed = %d, want %d", rep.Failed, len(tc.fails))
			}
			c := byID(rep)[tc.check]
			if !strings.Contains(c.Saw, tc.saw) {
				t.Errorf("%s saw %q, want %q", tc.check, c.Saw, tc.saw)
			}
			if !strings.Contains(c.Fix, tc.fix) {
				t.Errorf("%s fix %q, want %q", tc.check, c.Fix, tc.fix)
			}
			if t.Failed() {
				t.Log(dump(rep))
			}
		})
	}
}

// appSet and mediaSet are httpsec's header sets for the test config.
func appSet(t *testing.T) http.Header {
	return httpsec.New(testutil.ProdConfig(t, t.TempDir())).AppHeaders()
}

func mediaSet(t *testing.T) http.Header {
	return httpsec.New(testutil.ProdConfig(t, t.TempDir())).MediaHeaders()
}

// S7 accepts only same-origin and no-referrer, whatever else the header says.
func TestReferrerPolicies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string // the instance host's Referrer-Policy lines; nil removes the header
		pass   bool
	}{
		{"same-origin", []string{"same-origin"}, true},
		{"no-referrer", []string{"no-referrer"}, true},
		{"a list ending in no-referrer", []string{"unsafe-url, no-referrer"}, true},
		{"origin", []string{"origin"}, false},
		{"unsafe-url", []string{"unsafe-url"}, false},
		{"strict-origin-when-cross-origin", []string{"strict-origin-when-cross-origin"}, false},
		{"strict-origin", []string{"strict-origin"}, false},
		{"origin-when-cross-origin", []string{"origin-when-cross-origin"}, false},
		{"no-referrer-when-downgrade", []string{"no-referrer-when-downgrade"}, false},
		{"empty", []string{""}, false},
		{"missing", nil, false},
		{"same-origin overridden by a later line", []string{"same-origin", "unsafe-url"}, false},
		{"same-origin overridden in a list", []string{"same-origin, origin"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := run(t, setup{front: editAppHeaders(func(h http.Header) {
				h.Del("Referrer-Policy")
				for _, v := range tc.values {
					h.Add("Referrer-Policy", v)
				}
			})}.deploy(t).opts)
			c := byID(rep)["S7"]
			want := Fail
			if tc.pass {
				want = Pass
			}
			if c.Verdict != want {
				t.Errorf("S7 = %s (%q), want %s", c.Verdict, c.Saw, want)
			}
			if got := verdicts(rep, Fail); !tc.pass && strings.Join(got, " ") != "S7" || tc.pass && len(got) != 0 {
				t.Errorf("failing checks %v\n%s", got, dump(rep))
			}
			if !tc.pass && !strings.Contains(c.Fix, "Referrer-Policy") {
				t.Errorf("S7 fix %q", c.Fix)
			}
		})
	}
}

// A proxy that answers its own errors with the host's headers, as the site
// of gen nginx does, passes.
func TestProxyErrorsWithTheHeadersPass(t *testing.T) {
	rep := run(t, setup{front: proxyOwnErrors(appSet(t), mediaSet(t))}.deploy(t).opts)
	if rep.Failed != 0 || rep.Warned != 0 {
		t.Errorf("failed %v, warned %v\n%s", verdicts(rep, Fail), verdicts(rep, Warn), dump(rep))
	}
	c := byID(rep)
	if !strings.Contains(c["S4"].Saw, proxyErrLabel) || !strings.Contains(c["S3"].Saw, "media host "+mediaBodyLabel+" answers 413") {
		t.Errorf("the proxy's own answers were not looked at:\nS4 %q\nS3 %q", c["S4"].Saw, c["S3"].Saw)
	}
}

// The listen check connects to this host's own public addresses: a port
// open there fails even when the config names loopback.
func TestPortOpenOnPublicAddressFails(t *testing.T) {
	ips, err := nonLoopbackIPs()
	if err != nil || len(ips) == 0 {
		t.Skipf("no non-loopback address here (%v)", err)
	}
	o := setup{listenHost: "0.0.0.0", cfgListen: "127.0.0.1:PORT"}.deploy(t).opts
	_, port, _ := net.SplitHostPort(o.Connect)
	rep := run(t, o)
	c := byID(rep)["S1"]
	if c.Verdict != Fail || !strings.Contains(c.Saw, "port "+port+" answers on ") || !strings.Contains(c.Saw, ":"+port) {
		t.Errorf("S1 = %s %q", c.Verdict, c.Saw)
	}
	if !strings.Contains(c.Saw, "(loopback)") {
		t.Errorf("S1 should still say the configured address is loopback: %q", c.Saw)
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup setup
		check string
		saw   string
	}{
		{"temporary redirect", setup{redirect: http.StatusFound}, "S5", "answers 302 (temporary)"},
		{"nothing on port 80", setup{redirect: -1}, "S5", "nothing answered http://example.test/"},
		{"certificate about to expire", setup{certLife: 3 * 24 * time.Hour}, "TLS", "less than 14"},
		{"profiler on in prod", setup{editConfig: func(c string) string {
			return c + "\n[debug]\npprof_listen = \"127.0.0.1:6060\"\n"
		}}, "S1", "debug.pprof_listen = 127.0.0.1:6060: Go's profiler is on in prod"},
		{"unit missing a Rampart addition", setup{unit: strings.Replace(mustUnit(t), "MemoryDenyWriteExecute=yes\n", "", 1)}, "S8", "MemoryDenyWriteExecute= is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := run(t, tc.setup.deploy(t).opts)
			if rep.Failed != 0 || strings.Join(verdicts(rep, Warn), " ") != tc.check {
				t.Errorf("failed %v, warned %v; want only %s warned\n%s", verdicts(rep, Fail), verdicts(rep, Warn), tc.check, dump(rep))
			}
			if c := byID(rep)[tc.check]; !strings.Contains(c.Saw, tc.saw) || c.Fix == "" {
				t.Errorf("%s: saw %q fix %q, want saw to mention %q", tc.check, c.Saw, c.Fix, tc.saw)
			}
		})
	}
}

func mustUnit(t *testing.T) string {
	t.Helper()
	u, err := deploy.SystemdUnit(deploy.DefaultUnitOptions())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// An instance that does not answer: the TLS check fails with the error, the
// checks that needed an answer warn that they could not look.
func TestUnreachableInstance(t *testing.T) {
	o := setup{}.deploy(t).opts
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Connect = ln.Addr().String()
	ln.Close()
	rep := run(t, o)
	c := byID(rep)
	if got := verdicts(rep, Fail); strings.Join(got, " ") != "TLS" {
		t.Errorf("failing %v, want TLS\n%s", got, dump(rep))
	}
	if !strings.Contains(c["TLS"].Saw, "connection refused") || !strings.Contains(c["TLS"].Fix, "--connect "+o.Connect) {
		t.Errorf("TLS: %q / %q", c["TLS"].Saw, c["TLS"].Fix)
	}
	for _, id := range []string{"S2", "S4", "S6", "S7"} {
		if c[id].Verdict != Warn || !strings.Contains(c[id].Saw, "not checked") {
			t.Errorf("%s: %s %q", id, c[id].Verdict, c[id].Saw)
		}
	}
}

func TestLocalChecksWithoutURL(t *testing.T) {
	o := setup{security: []string{"headers = false"}}.deploy(t).opts
	o.URL = ""
	rep := run(t, o)
	c := byID(rep)
	if _, ok := c["TLS"]; ok {
		t.Error("TLS reported without --url")
	}
	if got := verdicts(rep, Fail); strings.Join(got, " ") != "S4 S5 S6 S7" {
		t.Errorf("failing %v, want S4–S7 from security.headers = false", got)
	}
	if !strings.Contains(c["S4"].Saw, "from the config") {
		t.Errorf("S4 should say it judged from the config: %q", c["S4"].Saw)
	}
	if !strings.Contains(dump(rep), "No --url") {
		t.Error("the table does not say remote checks were skipped")
	}
}

func TestMissingDefaultUnitWarns(t *testing.T) {
	if _, err := os.Stat(DefaultUnitPath); err == nil {
		t.Skipf("%s exists here", DefaultUnitPath)
	}
	o := setup{}.deploy(t).opts
	o.URL, o.UnitPath = "", ""
	c := byID(run(t, o))["S8"]
	if c.Verdict != Warn || !strings.Contains(c.Saw, "no unit at "+DefaultUnitPath) || !strings.Contains(c.Fix, "--unit") {
		t.Errorf("S8 = %s %q %q", c.Verdict, c.Saw, c.Fix)
	}
}

// A config that is not even TOML: CONFIG fails, the rest is checked as far as it can be.
func TestUnparsableConfig(t *testing.T) {
	o := setup{editConfig: func(string) string { return "env = \n" }}.deploy(t).opts
	o.URL = ""
	rep := run(t, o)
	c := byID(rep)
	if c["CONFIG"].Verdict != Fail || !strings.Contains(c["CONFIG"].Saw, "line 1") {
		t.Errorf("CONFIG = %s %q", c["CONFIG"].Verdict, c["CONFIG"].Saw)
	}
	if c["S9"].Verdict != Pass || !strings.Contains(c["S9"].Saw, "has mode 0600") {
		t.Errorf("S9 = %s %q", c["S9"].Verdict, c["S9"].Saw)
	}
	if c["S1"].Verdict != Warn {
		t.Errorf("S1 = %s %q", c["S1"].Verdict, c["S1"].Saw)
	}
}

func TestRunErrors(t *testing.T) {
	good := setup{}.deploy(t).opts
	for name, edit := range map[string]func(*Options){
		"missing config":   func(o *Options) { o.ConfigPath = filepath.Join(t.TempDir(), "absent.toml") },
		"http url":         func(o *Options) { o.URL = "http://example.test" },
		"url with path":    func(o *Options) { o.URL = "https://example.test/x" },
		"another instance": func(o *Options) { o.URL = "https://other.test" },
		"missing unit":     func(o *Options) { o.UnitPath = filepath.Join(t.TempDir(), "absent.service") },
		"missing ca":       func(o *Options) { o.CAFile = filepath.Join(t.TempDir(), "absent.pem") },
		"ca without pem": func(o *Options) {
			o.CAFile = filepath.Join(t.TempDir(), "ca.pem")
			os.WriteFile(o.CAFile, []byte("not a certificate"), 0o600)
		},
		"bad connect": func(o *Options) { o.Connect = "127.0.0.1" },
	} {
		t.Run(name, func(t *testing.T) {
			o := good
			edit(&o)
			rep, err := Run(context.Background(), o)
			var re *RunError
			if !errors.As(err, &re) {
				t.Fatalf("Run = %v, %v; want a RunError", rep, err)
			}
		})
	}
}

func TestClassifyLoadLine(t *testing.T) {
	for line, want := range map[string]string{
		"media_url: https://example.test is on the instance's own host example.test; …": "S3",
		"/etc/rampart/rampart.toml has mode 0644: others can read it …":                 "S9",
		"secret_key: is the documentation's example; …":                                 "S9",
		`env: "staging" is not an environment; …`:                                       "S9",
		"http.listen: 0.0.0.0:80 is not a loopback address; …":                          "S1",
		`unknown key "listen_ip"`:                                                       "CONFIG",
		"http.read_timeout: must be greater than zero …":                                "CONFIG",
	} {
		if got := classifyLoadLine(line); got != want {
			t.Errorf("classifyLoadLine(%q) = %s, want %s", line, got, want)
		}
	}
}

func TestReportFormats(t *testing.T) {
	rep := &Report{Checks: []Check{
		{ID: "S1", Name: "listen address", Verdict: Pass, Saw: "loopback"},
		{ID: "S9", Name: "env, secret, file modes", Verdict: Fail, Saw: "mode 0644", Fix: "chmod 640 x"},
	}, Failed: 1, Remote: true}
	var b bytes.Buffer
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"ID  VERDICT  CHECK                    SAW\n" +
		"S1  PASS     listen address           loopback\n" +
		"S9  FAIL     env, secret, file modes  mode 0644\n" +
		"             fix: chmod 640 x\n" +
		"\n1 passed, 0 warned, 1 failed\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Checks []map[string]string `json:"checks"`
		Failed int                 `json:"failed"`
		Warned int                 `json:"warned"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Checks) != 2 || got.Failed != 1 || got.Checks[1]["fix"] != "chmod 640 x" || got.Checks[0]["verdict"] != "pass" {
		t.Errorf("JSON: %s", b.String())
	}
	for _, k := range []string{"id", "name", "verdict", "saw", "fix"} {
		if _, ok := got.Checks[0][k]; !ok {
			t.Errorf("JSON check lacks %q: %s", k, b.String())
		}
	}
}

// ParseLenient reads what Parse refuses, with the same error lines, and
// leaves Parse as strict as it was.
func TestParseLenientKeepsParseStrict(t *testing.T) {
	text := testutil.ProdConfigText(t.TempDir(), `media_url = "https://example.test:8443"`, `bogus = 1`)
	text = strings.Replace(text, `media_url = "https://media.example.test"`+"\n", "", 1)
	if _, err := config.Parse([]byte(text), nil); err == nil {
		t.Fatal("Parse accepted media on the instance host")
	}
	cfg, errs := config.ParseLenient([]byte(text), []string{"RAMPART_HTTP_LISTEN=127.0.0.2:9000"})
	if cfg == nil || cfg.MediaURL != "https://example.test:8443" || cfg.HTTP.Listen != "127.0.0.2:9000" {
		t.Fatalf("ParseLenient = %+v", cfg)
	}
	var lines []string
	for _, e := range errs {
		lines = append(lines, e.Error())
	}
	got := strings.Join(lines, "\n")
	if !strings.Contains(got, `unknown key "bogus"`) || !strings.Contains(got, "media_url: https://example.test:8443 is on the instance's own host") {
		t.Errorf("ParseLenient errors:\n%s", got)
	}
	if cfg, errs := config.ParseLenient([]byte("secret_key = 'x\n"), nil); cfg != nil || len(errs) != 1 || strings.Contains(errs[0].Error(), "'x") {
		t.Errorf("not TOML: %v %v", cfg, errs)
	}
}

func TestDropInThatWeakensTheUnitFails(t *testing.T) {
	o := setup{}.deploy(t).opts
	o.URL = ""
	if c := byID(run(t, o))["S8"]; c.Verdict == Fail {
		t.Fatalf("the shipped unit alone fails S8: %s", c.Saw)
	}
	dir := o.UnitPath + ".d"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "local.conf"), []byte("[Service]\nNoNewPrivileges=no\nProtectSystem=false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := byID(run(t, o))["S8"]
	if c.Verdict != Fail || !strings.Contains(c.Saw, "NoNewPrivileges") || !strings.Contains(c.Saw, "local.conf") {
		t.Errorf("a weakening drop-in was not caught: %s %q", c.Verdict, c.Saw)
	}
}

// USER against the real /proc: the instance runs in this test process, so
// doctor must find this process and its user.
func TestUserOfTheRunningInstance(t *testing.T) {
	o := setup{}.deploy(t).opts
	o.URL, o.ProcDir = "", ""
	c := byID(run(t, o))["USER"]
	if want := fmt.Sprintf("pid %d (", os.Getpid()); !strings.Contains(c.Saw, want) || !strings.Contains(c.Saw, "owner of the socket listening on "+o.Connect) {
		t.Fatalf("USER saw %q, want this process (%s…) as the socket's owner", c.Saw, want)
	}
	switch {
	case os.Geteuid() == 0:
		if c.Verdict != Fail || !strings.Contains(c.Saw, "runs as root") || !strings.Contains(c.Saw, "uid 0") || !strings.Contains(c.Fix, "User=rampart") {
			t.Errorf("as root: USER %s %q fix %q, want a failure naming root", c.Verdict, c.Saw, c.Fix)
		}
	case os.Getuid() == 0:
		if c.Verdict != Fail || !strings.Contains(c.Saw, "can become root again") {
			t.Errorf("real uid root: USER %s %q", c.Verdict, c.Saw)
		}
	default:
		if c.Verdict != Pass || !strings.Contains(c.Saw, fmt.Sprintf("uid %d", os.Geteuid())) {
			t.Errorf("as uid %d: USER %s %q", os.Geteuid(), c.Verdict, c.Saw)
		}
	}
}

// USER's reading of /proc and its verdicts, on fake proc trees.
func TestUserFromProcTree(t *testing.T) {
	unprivileged := [4]int{rampartUID, rampartUID, rampartUID, rampartUID}
	type env struct{ listen, port, config string }
	cases := []struct {
		name      string
		cfgListen string // doctor's http.listen; default the instance's
		procs     func(e env) []fakeProcess
		edit      func(t *testing.T, root string)
		verdict   Verdict
		saw       []string
	}{
		{"unprivileged owner of the socket", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 1, name: "systemd", uids: [4]int{}}, {pid: 300, name: "rampart", uids: unprivileged, listen: e.listen}}
		}, nil, Pass, []string{"pid 300 (rampart, owner of the socket listening on", "uid 998", "not root"}},
		{"root owner of the socket", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: [4]int{0, 0, 0, 0}, listen: e.listen}}
		}, nil, Fail, []string{"pid 300 (rampart, owner of the socket", "runs as root (uid 0)"}},
		{"effective uid root only", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: [4]int{rampartUID, 0, rampartUID, rampartUID}, listen: e.listen}}
		}, nil, Fail, []string{"runs as root (uid 0)"}},
		{"saved uid root", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: [4]int{rampartUID, rampartUID, 0, rampartUID}, listen: e.listen}}
		}, nil, Fail, []string{"can become root again (real uid 998, saved uid 0)"}},
		{"real uid root", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: [4]int{0, rampartUID, rampartUID, rampartUID}, listen: e.listen}}
		}, nil, Fail, []string{"can become root again (real uid 0, saved uid 998)"}},
		{"wildcard IPv4 socket", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: unprivileged, listen: "0.0.0.0:" + e.port}}
		}, nil, Pass, []string{"pid 300"}},
		{"wildcard IPv6 socket", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: unprivileged, listen: "[::]:" + e.port}}
		}, nil, Pass, []string{"pid 300"}},
		{"IPv6 loopback", "[::1]:PORT", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: [4]int{}, listen: "[::1]:" + e.port}}
		}, nil, Fail, []string{"pid 300", "root"}},
		{"unix socket", "unix:/run/rampart/rampart.sock", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: [4]int{}, listen: "unix:/run/rampart/rampart.sock"}}
		}, nil, Fail, []string{"pid 300 (rampart, owner of the socket listening on unix:/run/rampart/rampart.sock)", "root"}},
		{"another address on the port", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "other", uids: [4]int{}, listen: "127.0.0.2:" + e.port}}
		}, nil, Warn, []string{"nothing listens on 127.0.0.1:"}},
		{"nothing running", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 1, name: "systemd", uids: [4]int{}}}
		}, nil, Warn, []string{"could not find the running Rampart: nothing listens on", "is Rampart running?"}},
		{"open files hidden, found by command line", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: unprivileged, listen: e.listen, hideFDs: true,
				cmdline: []string{"/usr/local/bin/rampart", "serve", "--config", e.config}}}
		}, nil, Pass, []string{"pid 300 (rampart, `rampart serve` with this config)", "not root"}},
		{"open files hidden, --config= form", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: [4]int{}, listen: e.listen, hideFDs: true,
				cmdline: []string{"rampart", "serve", "--config=" + e.config}}}
		}, nil, Fail, []string{"`rampart serve` with this config", "root"}},
		{"open files hidden, another config", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: unprivileged, listen: e.listen, hideFDs: true,
				cmdline: []string{"/usr/local/bin/rampart", "serve", "--config", "/etc/other.toml"}}}
		}, nil, Warn, []string{"the open files of 1 processes could not be read (only root may read another user's)"}},
		{"socket owned by no visible process", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", uids: unprivileged, listen: e.listen}}
		}, func(t *testing.T, root string) {
			if err := os.Remove(filepath.Join(root, "300", "fd", "7")); err != nil {
				t.Fatal(err)
			}
		}, Warn, []string{"no process visible here owns it"}},
		{"status without uids", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", listen: e.listen, status: "Name:\trampart\nPid:\t300\n"}}
		}, nil, Warn, []string{"cannot read the user of pid 300", "has no Uid line"}},
		{"status with a bad Uid line", "", func(e env) []fakeProcess {
			return []fakeProcess{{pid: 300, name: "rampart", listen: e.listen, status: "Name:\trampart\nUid:\t998\tx\t998\t998\n"}}
		}, nil, Warn, []string{"cannot read the user of pid 300"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := setup{cfgListen: tc.cfgListen}.deploy(t).opts
			o.URL = ""
			_, port, _ := net.SplitHostPort(o.Connect)
			o.ProcDir = writeProc(t, tc.procs(env{listen: o.Connect, port: port, config: o.ConfigPath})...)
			if tc.edit != nil {
				tc.edit(t, o.ProcDir)
			}
			c := byID(run(t, o))["USER"]
			if c.Verdict != tc.verdict {
				t.Errorf("USER = %s (%q), want %s", c.Verdict, c.Saw, tc.verdict)
			}
			for _, w := range tc.saw {
				if !strings.Contains(c.Saw, w) {
					t.Errorf("USER saw %q, want it to mention %q", c.Saw, w)
				}
			}
			if tc.verdict != Pass && c.Fix == "" {
				t.Error("USER gives no fix")
			}
		})
	}
}

func TestParseProcAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"00000000:0050":                         "0.0.0.0:80",
		"00000000000000000000000001000000:1F90": "[::1]:8080",
		"0000000000000000FFFF00000100007F:0016": "127.0.0.1:22", // v4-mapped
		"B80D0120000000000000000001000000:01BB": "[2001:db8::1]:443",
	} {
		ip, port, ok := parseProcAddr(in)
		if got := net.JoinHostPort(ip.String(), strconv.FormatUint(port, 10)); !ok || got != want {
			t.Errorf("parseProcAddr(%q) = %s %v, want %s", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "0100007F", "0100007F:", "0100007F:ZZZZ", "01007F:1F90", "XX00007F:1F90", "0100007F:1FFFFF"} {
		if _, _, ok := parseProcAddr(bad); ok {
			t.Errorf("parseProcAddr(%q) accepted", bad)
		}
	}
}
