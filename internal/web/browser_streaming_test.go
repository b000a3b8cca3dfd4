package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/session"
	"github.com/rampart-social/rampart/internal/testutil"
)

// streamScript is the streaming test pages' only script, served as a file
// from the page's own origin (no inline script: the instance's CSP has no
// 'unsafe-inline'). It opens the streaming WebSocket as a web app does —
// the token, from the page's fragment, as the subprotocol
// (new WebSocket(url, token)); none without a token — subscribes to a
// stream, and writes everything that happens into #log. The socket's URL is
// the page's ?ws= or the page's own host; the stream is ?stream= or
// public:local.
//
// The server reads a socket's messages in order and answers one it cannot
// follow with an error frame, so a second subscription to a stream that
// does not exist is a barrier: once its "Unknown stream type" answer is
// here, the real subscription before it is in place (state.ready).
const streamScript = `"use strict";
(function () {
	var params = new URLSearchParams(location.search);
	var token = decodeURIComponent(location.hash.slice(1));
	var target = params.get("ws") || (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/streaming";
	var wanted = params.get("stream") || "public:local";
	var state = {target: target, opened: false, ready: false, protocol: null, errors: 0, closed: null, frameErrors: []};
	window.__stream = state;
	var log = document.getElementById("log");
	function note(kind, text, data) {
		var li = document.createElement("li");
		li.className = kind;
		li.textContent = text;
		Object.keys(data || {}).forEach(function (k) { li.dataset[k] = data[k]; });
		log.appendChild(li);
	}
	var ws = token ? new WebSocket(target, token) : new WebSocket(target);
	ws.onopen = function () {
		state.opened = true;
		state.protocol = ws.protocol;
		note("open", "open");
		ws.send(JSON.stringify({type: "subscribe", stream: wanted}));
		ws.send(JSON.stringify({type: "subscribe", stream: "rampart-test-barrier"}));
	};
	ws.onmessage = function (e) {
		var f = JSON.parse(e.data);
		if (f.error !== undefined) {
			state.frameErrors.push(f);
			if (f.error === "Unknown stream type") {
				state.ready = true;
			}
			note("frame-error", f.status + " " + f.error);
			return;
		}
		var data = {event: f.event, stream: (f.stream || []).join(" ")};
		var text = f.event;
		if (f.event === "update") {
			var s = JSON.parse(f.payload);
			data.id = s.id;
			data.visibility = s.visibility;
			data.account = s.account.acct;
			text += " " + s.id + " " + s.content;
		}
		note("event", text, data);
	};
	ws.onerror = function () {
		state.errors++;
		note("error", "error");
	};
	ws.onclose = function (e) {
		state.closed = {code: e.code, reason: e.reason, clean: e.wasClean};
		note("close", "close " + e.code);
	};
})();
`

// streamPageHTML is a streaming test page whose only script is src.
func streamPageHTML(src string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">` +
		`<title>streaming test</title><script src="` + src + `" defer></script></head>` +
		`<body><h1>Streaming</h1><ol id="log"></ol></body></html>`
}

// streamRoutes serves the streaming test page and its script on the
// instance host (instance.Options.AppRoutes): behind the instance's own
// security headers and CSP, like every page there.
func streamRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /test/streaming", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, streamPageHTML("/test/streaming.js"))
	})
	mux.HandleFunc("GET /test/streaming.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		io.WriteString(w, streamScript)
	})
}

// streamingURL is the instance's WebSocket, as its CSP's connect-src names it.
func (d *devInstance) streamingURL() string { return "ws://" + d.appHost + "/api/v1/streaming" }

// readToken issues a token that may read statuses only (what a web client
// streaming a timeline holds) for a new approved account, through an app of
// its own.
func readToken(t *testing.T, ctx context.Context, inst *instance.Instance, username string) string {
	t.Helper()
	acc, _, err := inst.Accounts().Create(ctx, accounts.NewParams{Username: username, Email: username + "@example.test",
		Password: "correct horse battery", Approved: true})
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	app, _, err := inst.OAuth().RegisterApp(ctx, oauth.AppParams{Name: "Streaming web client", RedirectURIs: []string{oauth.OOB}, Scopes: "read"})
	if err != nil {
		t.Fatalf("register app: %v", err)
	}
	sc, bad := oauth.ParseScopes("read:statuses")
	if len(bad) > 0 {
		t.Fatalf("scopes: %v", bad)
	}
	tok, err := inst.OAuth().IssueForAccount(ctx, app.ID, acc.ID, sc)
	if err != nil {
		t.Fatalf("token for %s: %v", username, err)
	}
	return tok.Token
}

