package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	mrand "math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/httpsec"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/testutil"
)

// The deployment the docs describe, end to end: nginx from Debian's packages
// terminates TLS with a self-signed certificate for the instance and media
// hosts (resolved to 127.0.0.1 by the test's dialer), runs the site `rampart
// gen nginx` prints, and proxies to Rampart on loopback. Through it a client
// reads the API with Rampart's security headers intact, registers an app,
// signs a person in, uploads an image larger than nginx's default body limit
// and fetches it from the media host; http answers 301 to https; sign-in
// limits key on the client address nginx forwards; and `rampart doctor`
// passes against it over https.

const (
	nginxAppHost   = "example.test"
	nginxMediaHost = "media.example.test"
)

// startNginx runs nginx in the foreground on conf, everything it writes under
// prefix, and stops it (master and workers) at cleanup.
func startNginx(t *testing.T, ns *netNS, nginx, prefix, conf, probeAddr string) {
	t.Helper()
	var out testutil.SyncBuffer
	cmd := exec.Command(nginx, "-p", prefix, "-c", conf)
	dial := (&net.Dialer{Timeout: time.Second}).DialContext
	if ns != nil {
		cmd, dial = ns.command(nginx, "-p", prefix, "-c", conf), ns.dial
	}
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers share its process group
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		syscall.Kill(pgid, syscall.SIGTERM) // nginx's fast shutdown: the master stops its workers
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			logs, _ := os.ReadFile(filepath.Join(prefix, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", out.String(), logs)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			logs, _ := os.ReadFile(filepath.Join(prefix, "error.log"))
			t.Fatalf("nginx exited at start:\n%s\n%s", out.String(), logs)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := dial(ctx, "tcp", probeAddr)
		cancel()
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %s:\n%s", probeAddr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// proxyClient reaches both hosts through nginx at 127.0.0.1 (from localIP
// when set), trusting only the test certificate. It does not follow redirects.
func proxyClient(t *testing.T, pool *x509.CertPool, localIP string, jar http.CookieJar) *http.Client {
	t.Helper()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if localIP != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(localIP)}
	}
	return tlsClient(pool, jar, func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if host != nginxAppHost && host != nginxMediaHost && host != "localhost" && host != "127.0.0.1" {
			return nil, fmt.Errorf("test resolver: %s is neither %s nor %s", host, nginxAppHost, nginxMediaHost)
		}
		return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	})
}

