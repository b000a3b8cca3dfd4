package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rampart-social/rampart/internal/testdb"
	"github.com/rampart-social/rampart/internal/testutil"
)

// doctorOutput is `rampart doctor --json` output.
type doctorOutput struct {
	Checks []struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Verdict string `json:"verdict"`
		Saw     string `json:"saw"`
		Fix     string `json:"fix"`
	} `json:"checks"`
	Failed int `json:"failed"`
	Warned int `json:"warned"`
}

func parseDoctorJSON(t *testing.T, stdout string) doctorOutput {
	t.Helper()
	var r doctorOutput
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("doctor --json printed no JSON (%v):\n%s", err, stdout)
	}
	return r
}

// doctorFrontEnd stands in for the reverse proxy: TLS for both hosts in front
// of the Rampart at backend (Host kept), and a plain-http listener that
// redirects permanently to https. It returns both addresses.
func doctorFrontEnd(t *testing.T, backend string, cert tls.Certificate) (httpsAddr, httpAddr string) {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: backend}
	proxy := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
		r.SetXForwarded()
	}})
	proxy.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	proxy.StartTLS()
	t.Cleanup(proxy.Close)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	t.Cleanup(redirect.Close)
	return proxy.Listener.Addr().String(), redirect.Listener.Addr().String()
}