// streamLine is one entry the page's script wrote into #log.
type streamLine struct {
	Kind       string `json:"kind"` // open, frame-error, event, error, close
	Text       string `json:"text"`
	Event      string `json:"event"`
	Stream     string `json:"stream"`
	ID         string `json:"id"`
	Visibility string `json:"visibility"`
	Account    string `json:"account"`
}

// streamPage is the page's state (window.__stream) and its #log as the
// DOM holds it.
type streamPage struct {
	Target   string  `json:"target"`
	Opened   bool    `json:"opened"`
	Ready    bool    `json:"ready"`
	Protocol *string `json:"protocol"`
	Errors   int     `json:"errors"`
	Closed   *struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
		Clean  bool   `json:"clean"`
	} `json:"closed"`
	FrameErrors []map[string]any `json:"frameErrors"`
	Log         []streamLine     `json:"log"`
	CSP         []map[string]any `json:"csp"` // the page's securitypolicyviolation events (cspListener)
}

// readStreamPage reads streamPage through DevTools (not page script: the
// page's CSP does not govern it).
const readStreamPage = `(function () {
	var s = window.__stream;
	if (!s) return null;
	var lines = Array.from(document.querySelectorAll('#log li')).map(function (li) {
		return {kind: li.className, text: li.textContent, event: li.dataset.event || '', stream: li.dataset.stream || '',
			id: li.dataset.id || '', visibility: li.dataset.visibility || '', account: li.dataset.account || ''};
	});
	return {target: s.target, opened: s.opened, ready: s.ready, protocol: s.protocol, errors: s.errors, closed: s.closed,
		frameErrors: s.frameErrors, log: lines, csp: window.__csp || []};
})()`

// updates lists the update events the page wrote into the DOM.
func (p *streamPage) updates() []streamLine {
	var out []streamLine
	for _, l := range p.Log {
		if l.Kind == "event" && l.Event == "update" {
			out = append(out, l)
		}
	}
	return out
}

func (p *streamPage) String() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// wsHandshake is one WebSocket the browser opened, as DevTools saw it.
type wsHandshake struct {
	URL      string
	Request  network.Headers // the handshake request's headers
	Status   int64           // 101 once upgraded; Chromium reports no other answer (0)
	Response network.Headers
	Errors   []string // why the socket failed, as Chromium words it
	Closed   bool
}

// header is a header's value, case-insensitively; "" when absent.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// sockets records every WebSocket from the Network domain.
type sockets struct {
	mu    sync.Mutex
	order []network.RequestID
	byID  map[network.RequestID]*wsHandshake
}

func (s *sockets) listen(ev any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	get := func(id network.RequestID) *wsHandshake {
		h := s.byID[id]
		if h == nil {
			h = &wsHandshake{}
			s.byID[id] = h
			s.order = append(s.order, id)
		}
		return h
	}
	switch ev := ev.(type) {
	case *network.EventWebSocketCreated:
		get(ev.RequestID).URL = ev.URL
	case *network.EventWebSocketWillSendHandshakeRequest:
		if ev.Request != nil {
			get(ev.RequestID).Request = ev.Request.Headers
		}
	case *network.EventWebSocketHandshakeResponseReceived:
		if r := ev.Response; r != nil {
			h := get(ev.RequestID)
			h.Status, h.Response = r.Status, r.Headers
		}
	case *network.EventWebSocketFrameError:
		h := get(ev.RequestID)
		h.Errors = append(h.Errors, ev.ErrorMessage)
	case *network.EventWebSocketClosed:
		get(ev.RequestID).Closed = true
	}
}

// all lists the sockets in the order they were created.
func (s *sockets) all() []wsHandshake {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []wsHandshake
	for _, id := range s.order {
		out = append(out, *s.byID[id])
	}
	return out
}

