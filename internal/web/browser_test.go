package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/session"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// cspListener records securitypolicyviolation events in window.__csp. It is
// injected through DevTools, which the page's CSP does not govern.
const cspListener = `window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
	window.__csp.push({directive: e.effectiveDirective, blocked: e.blockedURI, disposition: e.disposition,
		sample: e.sample, source: e.sourceFile, line: e.lineNumber, page: document.location.href});
});`

// requireChromium returns the browser's path. A missing browser skips the
// test, unless TEST_REQUIRE_TOOLS=1 (scripts/test sets it), which fails it.
func requireChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return chromiumPath
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("TEST_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s not found and TEST_REQUIRE_TOOLS=1 (install the Debian package chromium, or run ./scripts/test which does)", chromiumPath)
	}
	t.Skipf("%s not found; skipping (install chromium, or set TEST_REQUIRE_TOOLS=1 to make this a failure)", chromiumPath)
	return ""
}

// browserProblems collects what the browser reports while the pages load.
// The listener runs on chromedp's reading goroutine, so it only appends.
type browserProblems struct {
	mu     sync.Mutex
	csp    []string // CSP issues (Audits domain) and securitypolicyviolation events
	errs   []string // console errors, exceptions, error log entries
	issues []string // other Audits issues, reported but not fatal
}

func (b *browserProblems) add(list *[]string, format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	*list = append(*list, fmt.Sprintf(format, args...))
}

func (b *browserProblems) snapshot() (csp, errs, issues []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.csp...), append([]string(nil), b.errs...), append([]string(nil), b.issues...)
}

func (b *browserProblems) listen(ev any) {
	switch ev := ev.(type) {
	case *audits.EventIssueAdded:
		if ev.Issue == nil {
			return
		}
		if ev.Issue.Details != nil && ev.Issue.Details.ContentSecurityPolicyIssueDetails != nil {
			d := ev.Issue.Details.ContentSecurityPolicyIssueDetails
			where := ""
			if l := d.SourceCodeLocation; l != nil {
				where = fmt.Sprintf(" at %s:%d:%d", l.URL, l.LineNumber+1, l.ColumnNumber+1)
			}
			b.add(&b.csp, "audits: %s violates %s (blocked %q, report-only %v)%s",
				d.ContentSecurityPolicyViolationType, d.ViolatedDirective, d.BlockedURL, d.IsReportOnly, where)
			return
		}
		details, _ := json.Marshal(ev.Issue.Details)
		b.add(&b.issues, "audits: %s %s", ev.Issue.Code, details)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var args []string
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		b.add(&b.errs, "console.%s: %s", ev.Type, strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		if d == nil {
			b.add(&b.errs, "exception (no details)")
			return
		}
		if d.Exception != nil && d.Exception.Description != "" {
			b.add(&b.errs, "exception: %s: %s", d.Text, d.Exception.Description) // the description carries the stack
			return
		}
		b.add(&b.errs, "exception: %s at %s:%d:%d", d.Text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
	case *cdplog.EventEntryAdded:
		if e := ev.Entry; e != nil && e.Level == cdplog.EntryLevelError {
			b.add(&b.errs, "log (%s): %s [%s]", e.Source, e.Text, e.URL)
		}
	}
}

// callback is the OAuth client's redirect endpoint, on another origin.
type callback struct {
	mu    sync.Mutex
	hits  []url.Values
	other []string
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.URL.Path != "/callback" {
		c.other = append(c.other, r.Method+" "+r.URL.String())
		http.NotFound(w, r)
		return
	}
	c.hits = append(c.hits, r.URL.Query())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">`+
		`<title>callback</title></head><body><p>client callback</p></body></html>`)
}

func (c *callback) seen() ([]url.Values, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]url.Values(nil), c.hits...), append([]string(nil), c.other...)
}