// wantDoctorUser reports whether doctor's USER must fail for the running
// Rampart p: whether it runs as root, read from the owner of its /proc
// entry (its effective uid), not the way doctor reads it.
func wantDoctorUser(t *testing.T, p *proc) (fails bool) {
	t.Helper()
	fi, err := os.Stat(fmt.Sprintf("/proc/%d", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid == 0
}

// checkDoctorUser asserts USER's verdict on the running Rampart p: found by
// its pid, failing as root and passing otherwise.
func checkDoctorUser(t *testing.T, p *proc, fails bool, verdict, saw string) {
	t.Helper()
	want := "pass"
	if fails {
		want = "fail"
	}
	if verdict != want || !strings.Contains(saw, fmt.Sprintf("pid %d (rampart, owner of the socket listening on", p.cmd.Process.Pid)) ||
		fails != strings.Contains(saw, "runs as root") {
		t.Errorf("USER: %s %q, want %s naming the serving process (pid %d)", verdict, saw, want, p.cmd.Process.Pid)
	}
}

func TestDoctorAgainstRunningInstance(t *testing.T) {
	cfg := prodConfig(t)
	addr := "127.0.0.1:" + freePort(t)
	env := []string{"RAMPART_HTTP_LISTEN=" + addr, "RAMPART_DATA_DIR=" + filepath.Join(t.TempDir(), "data")} // Rampart creates it, mode 0700
	p := startProc(t, env, "serve", "--config", cfg)
	waitReady(t, p, addr, "example.test")
	caFile, keyFile, _ := testutil.SelfSignedCert(t, t.TempDir(), "example.test", "media.example.test")
	cert, err := tls.LoadX509KeyPair(caFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	httpsAddr, httpAddr := doctorFrontEnd(t, addr, cert)
	unitText, _, code := run(t, nil, "gen", "systemd")
	if code != 0 {
		t.Fatal("gen systemd failed")
	}
	unit := filepath.Join(t.TempDir(), "rampart.service")
	if err := os.WriteFile(unit, []byte(unitText), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"doctor", "--config", cfg, "--url", "https://example.test", "--connect", httpsAddr,
		"--connect-http", httpAddr, "--ca", caFile, "--unit", unit, "--timeout", "5s"}

	// Correctly set up: every check passes, exit 0 — but for USER when the
	// tests run Rampart as root (as in a container).
	userFails := wantDoctorUser(t, p)
	rootFailures := 0
	if userFails {
		rootFailures = 1
	}
	// In a PostgreSQL run the binary's database is the test server's, which
	// it reaches over the local socket as a role without privileges that
	// owns it: DB is reported (14 checks, not 13), and passes.
	wantIDs, checks := "CONFIG S1 S2 S3 S4 S5 S6 S7 S8 S9 USER TLS STREAM", 13
	if testdb.Postgres() {
		wantIDs, checks = "CONFIG S1 S2 S3 S4 S5 S6 S7 S8 S9 DB USER TLS STREAM", 14
	}
	stdout, stderr, code := run(t, env, append(args, "--json")...)
	rep := parseDoctorJSON(t, stdout)
	var ids []string
	for _, c := range rep.Checks {
		ids = append(ids, c.ID)
		switch {
		case c.ID == "USER":
			checkDoctorUser(t, p, userFails, c.Verdict, c.Saw)
		case c.ID == "DB" && (c.Verdict != "pass" || !strings.Contains(c.Saw, "answers at unix ") || strings.Contains(c.Saw, "superuser")):
			t.Errorf("DB (%s): %s, saw %q, fix %q; want it passed over the local socket", c.Name, c.Verdict, c.Saw, c.Fix)
		case c.Verdict != "pass" || c.Name == "" || c.Saw == "" || c.Fix != "":
			t.Errorf("%s (%s): %s, saw %q, fix %q", c.ID, c.Name, c.Verdict, c.Saw, c.Fix)
		}
	}
	if strings.Join(ids, " ") != wantIDs {
		t.Errorf("checks %q, want %q", ids, wantIDs)
	}
	if u, err := url.Parse(os.Getenv(testdb.EnvPostgres)); err == nil {
		if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(stdout, pw) {
			t.Errorf("doctor printed the database password:\n%s", stdout)
		}
	}
	wantStderr := ""
	if userFails {
		wantStderr = fmt.Sprintf("rampart doctor: 1 of %d checks failed\n", checks)
	}
	if code != rootFailures || rep.Failed != rootFailures || rep.Warned != 0 || stderr != wantStderr {
		t.Errorf("exit %d, failed %d, warned %d, stderr %q", code, rep.Failed, rep.Warned, stderr)
	}
	if !strings.Contains(stdout, `"saw": "/auth/sign_in sets __Host-rampart_session; Secure; HttpOnly; SameSite=Lax; Path=/; no Domain"`) {
		t.Errorf("S2 did not see the cookie through the proxy:\n%s", stdout)
	}

	// World-readable config: S9 fails with the fix, exit 1, in JSON and in the table.
	if err := os.Chmod(cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = run(t, env, append(args, "--json")...)
	rep = parseDoctorJSON(t, stdout)
	if code != 1 || rep.Failed != 1+rootFailures || !strings.Contains(stderr, fmt.Sprintf("rampart doctor: %d of %d checks failed", 1+rootFailures, checks)) {
		t.Errorf("world-readable config: exit %d, failed %d, stderr %q", code, rep.Failed, stderr)
	}
	for _, c := range rep.Checks {
		if c.ID == "USER" || c.ID == "DB" {
			continue
		}
		if (c.ID == "S9") != (c.Verdict == "fail") {
			t.Errorf("%s: %s %q", c.ID, c.Verdict, c.Saw)
		}
		if c.ID == "S9" && (!strings.Contains(c.Saw, "has mode 0644") || !strings.Contains(c.Fix, "chmod 640 "+cfg)) {
			t.Errorf("S9: saw %q fix %q", c.Saw, c.Fix)
		}
	}
	stdout, _, code = run(t, env, args...)
	if code != 1 || !strings.Contains(stdout, "S9      FAIL") || !strings.Contains(stdout, "fix: chmod 640 "+cfg) ||
		!strings.Contains(stdout, fmt.Sprintf("%d passed, %d warned, %d failed", checks-1-rootFailures, 0, 1+rootFailures)) {
		t.Errorf("table (exit %d):\n%s", code, stdout)
	}
}

// Without --url doctor checks what it can locally; a public bind fails S1,
// found both in the config and by connecting to this host's own addresses.
func TestDoctorLocalPublicBind(t *testing.T) {
	cfg := prodConfig(t)
	port := freePort(t)
	env := []string{"RAMPART_HTTP_LISTEN=0.0.0.0:" + port, "RAMPART_DATA_DIR=" + filepath.Join(t.TempDir(), "data")} // Rampart creates it, mode 0700
	p := startProc(t, env, "serve", "--config", cfg)
	waitReady(t, p, "127.0.0.1:"+port, "example.test")
	unitText, _, _ := run(t, nil, "gen", "systemd")
	unit := filepath.Join(t.TempDir(), "rampart.service")
	if err := os.WriteFile(unit, []byte(unitText), 0o644); err != nil {
		t.Fatal(err)
	}
	userFails := wantDoctorUser(t, p)
	wantFailed := 1
	if userFails {
		wantFailed++
	}
	stdout, _, code := run(t, env, "doctor", "--config", cfg, "--unit", unit, "--json")
	rep := parseDoctorJSON(t, stdout)
	if code != 1 || rep.Failed != wantFailed {
		t.Errorf("exit %d, failed %d; want 1 and %d (S1, and USER if Rampart runs as root)\n%s", code, rep.Failed, wantFailed, stdout)
	}
	for _, c := range rep.Checks {
		switch c.ID {
		case "USER":
			checkDoctorUser(t, p, userFails, c.Verdict, c.Saw)
		case "S1":
			if c.Verdict != "fail" || !strings.Contains(c.Saw, "0.0.0.0:"+port+" is not a loopback address") || !strings.Contains(c.Fix, "127.0.0.1:8080") {
				t.Errorf("S1: %s saw %q fix %q", c.Verdict, c.Saw, c.Fix)
			}
		case "TLS":
			t.Error("TLS checked without --url")
		}
	}
}

func TestDoctorCannotRun(t *testing.T) {
	cfg := prodConfig(t)
	for name, args := range map[string][]string{
		"unknown flag":    {"--frobnicate"},
		"stray argument":  {"--config", cfg, "extra"},
		"missing config":  {"--config", filepath.Join(t.TempDir(), "absent.toml")},
		"missing unit":    {"--config", cfg, "--unit", filepath.Join(t.TempDir(), "absent.service")},
		"zero timeout":    {"--config", cfg, "--timeout", "0s"},
		"plain http url":  {"--config", cfg, "--url", "http://example.test"},
		"other instance":  {"--config", cfg, "--url", "https://elsewhere.test"},
		"bad --connect":   {"--config", cfg, "--url", "https://example.test", "--connect", "nowhere"},
		"missing --ca":    {"--config", cfg, "--ca", filepath.Join(t.TempDir(), "absent.pem")},
		"unreadable conf": {"--config", t.TempDir()},
	} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := run(t, nil, append([]string{"doctor"}, args...)...)
			said := strings.HasPrefix(stderr, "rampart doctor: ") || strings.Contains(stderr, "flag provided but not defined")
			if code != 2 || !said || stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %q", code, stderr, stdout)
			}
			if strings.Contains(stderr, "goroutine ") {
				t.Errorf("stack trace:\n%s", stderr)
			}
		})
	}
}