// streamBrowser drives the streaming test pages in one headless Chromium.
type streamBrowser struct {
	*headless
	t       *testing.T
	sockets *sockets
	pages   []string // what each page ended as, for the dump
}

func newStreamBrowser(t *testing.T, ctx context.Context, browserPath string, serverLog *testutil.SyncBuffer) *streamBrowser {
	ws := &sockets{byID: map[network.RequestID]*wsHandshake{}}
	s := &streamBrowser{headless: newHeadless(t, ctx, browserPath, serverLog, ws.listen), t: t, sockets: ws}
	s.more = func() {
		t.Logf("pages (%d):\n\t%s", len(s.pages), strings.Join(s.pages, "\n\t"))
		for i, h := range ws.all() {
			t.Logf("websocket %d: %s status %d errors %q closed %v\n\trequest %v\n\tresponse %v",
				i, h.URL, h.Status, h.Errors, h.Closed, h.Request, h.Response)
		}
	}
	return s
}

// read returns the current page's streamPage.
func (s *streamBrowser) read(what string) *streamPage {
	s.t.Helper()
	sctx, done := s.step()
	defer done()
	p, err := chromedp.Run(sctx, chromedp.Evaluate[*streamPage](readStreamPage))
	if err != nil {
		s.fatal("%s: reading the page: %v", what, err)
	}
	if p == nil {
		s.fatal("%s: the page's script did not run (no window.__stream)", what)
	}
	return p
}

// waitFor reads the page until done holds, failing after a generous 20 s.
func (s *streamBrowser) waitFor(what string, done func(*streamPage) bool) *streamPage {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p := s.read(what)
		if done(p) {
			return p
		}
		if time.Now().After(deadline) {
			s.pages = append(s.pages, what+": "+p.String())
			s.fatal("%s: not there within 20 s; the page is %s", what, p)
		}
		if err := chromedp.Do(s.ctx, chromedp.Sleep(50*time.Millisecond)); err != nil {
			s.fatal("%s: %v", what, err)
		}
	}
}

// open loads a streaming test page and waits until its socket is either
// subscribed (ready) or closed, or the page reports a CSP violation (a
// socket its CSP blocks is never closed).
func (s *streamBrowser) open(what, pageURL string) *streamPage {
	s.t.Helper()
	if r := s.load(what, chromedp.Navigate(pageURL)); r.Status != http.StatusOK {
		s.fatal("%s: status %d", what, r.Status)
	}
	return s.waitFor(what+": the socket subscribed or closed", func(p *streamPage) bool { return p.Ready || p.Closed != nil || len(p.CSP) > 0 })
}

// lastSocket is the browser's latest WebSocket; it must be to wsURL.
func (s *streamBrowser) lastSocket(what, wsURL string) wsHandshake {
	s.t.Helper()
	all := s.sockets.all()
	if len(all) == 0 {
		s.fatal("%s: DevTools saw no WebSocket", what)
	}
	h := all[len(all)-1]
	if h.URL != wsURL {
		s.fatal("%s: the latest WebSocket is to %q, want %q", what, h.URL, wsURL)
	}
	return h
}

// expectStream checks a page whose socket should be open and subscribed
// with protocol as its subprotocol ("" for none), then posts through post
// and waits for the update of the status it names to be written into the
// page. It returns the page once it shows the update.
func (s *streamBrowser) expectStream(what string, p *streamPage, protocol string, post func() string) *streamPage {
	s.t.Helper()
	s.pages = append(s.pages, what+" (subscribed): "+p.String())
	if len(p.CSP) > 0 {
		s.fatal("%s: securitypolicyviolation events: %v", what, p.CSP)
	}
	if !p.Opened || !p.Ready || p.Closed != nil || p.Errors != 0 {
		s.fatal("%s: the socket is not open and subscribed: %s", what, p)
	}
	if p.Protocol == nil || *p.Protocol != protocol {
		s.fatal("%s: the socket's protocol is %v, want the token echoed (%d characters)", what, p.Protocol, len(protocol))
	}
	if len(p.FrameErrors) != 1 {
		s.fatal("%s: want exactly the barrier's error frame, got %v (the subscription itself was refused?)", what, p.FrameErrors)
	}
	id := post()
	p = s.waitFor(what+": the update of "+id+" in the page", func(p *streamPage) bool {
		for _, u := range p.updates() {
			if u.ID == id {
				return true
			}
		}
		return p.Closed != nil
	})
	s.pages = append(s.pages, what+" (after the post): "+p.String())
	ups := p.updates()
	if p.Closed != nil || len(ups) != 1 {
		s.fatal("%s: want the one update of %s in the page, got %d updates (closed %v): %s", what, id, len(ups), p.Closed, p)
	}
	if u := ups[0]; u.ID != id || u.Stream != "public:local" || u.Visibility != "public" || u.Account != "alice" {
		s.fatal("%s: the update is %+v, want status %s by alice, public, on public:local", what, u, id)
	}
	return p
}

