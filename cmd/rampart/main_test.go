package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"
	"github.com/rampart-social/rampart/internal/config"
	units "github.com/rampart-social/rampart/internal/deploy" // deploy is nginx_test.go's
	"github.com/rampart-social/rampart/internal/testdb"
	"github.com/rampart-social/rampart/internal/testutil"
)

// binary is the rampart executable built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rampart-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "rampart")
	// The tag adds test-only routes (/test/slow, /test/panic); release builds lack them.
	build := exec.Command("go", "build", "-tags", "rampart_testroutes", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building rampart:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the binary to completion.
func run(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runStdin(t, env, "", args...)
}

// runStdin runs the binary to completion with stdin.
func runStdin(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(cleanEnv(), databaseEnv(t, env, args)...), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// databaseEnv points a run of the binary at the run's engine: in a
// PostgreSQL run, at the database of the instance whose data directory args
// name (--data, or the data_dir of the --config or RAMPART_CONFIG file with
// env's overrides),
// the one the test's own store opens for it; in a SQLite run, nothing.
func databaseEnv(t *testing.T, env, args []string) []string {
	t.Helper()
	if !testdb.Postgres() {
		return nil
	}
	dir := ""
	// RAMPART_CONFIG names the file as --config does.
	for _, kv := range env {
		if path, ok := strings.CutPrefix(kv, config.EnvVarConfig+"="); ok {
			args = append([]string{"--config", path}, args...)
		}
	}
	for i, a := range args {
		flag, value, inline := strings.Cut(a, "=")
		if !inline && i+1 < len(args) {
			value = args[i+1]
		}
		switch flag {
		case "--data":
			dir = value
		case "--config":
			dir = filepath.Dir(value)
			if data, err := os.ReadFile(value); err == nil {
				if cfg, err := config.Parse(data, append([]string{"RAMPART_SECURITY_ALLOW_ROOT=true"}, env...)); err == nil {
					dir = cfg.DataDir
				}
			}
		}
	}
	if dir == "" {
		return nil
	}
	return testutil.TestDatabaseEnv(t, dir)
}

// cleanEnv drops RAMPART_* variables of the surrounding shell. Test
// machines often run as root, where prod refuses to serve: the tests allow
// it (a test sets RAMPART_SECURITY_ALLOW_ROOT=false after this to see the
// refusal; the last value of a variable wins).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RAMPART_") {
			env = append(env, kv)
		}
	}
	if os.Geteuid() == 0 {
		env = append(env, "RAMPART_SECURITY_ALLOW_ROOT=true")
	}
	return env
}

type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *testutil.SyncBuffer
	exited         chan struct{}
	exitCode       int
}

// quickstarted is a quickstart instance with one user, kim, signed in to an app.
type quickstarted struct {
	p                              *proc
	port, addr, server, cfg, token string
}

// quickstartWithUser starts quickstart on data with env, creates kim and signs
// her in to an app named app through the pages, as a person would.
func quickstartWithUser(t *testing.T, data string, env []string, app string) quickstarted {
	t.Helper()
	q := quickstarted{port: freePort(t), cfg: filepath.Join(data, "rampart.toml")}
	q.addr, q.server = "127.0.0.1:"+q.port, "http://localhost:"+q.port
	q.p = startProc(t, env, "quickstart", "--data", data, "--listen", q.addr)
	waitReady(t, q.p, q.addr, "localhost:"+q.port)
	if _, stderr, code := runStdin(t, nil, socialPassword+"\n", "admin", "user", "create", "--config", q.cfg, "--username", "kim",
		"--email", "kim@example.test", "--password-stdin"); code != 0 {
		t.Fatalf("admin user create: %s", stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	registered, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: q.server, ClientName: app, Scopes: "read write"})
	if err != nil {
		t.Fatal(err)
	}
	q.token = signInThroughBrowser(t, ctx, q.server, registered, app, "kim").Config.AccessToken
	return q
}

