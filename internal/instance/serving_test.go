package instance

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testutil"
)

// rawExchange writes raw bytes on a fresh connection and reads the answers:
// every response until the server closes the connection. A connection that
// stays open without answering fails the test: the server must close it.
func rawExchange(t *testing.T, addr, raw string) []*http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	var out []*http.Response
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the connection stayed open after %d answers (want it closed): %v", len(out), err)
			}
			return out // closed (EOF or reset)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, resp)
	}
}

// A request with both Transfer-Encoding and Content-Length is how one
// request is smuggled inside another past a proxy that frames by the other
// header. It is refused with 400 and the connection closed, so the second
// request hidden in it is never answered, on every host.
func TestSmuggledRequestIsRefusedAndTheConnectionClosed(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	second := "GET /livez HTTP/1.1\r\nHost: example.test\r\n\r\n"
	cases := []struct {
		name, host, head string
		media            bool
	}{
		{"TE then CL", "example.test", "POST /test/echo HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", false},
		{"CL then TE, odd case", "example.test", "POST /test/echo HTTP/1.1\r\nHost: example.test\r\ncontent-length: 4\r\ntransfer-encoding: CHUNKED\r\n\r\n", false},
		{"HTTP/1.0", "example.test", "POST /test/echo HTTP/1.0\r\nHost: example.test\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", false},
		{"media host", "media.example.test", "POST / HTTP/1.1\r\nHost: media.example.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", true},
		{"unknown host", "evil.test", "POST / HTTP/1.1\r\nHost: evil.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			answers := rawExchange(t, r.addr, tc.head+"0\r\n\r\n"+second)
			if len(answers) != 1 {
				t.Fatalf("%d answers, want exactly one (the refusal); the smuggled request was answered", len(answers))
			}
			resp := answers[0]
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
			if !resp.Close {
				t.Error("no Connection: close")
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id: the refusal did not come through Rampart's handler")
			}
			if tc.media {
				wantMediaHeaders(t, resp, tc.name)
			} else {
				wantAppHeaders(t, resp, tc.name)
			}
		})
	}
	if !strings.Contains(r.logs.String(), `"path":"/test/echo","status":400`) {
		t.Error("the refusal has no request log line")
	}
}

// Requests framed one way only are served. A Content-Length body whose
// bytes look like request heads is skipped as a body, and the connection
// goes on; a chunked request is answered and its connection then closed.
func TestUnambiguousRequestsAreServed(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	fake := "x\r\n\r\nPOST /test/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
	answers := rawExchange(t, r.addr,
		"POST /test/echo HTTP/1.1\r\nHost: example.test\r\nContent-Length: "+strconv.Itoa(len(fake))+"\r\n\r\n"+fake+
			"GET /livez HTTP/1.1\r\nHost: example.test\r\n\r\n"+
			"POST /test/echo HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"+
			"GET /livez HTTP/1.1\r\nHost: example.test\r\n\r\n")
	if len(answers) != 3 {
		t.Fatalf("%d answers, want 3 (two pipelined requests framed by Content-Length, then a chunked one that closes)", len(answers))
	}
	for i, want := range []string{fake, "", "hello"} {
		body, _ := io.ReadAll(answers[i].Body)
		if answers[i].StatusCode != 200 || (want != "" && string(body) != want) {
			t.Errorf("answer %d: %d %q, want 200 %q", i, answers[i].StatusCode, body, want)
		}
	}
	if answers[1].Close {
		t.Error("a Content-Length request closed the connection")
	}
	if !answers[2].Close {
		t.Error("a chunked request's answer lacks Connection: close")
	}
}

// net/http answers "OPTIONS *" itself unless told not to, without any of
// the security headers; Rampart's handler answers it instead.
func TestOptionsStarCarriesTheSecurityHeaders(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	for _, host := range []string{"example.test", "media.example.test", "evil.test"} {
		answers := rawExchange(t, r.addr, "OPTIONS * HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
		if len(answers) != 1 {
			t.Fatalf("%s: %d answers, want 1", host, len(answers))
		}
		resp := answers[0]
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: OPTIONS * answered without Rampart's handler (%d, %v)", host, resp.StatusCode, resp.Header)
		}
		if host == "media.example.test" {
			wantMediaHeaders(t, resp, "OPTIONS * on "+host)
		} else {
			wantAppHeaders(t, resp, "OPTIONS * on "+host)
		}
	}
}

