package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/rampart-social/rampart/internal/httpsec"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/session"
	"github.com/rampart-social/rampart/internal/testutil"
)

// pwnPayload is appended to a valid PNG: were the upload ever run as a
// document of the app's origin, it would retitle the page and set a flag.
const pwnPayload = `<script>document.title='PWNED'; window.__pwned=1</script>`

// uploadedMedia is the part of the API's MediaAttachment the test reads.
type uploadedMedia struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	URL         string `json:"url"`
	PreviewURL  string `json:"preview_url"`
	Description string `json:"description"`
}

// uploadMedia posts file as multipart to POST /api/v1/media on the instance
// host, in process; it returns the status code and the body.
func uploadMedia(t *testing.T, inst *instance.Instance, host, token, name string, file []byte, description string) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	if description != "" {
		mw.WriteField("description", description)
	}
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/media", &body)
	req.Host = host
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	inst.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// mediaRequests records, from the Network domain, whether any request to the
// media origin carried a Cookie header or had cookies attached.
type mediaRequests struct {
	mu      sync.Mutex
	origin  string            // the media origin, "http://127.0.0.1:PORT"
	urls    map[string]string // request id → URL
	cookies map[string]string // request id → what was sent (Cookie header or associated cookie names)
}

func (m *mediaRequests) listen(ev any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			m.urls[string(ev.RequestID)] = ev.Request.URL
		}
	case *network.EventRequestWillBeSentExtraInfo:
		var sent []string
		for k, v := range ev.Headers {
			if strings.EqualFold(k, "Cookie") {
				sent = append(sent, fmt.Sprint(v))
			}
		}
		for _, c := range ev.AssociatedCookies {
			if c != nil && c.Cookie != nil && len(c.BlockedReasons) == 0 {
				sent = append(sent, c.Cookie.Name)
			}
		}
		if len(sent) > 0 {
			m.cookies[string(ev.RequestID)] = strings.Join(sent, "; ")
		}
	}
}

// withCookies lists the media-origin requests that carried cookies, and how
// many media-origin requests were seen at all.
func (m *mediaRequests) withCookies() (bad []string, seen int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, u := range m.urls {
		if !strings.HasPrefix(u, m.origin+"/") {
			continue
		}
		seen++
		if c, ok := m.cookies[id]; ok {
			bad = append(bad, u+" sent "+c)
		}
	}
	return bad, seen
}