// startProc starts the binary in the background; it is killed at cleanup.
func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startCmd(t, exec.Command(binary, args...), env, args)
}

// startCmd starts cmd (the binary, or a shell that execs it) in the
// background with the tests' clean environment plus env; it is killed at
// cleanup, and its stderr shown if the test failed.
func startCmd(t *testing.T, cmd *exec.Cmd, env, args []string) *proc {
	t.Helper()
	p := &proc{cmd: cmd, stdout: &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = append(append(cleanEnv(), databaseEnv(t, env, args)...), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.exitCode = p.cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("stderr of %v:\n%s", args, p.stderr.String())
		}
	})
	return p
}

func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.exitCode
	case <-time.After(30 * time.Second):
		t.Fatal("process did not exit")
		return -1
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func get(addr, host, path string) (*http.Response, error) {
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	req.Host = host
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// waitReady polls /livez until the process answers.
func waitReady(t *testing.T, p *proc, addr, host string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("process exited early (%d):\n%s", p.exitCode, p.stderr.String())
		default:
		}
		if resp, err := get(addr, host, "/livez"); err == nil && resp.StatusCode == 200 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no answer on %s:\n%s", addr, p.stderr.String())
}

// prodConfig writes `rampart gen config` output for the test domains to a 0600 file.
func prodConfig(t *testing.T) string {
	t.Helper()
	out, errOut, code := run(t, nil, "gen", "config", "--domain", "example.test", "--media-domain", "media.example.test")
	if code != 0 {
		t.Fatalf("gen config: %d %s", code, errOut)
	}
	path := filepath.Join(t.TempDir(), "rampart.toml")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProdInstanceFromGeneratedConfig(t *testing.T) {
	cfg := prodConfig(t)
	addr := "127.0.0.1:" + freePort(t)
	p := startProc(t, []string{"RAMPART_HTTP_LISTEN=" + addr, "RAMPART_DATA_DIR=" + t.TempDir()}, "serve", "--config", cfg)
	waitReady(t, p, addr, "example.test")

	for _, path := range []string{"/", "/nope"} {
		resp, err := get(addr, "example.test", path)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{
			"X-Xss-Protection": "0", "X-Permitted-Cross-Domain-Policies": "none", "X-Frame-Options": "DENY",
			"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
			"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
		} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("app %s: %s = %q, want %q", path, k, got, v)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.HasPrefix(csp, "default-src 'none'; base-uri 'none'; frame-ancestors 'none'") ||
			!strings.Contains(csp, "connect-src 'self' wss://example.test") || strings.Contains(csp, "unsafe") {
			t.Errorf("app %s: CSP %q", path, csp)
		}
	}
	resp, err := get(addr, "media.example.test", "/")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != "default-src 'none'; frame-ancestors 'none'; sandbox" {
		t.Errorf("media: %d %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	if !strings.Contains(p.stderr.String(), `"level":"INFO","msg":"starting Rampart"`) {
		t.Errorf("prod logs should be JSON:\n%s", p.stderr.String())
	}

	resp, err = get(addr, "example.test", "/test/panic")
	if err != nil || resp.StatusCode != 500 || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("panic route: %v %v", err, resp)
	}

	// SIGTERM while a request is in flight: it completes, then the process exits 0.
	slow := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+addr+"/test/slow?ms=1500", nil)
		req.Host = "example.test"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- fmt.Sprintf("%d %s", resp.StatusCode, b)
	}()
	time.Sleep(300 * time.Millisecond) // the handler is running
	p.cmd.Process.Signal(syscall.SIGTERM)
	if got := <-slow; got != "200 finished" {
		t.Errorf("in-flight request during SIGTERM got %q", got)
	}
	if code := p.wait(t); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	if !strings.Contains(p.stderr.String(), "stopped cleanly") {
		t.Errorf("no clean-stop log line:\n%s", p.stderr.String())
	}
}