// listenLoopback listens on a free port of ip, falling back to 127.0.0.1.
func listenLoopback(t *testing.T, ip string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil && ip != "127.0.0.1" {
		t.Logf("cannot listen on %s (%v); using 127.0.0.1", ip, err)
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// devInstance is a dev instance on plain http on loopback with alice
// (approved) as its account. The app is http://localhost:PORT, the media
// origin http://127.0.0.1:PORT (the same listener tells them apart by Host):
// different hosts, so different origins and different sites.
type devInstance struct {
	inst        *instance.Instance
	port        string
	appHost     string               // localhost:PORT
	base        string               // http://localhost:PORT
	mediaOrigin string               // http://127.0.0.1:PORT
	log         *testutil.SyncBuffer // the server's JSON log
}

// startDevInstance serves a devInstance until the test's cleanup.
func startDevInstance(t *testing.T, ctx context.Context) *devInstance {
	t.Helper()
	return startDevInstanceWith(t, ctx, instance.Options{})
}

// startDevInstanceWith is startDevInstance with instance options (test
// routes) and extra config lines.
func startDevInstanceWith(t *testing.T, ctx context.Context, opts instance.Options, extra ...string) *devInstance {
	t.Helper()
	ln := listenLoopback(t, "127.0.0.1")
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	d := &devInstance{port: port, appHost: "localhost:" + port, base: "http://localhost:" + port,
		mediaOrigin: "http://127.0.0.1:" + port, log: &testutil.SyncBuffer{}}
	lines := append([]string{
		`env = "dev"`,
		`url = "` + d.base + `"`,
		`media_url = "` + d.mediaOrigin + `"`,
		`data_dir = "` + t.TempDir() + `"`,
		`secret_key = "` + testutil.Secret + `"`,
		`[http]`,
		`listen = "127.0.0.1:` + port + `"`,
	}, extra...)
	cfg, err := config.Parse([]byte(strings.Join(lines, "\n")+"\n"), nil)
	if err != nil {
		ln.Close()
		t.Fatalf("dev config: %v", err)
	}
	testutil.UseTestDatabase(t, cfg)
	storetest.Seed(cfg.DatabasePath())
	if opts.KeyPairs == nil {
		opts.KeyPairs = testutil.RSAKeyPair
	}
	inst, err := instance.Open(ctx, cfg, slog.New(slog.NewJSONHandler(d.log, nil)), opts)
	if err != nil {
		ln.Close()
		t.Fatalf("Open: %v", err)
	}
	d.inst = inst
	srvCtx, stopServer := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- inst.Serve(srvCtx, ln) }()
	t.Cleanup(func() {
		stopServer()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
		inst.Close()
	})
	if _, _, err := inst.Accounts().Create(ctx, accounts.NewParams{Username: "alice", Email: "alice@example.test",
		Password: "correct horse battery", Approved: true}); err != nil {
		t.Fatalf("create alice: %v", err)
	}
	return d
}

// headless is a headless Chromium whose reports go to problems. Each of its
// actions is bounded by step; fatal logs what the browser and the server
// reported (dump) before failing the test.
type headless struct {
	t         *testing.T
	ctx       context.Context // the browser's, for chromedp.Run and the like
	stop      func()          // closes the browser; defer it
	problems  *browserProblems
	output    *testutil.SyncBuffer // Chromium's stdout and stderr
	serverLog *testutil.SyncBuffer
	more      func() // logs what else the test wants in dump, if set
}

// newHeadless prepares the browser at browserPath, listening with problems
// and any other listeners; it starts at its first action (see watch).
func newHeadless(t *testing.T, ctx context.Context, browserPath string, serverLog *testutil.SyncBuffer, listeners ...func(ev any)) *headless {
	b := &headless{t: t, problems: &browserProblems{}, output: &testutil.SyncBuffer{}, serverLog: serverLog}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browserPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// No UserDataDir: chromedp makes a fresh temporary one per browser and removes it.
		chromedp.CombinedOutput(b.output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	ctxOpts := []chromedp.ContextOption{chromedp.WithListener(b.problems.listen)}
	for _, l := range listeners {
		ctxOpts = append(ctxOpts, chromedp.WithListener(l))
	}
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, ctxOpts...)
	b.ctx = bctx
	b.stop = func() {
		cancelBrowser()
		cancelAlloc()
	}
	return b
}

// watch starts the browser, then turns on the Audits domain and injects
// cspListener into every document.
func (b *headless) watch() {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, audits.Enable, cdp.Empty{}); err != nil {
		b.fatal("Audits.enable: %v", err)
	}
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener}); err != nil {
		b.fatal("inject the securitypolicyviolation listener: %v", err)
	}
}