// expectRefused checks a page whose socket to d should have failed:
// onerror and onclose (1006, as for any failed handshake), never open, no
// frame, no event. Chromium gives the reason it failed as reason; the
// server's request log has the handshake answered with status (a page, and
// DevTools, see no status but 101).
func (s *streamBrowser) expectRefused(what string, p *streamPage, d *devInstance, status int, reason string) wsHandshake {
	s.t.Helper()
	s.pages = append(s.pages, what+": "+p.String())
	if len(p.CSP) > 0 {
		s.fatal("%s: securitypolicyviolation events: %v", what, p.CSP)
	}
	if p.Opened || p.Ready || p.Errors < 1 || p.Closed == nil || p.Closed.Code != 1006 || len(p.FrameErrors) != 0 {
		s.fatal("%s: want a socket that failed (onerror, then onclose 1006, never open): %s", what, p)
	}
	for _, l := range p.Log {
		if l.Kind == "event" || l.Kind == "open" {
			s.fatal("%s: the refused socket wrote %+v into the page", what, l)
		}
	}
	h := s.lastSocket(what, d.streamingURL())
	if h.Status != 0 || len(h.Errors) != 1 || h.Errors[0] != reason {
		s.fatal("%s: DevTools saw status %d and errors %q, want no upgrade and the one error %q", what, h.Status, h.Errors, reason)
	}
	if got := s.serverStatus(what, d); got != status {
		s.fatal("%s: the server answered the handshake %d, want %d", what, got, status)
	}
	return h
}