// oneErrorLine checks the user-facing failure contract: non-zero exit, the
// message on the last stderr line, and no stack trace.
func oneErrorLine(t *testing.T, stderr string, code int, want string) {
	t.Helper()
	if code == 0 {
		t.Fatalf("exit status 0, want failure (%q)", want)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, want) {
		t.Errorf("last stderr line %q does not contain %q", last, want)
	}
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic:") {
		t.Errorf("stack trace on a user error:\n%s", stderr)
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := prodConfig(t)
	_, stderr, code := run(t, []string{"RAMPART_HTTP_LISTEN=" + ln.Addr().String(), "RAMPART_DATA_DIR=" + t.TempDir()}, "serve", "--config", cfg)
	oneErrorLine(t, stderr, code, "rampart serve: http.listen: cannot listen on "+ln.Addr().String()+": address already in use")
}

func TestConfigErrorsAreOneLineEach(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), mode)
		os.Chmod(p, mode)
		return p
	}
	good := prodConfig(t)
	goodText, _ := os.ReadFile(good)

	bad := write("bad.toml", "listen_ip = \"0.0.0.0\"\n"+string(goodText), 0o600)
	_, stderr, code := run(t, nil, "serve", "--config", bad)
	oneErrorLine(t, stderr, code, bad+`: unknown key "listen_ip"`)
	if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
		t.Errorf("want exactly one line, got:\n%s", stderr)
	}

	_, stderr, code = run(t, nil, "config", "check", "--config", filepath.Join(dir, "absent.toml"))
	oneErrorLine(t, stderr, code, "absent.toml: no such file or directory")

	_, stderr, code = run(t, []string{"RAMPART_SECURITY_REFERRER_POLICY=unsafe-url"}, "config", "check", "--config", good)
	oneErrorLine(t, stderr, code, `security.referrer_policy: "unsafe-url" is not allowed`)

	open := write("open.toml", string(goodText), 0o644)
	_, stderr, code = run(t, nil, "config", "check", "--config", open)
	oneErrorLine(t, stderr, code, "has mode 0644")

	_, stderr, code = run(t, nil, "serve")
	oneErrorLine(t, stderr, code, "no config file: pass --config FILE or set RAMPART_CONFIG")
	if code != 2 {
		t.Errorf("usage error exit %d, want 2", code)
	}
}

func TestConfigCheck(t *testing.T) {
	cfg := prodConfig(t)
	text, _ := os.ReadFile(cfg)
	stdout, stderr, code := run(t, []string{"RAMPART_CONFIG=" + cfg}, "config", "check")
	if code != 0 {
		t.Fatalf("config check: %d %s", code, stderr)
	}
	if !strings.Contains(stdout, `secret_key = "[redacted]"`) || !strings.Contains(stdout, `url = "https://example.test"`) {
		t.Errorf("config check output:\n%s", stdout)
	}
	for _, line := range strings.Split(string(text), "\n") {
		if v, ok := strings.CutPrefix(line, "secret_key = "); ok && strings.Contains(stdout, strings.Trim(v, `"`)) {
			t.Error("config check printed the secret")
		}
	}
	// The disabled security layer is valid but said loudly.
	_, stderr, code = run(t, []string{"RAMPART_SECURITY_HEADERS=false"}, "config", "check", "--config", cfg)
	if code != 0 || !strings.Contains(stderr, "WARNING: security.headers is false") {
		t.Errorf("headers=false: %d %q", code, stderr)
	}
}

