package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/deploy"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/testutil"
)

// allIDs are the checks a run with --url reports, in order.
var allIDs = []string{"CONFIG", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "TLS"}

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
	text := testutil.ProdConfigText(dataDir, extra...)

	// The instance serves the config as written; doctor may read an edited copy.
	cfg, err := config.Parse([]byte(text), nil)
	if err != nil {
		t.Fatalf("instance config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst, err := instance.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), instance.Options{})
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
	go func() {
		done <- inst.Serve(ctx, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	}()
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
	return deployment{opts: Options{
		ConfigPath: cfgPath, URL: "https://example.test", UnitPath: unitPath,
		Connect: net.JoinHostPort("127.0.0.1", port), ConnectHTTP: connectHTTP,
		RootCAs: pool, Timeout: 5 * time.Second,
	}}
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
		"S2":  {"__Host-rampart_session; Secure; HttpOnly; SameSite=Lax; Path=/; no Domain"},
		"S3":  {"media host media.example.test answers / with a plain-text page and 404 for /api/v1/instance, /auth/sign_in, /users/x", "instance host answers 404 for an upload path"},
		"S4":  {"on /, /api/v1/instance, " + path404},
		"S5":  {"media host /", "http://example.test/ answers 308 to https://example.test/"},
		"S6":  {"connect-src names wss://example.test"},
		"S7":  {"Referrer-Policy same-origin"},
		"TLS": {"example.test: TLS 1.3", "media.example.test: TLS 1.3"},
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