// serverStatus waits until d's request log has a line for each WebSocket
// the browser opened to it (a line is written once the handler returns,
// which may be just after the browser saw the answer), and returns the
// latest one's status.
func (s *streamBrowser) serverStatus(what string, d *devInstance) int {
	s.t.Helper()
	opened := 0
	for _, h := range s.sockets.all() {
		if h.URL == d.streamingURL() {
			opened++
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var statuses []int
		for _, line := range strings.Split(d.log.String(), "\n") {
			var l struct {
				Msg    string `json:"msg"`
				Path   string `json:"path"`
				Status int    `json:"status"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "request" && l.Path == "/api/v1/streaming" {
				statuses = append(statuses, l.Status)
			}
		}
		if len(statuses) > opened {
			s.fatal("%s: the server logged %d streaming requests, the browser opened %d sockets", what, len(statuses), opened)
		}
		if len(statuses) == opened && opened > 0 {
			return statuses[opened-1]
		}
		if time.Now().After(deadline) {
			s.fatal("%s: the server logged %d streaming requests within 10 s, the browser opened %d sockets", what, len(statuses), opened)
		}
		if err := chromedp.Do(s.ctx, chromedp.Sleep(20*time.Millisecond)); err != nil {
			s.fatal("%s: %v", what, err)
		}
	}
}

// settle lets late reports arrive.
func (s *streamBrowser) settle() {
	s.t.Helper()
	if err := chromedp.Do(s.ctx, chromedp.Sleep(200*time.Millisecond)); err != nil {
		s.fatal("%v", err)
	}
}

// Why Chromium says a handshake failed: a 401 that asks for a Bearer
// token (WWW-Authenticate), and any other answer but 101.
const (
	chromiumNoCredentials = "HTTP Authentication failed; no valid credentials available"
	chromium403           = "Error during WebSocket handshake: Unexpected response code: 403"
)

// handshakeFailure is how Chromium reports a refused handshake on the
// console (an error log entry), the only error a refused socket may cause.
func handshakeFailure(wsURL, reason string) string {
	return "WebSocket connection to '" + wsURL + "' failed: " + reason
}

// unexpectedErrors returns errs less one entry for each of the expected
// handshake failures; missing expected entries are returned too.
func unexpectedErrors(errs []string, expected ...string) []string {
	var out []string
	used := make([]bool, len(errs))
	for _, want := range expected {
		found := false
		for i, e := range errs {
			if !used[i] && strings.Contains(e, want) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			out = append(out, "missing: "+want)
		}
	}
	for i, e := range errs {
		if !used[i] {
			out = append(out, e)
		}
	}
	return out
}

// TestBrowserStreamingOnTheInstancePage: a same-origin page on the instance
// host, whose only script is a file of that origin, opens
// ws://…/api/v1/streaming (the dev instance is plain http; its CSP's
// connect-src names that URL) with a read:statuses token as the
// WebSocket subprotocol, subscribes to public:local and writes into the DOM
// the update of a public status posted through the API — and not that of
// an unlisted one posted before it. The handshake echoes the token as the
// protocol, and the browser reports no CSP violation, console error or
// exception. Then the same browser signs in, so it holds the session
// cookie, and the page without a token is refused (401): the cookie the
// handshake carries is no credential.
func TestBrowserStreamingOnTheInstancePage(t *testing.T) {
	browserPath := requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dev := startDevInstanceWith(t, ctx, instance.Options{AppRoutes: streamRoutes})
	poster := newSite(t, dev.inst, dev.appHost)
	aliceToken := poster.token("alice")
	token := readToken(t, ctx, dev.inst, "bob")
	wsURL := dev.streamingURL()

	// The instance's CSP allows the socket: connect-src names its URL.
	csp := testutil.ParseCSP(poster.get("/test/streaming").Header().Get("Content-Security-Policy"))
	if src := csp["connect-src"]; !slices.Contains(src, "ws://"+dev.appHost) {
		t.Fatalf("connect-src %v does not name ws://%s", src, dev.appHost)
	}

	s := newStreamBrowser(t, ctx, browserPath, dev.log)
	defer s.stop()
	s.watch()

	// 1. The page with the token: subscribed, then the update arrives.
	p := s.open("instance page with a token", dev.base+"/test/streaming?stream=public:local#"+url.PathEscape(token))
	if p.Target != wsURL {
		s.fatal("the page opened %q, want %q", p.Target, wsURL)
	}
	var unlisted string
	s.expectStream("instance page with a token", p, token, func() string {
		unlisted = poster.post(aliceToken, "an unlisted post the public stream leaves out", "visibility", "unlisted")
		return poster.post(aliceToken, "a public post for the stream <b>as text</b>", "visibility", "public")
	})
	p = s.read("instance page after the update")
	for _, l := range p.Log {
		if l.ID == unlisted {
			s.fatal("the unlisted status %s reached the public:local stream: %+v", unlisted, l)
		}
	}
	if !strings.Contains(p.updates()[0].Text, "a public post for the stream &lt;b&gt;as text&lt;/b&gt;") {
		s.fatal("the update's content in the page is %q", p.updates()[0].Text)
	}
	h := s.lastSocket("instance page with a token", wsURL)
	if h.Status != http.StatusSwitchingProtocols || header(h.Response, "Sec-WebSocket-Protocol") != token ||
		header(h.Request, "Sec-WebSocket-Protocol") != token {
		s.fatal("handshake: status %d, protocol sent %q, echoed %q; want 101 with the token echoed", h.Status,
			header(h.Request, "Sec-WebSocket-Protocol"), header(h.Response, "Sec-WebSocket-Protocol"))
	}
	if o := header(h.Request, "Origin"); o != dev.base {
		s.fatal("the handshake's Origin is %q, want the instance's own %q", o, dev.base)
	}
	if len(p.CSP) > 0 {
		s.fatal("securitypolicyviolation events on the instance page: %v", p.CSP)
	}
	s.settle()
	cspIssues, errs, issues := s.problems.snapshot()
	if len(cspIssues) > 0 || len(errs) > 0 {
		s.fatal("the browser reported %d CSP issues and %d errors on the instance page (listed above), want none", len(cspIssues), len(errs))
	}
	if len(issues) > 0 {
		t.Logf("other Audits issues (not failures): %s", strings.Join(issues, "\n\t"))
	}

	// 2. Signed in, the browser holds the session cookie; the page without a
	// token is refused before the upgrade, cookie or not.
	s.load("sign-in page", chromedp.Navigate(dev.base+"/auth/sign_in"))
	s.fillSignIn("alice", "correct horse battery")
	if r := s.load("submit the sign-in form", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_in"] button[type="submit"]`))); r.Status != http.StatusOK {
		s.fatal("after sign-in: status %d", r.Status)
	}
	errsBefore := len(errs)
	p = s.open("instance page signed in, no token", dev.base+"/test/streaming?stream=public:local")
	h = s.expectRefused("instance page signed in, no token", p, dev, http.StatusUnauthorized, chromiumNoCredentials)
	if !strings.Contains(header(h.Request, "Cookie"), session.CookieName+"=") {
		s.fatal("the handshake did not carry the session cookie (request %v): this step proves nothing", h.Request)
	}
	s.settle()
	cspIssues, errs, _ = s.problems.snapshot()
	if len(cspIssues) > 0 {
		s.fatal("the browser reported %d CSP issues (listed above), want none", len(cspIssues))
	}
	if bad := unexpectedErrors(errs[errsBefore:], handshakeFailure(wsURL, chromiumNoCredentials)); len(bad) > 0 {
		s.fatal("signed in, without a token: want only the refused handshake on the console, got: %s", strings.Join(bad, "\n\t"))
	}
	if strings.Contains(dev.log.String(), `"level":"ERROR"`) {
		s.dump()
		t.Error("the server logged an error (log above)")
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("the test ran out of its 60 s")
	}
}

// thirdPartyApp is a web app on another origin: a page whose only script is
// streamScript, a file of that origin, under a strict CSP of its own whose
// connect-src names the instances' sockets (so a refused socket is the
// server's doing, never the page's policy).
type thirdPartyApp struct {
	mu      sync.Mutex
	connect []string // connect-src sources
	other   []string // requests for anything else
}

func (a *thirdPartyApp) allow(src string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.connect = append(a.connect, src)
}

func (a *thirdPartyApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	connect := strings.Join(a.connect, " ")
	a.mu.Unlock()
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src "+connect+
		"; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch r.URL.Path {
	case "/app":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, streamPageHTML("/streaming.js"))
	case "/streaming.js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		io.WriteString(w, streamScript)
	default:
		a.mu.Lock()
		a.other = append(a.other, r.Method+" "+r.URL.String())
		a.mu.Unlock()
		http.NotFound(w, r)
	}
}