// TestBrowserMediaOriginIsInert: a real headless Chromium opens a served
// upload directly and inside an <img> on a status page. No script runs, the
// app page reports no CSP violation, and document.cookie of the app origin is
// never reachable from the media origin.
func TestBrowserMediaOriginIsInert(t *testing.T) {
	browserPath := requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The instance, as startDevInstance runs it: the app is
	// http://localhost:PORT, the media origin http://127.0.0.1:PORT.
	dev := startDevInstance(t, ctx)
	inst, appHost, base, mediaOrigin, serverLog := dev.inst, dev.appHost, dev.base, dev.mediaOrigin, dev.log

	// Uploads through the API, with a token that may upload and post.
	poster := newSite(t, inst, appHost)
	alice := poster.account("alice")
	sc, _ := oauth.ParseScopes("write:media write:statuses")
	tok, err := inst.OAuth().IssueForAccount(ctx, poster.appID, alice.ID, sc)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	upload := func(what, name string, file []byte, description string) uploadedMedia {
		t.Helper()
		code, body := uploadMedia(t, inst, appHost, tok.Token, name, file, description)
		var m uploadedMedia
		if code != http.StatusOK || json.Unmarshal(body, &m) != nil || m.ID == "" {
			t.Fatalf("upload %s: %d %s", what, code, body)
		}
		if m.Type != "image" || !strings.HasPrefix(m.URL, mediaOrigin+"/") || !strings.HasPrefix(m.PreviewURL, mediaOrigin+"/") ||
			m.Description != description {
			t.Fatalf("upload %s: %+v, want an image on %s described %q", what, m, mediaOrigin, description)
		}
		return m
	}
	// (a) a valid PNG, (b) the same PNG with a script appended: both are
	// images to the sniffer, and re-encoding keeps only the pixels.
	clean := upload("a clean PNG", "clean.png", testutil.GradientPNG(t, 40, 30), "a colourful gradient")
	pwnFile := append(testutil.GradientPNG(t, 32, 24), []byte(pwnPayload)...)
	pwn := upload("a PNG with a script appended", "pwn.png", pwnFile, "a gradient with a script tail")
	// (c) an HTML document is not an upload Rampart takes, whatever its name.
	html := []byte(`<!doctype html><html><head><title>x</title></head><body>` + pwnPayload + `</body></html>`)
	if code, body := uploadMedia(t, inst, appHost, tok.Token, "pwn.png", html, ""); code != http.StatusUnprocessableEntity {
		t.Fatalf("upload an HTML file: %d %s, want 422", code, body)
	}

	// The files as the media origin serves them (over the network, by Host).
	httpc := &http.Client{Timeout: 10 * time.Second}
	for _, u := range []string{pwn.URL, pwn.PreviewURL} {
		resp, err := httpc.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") != httpsec.MediaCSP ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || len(resp.Header.Values("Set-Cookie")) > 0 {
			t.Fatalf("GET %s: %d headers %v", u, resp.StatusCode, resp.Header)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "image/png" && ct != "image/jpeg" {
			t.Fatalf("GET %s: Content-Type %q", u, ct)
		}
		if bytes.Contains(bytes.ToLower(b), []byte("<script")) || bytes.Contains(b, []byte("PWNED")) {
			t.Fatalf("GET %s: the served file still carries the appended script", u)
		}
	}

	// A public status with both images.
	form := url.Values{"status": {"two pictures"}, "visibility": {"public"}, "media_ids[]": {clean.ID, pwn.ID}}
	statusID := poster.apiID(poster.request(http.MethodPost, "/api/v1/statuses", form, tok.Token), "post with media")
	statusPage := base + "/@alice/" + statusID

	// The browser, as in TestBrowserPagesKeepTheCSP, also recording requests.
	requests := &mediaRequests{origin: mediaOrigin, urls: map[string]string{}, cookies: map[string]string{}}
	b := newHeadless(t, ctx, browserPath, serverLog, requests.listen)
	defer b.stop()
	bctx, problems, step, fatal, load, dump := b.ctx, b.problems, b.step, b.fatal, b.load, b.dump

	// eval runs js in the current document through DevTools and decodes it
	// into out. DevTools evaluation is not page script: neither the page's CSP
	// nor a sandbox without allow-scripts stops it, so it can inspect even
	// the media origin's sandboxed documents.
	eval := func(what, js string, out any, opts ...chromedp.EvaluateOption) {
		t.Helper()
		sctx, done := step()
		defer done()
		raw, err := chromedp.Run(sctx, chromedp.Evaluate[[]byte](js, opts...))
		if err != nil {
			fatal("%s: %v", what, err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			fatal("%s: decoding %s: %v", what, raw, err)
		}
	}

	b.watch()

	// 1. Alice signs in through the form, so the app origin holds her session cookie.
	load("sign-in page", chromedp.Navigate(base+"/auth/sign_in"))
	b.fillSignIn("alice", "correct horse battery")
	if r := load("submit the sign-in form", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_in"] button[type="submit"]`))); r.Status != http.StatusOK {
		fatal("after sign-in: status %d", r.Status)
	}
	hasSession := func(u string) bool {
		t.Helper()
		cookies, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
		if err != nil {
			fatal("Network.getCookies: %v", err)
		}
		for _, c := range cookies.Cookies {
			if c.Name == session.CookieName {
				return true
			}
		}
		return false
	}
	if !hasSession(base + "/") {
		fatal("the browser holds no %s cookie for %s after signing in", session.CookieName, base)
	}
	if hasSession(mediaOrigin + "/") {
		fatal("the browser would send %s to the media origin %s", session.CookieName, mediaOrigin)
	}

	// 2. The status page shows both images from the media origin.
	if r := load("status page", chromedp.Navigate(statusPage)); r.Status != http.StatusOK {
		fatal("status page: status %d", r.Status)
	}
	type shownImage struct {
		Src, Alt, Link string
		Width          int
		Complete       bool
	}
	var imgs []shownImage
	eval("the status page's images", `Array.from(document.querySelectorAll('article.post.focus .media img')).map(i => ({
		src: i.src, alt: i.alt, link: i.closest('a') ? i.closest('a').href : '', width: i.naturalWidth, complete: i.complete}))`, &imgs)
	if len(imgs) != 2 {
		fatal("the status page shows %d images, want 2: %+v", len(imgs), imgs)
	}
	for i, want := range []uploadedMedia{clean, pwn} {
		got := imgs[i]
		if got.Src != want.PreviewURL || got.Link != want.URL || got.Alt != want.Description {
			fatal("image %d: src %q in a link to %q, alt %q; want src %q, link %q, alt %q",
				i, got.Src, got.Link, got.Alt, want.PreviewURL, want.URL, want.Description)
		}
		if !got.Complete || got.Width <= 0 {
			fatal("image %d (%s) did not load: complete %v, naturalWidth %d", i, got.Src, got.Complete, got.Width)
		}
	}
	var appPage struct {
		Title      string          `json:"title"`
		Pwned      bool            `json:"pwned"`
		Violations json.RawMessage `json:"violations"`
		Cookie     string          `json:"cookie"`
	}
	eval("the status page's state", `({title: document.title, pwned: typeof window.__pwned !== 'undefined',
		violations: window.__csp || [], cookie: document.cookie})`, &appPage)
	if appPage.Title == "PWNED" || appPage.Pwned {
		fatal("script from an upload ran on the status page: title %q, __pwned set %v", appPage.Title, appPage.Pwned)
	}
	if string(appPage.Violations) != "[]" {
		fatal("securitypolicyviolation events on the status page: %s", appPage.Violations)
	}
	if strings.Contains(appPage.Cookie, session.CookieName) {
		fatal("the session cookie is readable by script on the app page (not HttpOnly): %q", appPage.Cookie)
	}
	// Let late reports arrive, then judge the app page: no CSP issue, no error.
	if err := chromedp.Do(bctx, chromedp.Sleep(200*time.Millisecond)); err != nil {
		fatal("%v", err)
	}
	appCSP, appErrs, _ := problems.snapshot()
	if len(appCSP) > 0 || len(appErrs) > 0 {
		dump()
		t.Fatalf("loading the sign-in and status pages the browser reported %d CSP issues and %d errors (listed above)", len(appCSP), len(appErrs))
	}

	// 3. The upload with the script tail, opened directly on the media origin.
	r := load("the served upload", chromedp.Navigate(pwn.URL))
	if r.Status != http.StatusOK || r.MimeType != "image/png" {
		fatal("the served upload: status %d, type %q", r.Status, r.MimeType)
	}
	header := func(name string) string {
		for k, v := range r.Headers {
			if strings.EqualFold(k, name) {
				return fmt.Sprint(v)
			}
		}
		return ""
	}
	if csp := header("Content-Security-Policy"); csp != httpsec.MediaCSP {
		fatal("the served upload's CSP is %q, want %q", csp, httpsec.MediaCSP)
	}
	if header("Set-Cookie") != "" {
		fatal("the media origin set a cookie: %q", header("Set-Cookie"))
	}
	// What the document is, and what page script could do in it. DevTools
	// evaluation (see eval) and scripts DevTools injects at document start
	// run even in a sandboxed document, so they can look; page script cannot
	// (tried just below). Each check here says what a script would see, were
	// one able to run: the sandbox gives the document an opaque origin
	// ("null"), so reading document.cookie throws a SecurityError instead of
	// returning anything, and storage is refused as well.
	var mediaDoc struct {
		Origin      string `json:"origin"`
		ContentType string `json:"contentType"`
		Scripts     int    `json:"scripts"`
		Title       string `json:"title"`
		Pwned       bool   `json:"pwned"`
		Cookie      string `json:"cookie"`
		CookieError string `json:"cookieError"`
		Storage     string `json:"storage"`
	}
	eval("the served upload's document", `(() => {
		const out = {origin: self.origin, contentType: document.contentType, scripts: document.scripts.length,
			title: document.title, pwned: typeof window.__pwned !== 'undefined', cookie: '', cookieError: '', storage: ''};
		try { out.cookie = document.cookie } catch (e) { out.cookieError = e.name + ': ' + e.message }
		try { localStorage.length; out.storage = 'readable' } catch (e) { out.storage = e.name }
		return out;
	})()`, &mediaDoc)
	t.Logf("the served upload's document: %+v", mediaDoc)
	if mediaDoc.ContentType != "image/png" || mediaDoc.Scripts != 0 {
		fatal("the served upload is not an image document: %+v", mediaDoc)
	}
	if mediaDoc.Title == "PWNED" || mediaDoc.Pwned {
		fatal("script ran in the served upload: %+v", mediaDoc)
	}
	if mediaDoc.Origin != "null" {
		fatal("the served upload's document has origin %q; the sandbox should make it opaque (\"null\")", mediaDoc.Origin)
	}
	if mediaDoc.Cookie != "" || strings.Contains(mediaDoc.Cookie, session.CookieName) {
		fatal("document.cookie on the media origin is %q, want nothing", mediaDoc.Cookie)
	}
	if mediaDoc.Storage == "readable" {
		fatal("the sandboxed media document can use localStorage")
	}

	// Page script does not run in the media document, however it gets in: an
	// inline <script> and an inline event handler, added through DevTools, are
	// page script, and the sandbox (no allow-scripts) and the media CSP
	// (script-src falls back to default-src 'none') each block them.
	var tried bool
	eval("add page script to the served upload", `(() => {
		const s = document.createElement('script');
		s.textContent = "window.__pwned = 1; document.title = 'PWNED'";
		(document.head || document.documentElement).appendChild(s);
		const i = document.createElement('img');
		i.setAttribute('onerror', "window.__pwned = 2; document.title = 'PWNED'");
		i.src = 'data:,';
		document.body.appendChild(i);
		return true;
	})()`, &tried)
	if err := chromedp.Do(bctx, chromedp.Sleep(200*time.Millisecond)); err != nil {
		fatal("%v", err)
	}
	var after struct {
		Title string `json:"title"`
		Pwned bool   `json:"pwned"`
	}
	eval("the served upload after the script attempts", `({title: document.title, pwned: typeof window.__pwned !== 'undefined'})`, &after)
	if after.Pwned || after.Title == "PWNED" {
		fatal("page script ran in the sandboxed media document: %+v", after)
	}

	// 4. From the media origin, a credentialed request to the app's API
	// cannot be read. The media CSP refuses the connection outright
	// (connect-src falls back to default-src 'none'), so fetch rejects; were
	// it let through, the document's origin is opaque, the session cookie is
	// SameSite=Lax on another site (not sent), and the API's CORS answer
	// (Access-Control-Allow-Origin: *) does not admit credentialed reads.
	var probe struct {
		Outcome string `json:"outcome"`
		Type    string `json:"type"`
		Status  int    `json:"status"`
		Body    string `json:"body"`
		Error   string `json:"error"`
	}
	eval("fetch the app's API from the media origin", `(async () => {
		try {
			const r = await fetch(`+strconv.Quote(base+"/api/v1/accounts/verify_credentials")+`, {credentials: 'include'});
			let body = '';
			try { body = await r.text() } catch (e) { body = 'unreadable: ' + e.name }
			return {outcome: 'resolved', type: r.type, status: r.status, body: body, error: ''};
		} catch (e) {
			return {outcome: 'rejected', type: '', status: 0, body: '', error: String(e)};
		}
	})()`, &probe, chromedp.EvalAwaitPromise)
	t.Logf("credentialed fetch of verify_credentials from the media origin: %+v", probe)
	switch {
	case probe.Outcome == "rejected":
	case probe.Type == "opaque" && probe.Status == 0 && probe.Body == "":
	default:
		fatal("the media origin read the app's API: %+v", probe)
	}
	if strings.Contains(probe.Body, "alice") {
		fatal("the media origin read alice's account: %+v", probe)
	}

	// No request to the media origin ever carried a cookie, and the session
	// is still only the app's.
	if err := chromedp.Do(bctx, chromedp.Sleep(100*time.Millisecond)); err != nil {
		fatal("%v", err)
	}
	bad, seen := requests.withCookies()
	if seen < 3 { // two previews on the status page and the direct navigation
		fatal("the browser made %d requests to the media origin, want at least 3", seen)
	}
	if len(bad) > 0 {
		fatal("requests to the media origin carried cookies: %v", bad)
	}
	if hasSession(mediaOrigin + "/") {
		fatal("the media origin holds %s", session.CookieName)
	}
	// What the browser reported on the media origin is the sandbox and the
	// media CSP at work: Chromium's own inline styles for image documents
	// and the injected listener blocked, the probe's fetch refused. Anything
	// else (an exception, a report about an app page) fails the test.
	csp, errs, _ := problems.snapshot()
	fetchRefused := false
	for _, c := range csp[len(appCSP):] {
		if strings.Contains(c, "connect-src") && strings.Contains(c, base+"/api/v1/accounts/verify_credentials") {
			fetchRefused = true
		}
		if strings.Contains(c, base+"/") && !strings.Contains(c, "blocked \""+base+"/api/") {
			fatal("a CSP issue on the app origin: %s", c)
		}
	}
	if !fetchRefused {
		fatal("the media CSP did not report refusing the probe's connection to the app")
	}
	sandboxed := false
	for _, e := range errs[len(appErrs):] {
		switch {
		case strings.Contains(e, "Blocked script execution in '"+pwn.URL+"' because the document's frame is sandboxed"):
			sandboxed = true
		case strings.HasPrefix(e, "log (security): ") && strings.Contains(e, "Content Security Policy"),
			strings.HasPrefix(e, "log (javascript): Fetch API cannot load "+base+"/api/v1/accounts/verify_credentials"):
		default:
			fatal("unexpected browser error on the media origin: %s", e)
		}
	}
	if !sandboxed {
		fatal("Chromium did not report blocking script in the sandboxed media document")
	}
	if strings.Contains(serverLog.String(), `"level":"ERROR"`) {
		dump()
		t.Error("the server logged an error (log above)")
	}
}

// fakeMP4 and fakeWAV are well-formed containers of silence (kept as
// uploaded, never decoded), which is all the pages need to render them.
var (
	fakeMP4 = testutil.MP4(bytes.Repeat([]byte{0}, 64))
	fakeWAV = testutil.WAV(bytes.Repeat([]byte{0}, 64))
)

// TestPagesShowAttachments checks, without a browser, the markup of each
// kind of attachment on the status and profile pages: URLs on the media
// origin exactly as the API gives them, the description as alt text or label,
// no inline style, and media behind a content warning or the sensitive flag
// kept inside a closed <details>.
func TestPagesShowAttachments(t *testing.T) {
	s := openSite(t)
	alice := s.user("alice")
	bob := s.user("bob")
	upload := func(name string, file []byte, description string) uploadedMedia {
		t.Helper()
		code, body := uploadMedia(t, s.inst, s.host, alice, name, file, description)
		var m uploadedMedia
		if code != http.StatusOK || json.Unmarshal(body, &m) != nil || m.ID == "" || m.URL == "" {
			t.Fatalf("upload %s: %d %s", name, code, body)
		}
		return m
	}
	post := func(what string, form url.Values, ids ...string) string {
		t.Helper()
		form["media_ids[]"] = ids
		return s.apiID(s.request(http.MethodPost, "/api/v1/statuses", form, alice), what)
	}
	img := upload("a.png", testutil.GradientPNG(t, 20, 10), `a "quoted" <b>description</b> & more`)
	vid := upload("v.mp4", fakeMP4, "a short clip")
	aud := upload("a.wav", fakeWAV, "")
	if vid.Type != "video" || aud.Type != "audio" || img.Type != "image" || img.PreviewURL == "" {
		t.Fatalf("uploads: %+v %+v %+v", img, vid, aud)
	}
	all := post("with media", url.Values{"status": {"three kinds"}}, img.ID, vid.ID, aud.ID)

	wantImg := `<a class="attachment image" href="` + img.URL + `" rel="noopener noreferrer"><img src="` + img.PreviewURL +
		`" alt="a &#34;quoted&#34; &lt;b&gt;description&lt;/b&gt; &amp; more" width="20" height="10"></a>`
	wantVid := `<video class="attachment" controls preload="none" src="` + vid.URL + `" aria-label="a short clip" title="a short clip">`
	wantAud := `<audio class="attachment" controls preload="none" src="` + aud.URL + `">`
	for _, target := range []string{"/@alice/" + all, "/@alice"} {
		body := s.page(target, http.StatusOK)
		for _, want := range []string{wantImg, wantVid, wantAud} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s does not contain\n\t%s\n%s", target, want, body)
			}
		}
		if i, v, a := strings.Index(body, wantImg), strings.Index(body, wantVid), strings.Index(body, wantAud); !(i < v && v < a) {
			t.Errorf("GET %s: attachments out of order (%d, %d, %d)", target, i, v, a)
		}
		if strings.Contains(body, "style=") || strings.Contains(body, "<style") {
			t.Errorf("GET %s has inline style", target)
		}
	}

	// Behind a content warning the media sit inside the closed <details>;
	// marked sensitive without one, inside their own.
	cwImg := upload("cw.png", testutil.GradientPNG(t, 8, 8), "")
	cw := post("with a warning", url.Values{"status": {"hidden"}, "spoiler_text": {"spoilers"}}, cwImg.ID)
	body := s.page("/@alice/"+cw, http.StatusOK)
	if !regexp.MustCompile(`(?s)<details class="cw">.*<img src="` + regexp.QuoteMeta(cwImg.PreviewURL) + `".*</details>`).MatchString(body) {
		t.Errorf("the media of a status with a content warning are not inside it:\n%s", body)
	}
	sensImg := upload("sensitive.png", testutil.GradientPNG(t, 8, 8), "")
	sens := post("sensitive", url.Values{"status": {"careful"}, "sensitive": {"true"}}, sensImg.ID)
	body = s.page("/@alice/"+sens, http.StatusOK)
	if !regexp.MustCompile(`(?s)<details class="sensitive">\s*<summary>Sensitive media</summary>.*<img src="` +
		regexp.QuoteMeta(sensImg.PreviewURL) + `".*</details>`).MatchString(body) {
		t.Errorf("the media of a sensitive status are not hidden:\n%s", body)
	}
	if strings.Contains(s.page("/@alice/"+all, http.StatusOK), `class="sensitive"`) {
		t.Error("a status not marked sensitive hides its media")
	}

	// A boost shows the original's media on the booster's profile.
	s.reblog(bob, all)
	if body := s.page("/@bob", http.StatusOK); !strings.Contains(body, wantImg) || !strings.Contains(body, wantVid) {
		t.Errorf("bob's profile does not show the boosted status's media:\n%s", body)
	}
}
