package instance

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// running is a real instance serving on a loopback port.
type running struct {
	addr    string
	cancel  context.CancelFunc
	done    chan error
	release chan struct{} // closes to let /test/slow finish
	started chan struct{} // receives when /test/slow has begun
	logs    *testutil.SyncBuffer
	inst    *Instance
}

// start opens an instance with test-only routes on the app host.
func start(t *testing.T, cfg *config.Config) *running {
	t.Helper()
	return startOn(t, cfg, nil)
}

// startOn is start with the listener wrapped (e.g. in TLS, as the reverse proxy would).
func startOn(t *testing.T, cfg *config.Config, wrap func(net.Listener) net.Listener) *running {
	t.Helper()
	testutil.UseTestDatabase(t, cfg)
	r := &running{done: make(chan error, 1), release: make(chan struct{}), started: make(chan struct{}, 1), logs: &testutil.SyncBuffer{}}
	log := slog.New(slog.NewJSONHandler(r.logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	storetest.Seed(cfg.DatabasePath())
	inst, err := Open(ctx, cfg, log, Options{KeyPairs: testutil.RSAKeyPair, AppRoutes: func(mux *http.ServeMux) {
		mux.HandleFunc("GET /test/panic", func(http.ResponseWriter, *http.Request) { panic("test panic") })
		mux.HandleFunc("GET /test/redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/", http.StatusFound)
		})
		mux.HandleFunc("POST /test/echo", func(w http.ResponseWriter, req *http.Request) {
			b, err := io.ReadAll(req.Body)
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					http.Error(w, "too large", http.StatusRequestEntityTooLarge)
					return
				}
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Write(b)
		})
		mux.HandleFunc("GET /test/slow", func(w http.ResponseWriter, req *http.Request) {
			r.started <- struct{}{}
			<-r.release
			io.WriteString(w, "finished")
		})
	}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.inst = inst
	if wrap != nil {
		ln = wrap(ln)
	}
	go func() { r.done <- inst.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
		inst.Close()
	})
	return r
}

func (r *running) do(t *testing.T, method, host, path string, body io.Reader) *http.Response {
	t.Helper()
	resp, _ := r.fetch(t, method, host, path, body)
	return resp
}

// fetch is do that also returns the body; headers are request headers as
// "Name: value" pairs.
func (r *running) fetch(t *testing.T, method, host, path string, body io.Reader, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+r.addr+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, host, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s%s: reading the body: %v", method, host, path, err)
	}
	return resp, string(b)
}

// wantAppHeaders is the exact security header set of the instance host.
func wantAppHeaders(t *testing.T, resp *http.Response, what string) {
	t.Helper()
	exact := map[string]string{
		"X-Xss-Protection":                  "0",
		"X-Permitted-Cross-Domain-Policies": "none",
		"X-Frame-Options":                   "DENY",
		"X-Content-Type-Options":            "nosniff",
		"Referrer-Policy":                   "same-origin",
		"Cross-Origin-Opener-Policy":        "same-origin",
		"Cross-Origin-Resource-Policy":      "same-origin",
		"Strict-Transport-Security":         "max-age=63072000; includeSubDomains",
	}
	if resp.Request != nil && strings.HasPrefix(resp.Request.URL.Path, "/static/") {
		exact["Cross-Origin-Resource-Policy"] = "cross-origin" // public assets: other sites show the default avatar
	}
	for k, v := range exact {
		if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %s = %q, want exactly %q", what, k, got, v)
		}
	}
	wantPermissionsPolicy(t, resp, what)
	csps := resp.Header.Values("Content-Security-Policy")
	if len(csps) != 1 {
		t.Fatalf("%s: want one CSP header, got %q", what, csps)
	}
	if got := testutil.ParseCSP(csps[0]); !reflect.DeepEqual(got, testutil.WantAppCSP) {
		t.Errorf("%s: CSP\n got %v\nwant %v", what, got, testutil.WantAppCSP)
	}
	if strings.Contains(csps[0], "unsafe") {
		t.Errorf("%s: CSP has an unsafe keyword: %s", what, csps[0])
	}
}

func wantMediaHeaders(t *testing.T, resp *http.Response, what string) {
	t.Helper()
	exact := map[string]string{
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'; sandbox",
		"X-Content-Type-Options":       "nosniff",
		"Cross-Origin-Resource-Policy": "cross-origin",
		"X-Frame-Options":              "DENY",
		"Referrer-Policy":              "no-referrer",
		"Strict-Transport-Security":    "max-age=63072000; includeSubDomains",
	}
	for k, v := range exact {
		if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %s = %q, want exactly %q", what, k, got, v)
		}
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("%s: media host set cookies %q", what, c)
	}
}

func TestEveryAppResponseCarriesTheSecurityHeaders(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	cases := []struct {
		method, path string
		body         io.Reader
		status       int
	}{
		{"GET", "/", nil, 200},
		{"GET", "/static/rampart.css", nil, 200},
		{"GET", "/livez", nil, 200},
		{"GET", "/readyz", nil, 200},
		{"GET", "/no/such/page", nil, 404},
		{"DELETE", "/", nil, 405},
		{"GET", "/test/panic", nil, 500},
		{"GET", "/test/redirect", nil, 302},
		{"POST", "/test/echo", strings.NewReader(strings.Repeat("x", 2<<20)), 413},
	}
	for _, tc := range cases {
		resp := r.do(t, tc.method, "example.test", tc.path, tc.body)
		what := tc.method + " " + tc.path
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", what, resp.StatusCode, tc.status)
		}
		wantAppHeaders(t, resp, what)
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", what)
		}
	}
	if !strings.Contains(r.logs.String(), `"msg":"handler panic"`) {
		t.Error("the panic was not logged")
	}
	// The server survived the panic.
	if resp := r.do(t, "GET", "example.test", "/livez", nil); resp.StatusCode != 200 {
		t.Errorf("after panic: %d", resp.StatusCode)
	}
}

