package deploy

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/httpsec"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/testutil"
)

// nginxDirective is one parsed directive: its name, its arguments and, for a
// block (server, location), the directives inside.
type nginxDirective struct {
	name  string
	args  []string
	block []*nginxDirective
}

// parseNginx parses nginx configuration syntax: directives ending in ';',
// blocks in braces, # comments, and single- or double-quoted arguments.
func parseNginx(text string) ([]*nginxDirective, error) {
	var tokens []string
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == ';' || c == '{' || c == '}':
			tokens = append(tokens, string(c))
			i++
		case c == '"' || c == '\'':
			end := strings.IndexByte(text[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote at byte %d", i)
			}
			tokens = append(tokens, "\x00"+text[i+1:i+1+end]) // \x00 marks a quoted word
			i += end + 2
		default:
			j := i
			for j < len(text) && !strings.ContainsRune(" \t\r\n;{}#", rune(text[j])) {
				j++
			}
			tokens = append(tokens, text[i:j])
			i = j
		}
	}
	pos := 0
	var parse func(depth int) ([]*nginxDirective, error)
	parse = func(depth int) ([]*nginxDirective, error) {
		var out []*nginxDirective
		for pos < len(tokens) {
			t := tokens[pos]
			if t == "}" {
				if depth == 0 {
					return nil, fmt.Errorf("unexpected }")
				}
				pos++
				return out, nil
			}
			if t == ";" || t == "{" {
				return nil, fmt.Errorf("unexpected %s", t)
			}
			d := &nginxDirective{name: t}
			pos++
			for pos < len(tokens) && tokens[pos] != ";" && tokens[pos] != "{" && tokens[pos] != "}" {
				d.args = append(d.args, strings.TrimPrefix(tokens[pos], "\x00"))
				pos++
			}
			if pos == len(tokens) || tokens[pos] == "}" {
				return nil, fmt.Errorf("directive %s has no ; or block", d.name)
			}
			if tokens[pos] == "{" {
				pos++
				inner, err := parse(depth + 1)
				if err != nil {
					return nil, err
				}
				d.block = inner
			} else {
				pos++
			}
			out = append(out, d)
		}
		if depth > 0 {
			return nil, fmt.Errorf("unclosed block")
		}
		return out, nil
	}
	return parse(0)
}

// all returns every directive called name directly in ds.
func all(ds []*nginxDirective, name string) []*nginxDirective {
	var out []*nginxDirective
	for _, d := range ds {
		if d.name == name {
			out = append(out, d)
		}
	}
	return out
}

// values returns the argument lists of every directive called name in ds, joined by spaces.
func values(ds []*nginxDirective, name string) []string {
	var out []string
	for _, d := range all(ds, name) {
		out = append(out, strings.Join(d.args, " "))
	}
	return out
}

// walkNginx calls fn for every directive at any depth.
func walkNginx(ds []*nginxDirective, fn func(*nginxDirective)) {
	for _, d := range ds {
		fn(d)
		walkNginx(d.block, fn)
	}
}

// location returns the location block with exactly these arguments.
func location(t *testing.T, server *nginxDirective, args ...string) []*nginxDirective {
	t.Helper()
	for _, d := range all(server.block, "location") {
		if strings.Join(d.args, " ") == strings.Join(args, " ") {
			return d.block
		}
	}
	t.Fatalf("server %v has no location %q", values(server.block, "server_name"), args)
	return nil
}

// site is a parsed rendering, its three server blocks by role.
type site struct {
	text              string
	app, media, plain *nginxDirective
	maps              []*nginxDirective // top level, before the servers
	directives        []*nginxDirective
	cfg               *config.Config
}

