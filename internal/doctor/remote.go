package doctor

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampart-social/rampart/internal/buildinfo"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/httpsec"
	"github.com/rampart-social/rampart/internal/safely"
	"github.com/rampart-social/rampart/internal/session"
)

// maxBody is how much of a response body doctor reads.
const maxBody = 64 << 10

// The probes: what doctor asks the instance and the media host.
const (
	pPage     = "page"      // https://<instance>/
	pAPI      = "api"       // https://<instance>/api/v1/instance
	p404      = "404"       // https://<instance>/doctor-404-probe
	pSignIn   = "signin"    // https://<instance>/auth/sign_in
	pInstKey  = "instkey"   // https://<instance>/<upload key>
	pHTTP     = "http"      // http://<instance host>/
	pMedia    = "media"     // https://<media>/
	pMediaAPI = "mediaapi"  // https://<media>/api/v1/instance
	pMediaPg  = "mediapage" // https://<media>/auth/sign_in
	pMediaAP  = "mediaap"   // https://<media>/users/x as activity+json
	pMediaKey = "mediakey"  // https://<media>/<upload key>
	// The two answers a reverse proxy gives itself, before Rampart sees the
	// request (gen nginx's site answers them with the host's headers):
	pProxyErr  = "proxyerr"  // https://<instance>/doctor-404-probe with a 16 KiB header, over HTTP/1.1
	pMediaBody = "mediabody" // POST https://<media>/doctor-body-probe with a 4 KiB body
)

// appProbes are the instance answers S4–S7 look at.
var appProbes = []string{pPage, pAPI, p404, pProxyErr}

const path404 = "/doctor-404-probe"

// oversizedHeader is the size of pProxyErr's header: over nginx's default
// header buffer (8 KiB), under Rampart's default http.max_header_bytes (32 KiB).
const oversizedHeader = 16 << 10

// oversizedBody is the size of pMediaBody's body: over the 1 KiB
// client_max_body_size gen nginx gives the media host, which takes no bodies.
const oversizedBody = 4 << 10

// The labels of the two proxy probes in what doctor saw.
var (
	proxyErrLabel  = fmt.Sprintf("%s with a %d KiB header", path404, oversizedHeader>>10)
	mediaBodyLabel = fmt.Sprintf("POST /doctor-body-probe with a %d KiB body", oversizedBody>>10)
)

// fixProxyErrors and fixMediaProxyErrors say what to do when an answer the
// proxy gives itself lacks the headers.
const (
	fixProxyErrors      = "the reverse proxy answers a request with an oversized header itself, without the headers Rampart sends: install the site `rampart gen nginx` prints, which gives nginx's own error answers the instance host's headers (with another proxy, add the same headers to its own error pages). If the status is 431, Rampart answered itself: keep http.max_header_bytes above the proxy's header limit."
	fixMediaProxyErrors = "the reverse proxy answers a body over the media host's limit itself, without the media host's headers: install the site `rampart gen nginx` prints, which gives nginx's own error answers the media host's headers (with another proxy, add the same headers to its own error pages)."
)

// fetched is one probe's answer.
type fetched struct {
	url    string
	path   string // what the report calls it: the path, or /<unknown key>.png
	status int
	header http.Header
	body   []byte
	tls    *tls.ConnectionState
	err    error
	wsKey  string // the Sec-WebSocket-Key a handshake probe sent
}

// label names an answer in what doctor saw.
func (f *fetched) label() string { return "GET " + f.url }

// newClient is an HTTP client that dials dial (when set) for every request,
// trusts roots, follows no redirect and gives up after timeout.
func newClient(dial string, roots *x509.CertPool, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy: nil, // doctor checks the server itself, not a proxy on the way
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if dial != "" {
					addr = dial
				}
				return dialer.DialContext(ctx, network, addr)
			},
			TLSClientConfig:        &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:    timeout,
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 1 << 20,
			ForceAttemptHTTP2:      true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// http1Only makes a client speak HTTP/1.1: over HTTP/2 nginx meets an
// oversized header with GOAWAY instead of an answer.
func http1Only(c *http.Client) *http.Client {
	t := c.Transport.(*http.Transport).Clone()
	t.ForceAttemptHTTP2 = false
	t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	t.TLSClientConfig.NextProtos = []string{"http/1.1"}
	return &http.Client{Timeout: c.Timeout, Transport: t, CheckRedirect: c.CheckRedirect}
}