// step bounds one browser action, so a missing element fails fast instead
// of waiting out the whole test's deadline.
func (b *headless) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, 15*time.Second)
}

// dump logs the browser's reports, the server log and Chromium's output.
func (b *headless) dump() {
	t := b.t
	csp, errs, issues := b.problems.snapshot()
	t.Logf("browser CSP reports (%d): %s", len(csp), strings.Join(csp, "\n\t"))
	t.Logf("browser errors (%d): %s", len(errs), strings.Join(errs, "\n\t"))
	t.Logf("other Audits issues (%d): %s", len(issues), strings.Join(issues, "\n\t"))
	if b.more != nil {
		b.more()
	}
	t.Logf("server log:\n%s", b.serverLog.String())
	var out []string
	for _, l := range strings.Split(b.output.String(), "\n") {
		if !strings.Contains(l, "dbus/") { // no system bus in containers; noise
			out = append(out, l)
		}
	}
	t.Logf("chromium output (dbus lines left out):\n%s", strings.Join(out, "\n"))
}

func (b *headless) fatal(format string, args ...any) {
	b.t.Helper()
	b.dump()
	b.t.Fatalf(format, args...)
}

// fillSignIn types username and password into the sign-in form on the page.
func (b *headless) fillSignIn(username, password string) {
	b.t.Helper()
	sctx, done := b.step()
	defer done()
	if err := chromedp.Do(sctx,
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
	); err != nil {
		b.fatal("fill the sign-in form: %v", err)
	}
}

// load runs steps that load a document and returns its response.
func (b *headless) load(what string, steps ...chromedp.Action[chromedp.Void]) *network.Response {
	b.t.Helper()
	sctx, done := b.step()
	defer done()
	r, err := chromedp.RunResponse(sctx, steps...)
	if err != nil {
		b.fatal("%s: %v", what, err)
	}
	if r == nil {
		b.fatal("%s: no document response", what)
	}
	return r
}