func TestMediaHostServesNothingButMediaWithInertHeaders(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	for _, tc := range []struct {
		method, path string
		status       int
		body         []string // what the answer must say
	}{
		// The root is a plain page naming the instance, so that probes and scanners rate a real answer.
		{"GET", "/", 200, []string{"Rampart media host for example.test", "The instance is at https://example.test/"}},
		{"HEAD", "/", 200, nil},
		{"GET", "/livez", 404, nil},
		{"GET", "/static/rampart.css", 404, nil},
		// A client pointed at the media host learns where the instance is.
		{"GET", "/api/v1/instance", 404, []string{"this is the media host of example.test", "https://example.test/"}},
		{"POST", "/oauth/token", 404, []string{"this is the media host of example.test"}},
		{"GET", "/test/panic", 404, nil},
		{"GET", "/auth/sign_in", 404, nil},
		{"POST", "/", 405, nil},
	} {
		resp, body := r.fetch(t, tc.method, "media.example.test", tc.path, nil)
		what := "media " + tc.method + " " + tc.path
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", what, resp.StatusCode, tc.status)
		}
		wantMediaHeaders(t, resp, what)
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" && tc.method != "HEAD" {
			t.Errorf("%s: Content-Type %q, want plain text", what, ct)
		}
		for _, want := range tc.body {
			if !strings.Contains(body, want) {
				t.Errorf("%s: body %q does not say %q", what, body, want)
			}
		}
		if tc.status != 200 && strings.Contains(body, "Rampart media host for") {
			t.Errorf("%s: an error answered with the root page", what)
		}
	}
}

func TestUnknownHostIsRefused(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	for _, host := range []string{"evil.test", "127.0.0.1", "example.test.evil.test"} {
		resp := r.do(t, "GET", host, "/", nil)
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("Host %s: status %d, want 421", host, resp.StatusCode)
		}
		wantAppHeaders(t, resp, "Host "+host)
	}
	// Probes on the loopback address still work.
	if resp := r.do(t, "GET", "127.0.0.1", "/livez", nil); resp.StatusCode != 200 {
		t.Errorf("/livez via 127.0.0.1: %d", resp.StatusCode)
	}
}

func TestSlowHeadersAreCutOffWhileOthersAreServed(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir(), "[http]", `read_header_timeout = "1s"`))
	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		io.Copy(io.Discard, conn) // returns when the server drops the connection
	}()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: example.test\r\n")
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	served := 0
	for {
		select {
		case <-closed:
			if served == 0 {
				t.Error("no other request was served while the slow client trickled")
			}
			return
		case <-deadline:
			t.Fatal("the slow client was never disconnected")
		case <-tick.C:
			io.WriteString(conn, "X-Slow: 1\r\n") // never finishes the headers
			if resp := r.do(t, "GET", "example.test", "/livez", nil); resp.StatusCode == 200 {
				served++
			}
		}
	}
}

func TestOversizedHeadersAreRefused(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir(), "[http]", `max_header_bytes = "8KiB"`))
	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: example.test\r\nX-Big: "+strings.Repeat("a", 64<<10)+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the refusal: %v", err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
	if resp := r.do(t, "GET", "example.test", "/livez", nil); resp.StatusCode != 200 {
		t.Errorf("server unwell after a huge header: %d", resp.StatusCode)
	}
}

func TestShutdownLetsInFlightRequestFinish(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	got := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+r.addr+"/test/slow", nil)
		req.Host = "example.test"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-r.started
	r.cancel() // what SIGTERM does in main
	select {
	case err := <-r.done:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := net.DialTimeout("tcp", r.addr, time.Second); err == nil {
		t.Error("still accepting new connections during shutdown")
	}
	close(r.release)
	if body := <-got; body != "finished" {
		t.Errorf("in-flight request got %q", body)
	}
	if err := <-r.done; err != nil {
		t.Errorf("Serve after drain: %v", err)
	}
	r.done <- nil // for Cleanup
}

func TestRequestLogLine(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	r.do(t, "GET", "example.test", "/no/such?access_token=SECRET", nil)
	logs := r.logs.String()
	var line string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"msg":"request"`) && strings.Contains(l, "/no/such") {
			line = l
		}
	}
	for _, want := range []string{`"method":"GET"`, `"path":"/no/such"`, `"status":404`, `"duration_ms":`, `"request_id":"`} {
		if !strings.Contains(line, want) {
			t.Errorf("request log line %q lacks %s", line, want)
		}
	}
	if strings.Contains(logs, "SECRET") {
		t.Error("the query string (which may hold tokens) reached the log")
	}
}

func TestNonLoopbackListenIsLoggedAsWarning(t *testing.T) {
	cfg := testutil.ProdConfig(t, t.TempDir(), "[http]", `listen = "0.0.0.0:0"`)
	buf := &testutil.SyncBuffer{}
	LogStartup(cfg, slog.New(slog.NewJSONHandler(buf, nil)))
	if !strings.Contains(buf.String(), `"level":"WARN","msg":"http.listen is 0.0.0.0:0, not loopback`) {
		t.Errorf("start-up log lacks the warning:\n%s", buf.String())
	}
	buf = &testutil.SyncBuffer{}
	LogStartup(testutil.ProdConfig(t, t.TempDir()), slog.New(slog.NewJSONHandler(buf, nil)))
	if strings.Contains(buf.String(), "WARN") {
		t.Errorf("default config warns:\n%s", buf.String())
	}
}