func testConfig(t *testing.T, env ...string) *config.Config {
	t.Helper()
	gen, err := config.Generate(config.GenOptions{Domain: "example.net", MediaDomain: "media.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(gen, env)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// opts is DefaultNginxOptions with edits.
func opts(edit func(o *NginxOptions)) NginxOptions {
	o := DefaultNginxOptions()
	edit(&o)
	return o
}

func render(t *testing.T, cfg *config.Config, o NginxOptions) site {
	t.Helper()
	text, err := NginxSite(cfg, o)
	if err != nil {
		t.Fatalf("NginxSite: %v", err)
	}
	ds, err := parseNginx(text)
	if err != nil {
		t.Fatalf("rendered site does not parse: %v\n%s", err, text)
	}
	s := site{text: text, directives: ds, cfg: cfg}
	servers := all(ds, "server")
	s.maps = all(ds, "map")
	upstreams := all(ds, "upstream")
	if len(servers) != 3 || len(ds) != 3+len(s.maps)+len(upstreams) || len(upstreams) != min(len(o.Backends), 1) {
		t.Fatalf("want exactly 3 server blocks, maps and an upstream block for --backend at top level, got %d directives, %d servers:\n%s", len(ds), len(servers), text)
	}
	s.app, s.media, s.plain = servers[0], servers[1], servers[2]
	return s
}

// want asserts that server has exactly these values for a directive.
func want(t *testing.T, what string, ds []*nginxDirective, name string, vals ...string) {
	t.Helper()
	got := values(ds, name)
	if strings.Join(got, "|") != strings.Join(vals, "|") {
		t.Errorf("%s: %s = %q, want %q", what, name, got, vals)
	}
}

// parseNginxSize reads a client_max_body_size value.
func parseNginxSize(t *testing.T, s string) int64 {
	t.Helper()
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1<<10, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1<<20, strings.TrimSuffix(s, "m")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("size %q: %v", s, err)
	}
	return n * mult
}

// checkSite asserts everything every rendering must have.
func checkSite(t *testing.T, s site, upstream string, httpsPort, httpPort int, hostHeader string) {
	t.Helper()
	tlsListen := []string{fmt.Sprintf("%d ssl http2", httpsPort), fmt.Sprintf("[::]:%d ssl http2", httpsPort)}
	headers := func(what string, loc []*nginxDirective, extra ...string) {
		t.Helper()
		want(t, what, loc, "proxy_pass", upstream)
		wantHeaders := append([]string{
			"Host " + hostHeader,
			"X-Forwarded-For $proxy_add_x_forwarded_for",
			"X-Forwarded-Proto $scheme",
			"X-Real-IP $remote_addr",
		}, extra...)
		want(t, what, loc, "proxy_set_header", wantHeaders...)
		// Rampart's own error answers must reach the client as they are.
		want(t, what, loc, "proxy_intercept_errors", "off")
	}
	for _, srv := range []struct {
		what  string
		d     *nginxDirective
		host  string
		limit int64
	}{
		{"instance host", s.app, s.cfg.InstanceURL().Hostname(), media.MaxBytes(s.cfg)},
		{"media host", s.media, s.cfg.MediaOrigin().Hostname(), 1 << 10},
	} {
		b := srv.d.block
		want(t, srv.what, b, "server_name", srv.host)
		want(t, srv.what, b, "listen", tlsListen...)
		want(t, srv.what, b, "http2")
		want(t, srv.what, b, "ssl_protocols", "TLSv1.2 TLSv1.3")
		want(t, srv.what, b, "ssl_prefer_server_ciphers", "off")
		want(t, srv.what, b, "ssl_session_tickets", "off")
		want(t, srv.what, b, "server_tokens", "off")
		if len(values(b, "ssl_certificate")) != 1 || len(values(b, "ssl_certificate_key")) != 1 {
			t.Errorf("%s: want one ssl_certificate and one ssl_certificate_key", srv.what)
		}
		if got := values(b, "client_max_body_size"); len(got) != 1 || parseNginxSize(t, got[0]) != srv.limit {
			t.Errorf("%s: client_max_body_size %q, want %d bytes", srv.what, got, srv.limit)
		}
		headers(srv.what+" location /", location(t, srv.d, "/"))
	}
	stream := location(t, s.app, "/api/v1/streaming")
	headers("streaming", stream, "Upgrade $http_upgrade", "Connection upgrade")
	want(t, "streaming", stream, "proxy_http_version", "1.1")
	want(t, "streaming", stream, "proxy_read_timeout", "1h")
	if got := values(s.media.block, "location"); strings.Join(got, "|") != "/|= "+ProxyErrorLocation {
		t.Errorf("media host: want only location / and the error location, got %v", got)
	}
	checkErrorPages(t, s)
	checkFallbackHeaders(t, s)

	b := s.plain.block
	want(t, "http", b, "listen", strconv.Itoa(httpPort), fmt.Sprintf("[::]:%d", httpPort))
	want(t, "http", b, "server_name", s.cfg.InstanceURL().Hostname()+" "+s.cfg.MediaOrigin().Hostname())
	want(t, "http", b, "server_tokens", "off")
	redirect := "https://$host$request_uri"
	if httpsPort != 443 {
		redirect = fmt.Sprintf("https://$host:%d$request_uri", httpsPort)
	}
	want(t, "http", location(t, s.plain, "/"), "return", "301 "+redirect)
	if len(all(b, "proxy_pass")) > 0 || len(all(location(t, s.plain, "/"), "proxy_pass")) > 0 {
		t.Error("http server proxies instead of redirecting")
	}

	// Rampart owns the headers of its answers, and nginx's buffering stays
	// default: headers are added only in the error locations, which
	// checkErrorPages checks, and for answers without X-Request-Id, which
	// checkFallbackHeaders checks.
	walkNginx(withoutFallbacks(withoutErrorLocations(s.directives)), func(d *nginxDirective) {
		switch d.name {
		case "add_header", "add_trailer", "proxy_hide_header", "proxy_ignore_headers", "more_set_headers",
			"more_clear_headers", "proxy_buffering", "proxy_pass_header", "ssl_stapling", "user", "http", "map":
			t.Errorf("the site must not have %s %v", d.name, d.args)
		}
	})
	walkNginx(withoutFallbacks(withoutErrorLocations(s.directives)), func(d *nginxDirective) {
		for _, a := range d.args {
			for _, h := range []string{"strict-transport-security", "content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"} {
				if strings.Contains(strings.ToLower(a), h) {
					t.Errorf("%s %v names %s; Rampart sets it", d.name, d.args, h)
				}
			}
		}
	})
}

// withoutFallbacks is the site without the fallback headers' maps and the
// add_header lines that use them.
func withoutFallbacks(ds []*nginxDirective) []*nginxDirective {
	var out []*nginxDirective
	for _, d := range ds {
		if d.name == "map" && len(d.args) == 2 && d.args[0] == "$upstream_http_x_request_id" ||
			d.name == "add_header" && len(d.args) == 3 && strings.HasPrefix(d.args[1], "$rampart_") {
			continue
		}
		c := *d
		c.block = withoutFallbacks(d.block)
		out = append(out, &c)
	}
	return out
}

// checkFallbackHeaders asserts that each proxy location adds exactly its
// host's set from internal/httpsec, each header through a map that holds the
// value only when the answer has no X-Request-Id (Rampart's handler marks
// every answer with one) and is empty otherwise, so that Rampart's own
// answers get nothing from nginx.
func checkFallbackHeaders(t *testing.T, s site) {
	t.Helper()
	values := map[string]string{} // variable → its value for an answer without X-Request-Id
	for _, m := range s.maps {
		if len(m.args) != 2 || m.args[0] != "$upstream_http_x_request_id" || !strings.HasPrefix(m.args[1], "$rampart_") {
			t.Errorf("map %v: want a $rampart_ variable of $upstream_http_x_request_id", m.args)
			continue
		}
		if len(m.block) != 2 || m.block[0].name != "\x00" || len(m.block[0].args) != 1 ||
			m.block[1].name != "default" || strings.Join(m.block[1].args, "|") != "" {
			t.Errorf("map %s: want exactly `\"\" VALUE; default \"\";` (empty for Rampart's own answers)", m.args[1])
			continue
		}
		if _, dup := values[m.args[1]]; dup {
			t.Errorf("map %s defined twice", m.args[1])
		}
		values[m.args[1]] = m.block[0].args[0]
	}
	sec := httpsec.New(s.cfg)
	used := map[string]bool{}
	for _, loc := range []struct {
		what string
		ds   []*nginxDirective
		set  http.Header
	}{
		{"instance location /", location(t, s.app, "/"), sec.AppHeaders()},
		{"streaming location", location(t, s.app, "/api/v1/streaming"), sec.AppHeaders()},
		{"media location /", location(t, s.media, "/"), sec.MediaHeaders()},
	} {
		got := http.Header{}
		for _, d := range all(loc.ds, "add_header") {
			v, ok := values[d.args[1]]
			if len(d.args) != 3 || d.args[2] != "always" || !ok {
				t.Errorf("%s: add_header %q, want NAME $rampart_… always with a map of that variable", loc.what, d.args)
				continue
			}
			used[d.args[1]] = true
			got.Add(d.args[0], v)
		}
		if !reflect.DeepEqual(got, loc.set) {
			t.Errorf("%s adds, for answers without X-Request-Id,\n %v\nwant httpsec's set\n %v", loc.what, got, loc.set)
		}
	}
	if len(used) != len(values) {
		t.Errorf("%d maps, %d used", len(values), len(used))
	}
}

// withoutErrorLocations is the site without the error locations' blocks.
func withoutErrorLocations(ds []*nginxDirective) []*nginxDirective {
	var out []*nginxDirective
	for _, d := range ds {
		if d.name == "location" && strings.Join(d.args, " ") == "= "+ProxyErrorLocation {
			continue
		}
		c := *d
		c.block = withoutErrorLocations(d.block)
		out = append(out, &c)
	}
	return out
}

// mustHaveErrorCodes are the answers nginx gives itself in front of Rampart
// that error_page must catch: a malformed request and a missing or broken
// Host (400), an oversized header (494), certificate errors and plain http on
// the https port (495–497), TRACE (405), a body over the limit (413), an
// over-long URI (414), an unknown Transfer-Encoding (501), an unsupported
// HTTP version (505), and Rampart down or slow (502, 504).
var mustHaveErrorCodes = []string{"400", "404", "405", "413", "414", "494", "495", "496", "497", "500", "501", "502", "503", "504", "505"}

// checkErrorPages asserts that each https server sends nginx's own errors to
// its error location, and that the location carries exactly the host's
// header set from internal/httpsec.
func checkErrorPages(t *testing.T, s site) {
	t.Helper()
	sec := httpsec.New(s.cfg)
	for _, srv := range []struct {
		what string
		d    *nginxDirective
		set  http.Header
	}{
		{"instance host", s.app, sec.AppHeaders()},
		{"media host", s.media, sec.MediaHeaders()},
	} {
		b := srv.d.block
		pages := all(b, "error_page")
		if len(pages) != 1 || len(pages[0].args) < 2 || pages[0].args[len(pages[0].args)-1] != ProxyErrorLocation {
			t.Errorf("%s: error_page %v, want one sending nginx's errors to %s", srv.what, values(b, "error_page"), ProxyErrorLocation)
			continue
		}
		codes := map[string]bool{}
		for _, c := range pages[0].args[:len(pages[0].args)-1] {
			codes[c] = true
		}
		for _, c := range mustHaveErrorCodes {
			if !codes[c] {
				t.Errorf("%s: error_page lacks %s", srv.what, c)
			}
		}
		if len(all(b, "add_header")) > 0 {
			t.Errorf("%s: add_header at server level would be inherited by location / and double Rampart's headers", srv.what)
		}
		// HTTP/0.9 requests are closed: their answers cannot carry headers.
		ifs := all(b, "if")
		if len(ifs) != 1 || strings.Join(ifs[0].args, " ") != "($status = 009)" || strings.Join(values(ifs[0].block, "return"), "|") != "444" {
			t.Errorf("%s: want `if ($status = 009) { return 444; }`, got %v", srv.what, values(b, "if"))
		}

		loc := location(t, srv.d, "=", ProxyErrorLocation)
		if len(all(loc, "internal")) != 1 {
			t.Errorf("%s error location is not internal", srv.what)
		}
		want(t, srv.what+" error location", loc, "default_type", "text/plain")
		// Else an HTTP/2 body over the limit meets a second 413 here.
		want(t, srv.what+" error location", loc, "client_max_body_size", "0")
		if ret := values(loc, "return"); len(ret) != 1 || !strings.Contains(ret[0], "$status") {
			t.Errorf("%s error location: return %v, want one answer naming $status", srv.what, ret)
		}
		got := http.Header{}
		for _, d := range all(loc, "add_header") {
			if len(d.args) != 3 || d.args[2] != "always" {
				t.Errorf("%s error location: add_header %q, want NAME VALUE always (without always nginx drops it on errors)", srv.what, d.args)
				continue
			}
			got.Add(d.args[0], d.args[1])
		}
		if len(srv.set) == 0 && srv.what == "media host" {
			t.Fatal("httpsec's media set is empty")
		}
		if !reflect.DeepEqual(got, srv.set) {
			t.Errorf("%s error location adds\n %v\nwant httpsec's set\n %v", srv.what, got, srv.set)
		}
	}
}

func TestNginxSiteTCPListener(t *testing.T) {
	cfg := testConfig(t)
	s := render(t, cfg, DefaultNginxOptions())
	checkSite(t, s, "http://127.0.0.1:8080", 443, 80, "$host")
	want(t, "instance", s.app.block, "ssl_certificate", "/etc/letsencrypt/live/example.net/fullchain.pem")
	want(t, "instance", s.app.block, "ssl_certificate_key", "/etc/letsencrypt/live/example.net/privkey.pem")
	want(t, "media", s.media.block, "ssl_certificate", "/etc/letsencrypt/live/media.example.net/fullchain.pem")
	want(t, "media", s.media.block, "ssl_certificate_key", "/etc/letsencrypt/live/media.example.net/privkey.pem")
	want(t, "acme", location(t, s.plain, "^~", "/.well-known/acme-challenge/"), "root", DefaultACMEWebroot)
	// 99 MiB video + 64 KiB form.
	if !strings.Contains(s.text, "\n    client_max_body_size 101440k;\n") {
		t.Errorf("instance upload limit is not media.MaxBytes (101440k):\n%s", s.text)
	}
	// The site says why: its header and the choices an admin may question
	// are commented.
	for _, why := range []string{"# Rampart — generated by `rampart gen nginx`", "nothing here adds, overrides or\n# hides a header of Rampart's answers", "Only answers Rampart's handler never saw",
		"# Uploads (POST /api/v1/media", "# The streaming API is a WebSocket", "# nginx never rotates session ticket keys", "BREACH"} {
		if !strings.Contains(s.text, why) {
			t.Errorf("the site lacks the comment %q", why)
		}
	}
}

func TestNginxSiteUnixSocketListener(t *testing.T) {
	cfg := testConfig(t, "RAMPART_HTTP_LISTEN=unix:/run/rampart/rampart.sock")
	s := render(t, cfg, opts(func(o *NginxOptions) { o.ACMEWebroot = "" }))
	checkSite(t, s, "http://unix:/run/rampart/rampart.sock:", 443, 80, "$host")
	if len(all(s.plain.block, "location")) != 1 {
		t.Errorf("without --acme-webroot the http server has only location /: %v", values(s.plain.block, "location"))
	}
}

// Several processes on one PostgreSQL database: every proxy_pass of the
// site goes to one upstream block naming them all, in the order given.
func TestNginxSiteSeveralBackends(t *testing.T) {
	cfg := testConfig(t)
	s := render(t, cfg, opts(func(o *NginxOptions) {
		o.Backends = []string{"127.0.0.1:8080", "0.0.0.0:8081", "unix:/run/rampart/2.sock"}
	}))
	checkSite(t, s, "http://rampart_backends", 443, 80, "$host")
	if !strings.Contains(s.text, "upstream rampart_backends {\n    server 127.0.0.1:8080;\n    server 127.0.0.1:8081;\n    server unix:/run/rampart/2.sock;\n}\n") ||
		!strings.Contains(s.text, "# 127.0.0.1:8080, 0.0.0.0:8081, unix:/run/rampart/2.sock:") {
		t.Errorf("no upstream block of the three backends:\n%s", s.text)
	}
	for _, bad := range []string{"127.0.0.1", "unix:relative.sock", "127.0.0.1:80;evil"} {
		if _, err := NginxSite(cfg, opts(func(o *NginxOptions) { o.Backends = []string{bad} })); err == nil || !strings.Contains(err.Error(), "--backend") {
			t.Errorf("--backend %q: %v; want it refused", bad, err)
		}
	}
}

func TestNginxSiteOptions(t *testing.T) {
	t.Run("ports and one certificate for both hosts", func(t *testing.T) {
		cfg := testConfig(t)
		s := render(t, cfg, opts(func(o *NginxOptions) {
			o.Cert, o.Key, o.HTTPSPort, o.HTTPPort = "/etc/ssl/both.pem", "/etc/ssl/private/both.key", 8443, 8080
		}))
		checkSite(t, s, "http://127.0.0.1:8080", 8443, 8080, "$host:8443")
		for _, srv := range []*nginxDirective{s.app, s.media} {
			want(t, "cert", srv.block, "ssl_certificate", "/etc/ssl/both.pem")
			want(t, "key", srv.block, "ssl_certificate_key", "/etc/ssl/private/both.key")
		}
	})
	t.Run("media certificate of its own", func(t *testing.T) {
		s := render(t, testConfig(t), opts(func(o *NginxOptions) {
			o.Cert, o.Key, o.MediaCert, o.MediaKey = "/c/a.pem", "/c/a.key", "/c/m.pem", "/c/m.key"
		}))
		want(t, "instance", s.app.block, "ssl_certificate", "/c/a.pem")
		want(t, "media", s.media.block, "ssl_certificate", "/c/m.pem")
		want(t, "media", s.media.block, "ssl_certificate_key", "/c/m.key")
	})
	t.Run("http2 directive", func(t *testing.T) {
		s := render(t, testConfig(t), opts(func(o *NginxOptions) { o.HTTP2Directive = true }))
		for _, srv := range []*nginxDirective{s.app, s.media} {
			want(t, "directive", srv.block, "listen", "443 ssl", "[::]:443 ssl")
			want(t, "directive", srv.block, "http2", "on")
		}
	})
	t.Run("upload limit follows the config", func(t *testing.T) {
		cfg := testConfig(t, "RAMPART_MEDIA_MAX_VIDEO_BYTES=200MiB")
		s := render(t, cfg, DefaultNginxOptions())
		want(t, "instance", s.app.block, "client_max_body_size", "204864k")
	})
	t.Run("security headers off", func(t *testing.T) {
		// The instance host's error answers carry what Rampart's do: nothing;
		// the media host's set is never switched off.
		s := render(t, testConfig(t, "RAMPART_SECURITY_HEADERS=false"), DefaultNginxOptions())
		checkSite(t, s, "http://127.0.0.1:8080", 443, 80, "$host")
		if n := len(all(location(t, s.app, "=", ProxyErrorLocation), "add_header")); n != 0 {
			t.Errorf("instance error location adds %d headers with security.headers = false", n)
		}
	})
	t.Run("wildcard bind is reached on loopback", func(t *testing.T) {
		for listen, up := range map[string]string{"0.0.0.0:9000": "http://127.0.0.1:9000", "[::]:9000": "http://[::1]:9000", "[::1]:9000": "http://[::1]:9000"} {
			s := render(t, testConfig(t, "RAMPART_HTTP_LISTEN="+listen), DefaultNginxOptions())
			want(t, listen, location(t, s.app, "/"), "proxy_pass", up)
		}
	})
}

func TestNginxSiteRejectsBadOptions(t *testing.T) {
	bad := []struct {
		name string
		edit func(*NginxOptions)
		env  []string
		want string
	}{
		{"relative cert", func(o *NginxOptions) { o.Cert, o.Key = "cert.pem", "/k" }, nil, "--cert"},
		{"cert with space", func(o *NginxOptions) { o.Cert, o.Key = "/etc/my certs/c.pem", "/k" }, nil, "--cert"},
		{"key with semicolon", func(o *NginxOptions) { o.Cert, o.Key = "/c", "/k; include /etc/passwd" }, nil, "--key"},
		{"key with quote", func(o *NginxOptions) { o.Cert, o.Key = "/c", `/k"` }, nil, "--key"},
		{"cert with variable", func(o *NginxOptions) { o.Cert, o.Key = "/c/$ssl_server_name.pem", "/k" }, nil, "--cert"},
		{"cert with brace", func(o *NginxOptions) { o.Cert, o.Key = "/c/}", "/k" }, nil, "--cert"},
		{"media cert with newline", func(o *NginxOptions) { o.MediaCert, o.MediaKey = "/c\n", "/k" }, nil, "--media-cert"},
		{"media key with hash", func(o *NginxOptions) { o.MediaCert, o.MediaKey = "/c", "/k#" }, nil, "--media-key"},
		{"cert without key", func(o *NginxOptions) { o.Cert = "/c" }, nil, "--cert and --key"},
		{"media key without cert", func(o *NginxOptions) { o.MediaKey = "/k" }, nil, "--media-cert and --media-key"},
		{"https port 0", func(o *NginxOptions) { o.HTTPSPort = 0 }, nil, "--https-port: 0 is not a port"},
		{"https port negative", func(o *NginxOptions) { o.HTTPSPort = -1 }, nil, "--https-port"},
		{"https port too big", func(o *NginxOptions) { o.HTTPSPort = 65536 }, nil, "--https-port"},
		{"http port 0", func(o *NginxOptions) { o.HTTPPort = 0 }, nil, "--http-port"},
		{"http port too big", func(o *NginxOptions) { o.HTTPPort = 70000 }, nil, "--http-port"},
		{"same ports", func(o *NginxOptions) { o.HTTPSPort, o.HTTPPort = 8080, 8080 }, nil, "two ports"},
		{"acme webroot relative", func(o *NginxOptions) { o.ACMEWebroot = "www" }, nil, "--acme-webroot"},
		{"socket with space", func(o *NginxOptions) {}, []string{"RAMPART_HTTP_LISTEN=unix:/run/ramp art.sock"}, "http.listen"},
		{"$ in a header value", func(o *NginxOptions) {}, []string{"RAMPART_SECURITY_CSP_REPORT_URI=https://report.example/$uri"}, "nginx cannot write literally"},
		{"backslash in a header value", func(o *NginxOptions) {}, []string{`RAMPART_SECURITY_CSP_REPORT_URI=https://report.example/\x`}, "nginx cannot write literally"},
		{"dev config", func(o *NginxOptions) {}, []string{"RAMPART_ENV=dev", "RAMPART_URL=http://localhost:8080", "RAMPART_MEDIA_URL=http://127.0.0.1:8080"}, "must both be https"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			o := DefaultNginxOptions()
			b.edit(&o)
			site, err := NginxSite(testConfig(t, b.env...), o)
			if err == nil {
				t.Fatalf("NginxSite(%+v) = nil error, rendered:\n%s", o, site)
			}
			if !strings.Contains(err.Error(), b.want) {
				t.Errorf("error %q does not name %s", err, b.want)
			}
		})
	}
}

// TestNginxAcceptsTheSite runs `nginx -t` on renderings for a TCP and a
// unix-socket listener.
func TestNginxAcceptsTheSite(t *testing.T) {
	nginx := testutil.Nginx(t)
	legacy := testutil.NginxPredatesHTTP2Directive(t, nginx)
	for name, c := range map[string]struct {
		env []string
		o   NginxOptions
	}{
		"tcp":                 {nil, DefaultNginxOptions()},
		"unix socket":         {[]string{"RAMPART_HTTP_LISTEN=unix:/run/rampart/rampart.sock"}, opts(func(o *NginxOptions) { o.ACMEWebroot = "" })},
		"other ports":         {nil, opts(func(o *NginxOptions) { o.HTTPSPort, o.HTTPPort = 8443, 8080 })},
		"media cert separate": {nil, DefaultNginxOptions()},
		"several backends": {nil, opts(func(o *NginxOptions) {
			o.Backends = []string{"127.0.0.1:8080", "127.0.0.1:8081", "unix:/run/rampart/2.sock"}
		})},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cert, key, _ := testutil.SelfSignedCert(t, dir, "example.net", "media.example.net")
			c.o.Cert, c.o.Key = cert, key
			if name == "media cert separate" {
				mdir := filepath.Join(dir, "media")
				if err := os.Mkdir(mdir, 0o700); err != nil {
					t.Fatal(err)
				}
				c.o.MediaCert, c.o.MediaKey, _ = testutil.SelfSignedCert(t, mdir, "media.example.net")
			}
			c.o.HTTP2Directive = !legacy
			text, err := NginxSite(testConfig(t, c.env...), c.o)
			if err != nil {
				t.Fatal(err)
			}
			sitePath, confPath := filepath.Join(dir, "rampart"), filepath.Join(dir, "nginx.conf")
			if err := os.WriteFile(sitePath, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(confPath, []byte(testutil.NginxConf(dir, sitePath, "")), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(nginx, "-t", "-p", dir, "-c", confPath).CombinedOutput()
			if err != nil {
				t.Fatalf("nginx -t rejects the site: %v\n%s\nsite:\n%s", err, out, text)
			}
			if !strings.Contains(string(out), "test is successful") {
				t.Errorf("nginx -t said:\n%s", out)
			}
			// A warning (e.g. "protocol options redefined") means the site
			// does not mean what it says.
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, "[warn]") || strings.Contains(line, "[emerg]") {
					t.Errorf("nginx -t: %s", line)
				}
			}
		})
	}
}

// TestNginxRejectsBrokenSites proves the check above is real: nginx -t here
// does refuse a broken site.
func TestNginxRejectsBrokenSites(t *testing.T) {
	nginx := testutil.Nginx(t)
	dir := t.TempDir()
	sitePath, confPath := filepath.Join(dir, "rampart"), filepath.Join(dir, "nginx.conf")
	os.WriteFile(sitePath, []byte("server { listen 1234 ssl; ssl_certificate /nonexistent.pem; ssl_certificate_key /nonexistent.key; no_such_directive on; }\n"), 0o644)
	os.WriteFile(confPath, []byte(testutil.NginxConf(dir, sitePath, "")), 0o644)
	if out, err := exec.Command(nginx, "-t", "-p", dir, "-c", confPath).CombinedOutput(); err == nil {
		t.Fatalf("nginx -t accepted a broken site:\n%s", out)
	}
}