// /static/ serves its files and lists no directory.
func TestStaticServesFilesButListsNoDirectory(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	for _, path := range []string{"/static/"} {
		for _, accept := range []string{"", browserAccept} {
			resp, body := r.fetch(t, "GET", "example.test", path, nil, "Accept: "+accept)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s (Accept %q): %d, want 404", path, accept, resp.StatusCode)
			}
			for _, f := range []string{"avatar.png", "header.png", "thumbnail.png"} {
				if strings.Contains(body, f) {
					t.Errorf("GET %s (Accept %q) lists %s:\n%s", path, accept, f, body)
				}
			}
		}
	}
	resp, body := r.fetch(t, "GET", "example.test", "/static/rampart.css", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || len(body) == 0 {
		t.Errorf("/static/rampart.css: %d %q (%d bytes)", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	wantAppHeaders(t, resp, "/static/rampart.css")
	resp, _ = r.fetch(t, "GET", "example.test", "/static/avatar.png", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("/static/avatar.png: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := r.fetch(t, "GET", "example.test", "/static/nope.css", nil); resp.StatusCode != 404 {
		t.Errorf("/static/nope.css: %d, want 404", resp.StatusCode)
	}
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

// The errors the request path raises itself take the client's form: the
// site's page for a browser, Mastodon's JSON on API paths and for JSON
// clients, plain text for anyone else and always on the media host.
func TestErrorsTakeTheClientsForm(t *testing.T) {
	r := start(t, testutil.ProdConfig(t, t.TempDir()))
	big := strings.Repeat("x", 2<<20)
	type req struct {
		method, host, path string
		body               string
		status             int
		allow              string
	}
	pages := []req{
		{"GET", "example.test", "/no/such/page", "", 404, ""},
		{"GET", "example.test", "/no-such-page", "", 404, ""},
		{"DELETE", "example.test", "/", "", 405, "GET, HEAD"},
		{"POST", "example.test", "/@nobody", "", 405, "GET, HEAD"},
		{"GET", "example.test", "/auth/sign_out", "", 405, "POST"},
		{"POST", "example.test", "/test/echo", big, 413, ""},
		{"GET", "evil.test", "/", "", 421, ""},
		{"GET", "127.0.0.1", "/some/page", "", 421, ""},
	}
	api := []req{
		{"GET", "example.test", "/oauth/token", "", 405, "POST"},
		{"GET", "example.test", "/.well-known/nope", "", 404, ""},
		{"GET", "example.test", "/nodeinfo/2.0/x", "", 404, ""},
		{"POST", "example.test", "/api/v1/apps", big, 413, ""},
		{"GET", "evil.test", "/api/v1/instance", "", 421, ""},
	}
	send := func(q req, accept string) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if q.body != "" {
			body = strings.NewReader(q.body)
		}
		return r.fetch(t, q.method, q.host, q.path, body, "Accept: "+accept)
	}
	check := func(q req, accept string, resp *http.Response, what string) {
		t.Helper()
		if resp.StatusCode != q.status {
			t.Errorf("%s: status %d, want %d", what, resp.StatusCode, q.status)
		}
		if q.allow != "" && resp.Header.Get("Allow") != q.allow {
			t.Errorf("%s: Allow %q, want %q", what, resp.Header.Get("Allow"), q.allow)
		}
		wantAppHeaders(t, resp, what)
	}
	for _, q := range pages {
		what := "browser " + q.method + " " + q.host + q.path
		resp, body := send(q, browserAccept)
		check(q, browserAccept, resp, what)
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q, want the HTML page", what, ct)
		}
		for _, want := range []string{`<link rel="stylesheet" href="/static/rampart.css">`, "<h1>" + http.StatusText(q.status) + "</h1>",
			`<a href="https://example.test/">Back to example.test</a>`, `class="error"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the page lacks %s:\n%s", what, want, body)
			}
		}
		for _, inline := range []string{"<script", "<style", " style=", " onclick="} {
			if strings.Contains(body, inline) {
				t.Errorf("%s: the page has inline %s", what, inline)
			}
		}
	}
	for _, q := range append(append([]req(nil), api...), pages...) {
		accepts := []string{"application/json"}
		if strings.Contains(q.path, "api") || strings.Contains(q.path, "oauth") || strings.Contains(q.path, "known") || strings.Contains(q.path, "nodeinfo") {
			accepts = append(accepts, browserAccept, "") // API paths answer JSON whatever the client asks
		}
		for _, accept := range accepts {
			what := "Accept " + accept + ": " + q.method + " " + q.host + q.path
			resp, body := send(q, accept)
			check(q, accept, resp, what)
			var e struct {
				Error string `json:"error"`
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
				t.Errorf("%s: %q %q, want Mastodon's JSON error", what, ct, body)
			}
		}
	}
	// A client that names neither gets plain text, as before.
	for _, q := range pages {
		what := "no Accept: " + q.method + " " + q.host + q.path
		resp, _ := send(q, "")
		check(q, "", resp, what)
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("%s: Content-Type %q, want plain text", what, ct)
		}
	}
	// The 421 page's stylesheet loads on the host that got it.
	if resp, _ := r.fetch(t, "GET", "evil.test", "/static/rampart.css", nil); resp.StatusCode != 200 {
		t.Errorf("the stylesheet on an unknown host: %d, want 200", resp.StatusCode)
	}
	// The media host keeps plain text for browsers too.
	for _, path := range []string{"/no/such", "/api/v1/instance"} {
		resp, body := r.fetch(t, "GET", "media.example.test", path, nil, "Accept: "+browserAccept)
		if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || strings.Contains(body, "<") {
			t.Errorf("media %s for a browser: %d %q %q, want plain text", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		wantMediaHeaders(t, resp, "media "+path)
	}
}