// probeSpec is one request doctor sends.
type probeSpec struct {
	id, method, url, accept string
	body                    []byte
	header                  http.Header
	client                  *http.Client
}

func fetch(ctx context.Context, s probeSpec) *fetched {
	f := &fetched{url: s.url}
	if u, err := url.Parse(s.url); err == nil {
		f.path = u.Path
	}
	method := s.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if s.body != nil {
		body = bytes.NewReader(s.body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url, body)
	if err != nil {
		f.err = err
		return f
	}
	for k, v := range s.header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "rampart-doctor/"+buildinfo.Version)
	if s.accept != "" {
		req.Header.Set("Accept", s.accept)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		f.err = err
		return f
	}
	defer resp.Body.Close()
	f.status, f.header, f.tls = resp.StatusCode, resp.Header, resp.TLS
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return f // the body is the upgraded connection: closed unread
	}
	f.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return f
}

// mediaProbed reports whether the media host is probed: it is known and is another host.
func (d *doctor) mediaProbed() bool {
	return d.cfgMedia != nil && !sameHost(d.cfgMedia.Hostname(), d.instURL.Hostname())
}

// probeAll asks every question at once and keeps the answers.
func (d *doctor) probeAll(ctx context.Context) {
	https := newClient(d.o.Connect, d.roots, d.o.Timeout)
	plain := newClient(d.connectHTP, d.roots, d.o.Timeout)
	https1 := http1Only(https)
	key := uploadKey()
	inst := "https://" + d.instURL.Host
	get := func(id, url, accept string, client *http.Client) probeSpec {
		return probeSpec{id: id, url: url, accept: accept, client: client}
	}
	const keyLabel = "/<unknown key>.png"
	proxyErr := get(pProxyErr, inst+path404, "text/html", https1)
	proxyErr.header = http.Header{"X-Doctor-Oversized": {strings.Repeat("a", oversizedHeader)}}
	specs := []probeSpec{
		get(pPage, inst+"/", "text/html", https),
		get(pAPI, inst+"/api/v1/instance", "application/json", https),
		get(p404, inst+path404, "text/html", https),
		proxyErr,
		get(pSignIn, inst+"/auth/sign_in", "text/html", https),
		get(pInstKey, inst+"/"+key, "image/*", https),
		get(pHTTP, "http://"+hostOnly(d.instURL)+"/", "text/html", plain),
	}
	if d.mediaProbed() {
		media := "https://" + d.cfgMedia.Host
		specs = append(specs,
			get(pMedia, media+"/", "text/html", https),
			get(pMediaAPI, media+"/api/v1/instance", "application/json", https),
			get(pMediaPg, media+"/auth/sign_in", "text/html", https),
			get(pMediaAP, media+"/users/x", "application/activity+json", https),
			get(pMediaKey, media+"/"+key, "image/*", https),
			probeSpec{id: pMediaBody, method: http.MethodPost, url: media + "/doctor-body-probe", body: make([]byte, oversizedBody),
				header: http.Header{"Content-Type": {"application/octet-stream"}}, client: https},
		)
	}
	// Connections the transport dialled in parallel and did not use would
	// otherwise linger until the server gives up on them.
	defer https.CloseIdleConnections()
	defer https1.CloseIdleConnections()
	defer plain.CloseIdleConnections()
	d.probes = map[string]*fetched{}
	var mu sync.Mutex // a probe that panicked leaves its entry missing, which reads as "not fetched"
	probes := safely.NewGroup(d.log())
	for _, s := range specs {
		_ = probes.Go("probe", func() error {
			f := fetch(ctx, s)
			switch s.id {
			case pInstKey, pMediaKey:
				f.path = keyLabel
			case pProxyErr:
				f.path = proxyErrLabel
			case pMediaBody:
				f.path = mediaBodyLabel
			}
			mu.Lock()
			d.probes[s.id] = f
			mu.Unlock()
			return nil
		})
	}
	probes.Wait()
}

// hostOnly is the URL's host name, bracketed when it is an IPv6 literal, without port.
func hostOnly(u *url.URL) string {
	h := u.Hostname()
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

// uploadKey is a syntactically valid media key (media.ValidKey) that names no file.
func uploadKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b) + ".png"
}