func TestQuickstartServesBothOriginsAndReusesItsConfig(t *testing.T) {
	data := t.TempDir()
	port := freePort(t)
	addr := "127.0.0.1:" + port
	p := startProc(t, nil, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)

	resp, err := get(addr, "localhost:"+port, "/")
	if err != nil {
		t.Fatal(err)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(csp, "connect-src 'self' ws://localhost:"+port) ||
		!strings.Contains(csp, "img-src 'self' data: blob: http://127.0.0.1:"+port) || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("app: %d CSP %q HSTS %q", resp.StatusCode, csp, resp.Header.Get("Strict-Transport-Security"))
	}
	resp, err = get(addr, "127.0.0.1:"+port, "/")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != "default-src 'none'; frame-ancestors 'none'; sandbox" {
		t.Errorf("media: %d %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	out := p.stdout.String()
	if !strings.Contains(out, "app:        http://localhost:"+port+"/  the instance: open it in a browser, point Mastodon apps at it") ||
		!strings.Contains(out, "media host: http://127.0.0.1:"+port+"/  uploaded files only") {
		t.Errorf("quickstart did not say which address is the app and which the media host:\n%s", out)
	}
	if !strings.Contains(p.stderr.String(), "DEV ENVIRONMENT") {
		t.Errorf("dev not said loudly:\n%s", p.stderr.String())
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d after SIGINT", code)
	}
	first, err := os.ReadFile(filepath.Join(data, "rampart.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(data, "rampart.toml")); fi.Mode().Perm() != 0o600 {
		t.Errorf("quickstart config mode %04o", fi.Mode().Perm())
	}

	p = startProc(t, nil, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.wait(t)
	second, _ := os.ReadFile(filepath.Join(data, "rampart.toml"))
	if !bytes.Equal(first, second) || strings.Contains(p.stdout.String(), "Wrote a dev config") {
		t.Error("second quickstart did not reuse the config")
	}

	_, stderr, code := run(t, nil, "quickstart", "--data", data, "--listen", "0.0.0.0:"+port)
	oneErrorLine(t, stderr, code, "not loopback")
}

func TestUnixSocket(t *testing.T) {
	cfg := prodConfig(t)
	sock := filepath.Join(t.TempDir(), "r.sock")
	p := startProc(t, []string{"RAMPART_HTTP_LISTEN=unix:" + sock, "RAMPART_DATA_DIR=" + t.TempDir()}, "serve", "--config", cfg)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get("http://example.test/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("over the socket: %d %v", resp.StatusCode, resp.Header)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer on %s: %v\n%s", sock, err, p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %04o, want 0660", fi.Mode().Perm())
	}
	if strings.Contains(p.stderr.String(), "not loopback") {
		t.Error("a unix socket must not warn as a public bind")
	}
}

func TestPublicBindWarnsAtStart(t *testing.T) {
	cfg := prodConfig(t)
	port := freePort(t)
	p := startProc(t, []string{"RAMPART_HTTP_LISTEN=0.0.0.0:" + port, "RAMPART_DATA_DIR=" + t.TempDir()}, "serve", "--config", cfg)
	waitReady(t, p, "127.0.0.1:"+port, "example.test")
	if !strings.Contains(p.stderr.String(), `"level":"WARN","msg":"http.listen is 0.0.0.0:`+port+`, not loopback`) {
		t.Errorf("no warning for a public bind:\n%s", p.stderr.String())
	}
}

// The profiler answers on its own loopback listener, only when asked for,
// never on the app's listener, and prod warns about it at start.
func TestProfilingListener(t *testing.T) {
	cfg := prodConfig(t)
	port, pport := freePort(t), freePort(t)
	addr := "127.0.0.1:" + port
	p := startProc(t, []string{"RAMPART_HTTP_LISTEN=" + addr, "RAMPART_DATA_DIR=" + t.TempDir(),
		"RAMPART_DEBUG_PPROF_LISTEN=127.0.0.1:" + pport}, "serve", "--config", cfg)
	waitReady(t, p, addr, "example.test")
	resp, err := get("127.0.0.1:"+pport, "127.0.0.1", "/debug/pprof/cmdline")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("profiler: %v %v", resp, err)
	}
	if resp, err := get(addr, "example.test", "/debug/pprof/cmdline"); err != nil || resp.StatusCode != 404 {
		t.Errorf("the app listener serves the profiler: %v %v", resp, err)
	}
	if !strings.Contains(p.stderr.String(), `"level":"WARN","msg":"debug.pprof_listen is 127.0.0.1:`+pport) {
		t.Errorf("no warning for the profiler in prod:\n%s", p.stderr.String())
	}

	// A page that rebinds its own name to loopback is refused.
	if resp, err := get("127.0.0.1:"+pport, "evil.example:"+pport, "/debug/pprof/cmdline"); err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("the profiler answers a foreign Host: %v %v", resp, err)
	}

	// Off by default: no profiler, no warning.
	cfg2, port2 := prodConfig(t), freePort(t)
	p2 := startProc(t, []string{"RAMPART_HTTP_LISTEN=127.0.0.1:" + port2, "RAMPART_DATA_DIR=" + t.TempDir()}, "serve", "--config", cfg2)
	waitReady(t, p2, "127.0.0.1:"+port2, "example.test")
	if strings.Contains(p2.stderr.String(), "pprof") || strings.Contains(p2.stderr.String(), "profil") {
		t.Errorf("the profiler is mentioned with it off:\n%s", p2.stderr.String())
	}
}

// gen systemd reads database.driver from the config it is given: a
// PostgreSQL config orders the unit after postgresql.service; a SQLite one,
// or a config not written yet, gives the shipped unit. The shell's RAMPART_*
// variables do not count (a PostgreSQL run of these tests sets some): the
// unit passes none to serve.
func TestGenSystemdFollowsTheConfigsDatabase(t *testing.T) {
	sqlite := prodConfig(t)
	text, err := os.ReadFile(sqlite)
	if err != nil {
		t.Fatal(err)
	}
	pg := filepath.Join(t.TempDir(), "rampart.toml")
	pgText := strings.Replace(strings.Replace(string(text), `driver = "sqlite"`, `driver = "postgres"`, 1), "\ndsn = \"\"", "\ndsn = \"host=/run/postgresql dbname=rampart\"", 1)
	if pgText == string(text) || !strings.Contains(pgText, `driver = "postgres"`) {
		t.Fatal("the generated config changed: cannot make a PostgreSQL one from it")
	}
	if err := os.WriteFile(pg, []byte(pgText), 0o600); err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile("../../installation/rampart.service")
	if err != nil {
		t.Fatal(err)
	}
	withConfig := func(path string) string {
		return strings.Replace(string(shipped), "--config /etc/rampart/rampart.toml", "--config "+path, 1)
	}
	o := units.DefaultUnitOptions()
	o.Config, o.Postgres = pg, true
	pgUnit, err := units.SystemdUnit(o)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		config   string
		want     string
		postgres bool
	}{
		"sqlite":   {sqlite, withConfig(sqlite), false},
		"absent":   {"/nonexistent/rampart.toml", withConfig("/nonexistent/rampart.toml"), false},
		"postgres": {pg, pgUnit, true},
	} {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, nil, "gen", "systemd", "--config", tc.config)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if tc.postgres != strings.Contains(out, "\nAfter=postgresql.service\n") {
				t.Errorf("After=postgresql.service present: %v, want %v:\n%s", !tc.postgres, tc.postgres, out)
			}
			if out != tc.want {
				t.Errorf("not the unit deploy.SystemdUnit renders for --config %s (Postgres %v):\n%s", tc.config, tc.postgres, out)
			}
		})
	}

	// A config serve would refuse is refused here too, with Load's reason.
	if err := os.Chmod(pg, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, nil, "gen", "systemd", "--config", pg)
	if code == 0 || out != "" || !strings.Contains(errOut, "has mode 0644") {
		t.Errorf("world-readable config: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestGenSystemdMatchesShippedUnitAndVersion(t *testing.T) {
	out, _, code := run(t, nil, "gen", "systemd")
	shipped, err := os.ReadFile("../../installation/rampart.service")
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || out != string(shipped) {
		t.Error("installation/rampart.service is not `rampart gen systemd` output; regenerate it")
	}
	out, _, code = run(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "rampart ") {
		t.Errorf("version: %d %q", code, out)
	}
	_, stderr, code := run(t, nil, "frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", code, stderr)
	}
}