// tlsClient is a test client that reaches hosts through dial, trusting
// only the test certificate, over HTTP/2 as the site enables it, without
// following redirects.
func tlsClient(pool *x509.CertPool, jar http.CookieJar, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:       dial,
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true, // the site enables HTTP/2
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// readAll reads and closes a response body.
func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noisePNG is a PNG of random pixels: it does not compress, so it is large.
func noisePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := mrand.New(mrand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(r.Uint32()), G: uint8(r.Uint32()), B: uint8(r.Uint32()), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// deployment is Rampart behind nginx, as the test set it up.
type deployment struct {
	cfg, cert           string // the config file and the certificate (PEM)
	pool                *x509.CertPool
	httpsPort, httpPort string // nginx's
	app, media          string // https://example.test:P, https://media.example.test:P
	appHost, mediaHost  string
	rampart             *proc
	rampartAddr         string
	ns                  *netNS // nil: on this machine's loopback
}

// browser is a client for d's hosts through nginx, as proxyClient, whether
// d runs on loopback or in a network namespace.
func (d *deployment) browser(t *testing.T, jar http.CookieJar) *http.Client {
	t.Helper()
	if d.ns == nil {
		return proxyClient(t, d.pool, "", jar)
	}
	return netnsClient(d.pool, jar, map[string]*netNS{d.appHost: d.ns, d.mediaHost: d.ns})
}

// netnsClient reaches each host in routes through nginx in its namespace,
// trusting only the test certificate. It does not follow redirects.
func netnsClient(pool *x509.CertPool, jar http.CookieJar, routes map[string]*netNS) *http.Client {
	return tlsClient(pool, jar, func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ns := routes[host]
		if ns == nil {
			return nil, fmt.Errorf("test resolver: %s is in no namespace of this test", host)
		}
		return ns.dial(ctx, network, net.JoinHostPort(ns.ip, port))
	})
}

// deployBehindNginx starts Rampart and, in front of it, nginx with the site
// `rampart gen nginx` prints.
func deployBehindNginx(t *testing.T) *deployment {
	t.Helper()
	return deployBehindNginxEdited(t, nil)
}

// deployBehindNginxEdited is deployBehindNginx with the site passed through
// edit (when not nil) before nginx loads it.
func deployBehindNginxEdited(t *testing.T, edit func(site string) string) *deployment {
	t.Helper()
	return deploy(t, deployOptions{appHost: nginxAppHost, mediaHost: nginxMediaHost, edit: edit})
}

// deployOptions vary a deployment behind nginx.
type deployOptions struct {
	appHost, mediaHost string
	httpsPort          string            // "" picks a free port
	cert, key          string            // "" makes a self-signed certificate for both hosts
	pool               *x509.CertPool    // trusts cert, when given
	config             map[string]string // more replacements in gen config's text
	env                []string          // for the rampart process
	edit               func(site string) string
	// backends: more rampart serve addresses besides the deployment's own,
	// for gen nginx's --backend (the test starts those processes).
	backends []string
	// ns runs Rampart and nginx in that network namespace, nginx on the
	// standard ports, so the instance's URLs carry no port.
	ns *netNS
}

// deploy starts Rampart as o says and, in front of it, nginx with the site
// `rampart gen nginx` prints.
func deploy(t *testing.T, o deployOptions) *deployment {
	t.Helper()
	nginx := testutil.Nginx(t)
	d := &deployment{ns: o.ns}
	if o.ns != nil {
		o.httpsPort = "443"
	}
	ports := map[string]bool{}
	if o.httpsPort != "" {
		ports[o.httpsPort] = true
	}
	for len(ports) < 3 {
		ports[freePort(t)] = true
	}
	var ps []string
	for p := range ports {
		if p != o.httpsPort {
			ps = append(ps, p)
		}
	}
	if o.httpsPort == "" {
		o.httpsPort, ps = ps[0], ps[1:]
	}
	d.httpsPort, d.httpPort, d.rampartAddr = o.httpsPort, ps[0], "127.0.0.1:"+ps[1]
	d.appHost, d.mediaHost = o.appHost, o.mediaHost
	d.app = "https://" + o.appHost + ":" + d.httpsPort
	d.media = "https://" + o.mediaHost + ":" + d.httpsPort
	if o.ns != nil {
		// Alone in its namespace: the standard ports, and URLs without one.
		d.httpPort, d.rampartAddr = "80", "127.0.0.1:8080"
		d.app, d.media = "https://"+o.appHost, "https://"+o.mediaHost
	}

	// The config: gen config's text with the test's origins, listener and
	// data directory (0700, as systemd's StateDirectoryMode makes it).
	dataDir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(prodConfig(t))
	replaced := string(text)
	for old, repl := range map[string]string{
		`url = "https://example.test"`:             `url = "` + d.app + `"`,
		`media_url = "https://media.example.test"`: `media_url = "` + d.media + `"`,
		`listen = "127.0.0.1:8080"`:                `listen = "` + d.rampartAddr + `"`,
		`data_dir = "/var/lib/rampart"`:            `data_dir = "` + dataDir + `"`,
	} {
		if !strings.Contains(replaced, old) {
			t.Fatalf("gen config output has no %s; update this test", old)
		}
		replaced = strings.Replace(replaced, old, repl, 1)
	}
	for old, repl := range o.config {
		if !strings.Contains(replaced, old) {
			t.Fatalf("gen config output has no %s; update this test", old)
		}
		replaced = strings.Replace(replaced, old, repl, 1)
	}
	dir := t.TempDir()
	d.cfg = filepath.Join(dir, "rampart.toml")
	if err := os.WriteFile(d.cfg, []byte(replaced), 0o600); err != nil {
		t.Fatal(err)
	}

	key := o.key
	d.cert, d.pool = o.cert, o.pool
	if d.cert == "" {
		d.cert, key, d.pool = testutil.SelfSignedCert(t, dir, o.appHost, o.mediaHost)
	}
	args := []string{"gen", "nginx", "--config", d.cfg, "--cert", d.cert, "--key", key, "--https-port", d.httpsPort, "--http-port", d.httpPort}
	if len(o.backends) > 0 {
		for _, b := range append([]string{d.rampartAddr}, o.backends...) {
			args = append(args, "--backend", b)
		}
	}
	if !testutil.NginxPredatesHTTP2Directive(t, nginx) {
		args = append(args, "--http2-directive")
	}
	site, stderr, code := run(t, nil, args...)
	if code != 0 || stderr != "" {
		t.Fatalf("gen nginx: exit %d\n%s", code, stderr)
	}
	if o.edit != nil {
		site = o.edit(site)
	}

	// The wrapper stands in for Debian's nginx.conf: it includes the site in
	// http {} and keeps everything nginx writes in the prefix.
	prefix := filepath.Join(dir, "nginx")
	if err := os.Mkdir(prefix, 0o700); err != nil {
		t.Fatal(err)
	}
	sitePath := filepath.Join(prefix, "rampart")
	if err := os.WriteFile(sitePath, []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		// Workers as nobody could not enter the 0700 temp dirs.
		user = "user root;\n"
	}
	conf := filepath.Join(prefix, "nginx.conf")
	wrapper := testutil.NginxConf(prefix, sitePath, user+"daemon off;\nmaster_process on;\n")
	if err := os.WriteFile(conf, []byte(wrapper), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(nginx, "-t", "-p", prefix, "-c", conf).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s\nsite:\n%s", err, out, site)
	}

	if o.ns == nil {
		d.rampart = startProc(t, o.env, "serve", "--config", d.cfg)
		waitReady(t, d.rampart, d.rampartAddr, o.appHost)
	} else {
		args := []string{"serve", "--config", d.cfg}
		d.rampart = startCmd(t, o.ns.command(binary, args...), o.env, args)
		waitReadyIn(t, o.ns, d.rampart, d.rampartAddr, o.appHost)
	}
	startNginx(t, o.ns, nginx, prefix, conf, "127.0.0.1:"+d.httpsPort)
	return d
}

func TestNginxDeployment(t *testing.T) {
	d := deployBehindNginx(t)
	client := proxyClient(t, d.pool, "", nil)

	t.Run("API through the proxy with Rampart's headers", func(t *testing.T) {
		resp, err := client.Get(d.app + "/api/v1/instance")
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET /api/v1/instance: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var inst struct {
			URI  string            `json:"uri"`
			URLs map[string]string `json:"urls"`
		}
		if err := json.Unmarshal(body, &inst); err != nil {
			t.Fatalf("instance JSON: %v\n%s", err, body)
		}
		if inst.URI != nginxAppHost+":"+d.httpsPort && inst.URI != nginxAppHost {
			t.Errorf("instance uri %q", inst.URI)
		}
		if resp.Proto != "HTTP/2.0" {
			t.Errorf("proto %s, want HTTP/2.0 (the site enables http2)", resp.Proto)
		}
		if got := resp.Header.Get("Server"); got != "nginx" {
			t.Errorf("Server: %q, want nginx without a version (server_tokens off)", got)
		}

		// The same request straight to Rampart: nginx must pass every
		// security header through unchanged, once.
		req, _ := http.NewRequest("GET", "http://"+d.rampartAddr+"/api/v1/instance", nil)
		req.Host = nginxAppHost + ":" + d.httpsPort
		direct, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, direct)
		for _, h := range []string{
			"Content-Security-Policy", "Strict-Transport-Security", "X-Frame-Options", "X-Content-Type-Options",
			"Referrer-Policy", "Permissions-Policy", "Cross-Origin-Opener-Policy", "X-Permitted-Cross-Domain-Policies", "X-Xss-Protection",
		} {
			want := direct.Header.Values(h)
			if len(want) != 1 {
				t.Errorf("Rampart sends %s %d times directly: %q", h, len(want), want)
			}
			if got := resp.Header.Values(h); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s through nginx = %q, straight from Rampart %q", h, got, want)
			}
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000; includeSubDomains" {
			t.Errorf("HSTS %q", got)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.HasPrefix(csp, "default-src 'none'") || !strings.Contains(csp, "img-src 'self' data: blob: "+d.media) ||
			!strings.Contains(csp, "connect-src 'self' wss://"+nginxAppHost+":"+d.httpsPort) || strings.Contains(csp, "unsafe") {
			t.Errorf("CSP %q", csp)
		}
	})

	t.Run("http redirects to https", func(t *testing.T) {
		for _, host := range []string{nginxAppHost, nginxMediaHost} {
			resp, err := client.Get("http://" + host + ":" + d.httpPort + "/some/path?x=1&y=2")
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			want := "https://" + host + ":" + d.httpsPort + "/some/path?x=1&y=2"
			if resp.StatusCode != 301 || resp.Header.Get("Location") != want {
				t.Errorf("http://%s: %d Location %q, want 301 %q", host, resp.StatusCode, resp.Header.Get("Location"), want)
			}
		}
	})

	t.Run("streaming location reaches Rampart", func(t *testing.T) {
		// The upgrade request reaches Rampart (its request id and headers):
		// without a token, its 401 (nginx_streaming_test.go streams).
		req, _ := http.NewRequest("GET", d.app+"/api/v1/streaming", nil)
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Connection", "Upgrade")
		resp, err := proxyClient(t, d.pool, "", nil).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != 401 || resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("streaming: %d %v, want Rampart's 401", resp.StatusCode, resp.Header)
		}
	})

	// An app, a person signed in through the pages over https (the __Host-
	// cookie needs it), and a token from the code.
	app := nginxRegisterApp(t, d, client)
	if _, stderr, code := runStdin(t, nil, socialPassword+"\n", "admin", "user", "create", "--config", d.cfg,
		"--username", "nina", "--email", "nina@example.test", "--password-stdin"); code != 0 {
		t.Fatalf("admin user create: %d %s", code, stderr)
	}
	token := nginxSignIn(t, d, app.ClientID, app.ClientSecret)

	t.Run("upload and fetch from the media host", func(t *testing.T) {
		img := noisePNG(t, 1000, 800) // well over nginx's default 1 MiB body limit
		if len(img) < 3<<20/2 {
			t.Fatalf("test image is only %d bytes; it must exceed nginx's default 1m", len(img))
		}
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		fw, _ := mw.CreateFormFile("file", "noise.png")
		fw.Write(img)
		mw.WriteField("description", "noise")
		mw.Close()
		req, _ := http.NewRequest("POST", d.app+"/api/v1/media", &form)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		var att struct {
			Type       string `json:"type"`
			URL        string `json:"url"`
			PreviewURL string `json:"preview_url"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &att) != nil {
			t.Fatalf("POST /api/v1/media (%d bytes): %d %s", form.Len(), resp.StatusCode, body)
		}
		if att.Type != "image" || !strings.HasPrefix(att.URL, d.media+"/") || !strings.HasPrefix(att.PreviewURL, d.media+"/") {
			t.Fatalf("attachment %+v, want an image on %s", att, d.media)
		}
		for u, typ := range map[string]string{att.URL: "image/png", att.PreviewURL: "image/jpeg"} {
			resp, err := client.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			b := readAll(t, resp)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != typ {
				t.Errorf("GET %s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
				continue
			}
			if _, _, err := image.DecodeConfig(bytes.NewReader(b)); err != nil {
				t.Errorf("GET %s: not an image: %v", u, err)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != "default-src 'none'; frame-ancestors 'none'; sandbox" {
				t.Errorf("GET %s: CSP %q, want the media sandbox", u, got)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" || len(resp.Header.Values("Set-Cookie")) != 0 {
				t.Errorf("GET %s: headers %v", u, resp.Header)
			}
		}
		// The media host takes no bodies: nginx refuses them before Rampart.
		resp, err = client.Post(d.media+"/", "application/octet-stream", bytes.NewReader(make([]byte, 4<<10)))
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != 413 || resp.Header.Get("X-Request-Id") != "" {
			t.Errorf("4 KiB POST to the media host: %d (request id %q), want nginx's 413", resp.StatusCode, resp.Header.Get("X-Request-Id"))
		}
	})

	t.Run("sign-in limits key on the forwarded client address", func(t *testing.T) {
		// Rampart trusts X-Forwarded-For from nginx (127.0.0.1) only. A client
		// at 127.0.0.2 that exhausts its failed sign-ins is refused even when
		// it claims other addresses; a client at 127.0.0.3 is not.
		attacker := proxyClient(t, d.pool, "127.0.0.2", mustJar(t))
		if resp, err := attacker.Get(d.app + "/livez"); err != nil {
			if strings.Contains(err.Error(), "assign requested address") {
				t.Skipf("cannot bind 127.0.0.2 here: %v", err)
			}
			t.Fatal(err)
		} else {
			readAll(t, resp)
		}
		const attempts = 5 // security.login_attempts, the default
		for i := range attempts + 1 {
			status := nginxFailSignIn(t, d, attacker, fmt.Sprintf("nobody%d", i), fmt.Sprintf("198.51.100.%d", i+1))
			want := http.StatusUnauthorized
			if i == attempts {
				want = http.StatusTooManyRequests
			}
			if status != want {
				t.Fatalf("failed sign-in %d from 127.0.0.2: %d, want %d", i+1, status, want)
			}
		}
		other := proxyClient(t, d.pool, "127.0.0.3", mustJar(t))
		if status := nginxFailSignIn(t, d, other, "someone", ""); status != http.StatusUnauthorized {
			t.Errorf("a wrong password from 127.0.0.3: %d, want 401 (its own limit, not 127.0.0.2's)", status)
		}
	})

	t.Run("doctor passes over https", func(t *testing.T) {
		nginxDoctor(t, d)
	})
}

func mustJar(t *testing.T) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

// nginxFailSignIn posts a wrong password through the sign-in page, claiming
// X-Forwarded-For: claim when set, and returns the status.
func nginxFailSignIn(t *testing.T, d *deployment, c *http.Client, login, claim string) int {
	t.Helper()
	resp, err := c.Get(d.app + "/auth/sign_in")
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	form := formFields(string(page))
	form.Set("username", login)
	form.Set("password", "not the password at all")
	req, _ := http.NewRequest("POST", d.app+"/auth/sign_in", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if claim != "" {
		req.Header.Set("X-Forwarded-For", claim)
	}
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	return resp.StatusCode
}

// registeredApp is an app's credentials from POST /api/v1/apps.
type registeredApp struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// nginxRegisterApp registers the app "nginx test" (out-of-band redirect,
// read and write) through nginx.
func nginxRegisterApp(t *testing.T, d *deployment, client *http.Client) registeredApp {
	t.Helper()
	var app registeredApp
	resp, err := client.PostForm(d.app+"/api/v1/apps", url.Values{
		"client_name": {"nginx test"}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read write"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 200 || json.Unmarshal(body, &app) != nil || app.ClientID == "" {
		t.Fatalf("POST /api/v1/apps: %d %s", resp.StatusCode, body)
	}
	return app
}

// nginxSignIn runs the authorization code flow the way a browser without
// JavaScript does, over https through nginx, and returns an access token:
// nina's, for the app "nginx test".
func nginxSignIn(t *testing.T, d *deployment, clientID, clientSecret string) string {
	t.Helper()
	return nginxSignInAs(t, d, clientID, clientSecret, "nginx test", "nina", socialPassword)
}

// nginxSignInAs is nginxSignIn for another app and person.
func nginxSignInAs(t *testing.T, d *deployment, clientID, clientSecret, appName, username, password string) string {
	t.Helper()
	browser := d.browser(t, mustJar(t))
	appHost := strings.TrimPrefix(d.app, "https://")
	// Follow redirects within the app host, as a browser does.
	browser.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != appHost {
			return fmt.Errorf("redirected off the app host to %s", req.URL)
		}
		return nil
	}
	page := func(resp *http.Response, err error, what string) string {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		b := readAll(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", what, resp.StatusCode, b)
		}
		return string(b)
	}
	oob := "urn:ietf:wg:oauth:2.0:oob"
	authorize := d.app + "/oauth/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {oob}, "scope": {"read write"},
	}.Encode()
	resp, err := browser.Get(authorize)
	signIn := page(resp, err, "GET /oauth/authorize")
	form := formFields(signIn)
	form.Set("username", username)
	form.Set("password", password)
	resp, err = browser.PostForm(d.app+"/auth/sign_in", form)
	consent := page(resp, err, "POST /auth/sign_in")
	if !strings.Contains(consent, appName) {
		t.Fatalf("not the consent page:\n%s", consent)
	}
	approve := formFields(consent)
	approve.Set("decision", "approve")
	resp, err = browser.PostForm(d.app+"/oauth/authorize", approve)
	codePage := page(resp, err, "POST /oauth/authorize")
	m := regexp.MustCompile(`id="code">([^<]+)<`).FindStringSubmatch(codePage)
	if m == nil {
		t.Fatalf("no code shown:\n%s", codePage)
	}
	resp, err = browser.PostForm(d.app+"/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {m[1]}, "client_id": {clientID},
		"client_secret": {clientSecret}, "redirect_uri": {oob},
	})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(page(resp, err, "POST /oauth/token")), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v %+v", err, tok)
	}
	return tok.AccessToken
}

// doctorMayWarn are the checks that may not pass in a test container.
var doctorMayWarn = map[string]string{
	"S8": "it reads the unit gen systemd prints, but systemd-analyze may be missing or unable to score it here",
}

// nginxDoctor runs `rampart doctor` over https through nginx, against the
// unit `gen systemd` prints, and wants every check to pass.
func nginxDoctor(t *testing.T, d *deployment) {
	t.Helper()
	unit, _, code := run(t, nil, "gen", "systemd")
	unitPath := filepath.Join(t.TempDir(), "rampart.service")
	if err := os.WriteFile(unitPath, []byte(unit), 0o644); code != 0 || err != nil {
		t.Fatalf("gen systemd: %d %v", code, err)
	}
	stdout, stderr, code := run(t, nil, "doctor", "--config", d.cfg, "--url", d.app, "--unit", unitPath,
		"--connect", "127.0.0.1:"+d.httpsPort, "--connect-http", "127.0.0.1:"+d.httpPort, "--ca", d.cert, "--json")
	var rep doctorOutput
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("doctor --json (exit %d) printed no report: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	if len(rep.Checks) == 0 {
		t.Fatalf("doctor ran no checks:\n%s", stdout)
	}
	userFails := wantDoctorUser(t, d.rampart)
	seen := map[string]bool{}
	for _, c := range rep.Checks {
		seen[c.ID] = true
		t.Logf("doctor %s %s: %s", c.ID, c.Verdict, c.Saw)
		switch {
		case c.ID == "USER":
			// Fails when the tests run Rampart as root, as in a container.
			checkDoctorUser(t, d.rampart, userFails, c.Verdict, c.Saw)
		case c.Verdict == "pass":
		case c.Verdict == "warn" && doctorMayWarn[c.ID] != "":
			t.Logf("doctor %s (%s) warns as expected here (%s): saw %q", c.ID, c.Name, doctorMayWarn[c.ID], c.Saw)
		default:
			t.Errorf("doctor %s (%s): %s\n  saw: %s\n  fix: %s", c.ID, c.Name, c.Verdict, c.Saw, c.Fix)
		}
	}
	for _, id := range []string{"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "USER", "TLS"} {
		if !seen[id] {
			t.Errorf("doctor has no check %s", id)
		}
	}
	// doctor looked at the answers nginx gives itself, and nginx gave them
	// (Rampart would answer 404 and 405).
	for _, c := range rep.Checks {
		for id, want := range map[string]string{"S4": "with a 16 KiB header (400)", "S3": "with a 4 KiB body answers 413"} {
			if c.ID == id && !strings.Contains(c.Saw, want) {
				t.Errorf("doctor %s saw %q, want it to mention nginx's own answer %q", id, c.Saw, want)
			}
		}
	}
	wantFailed := 0
	if userFails {
		wantFailed = 1
	}
	if code != wantFailed || rep.Failed != wantFailed {
		t.Errorf("doctor: exit %d, %d failed, %d warned\n%s\n%s", code, rep.Failed, rep.Warned, stdout, stderr)
	}
}

// rawExchange sends request as it is over TLS to nginx (SNI sni, HTTP/1.1 by
// ALPN) and reads the answer. raw is everything nginx sent; resp is nil when
// that is not an HTTP/1.x response (an HTTP/0.9 answer has no status line).
func rawExchange(t *testing.T, d *deployment, sni, request string) (resp *http.Response, body, raw []byte) {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:"+d.httpsPort,
		&tls.Config{ServerName: sni, RootCAs: d.pool, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(conn) // nginx closes after each of these answers
	if !bytes.HasPrefix(raw, []byte("HTTP/1.")) {
		return nil, nil, raw
	}
	resp, err = http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		t.Fatalf("reading the answer to %.60q: %v\n%s", request, err, raw)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body, raw
}

// wantExactly asserts that h carries every header of set with exactly its
// values, each once.
func wantExactly(t *testing.T, what string, h, set http.Header) {
	t.Helper()
	if len(set) == 0 {
		t.Fatalf("%s: empty header set", what)
	}
	for name, vals := range set {
		if got := h.Values(name); strings.Join(got, "\n") != strings.Join(vals, "\n") {
			t.Errorf("%s: %s = %q, want %q once", what, name, got, vals)
		}
	}
}

// wantNginxAnswer asserts an answer nginx gave itself (no request id, so
// Rampart never saw it) with the status and the host's full header set.
func wantNginxAnswer(t *testing.T, what string, resp *http.Response, body []byte, status int, set http.Header) {
	t.Helper()
	if resp == nil {
		t.Errorf("%s: no HTTP answer", what)
		return
	}
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d\n%s", what, resp.StatusCode, status, body)
	}
	if resp.Header.Get("X-Request-Id") != "" || resp.Header.Get("Server") != "nginx" {
		t.Errorf("%s: not nginx's own answer (Server %q, X-Request-Id %q)", what, resp.Header.Get("Server"), resp.Header.Get("X-Request-Id"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain" || !strings.Contains(string(body), strconv.Itoa(status)) {
		t.Errorf("%s: %s body %q, want nginx's short text naming %d", what, ct, body, status)
	}
	wantExactly(t, what, resp.Header, set)
}

// Every answer nginx gives itself on either host carries that host's full
// security header set (httpsec's, as Rampart sends it), and Rampart's own
// answers pass through nginx with each header once. The site gets one edit:
// a 1s proxy_read_timeout, so that a slow Rampart produces a 504 quickly.
func TestNginxOwnErrorsCarryHeaders(t *testing.T) {
	d := deployBehindNginxEdited(t, func(site string) string {
		// Every proxy location gets a 1s read timeout; the streaming
		// location's own (1h) goes, as nginx refuses a directive twice.
		const each, stream = "        proxy_intercept_errors off;\n", "        proxy_read_timeout 1h;\n"
		if strings.Count(site, each) != 3 || strings.Count(site, stream) != 1 {
			t.Fatalf("the site's proxy locations changed shape; update this test:\n%s", site)
		}
		site = strings.Replace(site, stream, "", 1)
		return strings.ReplaceAll(site, each, each+"        proxy_read_timeout 1s;\n")
	})
	cfg, err := config.Load(d.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	sec := httpsec.New(cfg)
	uploadLimit := media.MaxBytes(cfg)
	client := proxyClient(t, d.pool, "", nil)
	hosts := []struct {
		name, origin string
		set          http.Header
		bodyLimit    int64 // the site's client_max_body_size
		notFound     string
	}{
		{nginxAppHost, d.app, sec.AppHeaders(), uploadLimit, "/no-such-page"},
		{nginxMediaHost, d.media, sec.MediaHeaders(), 1 << 10, "/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.png"},
	}
	if len(hosts[0].set) < 9 || len(hosts[1].set) < 5 {
		t.Fatalf("httpsec's sets look truncated: %v / %v", hosts[0].set, hosts[1].set)
	}
	long := strings.Repeat("a", 16<<10) // over nginx's 8k header buffers

	for _, h := range hosts {
		t.Run(h.name, func(t *testing.T) {
			// Rampart's own error answer, proxied: its headers, each once.
			resp, err := client.Get(h.origin + h.notFound)
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			if resp.StatusCode != 404 || resp.Header.Get("X-Request-Id") == "" {
				t.Errorf("GET %s: %d (request id %q), want Rampart's 404", h.notFound, resp.StatusCode, resp.Header.Get("X-Request-Id"))
			}
			wantExactly(t, "Rampart's 404 through nginx", resp.Header, h.set)

			for _, c := range []struct {
				what, request string
				status        int
			}{
				{"malformed request line", "GET / HTTP/1.1 junk\r\nHost: " + h.name + "\r\n\r\n", 400},
				{"invalid method", "G@T / HTTP/1.1\r\nHost: " + h.name + "\r\n\r\n", 400},
				{"invalid Host", "GET / HTTP/1.1\r\nHost: " + h.name + "/x\r\n\r\n", 400},
				{"oversized header", "GET / HTTP/1.1\r\nHost: " + h.name + "\r\nX-Long: " + long + "\r\n\r\n", 400},
				{"over-long URI", "GET /" + long + " HTTP/1.1\r\nHost: " + h.name + "\r\n\r\n", 414},
				{"TRACE", "TRACE / HTTP/1.1\r\nHost: " + h.name + "\r\n\r\n", 405},
				{"unknown Transfer-Encoding", "POST / HTTP/1.1\r\nHost: " + h.name + "\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
				{"body over client_max_body_size", fmt.Sprintf("POST /api/v1/media HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", h.name, h.bodyLimit+1), 413},
				{"internal error location asked for", "GET /.rampart-proxy-error HTTP/1.1\r\nHost: " + h.name + "\r\nConnection: close\r\n\r\n", 404},
			} {
				resp, body, raw := rawExchange(t, d, h.name, c.request)
				if resp == nil {
					t.Errorf("%s: no HTTP/1.x answer: %q", c.what, raw)
					continue
				}
				wantNginxAnswer(t, c.what, resp, body, c.status, h.set)
			}

			// A header nginx passes on but Go's HTTP server refuses before any
			// handler runs (a DEL byte in a value): its bare 400 has no
			// X-Request-Id, so the site's maps give it the host's set.
			resp, body, raw := rawExchange(t, d, h.name, "GET / HTTP/1.1\r\nHost: "+h.name+"\r\nX-A: a\x7fb\r\nConnection: close\r\n\r\n")
			switch {
			case resp == nil:
				t.Errorf("header Go refuses: no HTTP/1.x answer: %q", raw)
			case resp.StatusCode != 400 || resp.Header.Get("X-Request-Id") != "" || !strings.Contains(string(body), "Bad Request"):
				t.Errorf("header Go refuses: %d %q (request id %q), want Go's own 400 through nginx", resp.StatusCode, body, resp.Header.Get("X-Request-Id"))
			default:
				wantExactly(t, "Go's own 400 through nginx", resp.Header, h.set)
			}

			// Plain http on the https port (nginx's 497, sent as 400).
			conn, err := net.DialTimeout("tcp", "127.0.0.1:"+d.httpsPort, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(15 * time.Second))
			io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+h.name+"\r\n\r\n")
			resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("plain http on the https port: %v", err)
			}
			body = readAll(t, resp)
			conn.Close()
			wantNginxAnswer(t, "plain http on the https port", resp, body, 400, h.set)

			// Over HTTP/2 too, as a browser meets the limit: a declared
			// length, and a body of unknown length (nginx counts as it reads).
			if h.name == nginxMediaHost {
				resp, err = client.Post(h.origin+"/api/v1/media", "application/octet-stream", bytes.NewReader(make([]byte, 4<<10)))
				if err != nil {
					t.Fatal(err)
				}
				body = readAll(t, resp)
				wantNginxAnswer(t, "HTTP/2 body over the limit", resp, body, 413, h.set)
				resp, err = client.Post(h.origin+"/api/v1/media", "application/octet-stream", io.MultiReader(bytes.NewReader(make([]byte, 64<<10))))
				if err != nil {
					t.Fatal(err)
				}
				body = readAll(t, resp)
				wantNginxAnswer(t, "HTTP/2 body of unknown length over the limit", resp, body, 413, h.set)
				resp, body, _ = rawExchange(t, d, h.name, "POST / HTTP/1.1\r\nHost: "+h.name+"\r\nTransfer-Encoding: chunked\r\n\r\n2000\r\n"+strings.Repeat("x", 0x2000)+"\r\n0\r\n\r\n")
				wantNginxAnswer(t, "chunked body over the limit", resp, body, 413, h.set)
			}

			// An oversized header over HTTP/2: nginx ends the connection with
			// GOAWAY, no answer at all; any answer it gave must carry the set.
			req, _ := http.NewRequest("GET", h.origin+"/", nil)
			for i := range 8 {
				req.Header.Set(fmt.Sprintf("X-Long-%d", i), strings.Repeat(fmt.Sprintf("%x", i*7919), 8<<10)[:8<<10])
			}
			if resp, err := proxyClient(t, d.pool, "", nil).Do(req); err != nil {
				t.Logf("HTTP/2 with 64 KiB of headers: no answer (%v)", err)
			} else {
				body := readAll(t, resp)
				if resp.Header.Get("X-Request-Id") == "" {
					wantNginxAnswer(t, "HTTP/2 with 64 KiB of headers", resp, body, resp.StatusCode, h.set)
				}
			}

			// HTTP/0.9 cannot carry a header: nginx closes without an answer.
			if _, _, raw := rawExchange(t, d, h.name, "GET /\r\n"); len(raw) != 0 {
				t.Errorf("HTTP/0.9 request answered with %q, want the connection closed", raw)
			}

			// Rampart too slow: nginx's 504 (the edited 1s read timeout; the
			// test route exists on the instance host only).
			if h.name == nginxAppHost {
				resp, err = client.Get(h.origin + "/test/slow?ms=3000")
				if err != nil {
					t.Fatal(err)
				}
				body = readAll(t, resp)
				wantNginxAnswer(t, "Rampart slower than proxy_read_timeout", resp, body, 504, h.set)
			}
		})
	}

	// Rampart stopped: nginx's 502 on both hosts, over HTTP/2 and HTTP/1.1.
	d.rampart.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.rampart.wait(t); code != 0 {
		t.Fatalf("rampart exited %d", code)
	}
	for _, h := range hosts {
		resp, err := client.Get(h.origin + "/")
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		wantNginxAnswer(t, h.name+" over HTTP/2 with Rampart stopped", resp, body, 502, h.set)
		if resp.Proto != "HTTP/2.0" {
			t.Errorf("%s: %s, want HTTP/2.0", h.name, resp.Proto)
		}
		resp1, body1, raw := rawExchange(t, d, h.name, "GET / HTTP/1.1\r\nHost: "+h.name+"\r\nConnection: close\r\n\r\n")
		if resp1 == nil {
			t.Fatalf("%s: no answer: %q", h.name, raw)
		}
		wantNginxAnswer(t, h.name+" over HTTP/1.1 with Rampart stopped", resp1, body1, 502, h.set)
	}
}