// TestBrowserPagesKeepTheCSP loads the landing, sign-in, consent and
// signed-in pages of a running instance in headless Chromium, signs in
// through the form and approves an OAuth app, then loads a profile page and a
// status page with its thread, and fails on any CSP violation, console error,
// exception or error log entry the browser reports.
func TestBrowserPagesKeepTheCSP(t *testing.T) {
	browserPath := requireChromium(t)
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The instance: dev, plain http on loopback.
	dev := startDevInstance(t, ctx)
	inst, port, base, serverLog := dev.inst, dev.port, dev.base, dev.log

	// The OAuth client's redirect target, on another origin.
	cb := &callback{}
	cbServer := &http.Server{Handler: cb, ReadHeaderTimeout: 5 * time.Second}
	cbLn := listenLoopback(t, "127.0.0.2")
	go cbServer.Serve(cbLn)
	t.Cleanup(func() { cbServer.Close() })
	redirectURI := "http://" + cbLn.Addr().String() + "/callback"

	// Register the app through the API.
	form := url.Values{"client_name": {"Browser Test App"}, "redirect_uris": {redirectURI}, "scopes": {"read write"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1:"+port+"/api/v1/apps", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "localhost:" + port
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("register app: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var app struct {
		ClientID string `json:"client_id"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &app) != nil || app.ClientID == "" {
		t.Fatalf("register app: %d %s", resp.StatusCode, body)
	}

	// The browser.
	b := newHeadless(t, ctx, browserPath, serverLog)
	defer b.stop()
	bctx, problems, step, fatal, load, dump := b.ctx, b.problems, b.step, b.fatal, b.load, b.dump
	var pageViolations []map[string]any
	b.more = func() {
		hits, other := cb.seen()
		t.Logf("securitypolicyviolation events (%d): %v", len(pageViolations), pageViolations)
		t.Logf("callback hits %v, other requests to the client origin %v", hits, other)
	}
	// collect reads the page's securitypolicyviolation events before it is left.
	collect := func() {
		t.Helper()
		sctx, done := step()
		defer done()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[[]map[string]any](`window.__csp || []`))
		if err != nil {
			fatal("reading window.__csp: %v", err)
		}
		pageViolations = append(pageViolations, v...)
	}
	text := func(sel string) string {
		t.Helper()
		sctx, done := step()
		defer done()
		s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			fatal("text of %s: %v", sel, err)
		}
		return s
	}
	location := func() string {
		t.Helper()
		sctx, done := step()
		defer done()
		s, err := chromedp.Run(sctx, chromedp.Location())
		if err != nil {
			fatal("location: %v", err)
		}
		return s
	}

	// Start the browser, then turn on the Audits domain and the page listener.
	b.watch()
	t.Logf("browser up after %v", time.Since(started).Round(time.Millisecond))

	// 1. The landing page, signed out: it links to the sign-in page.
	if r := load("landing page", chromedp.Navigate(base+"/")); r.Status != http.StatusOK {
		fatal("landing page: status %d", r.Status)
	}
	if ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.querySelector('a[href="/auth/sign_in"]') !== null`)); err != nil || !ok {
		fatal("landing page has no sign-in link (%v)", err)
	}
	collect()

	// 2. The authorize URL sends a signed-out visitor to the sign-in page.
	authorize := base + "/oauth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {app.ClientID},
		"redirect_uri": {redirectURI}, "scope": {"read"}, "state": {"xyz"}}.Encode()
	load("authorize while signed out", chromedp.Navigate(authorize))
	if loc := location(); !strings.HasPrefix(loc, base+"/auth/sign_in?") {
		fatal("authorize while signed out landed on %s, want the sign-in page", loc)
	}

	// 3. Sign in through the form: a real click, a real POST.
	b.fillSignIn("alice", "correct horse battery")
	collect()
	if r := load("submit the sign-in form", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_in"] button[type="submit"]`))); r.Status != http.StatusOK {
		fatal("after sign-in: status %d at %s", r.Status, location())
	}

	// 4. The consent page names the app.
	if loc := location(); !strings.HasPrefix(loc, base+"/oauth/authorize?") {
		fatal("after sign-in the browser is at %s, want the consent page", loc)
	}
	if h1 := text("h1"); !strings.Contains(h1, "Browser Test App") {
		fatal("consent page heading %q does not name the app", h1)
	}
	if main := text("main"); !strings.Contains(main, "@alice") || !strings.Contains(main, "read") {
		fatal("consent page does not show the account and scope: %q", main)
	}
	collect()

	// 5. Approve: the POST's redirect to the client's origin must pass form-action.
	approveCtx, approveDone := step()
	defer approveDone()
	_, approveErr := chromedp.RunResponse(approveCtx, chromedp.Click(chromedp.CSS(`button[name="decision"][value="approve"]`)))
	hits, _ := cb.seen()
	if len(hits) == 0 {
		collect() // a blocked navigation leaves the consent page in place
		fatal("the client's redirect URI %s was never requested after Approve (RunResponse error: %v, browser at %s): "+
			"the consent page's CSP form-action most likely blocked the redirect to the client's origin", redirectURI, approveErr, location())
	}
	if approveErr != nil {
		fatal("approve: %v", approveErr)
	}
	if len(hits) != 1 || hits[0].Get("code") == "" || hits[0].Get("state") != "xyz" || hits[0].Has("error") {
		fatal("callback got %v, want one hit with a code and state=xyz", hits)
	}
	if loc := location(); !strings.HasPrefix(loc, redirectURI+"?") {
		fatal("after Approve the browser is at %s, want %s", loc, redirectURI)
	}
	collect()

	// 6. The landing page, signed in.
	if r := load("landing page signed in", chromedp.Navigate(base+"/")); r.Status != http.StatusOK {
		fatal("landing page signed in: status %d", r.Status)
	}
	if main := text("main"); !strings.Contains(main, "Signed in as") || !strings.Contains(main, "@alice") {
		fatal("landing page does not say it is signed in as @alice: %q", main)
	}
	collect()

	// The session and device cookies as the browser stored them.
	cookies, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		fatal("Network.getCookies: %v", err)
	}
	var names []string
	stored := map[string]*network.Cookie{}
	for _, c := range cookies.Cookies {
		names = append(names, c.Name+"@"+c.Domain)
		stored[c.Name] = c
	}
	for _, name := range []string{session.CookieName, session.DeviceCookieName} {
		sc := stored[name]
		if sc == nil {
			fatal("the browser holds no %s cookie for %s (it has %v)", name, base, names)
		}
		if !sc.HTTPOnly || !sc.Secure || sc.SameSite != network.CookieSameSiteLax || sc.Path != "/" ||
			sc.Domain != "localhost" || strings.HasPrefix(sc.Domain, ".") || sc.Session {
			fatal("%s: httpOnly=%v secure=%v sameSite=%q path=%q domain=%q session=%v; "+
				"want HttpOnly, Secure, Lax, path /, host-only localhost, persistent", name, sc.HTTPOnly, sc.Secure, sc.SameSite, sc.Path, sc.Domain, sc.Session)
		}
	}
	if len(cookies.Cookies) != 2 {
		t.Errorf("the browser holds %d cookies for %s, want only the session and device cookies: %v", len(cookies.Cookies), base, names)
	}

	// 7. Public pages. Posts (through the API, in process) that exercise what
	// the pages render: links with hidden parts, a hashtag, a mention, a
	// content warning, markup as text, a thread and a boost.
	poster := newSite(t, inst, "localhost:"+port)
	aliceToken, bobToken := poster.token("alice"), poster.user("bob")
	root := poster.post(aliceToken, "Hello from #Rampart, @bob: https://example.org/a/rather/long/path/to/somewhere/else")
	reply := poster.post(bobToken, "@alice hi <script>alert(1)</script>", "in_reply_to_id", root)
	answer := poster.post(aliceToken, "@bob welcome", "in_reply_to_id", reply, "visibility", "unlisted")
	poster.post(aliceToken, "what the warning hides", "spoiler_text", "a content warning")
	poster.post(aliceToken, "followers only", "visibility", "private")
	poster.reblog(bobToken, root)
	evalBool := func(what, js string) bool {
		t.Helper()
		sctx, done := step()
		defer done()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[bool](js))
		if err != nil {
			fatal("%s: %v", what, err)
		}
		return v
	}

	if r := load("profile page", chromedp.Navigate(base+"/@alice")); r.Status != http.StatusOK {
		fatal("profile page: status %d", r.Status)
	}
	if h1 := text("h1"); !strings.Contains(h1, "alice") {
		fatal("profile heading %q does not name alice", h1)
	}
	if !evalBool("profile alternate link", `document.querySelector('link[rel="alternate"][type="application/activity+json"]').href === `+
		strconv.Quote(base+"/users/alice")) {
		fatal("the profile page has no alternate link to %s/users/alice", base)
	}
	if !evalBool("profile posts", `document.querySelectorAll('article.post').length === 3`) {
		fatal("the profile page does not show alice's three public and unlisted posts: %q", text("main"))
	}
	if main := text("main"); strings.Contains(main, "followers only") {
		fatal("the profile page shows a private post: %q", main)
	}
	// The stylesheet applies: a link's hidden parts are hidden, and the cut shows an ellipsis.
	if !evalBool("link styles", `getComputedStyle(document.querySelector('.content .invisible')).display === 'none' && `+
		`getComputedStyle(document.querySelector('.content .ellipsis'), '::after').content === '"…"'`) {
		fatal("rampart.css does not hide a link's invisible parts or add the ellipsis")
	}
	// The content warning opens without script.
	if evalBool("warning closed", `document.querySelector('details.cw').open`) {
		fatal("the content warning starts open")
	}
	clickCtx, clickDone := step()
	defer clickDone()
	if err := chromedp.Do(clickCtx, chromedp.Click(chromedp.CSS(`details.cw summary`))); err != nil {
		fatal("open the content warning: %v", err)
	}
	if !evalBool("warning open", `document.querySelector('details.cw').open`) {
		fatal("clicking the content warning did not open it")
	}
	collect()

	// 8. A status page with its thread, reached through the post's link.
	if r := load("status page", chromedp.Click(chromedp.CSS(`#s`+root+` a.when`))); r.Status != http.StatusOK {
		fatal("status page: status %d at %s", r.Status, location())
	}
	if loc := location(); loc != base+"/@alice/"+root {
		fatal("the post's link led to %s", loc)
	}
	if !evalBool("thread", `Array.from(document.querySelectorAll('article.post')).map(a => a.id).join() === `+
		strconv.Quote("s"+root+",s"+reply+",s"+answer)+` && document.querySelector('article.post.focus').id === `+strconv.Quote("s"+root)) {
		fatal("the status page does not show the root, then its two replies: %q", text("main"))
	}
	if !evalBool("status alternate link", `document.querySelector('link[rel="alternate"][type="application/activity+json"]').href === `+
		strconv.Quote(base+"/users/alice/statuses/"+root)) {
		fatal("the status page has no alternate link to the status")
	}
	if main := text("main"); !strings.Contains(main, "<script>alert(1)</script>") {
		fatal("the reply's markup is not shown as text: %q", main)
	}
	collect()

	// 9. The booster's profile. (A 404 page is not loaded here: Chromium logs
	// every 404 document as an error.)
	if r := load("bob's profile", chromedp.Navigate(base+"/@bob")); r.Status != http.StatusOK {
		fatal("bob's profile: status %d", r.Status)
	}
	if boost := text("p.boost"); !strings.Contains(boost, "@bob boosted") {
		fatal("bob's profile does not show the boost: %q", boost)
	}
	collect()

	// Let late reports arrive, then judge.
	if err := chromedp.Do(bctx, chromedp.Sleep(200*time.Millisecond)); err != nil {
		fatal("%v", err)
	}
	csp, errs, issues := problems.snapshot()
	_, other := cb.seen()
	failed := len(csp) > 0 || len(pageViolations) > 0 || len(errs) > 0
	if failed {
		dump()
		t.Errorf("the browser reported %d CSP issues, %d securitypolicyviolation events and %d errors (listed above)",
			len(csp), len(pageViolations), len(errs))
	}
	if len(issues) > 0 {
		t.Logf("other Audits issues (not failures): %s", strings.Join(issues, "\n\t"))
	}
	if len(other) > 0 {
		t.Logf("the browser also asked the client origin for %v", other)
	}
	if strings.Contains(serverLog.String(), `"level":"ERROR"`) {
		if !failed {
			dump()
		}
		t.Error("the server logged an error (log above)")
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("the test ran out of its 60 s")
	}
	t.Logf("done in %v", time.Since(started).Round(time.Millisecond))
}