// TestBrowserStreamingFromAnotherOrigin: a page on another origin (a
// second loopback listener) opens the streaming WebSocket of two
// instances. Without a token its socket fails — the page records onerror
// and onclose and never an event — on an instance with the default config
// and on one with streaming.public_without_token = true: anonymous
// cross-origin sockets are refused (403), while on the second instance the
// instance's own page reads the public stream anonymously, so the setting
// is on and the refusal is the origin rule. With a token (as the
// subprotocol) the other origin's page reads the stream on both instances,
// as third-party web apps do. The only console errors are the refused
// handshakes; no CSP violation, no exception.
func TestBrowserStreamingFromAnotherOrigin(t *testing.T) {
	browserPath := requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// The instances: A as configured by default, B with anonymous public streams.
	a := startDevInstanceWith(t, ctx, instance.Options{AppRoutes: streamRoutes})
	b := startDevInstanceWith(t, ctx, instance.Options{AppRoutes: streamRoutes}, `[streaming]`, `public_without_token = true`)

	// The other origin.
	app := &thirdPartyApp{}
	app.allow(a.streamingURL())
	app.allow(b.streamingURL())
	appServer := &http.Server{Handler: app, ReadHeaderTimeout: 5 * time.Second}
	appLn := listenLoopback(t, "127.0.0.2")
	go appServer.Serve(appLn)
	t.Cleanup(func() { appServer.Close() })
	appOrigin := "http://" + appLn.Addr().String()
	if appOrigin == a.base || appOrigin == b.base {
		t.Fatalf("the app's origin %s is an instance's", appOrigin)
	}
	appPage := func(d *devInstance, token string) string {
		u := appOrigin + "/app?" + url.Values{"ws": {d.streamingURL()}, "stream": {"public:local"}}.Encode()
		if token != "" {
			u += "#" + url.PathEscape(token)
		}
		return u
	}

	type side struct {
		name   string
		dev    *devInstance
		poster *site
		alice  string // alice's read/write token, for posting
		reader string // a read:statuses token
	}
	sides := []*side{{name: "A (default config)", dev: a}, {name: "B (public_without_token)", dev: b}}
	for _, sd := range sides {
		sd.poster = newSite(t, sd.dev.inst, sd.dev.appHost)
		sd.alice = sd.poster.token("alice")
		sd.reader = readToken(t, ctx, sd.dev.inst, "bob")
	}
	post := func(sd *side, what string) func() string {
		return func() string { return sd.poster.post(sd.alice, what+" on "+sd.name, "visibility", "public") }
	}

	s := newStreamBrowser(t, ctx, browserPath, a.log) // dump logs A's as "server log"
	defer s.stop()
	more := s.more
	s.more = func() {
		more()
		app.mu.Lock()
		t.Logf("other requests to the app's origin: %v", app.other)
		app.mu.Unlock()
		t.Logf("instance B's log:\n%s", b.log.String())
	}
	s.watch()

	var refused []string // the console errors the refused handshakes cause
	checkOrigin := func(what string, h wsHandshake, want string) {
		t.Helper()
		if o := header(h.Request, "Origin"); o != want {
			s.fatal("%s: the handshake's Origin is %q, want %q", what, o, want)
		}
	}

	// 1. Anonymous, from the other origin: refused on both instances.
	for _, sd := range sides {
		what := "other origin, no token, " + sd.name
		p := s.open(what, appPage(sd.dev, ""))
		h := s.expectRefused(what, p, sd.dev, http.StatusForbidden, chromium403)
		checkOrigin(what, h, appOrigin)
		refused = append(refused, handshakeFailure(sd.dev.streamingURL(), chromium403))
	}

	// 2. Anonymous, on B's own page: the public stream is open to it, so B
	// really has public_without_token on, and the 403 above is the origin rule.
	{
		what := "instance B's own page, no token"
		p := s.open(what, b.base+"/test/streaming?stream=public:local")
		s.expectStream(what, p, "", post(sides[1], "an anonymous reader's post"))
		checkOrigin(what, s.lastSocket(what, b.streamingURL()), b.base)
	}

	// 3. With a token, from the other origin: the stream reads on both.
	for _, sd := range sides {
		what := "other origin, with a token, " + sd.name
		p := s.open(what, appPage(sd.dev, sd.reader))
		s.expectStream(what, p, sd.reader, post(sd, "a third-party app's post"))
		h := s.lastSocket(what, sd.dev.streamingURL())
		checkOrigin(what, h, appOrigin)
		if h.Status != http.StatusSwitchingProtocols || header(h.Response, "Sec-WebSocket-Protocol") != sd.reader {
			s.fatal("%s: handshake status %d, protocol echoed %q; want 101 with the token", what, h.Status, header(h.Response, "Sec-WebSocket-Protocol"))
		}
		if p := s.read(what); len(p.CSP) > 0 {
			s.fatal("%s: securitypolicyviolation events: %v", what, p.CSP)
		}
	}

	// Judge: no CSP report, and no error but the refused handshakes.
	s.settle()
	cspIssues, errs, issues := s.problems.snapshot()
	if len(cspIssues) > 0 {
		s.fatal("the browser reported %d CSP issues (listed above), want none", len(cspIssues))
	}
	if bad := unexpectedErrors(errs, refused...); len(bad) > 0 {
		s.fatal("want only the %d refused handshakes on the console, got: %s", len(refused), strings.Join(bad, "\n\t"))
	}
	if len(issues) > 0 {
		t.Logf("other Audits issues (not failures): %s", strings.Join(issues, "\n\t"))
	}
	for _, d := range []*devInstance{a, b} {
		if strings.Contains(d.log.String(), `"level":"ERROR"`) {
			s.dump()
			t.Errorf("instance %s logged an error (log above)", d.base)
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("the test ran out of its 90 s")
	}
}
