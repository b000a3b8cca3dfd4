package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testdb"

	"github.com/mattn/go-mastodon"

	"github.com/rampart-social/rampart/internal/testutil"
)

// startUnderUmask is startProc with the binary started from a shell whose
// umask is umask, as a login shell's commonly is (022): what Rampart creates
// must not depend on it.
func startUnderUmask(t *testing.T, umask string, env []string, args ...string) *proc {
	t.Helper()
	return startCmd(t, exec.Command("/bin/sh", append([]string{"-c", `umask ` + umask + ` && exec "$0" "$@"`, binary}, args...)...), env, args)
}

// privateModes checks every file under dir is 0600 and every directory 0700,
// and returns the names it saw.
func privateModes(t *testing.T, dir string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		seen[rel] = true
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s has mode %04o, want %04o", rel, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

// Everything Rampart creates in its data directory is its user's alone,
// though it was started with umask 022: the config quickstart writes, the
// database with its -wal and -shm files, the media directory and uploads,
// and the data directory itself.
func TestDataDirHoldsNothingOthersCanRead(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data") // quickstart creates it
	port := freePort(t)
	addr := "127.0.0.1:" + port
	p := startUnderUmask(t, "022", nil, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)
	cmd := []string{"admin", "user", "create", "--config", filepath.Join(data, "rampart.toml"), "--username", "uma", "--email", "uma@example.test", "--password-stdin"}
	if _, stderr, code := runStdin(t, nil, socialPassword+"\n", cmd...); code != 0 {
		t.Fatalf("admin user create: %d %s", code, stderr)
	}
	server := "http://localhost:" + port
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: "umask test", Scopes: "read write"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	c := signInThroughBrowser(t, ctx, server, app, "umask test", "uma")
	if _, err := c.UploadMediaFromMedia(ctx, &mastodon.Media{File: bytes.NewReader(testutil.GradientPNG(t, 32, 32))}); err != nil {
		t.Fatalf("upload: %v", err)
	}

	seen := privateModes(t, data) // while it runs: the WAL files exist
	want := []string{"rampart.toml", "rampart.db", "rampart.db-wal", "rampart.db-shm", "media"}
	if testdb.Postgres() {
		want = []string{"rampart.toml", "media"} // the database is the server's
	}
	for _, want := range want {
		if !seen[want] {
			t.Errorf("%s is not in the data directory (have %v)", want, seen)
		}
	}
	uploads := 0
	for name := range seen {
		if strings.HasPrefix(name, "media"+string(filepath.Separator)) {
			uploads++
		}
	}
	if uploads < 2 {
		t.Errorf("%d files under media/, want the upload and its preview", uploads)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	privateModes(t, data)
}

// As root, `serve` in prod refuses to start, creating nothing, unless the
// config allows it; allowed, it warns at start. quickstart (dev) warns.
func TestServeAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not running as root; TestRootIsRefusedInProdUnlessAllowed (instance) covers the rule")
	}
	cfg := prodConfig(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	addr := "127.0.0.1:" + freePort(t)
	env := []string{"RAMPART_HTTP_LISTEN=" + addr, "RAMPART_DATA_DIR=" + dataDir}

	refused := startProc(t, append(env, "RAMPART_SECURITY_ALLOW_ROOT=false"), "serve", "--config", cfg)
	code := refused.wait(t) // a serve that is not refused never exits: the wait fails the test
	stderr := refused.stderr.String()
	oneErrorLine(t, stderr, code, "rampart serve: refusing to run as root in prod")
	if !strings.Contains(stderr, "set security.allow_root = true") {
		t.Errorf("the refusal does not say how to allow it:\n%s", stderr)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("the refused start created %s (%v)", dataDir, err)
	}

	p := startProc(t, append(env, "RAMPART_SECURITY_ALLOW_ROOT=true"), "serve", "--config", cfg)
	waitReady(t, p, addr, "example.test")
	if !strings.Contains(p.stderr.String(), `"level":"WARN","msg":"running as root because security.allow_root = true`) {
		t.Errorf("no warning for running as root:\n%s", p.stderr.String())
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Errorf("exit %d", code)
	}

	port := freePort(t)
	q := startProc(t, []string{"RAMPART_SECURITY_ALLOW_ROOT=false"}, "quickstart", "--data", t.TempDir(), "--listen", "127.0.0.1:"+port)
	waitReady(t, q, "127.0.0.1:"+port, "localhost:"+port)
	if !strings.Contains(q.stderr.String(), "running as root: a flaw anywhere in Rampart would own the whole machine") {
		t.Errorf("quickstart as root does not warn:\n%s", q.stderr.String())
	}
}

// A client pointed at the media host is told where the instance is.
func TestMediaHostPointsClientsToTheInstance(t *testing.T) {
	data := t.TempDir()
	port := freePort(t)
	addr := "127.0.0.1:" + port
	p := startProc(t, nil, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)
	for path, want := range map[string][]string{
		"/api/v1/instance": {"this is the media host of localhost:" + port, "The instance, its API and its pages are at http://localhost:" + port + "/"},
		"/":                {"Rampart media host for localhost:" + port, "The instance is at http://localhost:" + port + "/"},
	} {
		resp, err := http.Get("http://" + addr + path) // Host 127.0.0.1:port: quickstart's media host
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				t.Errorf("media host %s: %d %q does not say %q", path, resp.StatusCode, body, w)
			}
		}
		if resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("media host %s: Content-Type %q", path, resp.Header.Get("Content-Type"))
		}
	}
}