// answered returns a probe's answer, or records on c that it could not be
// checked (the TLS check reports why the request failed).
func (d *doctor) answered(c *checker, id string) (*fetched, bool) {
	f := d.probes[id]
	if f == nil {
		return nil, false
	}
	if f.err != nil {
		host := f.url
		if u, err := url.Parse(f.url); err == nil {
			host = u.Host
		}
		// One line per host and error, however many answers it cost.
		c.warn(fmt.Sprintf("not checked on %s: no answer over https (%s)", host, shortErr(f.err)), "make both hosts answer over https (see TLS), then run doctor again.")
		return f, false
	}
	return f, true
}

// shortErr drops the "Get \"url\": " prefix of a client error.
func shortErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// headerValues is every comma-separated value of a header, trimmed.
func headerValues(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// headerIs reports whether every value of the header equals want (case-insensitively).
func headerIs(h http.Header, name, want string) (bool, string) {
	vals := headerValues(h, name)
	if len(vals) == 0 {
		return false, ""
	}
	for _, v := range vals {
		if !strings.EqualFold(v, want) {
			return false, strings.Join(vals, ", ")
		}
	}
	return true, strings.Join(vals, ", ")
}

// fixHeadersProxy says what to do when Rampart's headers do not arrive.
const fixHeadersProxy = "Rampart sets these headers itself: the reverse proxy must pass them through unchanged (no proxy_hide_header, no add_header or more_set_headers for these names where it proxies to Rampart)."

func (d *doctor) headersOff() bool { return d.cfg != nil && !d.cfg.Security.Headers }

func (d *doctor) fixHeadersOff() string {
	return fmt.Sprintf("security.headers is false in %s: remove that line (true is the default) and restart Rampart.", d.configName())
}

// checkCookie is S2.
func (d *doctor) checkCookie() {
	c := d.checks["S2"]
	f, ok := d.answered(c, pSignIn)
	if !ok {
		return
	}
	cookies := (&http.Response{Header: f.header}).Cookies()
	var sc *http.Cookie
	for _, ck := range cookies {
		if ck.Name == session.CookieName || strings.HasSuffix(ck.Name, session.InsecureCookieName) {
			sc = ck
			break
		}
	}
	if sc == nil {
		var names []string
		for _, ck := range cookies {
			names = append(names, ck.Name)
		}
		c.fail(fmt.Sprintf("%s answered %d without a session cookie (cookies: %s)", f.path, f.status, orNone(names)),
			"the sign-in page always sets "+session.CookieName+": the proxy must pass Set-Cookie through (no proxy_hide_header Set-Cookie) and send the instance host to Rampart.")
		return
	}
	fixSecure := fmt.Sprintf("security.secure_cookies is false in %s: remove that line (true is the default) and restart Rampart.", d.configName())
	if d.cfg == nil || d.cfg.Security.SecureCookies {
		fixSecure = "Rampart names its cookie " + session.CookieName + " and marks it Secure: the proxy rewrites Set-Cookie; remove its proxy_cookie_* directives."
	}
	const fixRewrite = "the proxy rewrites Set-Cookie: remove proxy_cookie_path, proxy_cookie_domain and proxy_cookie_flags where it proxies to Rampart."
	var bad []string
	var fixes []string
	if !strings.HasPrefix(sc.Name, "__Host-") {
		bad, fixes = append(bad, "no __Host- prefix"), append(fixes, fixSecure)
	}
	if !sc.Secure {
		bad, fixes = append(bad, "no Secure"), append(fixes, fixSecure)
	}
	if !sc.HttpOnly {
		bad, fixes = append(bad, "no HttpOnly"), append(fixes, fixRewrite)
	}
	switch sc.SameSite {
	case http.SameSiteLaxMode, http.SameSiteStrictMode:
	case http.SameSiteNoneMode:
		bad, fixes = append(bad, "SameSite=None"), append(fixes, fixRewrite)
	default:
		bad, fixes = append(bad, "no SameSite"), append(fixes, fixRewrite)
	}
	if sc.Path != "/" {
		bad, fixes = append(bad, fmt.Sprintf("Path=%q", sc.Path)), append(fixes, fixRewrite)
	}
	if sc.Domain != "" {
		bad, fixes = append(bad, "Domain="+sc.Domain), append(fixes, fixRewrite)
	}
	if len(bad) > 0 {
		for i, b := range bad {
			c.fail(fmt.Sprintf("%s sets %s: %s", f.path, sc.Name, b), fixes[i])
		}
		return
	}
	c.pass("%s sets %s; Secure; HttpOnly; SameSite=%s; Path=/; no Domain", f.path, sc.Name, sameSiteName(sc.SameSite))
}

func sameSiteName(s http.SameSite) string {
	if s == http.SameSiteStrictMode {
		return "Strict"
	}
	return "Lax"
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// checkMediaRemote is S3 over the wire.
func (d *doctor) checkMediaRemote() {
	c := d.checks["S3"]
	if f, ok := d.answered(c, pInstKey); ok {
		ctype := f.header.Get("Content-Type")
		sniffed := http.DetectContentType(f.body)
		if f.status != http.StatusNotFound || strings.HasPrefix(ctype, "image/") || (len(f.body) > 0 && strings.HasPrefix(sniffed, "image/")) {
			c.fail(fmt.Sprintf("the instance host answered %d (%s) for the upload path %s", f.status, orNone([]string{ctype}), f.path),
				"uploads must reach browsers only from the media host: remove any proxy location that serves the media directory, or passes upload paths, on the instance host.")
		} else {
			c.pass("the instance host answers 404 for an upload path")
		}
	}
	if !d.mediaProbed() {
		return
	}
	const fixMediaHeaders = "every media-host answer must carry Rampart's media headers: proxy the media host to Rampart with its Host (proxy_set_header Host $host) instead of serving the media directory from the proxy, and do not override Content-Security-Policy, X-Content-Type-Options or Set-Cookie there."
	const fixMediaRoutes = "the media host must reach Rampart with its own Host header (proxy_set_header Host $host), where it serves uploads and nothing else; do not route it to the instance host's name or serve other content there."
	var fine []string
	rootPage := false
	for _, id := range []string{pMedia, pMediaAPI, pMediaPg, pMediaAP, pMediaKey} {
		f, ok := d.answered(c, id)
		if !ok {
			continue
		}
		what := f.path
		if id == pMediaAP {
			what += " (as application/activity+json)"
		}
		good := true
		// The root may answer Rampart's plain page naming the instance (plain text, never a page or a document).
		isRootPage := id == pMedia && f.status == http.StatusOK && strings.HasPrefix(f.header.Get("Content-Type"), "text/plain")
		if f.status != http.StatusNotFound && !isRootPage {
			good = false
			want := "404"
			if id == pMedia {
				want = "404 or a plain-text page"
			}
			c.fail(fmt.Sprintf("media host %s answered %d, want %s", what, f.status, want), fixMediaRoutes)
		}
		for _, p := range mediaHeaderProblems(f.header) {
			good = false
			c.fail(fmt.Sprintf("media host %s: %s", what, p), fixMediaHeaders)
		}
		if good && isRootPage {
			rootPage = true
		} else if good {
			fine = append(fine, what)
		}
	}
	if rootPage {
		c.pass("media host %s answers / with a plain-text page and 404 for %s, each with %q, nosniff and no cookie", d.cfgMedia.Host, strings.Join(fine, ", "), httpsec.MediaCSP)
	} else if len(fine) > 0 {
		c.pass("media host %s answers 404 for %s, each with %q, nosniff and no cookie", d.cfgMedia.Host, strings.Join(fine, ", "), httpsec.MediaCSP)
	}
	d.checkMediaProxyError(c)
}

// mediaHeaderProblems is what makes a media-host answer not inert, each as
// "header value": a CSP other than httpsec's media CSP, no nosniff, a cookie.
func mediaHeaderProblems(h http.Header) []string {
	var bad []string
	if got := h.Values("Content-Security-Policy"); len(got) != 1 || got[0] != httpsec.MediaCSP {
		bad = append(bad, fmt.Sprintf("Content-Security-Policy %q, want %q", strings.Join(got, ", "), httpsec.MediaCSP))
	}
	if ok, got := headerIs(h, "X-Content-Type-Options", "nosniff"); !ok {
		bad = append(bad, fmt.Sprintf("X-Content-Type-Options %q, want nosniff", got))
	}
	if sc := h.Values("Set-Cookie"); len(sc) > 0 {
		bad = append(bad, fmt.Sprintf("Set-Cookie %q", strings.Join(sc, ", ")))
	}
	return bad
}

// checkMediaProxyError is S3's look at an answer the proxy gives itself on
// the media host: a body over its limit. Whoever answers, it must be inert.
func (d *doctor) checkMediaProxyError(c *checker) {
	f, ok := d.answered(c, pMediaBody)
	if !ok {
		return
	}
	if bad := mediaHeaderProblems(f.header); len(bad) > 0 {
		c.fail(fmt.Sprintf("media host %s answered %d with %s", f.path, f.status, strings.Join(bad, ", ")), fixMediaProxyErrors)
		return
	}
	c.pass("media host %s answers %d with %q, nosniff and no cookie", f.path, f.status, httpsec.MediaCSP)
}

// securityHeaders are S4's headers and their one right value.
var securityHeaders = []struct{ name, value string }{
	{"X-XSS-Protection", "0"},
	{"X-Permitted-Cross-Domain-Policies", "none"},
	{"X-Frame-Options", "DENY"},
	{"X-Content-Type-Options", "nosniff"},
}

// checkHeaders is S4.
func (d *doctor) checkHeaders() {
	c := d.checks["S4"]
	fix := fixHeadersProxy
	if d.headersOff() {
		fix = d.fixHeadersOff()
	}
	fixFor := proxyErrFix(fix, fixHeadersProxy)
	var fine []string
	for _, id := range appProbes {
		f, ok := d.answered(c, id)
		if !ok {
			continue
		}
		var bad []string
		for _, h := range securityHeaders {
			if ok, got := headerIs(f.header, h.name, h.value); !ok {
				if got == "" {
					bad = append(bad, h.name+" missing")
				} else {
					bad = append(bad, fmt.Sprintf("%s %q (want %s)", h.name, got, h.value))
				}
			}
		}
		switch {
		case len(bad) > 0:
			c.fail(fmt.Sprintf("%s (%d): %s", f.path, f.status, strings.Join(bad, ", ")), fixFor(id))
		case id == pProxyErr:
			// Who answered shows in the status: the proxy (400) or Rampart (404).
			fine = append(fine, fmt.Sprintf("%s (%d)", f.path, f.status))
		default:
			fine = append(fine, f.path)
		}
	}
	if len(fine) > 0 {
		c.pass("X-XSS-Protection 0, X-Permitted-Cross-Domain-Policies none, X-Frame-Options DENY, X-Content-Type-Options nosniff on %s", strings.Join(fine, ", "))
	}
}

// proxyErrFix returns the fix for a probe's failure: fix, except that the
// answer the proxy gives itself (pProxyErr) gets fixProxyErrors when fix is
// the check's default (proxyFix): no config line explains a header missing
// only there.
func proxyErrFix(fix, proxyFix string) func(id string) string {
	return func(id string) string {
		if id == pProxyErr && fix == proxyFix {
			return fixProxyErrors
		}
		return fix
	}
}

// hstsMaxAge reads max-age from a Strict-Transport-Security value.
func hstsMaxAge(v string) (int64, bool) {
	for _, d := range strings.Split(v, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		if strings.EqualFold(strings.TrimSpace(k), "max-age") {
			n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// checkHSTS is S5.
func (d *doctor) checkHSTS() {
	c := d.checks["S5"]
	const proxyFix = "Rampart sends Strict-Transport-Security itself: the reverse proxy must pass it through unchanged (no proxy_hide_header, no add_header of its own)."
	fix := proxyFix
	switch {
	case d.headersOff():
		fix = d.fixHeadersOff()
	case d.cfg != nil && !d.cfg.Security.STS:
		fix = fmt.Sprintf("security.sts is false in %s: remove that line (true is the default) and restart Rampart.", d.configName())
	case d.cfg != nil && d.cfg.Security.STSMaxAge < config.OneYear:
		fix = fmt.Sprintf("security.sts_max_age is %d in %s: raise it to at least %d (the default is 63072000) and restart Rampart.", d.cfg.Security.STSMaxAge, d.configName(), config.OneYear)
	}
	ids := appProbes
	if d.mediaProbed() {
		ids = append(append([]string(nil), appProbes...), pMedia)
	}
	fixFor := proxyErrFix(fix, proxyFix)
	var fine []string
	for _, id := range ids {
		f, ok := d.answered(c, id)
		if !ok {
			continue
		}
		where := f.path
		if id == pMedia {
			where = "media host " + f.path
		}
		v := f.header.Get("Strict-Transport-Security")
		n, ok := hstsMaxAge(v)
		switch {
		case v == "":
			c.fail(fmt.Sprintf("no Strict-Transport-Security on %s", where), fixFor(id))
		case !ok:
			c.fail(fmt.Sprintf("Strict-Transport-Security %q on %s has no max-age", v, where), fixFor(id))
		case n < config.OneYear:
			c.fail(fmt.Sprintf("Strict-Transport-Security max-age=%d on %s, want at least %d", n, where, config.OneYear), fixFor(id))
		default:
			fine = append(fine, where)
		}
	}
	if len(fine) > 0 {
		c.pass("Strict-Transport-Security max-age of at least %d on %s", config.OneYear, strings.Join(fine, ", "))
	}
	d.checkRedirect(c)
}

// checkRedirect is S5's http→https part.
func (d *doctor) checkRedirect(c *checker) {
	host := d.instURL.Hostname()
	const fixRedirect = "have the proxy listen on port 80 for both hosts and answer every request with a permanent redirect: return 301 https://$host$request_uri;"
	f := d.probes[pHTTP]
	if f == nil {
		return
	}
	if f.err != nil {
		c.warn(fmt.Sprintf("nothing answered %s (%s): a browser typing the name gets no page, though none is served over plain http", f.url, shortErr(f.err)), fixRedirect)
		return
	}
	loc := f.header.Get("Location")
	u, err := url.Parse(loc)
	toHTTPS := err == nil && u.Scheme == "https" && sameHost(u.Hostname(), host)
	switch {
	case (f.status == http.StatusMovedPermanently || f.status == http.StatusPermanentRedirect) && toHTTPS:
		c.pass("%s answers %d to %s", f.url, f.status, loc)
	case (f.status == http.StatusFound || f.status == http.StatusTemporaryRedirect || f.status == http.StatusSeeOther) && toHTTPS:
		c.warn(fmt.Sprintf("%s answers %d (temporary) to %s", f.url, f.status, loc), fixRedirect)
	case f.status >= 300 && f.status < 400:
		c.fail(fmt.Sprintf("%s answers %d to %q, not to https://%s", f.url, f.status, loc, host), fixRedirect)
	default:
		c.fail(fmt.Sprintf("%s answers %d instead of redirecting to https", f.url, f.status), fixRedirect)
	}
}

// cspPolicies splits every Content-Security-Policy header into policies of directive → sources.
func cspPolicies(h http.Header) []map[string][]string {
	var out []map[string][]string
	for _, v := range h.Values("Content-Security-Policy") {
		for _, policy := range strings.Split(v, ",") {
			p := map[string][]string{}
			for _, dir := range strings.Split(policy, ";") {
				f := strings.Fields(dir)
				if len(f) == 0 {
					continue
				}
				name := strings.ToLower(f[0])
				if _, dup := p[name]; !dup { // browsers use the first
					p[name] = f[1:]
				}
			}
			if len(p) > 0 {
				out = append(out, p)
			}
		}
	}
	return out
}

// checkCSP is S6.
func (d *doctor) checkCSP() {
	c := d.checks["S6"]
	const proxyFix = "Rampart builds this policy itself: the reverse proxy must pass Content-Security-Policy through unchanged and add none of its own."
	fix := proxyFix
	if d.headersOff() {
		fix = d.fixHeadersOff()
	}
	fixFor := proxyErrFix(fix, proxyFix)
	wsHost := d.instURL.Host
	if d.cfgInst != nil {
		wsHost = d.cfgInst.Host
	}
	wantWS := "wss://" + wsHost
	var fine []string
	for _, id := range appProbes {
		f, ok := d.answered(c, id)
		if !ok {
			continue
		}
		policies := cspPolicies(f.header)
		if len(policies) == 0 {
			c.fail(fmt.Sprintf("no Content-Security-Policy on %s", f.path), fixFor(id))
			continue
		}
		var bad []string
		for _, want := range []string{"default-src", "frame-ancestors", "base-uri"} {
			found := false
			for _, p := range policies {
				if src, ok := p[want]; ok && len(src) == 1 && strings.EqualFold(src[0], "'none'") {
					found = true
				}
			}
			if !found {
				bad = append(bad, want+" is not 'none'")
			}
		}
		hasConnect := false
		for _, p := range policies {
			for name, srcs := range p {
				for _, s := range srcs {
					if strings.HasPrefix(strings.ToLower(s), "'unsafe-") {
						bad = append(bad, fmt.Sprintf("%s allows %s", name, s))
					}
				}
			}
			if srcs, ok := p["connect-src"]; ok {
				hasConnect = true
				named := false
				for _, s := range srcs {
					named = named || strings.EqualFold(strings.TrimSuffix(s, "/"), wantWS)
				}
				if !named {
					bad = append(bad, "connect-src does not name "+wantWS)
				}
			}
		}
		if !hasConnect {
			bad = append(bad, "no connect-src naming "+wantWS)
		}
		if len(bad) > 0 {
			c.fail(fmt.Sprintf("%s: %s", f.path, strings.Join(bad, "; ")), fixFor(id))
		} else {
			fine = append(fine, f.path)
		}
	}
	if len(fine) > 0 {
		c.pass("default-src, frame-ancestors and base-uri 'none', no 'unsafe-*', connect-src names %s on %s", wantWS, strings.Join(fine, ", "))
	}
}

// checkReferrer is S7.
func (d *doctor) checkReferrer() {
	c := d.checks["S7"]
	const proxyFix = "Rampart sends Referrer-Policy itself: the reverse proxy must pass it through and add none of its own."
	fix := proxyFix
	switch {
	case d.headersOff():
		fix = d.fixHeadersOff()
	case d.cfg != nil && !validReferrer(d.cfg.Security.ReferrerPolicy):
		fix = fmt.Sprintf("set security.referrer_policy to %q (the default) or %q in %s.", config.ReferrerPolicies[0], config.ReferrerPolicies[1], d.configName())
	}
	fixFor := proxyErrFix(fix, proxyFix)
	var fine []string
	var policy string
	for _, id := range appProbes {
		f, ok := d.answered(c, id)
		if !ok {
			continue
		}
		vals := headerValues(f.header, "Referrer-Policy")
		if len(vals) == 0 {
			c.fail(fmt.Sprintf("no Referrer-Policy on %s", f.path), fixFor(id))
			continue
		}
		// Browsers apply the last value they understand.
		last := strings.ToLower(vals[len(vals)-1])
		if !validReferrer(last) {
			c.fail(fmt.Sprintf("Referrer-Policy %q on %s, want same-origin or no-referrer", strings.Join(vals, ", "), f.path), fixFor(id))
			continue
		}
		policy = last
		fine = append(fine, f.path)
	}
	if len(fine) > 0 {
		c.pass("Referrer-Policy %s on %s", policy, strings.Join(fine, ", "))
	}
}

func validReferrer(p string) bool {
	for _, ok := range config.ReferrerPolicies {
		if p == ok {
			return true
		}
	}
	return false
}

// checkTLS is TLS.
func (d *doctor) checkTLS() {
	c := d.checks["TLS"]
	hosts := []struct{ host, probe string }{{d.instURL.Hostname(), pPage}}
	if d.mediaProbed() {
		hosts = append(hosts, struct{ host, probe string }{d.cfgMedia.Hostname(), pMedia})
	}
	now := d.o.Now()
	for _, h := range hosts {
		f := d.probes[h.probe]
		if f == nil {
			continue
		}
		if f.err != nil {
			c.fail(fmt.Sprintf("%s: %s", h.host, shortErr(f.err)), tlsFix(f.err, d))
			continue
		}
		if f.tls == nil || len(f.tls.PeerCertificates) == 0 {
			c.fail(fmt.Sprintf("%s: no certificate", h.host), "serve both hosts over https with a certificate from a public CA (e.g. certbot).")
			continue
		}
		leaf := f.tls.PeerCertificates[0]
		if err := leaf.VerifyHostname(h.host); err != nil {
			c.fail(fmt.Sprintf("%s: %v", h.host, err), "get a certificate whose names include both the instance host and the media host.")
			continue
		}
		left := leaf.NotAfter.Sub(now)
		days := int(left.Hours() / 24)
		desc := fmt.Sprintf("%s: %s, issued by %q, valid until %s (%d days)", h.host, tlsVersion(f.tls.Version), leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format("2006-01-02"), days)
		if left < CertWarnDays*24*time.Hour {
			c.warn(desc+fmt.Sprintf(", less than %d", CertWarnDays),
				"renew the certificate now, and check that automatic renewal works (e.g. systemctl list-timers certbot*; certbot renew --dry-run) and that the proxy reloads afterwards.")
			continue
		}
		c.pass("%s", desc)
	}
}

func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLS 1.3"
	case tls.VersionTLS12:
		return "TLS 1.2"
	}
	return tls.VersionName(v)
}

func tlsFix(err error, d *doctor) string {
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &hostErr):
		return "get a certificate whose names include both the instance host and the media host (e.g. certbot -d <host> -d <media host>)."
	case errors.As(err, &unknown):
		return "serve a certificate from a CA browsers trust (e.g. Let's Encrypt via certbot), with its intermediate chain (fullchain.pem); for a private CA pass it with --ca FILE."
	case errors.As(err, &invalid):
		return "the certificate is expired or not yet valid: renew it (certbot renew) and reload the proxy."
	case errors.As(err, &certErr):
		return "serve a valid certificate for this host from a CA browsers trust."
	}
	where := "DNS"
	if d.o.Connect != "" {
		where = "--connect " + d.o.Connect
	}
	return "nothing usable answered on https: check that the reverse proxy runs and listens on port 443 for this host, and that " + where + " points at it."
}

// configOnly judges S2 and S4–S7 from the config when there is no --url.
func (d *doctor) configOnly() {
	const note = " (from the config; not seen over the wire without --url)"
	if d.cfg == nil {
		for _, id := range []string{"S2", "S4", "S5", "S6", "S7"} {
			d.checks[id].warn("not checked: the config could not be read and there is no --url", "see CONFIG, and pass --url.")
		}
		return
	}
	s := d.cfg.Security
	if s.SecureCookies {
		d.checks["S2"].pass("security.secure_cookies = true: %s, Secure, HttpOnly, SameSite=Lax, Path=/%s", session.CookieName, note)
	} else {
		d.checks["S2"].fail("security.secure_cookies = false: the cookie is "+session.InsecureCookieName+", without the __Host- prefix and Secure"+note,
			fmt.Sprintf("security.secure_cookies is false in %s: remove that line (true is the default) and restart Rampart.", d.configName()))
	}
	for _, id := range []string{"S4", "S5", "S6", "S7"} {
		if !s.Headers {
			d.checks[id].fail("security.headers = false: the instance host sends no security headers"+note, d.fixHeadersOff())
		}
	}
	if !s.Headers {
		return
	}
	d.checks["S4"].pass("security.headers = true%s", note)
	switch {
	case !s.STS:
		d.checks["S5"].fail("security.sts = false: no Strict-Transport-Security"+note,
			fmt.Sprintf("security.sts is false in %s: remove that line (true is the default) and restart Rampart.", d.configName()))
	case s.STSMaxAge < config.OneYear:
		d.checks["S5"].fail(fmt.Sprintf("security.sts_max_age = %d, less than %d%s", s.STSMaxAge, config.OneYear, note),
			fmt.Sprintf("raise security.sts_max_age in %s to at least %d (the default is 63072000).", d.configName(), config.OneYear))
	default:
		d.checks["S5"].pass("security.sts = true, sts_max_age = %d; the http→https redirect is the proxy's%s", s.STSMaxAge, note)
	}
	d.checks["S6"].pass("security.headers = true: Rampart's own policy%s", note)
	if validReferrer(s.ReferrerPolicy) {
		d.checks["S7"].pass("security.referrer_policy = %s%s", s.ReferrerPolicy, note)
	} else {
		d.checks["S7"].fail(fmt.Sprintf("security.referrer_policy = %q%s", s.ReferrerPolicy, note),
			fmt.Sprintf("set security.referrer_policy to %q (the default) or %q in %s.", config.ReferrerPolicies[0], config.ReferrerPolicies[1], d.configName()))
	}
}
