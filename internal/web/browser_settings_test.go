package web_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// settingsPagePaths are the settings pages the browser test visits, each
// with a selector the page must show: every page the settings navigation
// links to.
var settingsPagePaths = []struct{ path, must string }{
	{"/settings/profile", `form[action="/settings/profile"][enctype="multipart/form-data"]`},
	{"/settings/preferences", `form[action="/settings/preferences"] select#privacy`},
	{"/settings/password", `form[action="/settings/password"] input#current_password`},
	{"/settings/two_factor", `form[action="/settings/two_factor/enrol"]`},
	// The add form is hidden in the HTML and shown by /static/passkeys.js:
	// shown means the same-origin script ran under the CSP.
	{"/settings/passkeys", `form[data-passkey="create"]:not([hidden])`},
	{"/settings/sessions", `h2#apps`},
	{"/settings/history", `ul.security-list`}, // the sign-in from this new browser is in it
}

// screenshot saves the page as DIR/name.png when TEST_SCREENSHOTS=DIR is
// set (for people to look at the pages; nothing compares them).
func (b *headless) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("TEST_SCREENSHOTS")
	if dir == "" {
		return
	}
	sctx, done := b.step()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	done()
	if err != nil {
		b.fatal("%s: screenshot: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func allSettingsPaths() string {
	var paths []string
	for _, pg := range settingsPagePaths {
		paths = append(paths, pg.path)
	}
	return strings.Join(paths, " ")
}

// settingsWidths are the widths the settings pages must work at: a desktop
// window and a phone (mobile emulation: touch, device scale, portrait).
var settingsWidths = []struct {
	name          string
	width, height int64
	mobile        bool
}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}}

// TestBrowserSettingsPagesKeepTheCSP signs in through the form in headless
// Chromium, uploads an avatar through the profile page's own form (a real
// multipart post, whose image then comes from the media origin), and loads
// every settings page at desktop and phone width: no CSP violation, no
// console error, and at phone width nothing wider than the screen. With
// TEST_SCREENSHOTS=DIR it saves a screenshot of each page at each width.
func TestBrowserSettingsPagesKeepTheCSP(t *testing.T) {
	browserPath := requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dev := startDevInstance(t, ctx)
	b := newHeadless(t, ctx, browserPath, dev.log)
	defer b.stop()
	var violations []map[string]any
	b.more = func() { t.Logf("securitypolicyviolation events (%d): %v", len(violations), violations) }
	run := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, done := b.step()
		defer done()
		if err := chromedp.Do(sctx, a); err != nil {
			b.fatal("%s: %v", what, err)
		}
	}
	eval := func(what, js string) bool {
		t.Helper()
		sctx, done := b.step()
		defer done()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[bool](js))
		if err != nil {
			b.fatal("%s: %v", what, err)
		}
		return v
	}
	collect := func() {
		t.Helper()
		sctx, done := b.step()
		defer done()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[[]map[string]any](`window.__csp || []`))
		if err != nil {
			b.fatal("reading window.__csp: %v", err)
		}
		violations = append(violations, v...)
	}
	b.watch()

	// Sign in on the way to /settings, which is the profile page.
	b.load("settings while signed out", chromedp.Navigate(dev.base+"/settings"))
	b.fillSignIn("alice", "correct horse battery")
	if r := b.load("sign in", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_in"] button[type="submit"]`))); r.Status != http.StatusOK ||
		r.URL != dev.base+"/settings/profile" {
		b.fatal("after signing in: %d at %s, want the profile settings", r.Status, r.URL)
	}
	collect()

	// An avatar through the page's own form.
	avatar := filepath.Join(t.TempDir(), "avatar.png")
	if err := os.WriteFile(avatar, pngImage(t), 0o600); err != nil {
		t.Fatal(err)
	}
	run("choose the avatar", chromedp.SetUploadFiles(chromedp.ID("avatar"), []string{avatar}))
	run("type a display name", chromedp.SendKeys(chromedp.ID("display_name"), "Alice in Settings"))
	if r := b.load("save the profile", chromedp.Click(chromedp.CSS(`form[action="/settings/profile"] button[type="submit"]`))); r.Status != http.StatusOK {
		b.fatal("save the profile: %d", r.Status)
	}
	if !eval("the saved avatar", `document.querySelector('img.avatar').src.startsWith(`+strconv.Quote(dev.mediaOrigin+"/")+`) && `+
		`document.querySelector('img.avatar').complete && document.querySelector('img.avatar').naturalWidth > 0 && `+
		`document.querySelector('p.notice') !== null`) {
		b.fatal("after saving, the page does not show the uploaded avatar from the media origin")
	}
	collect()

	for _, w := range settingsWidths {
		opts := []chromedp.EmulateViewportOption{}
		if w.mobile {
			opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
		}
		run("viewport "+w.name, chromedp.EmulateViewport(w.width, w.height, opts...))
		for _, pg := range settingsPagePaths {
			what := pg.path + " at " + w.name + " width"
			if r := b.load(what, chromedp.Navigate(dev.base+pg.path)); r.Status != http.StatusOK {
				b.fatal("%s: status %d", what, r.Status)
			}
			if !eval(what+": form", `document.querySelector(`+strconv.Quote(pg.must)+`) !== null && `+
				`document.querySelector('nav.settings-nav a[aria-current="page"]').getAttribute('href') === `+strconv.Quote(pg.path)) {
				b.fatal("%s does not show its form and the navigation with itself current", what)
			}
			if !eval(what+": every page of the navigation is in this test", `Array.from(document.querySelectorAll('nav.settings-nav a')).`+
				`map(a => a.getAttribute('href')).join(' ') === `+strconv.Quote(allSettingsPaths())) {
				b.fatal("%s: the settings navigation links to pages this test does not visit (settingsPagePaths)", what)
			}
			if !eval(what+": stylesheet", `getComputedStyle(document.querySelector('nav.settings-nav ul')).display === 'flex'`) {
				b.fatal("%s: rampart.css's settings rules do not apply", what)
			}
			// Against the screen's width too: a mobile browser widens
			// innerWidth to fit content that overflows.
			if w.mobile && !eval(what+": overflow", `document.scrollingElement.scrollWidth <= window.innerWidth && `+
				`document.scrollingElement.scrollWidth <= `+strconv.FormatInt(w.width, 10)) {
				sctx, done := b.step()
				widths, _ := chromedp.Run(sctx, chromedp.Evaluate[string](`document.scrollingElement.scrollWidth + " > " + window.innerWidth`))
				done()
				t.Errorf("%s: the page is wider than the screen (%s)", what, widths)
			}
			b.screenshot(strings.ReplaceAll(strings.TrimPrefix(pg.path, "/"), "/", "-") + "-" + w.name)
			collect()
		}
	}

	if err := chromedp.Do(b.ctx, chromedp.Sleep(200*time.Millisecond)); err != nil {
		b.fatal("%v", err)
	}
	csp, errs, _ := b.problems.snapshot()
	if len(csp) > 0 || len(violations) > 0 || len(errs) > 0 {
		b.dump()
		t.Errorf("the browser reported %d CSP issues, %d securitypolicyviolation events and %d errors (listed above)",
			len(csp), len(violations), len(errs))
	}
	if strings.Contains(dev.log.String(), `"level":"ERROR"`) {
		b.dump()
		t.Error("the server logged an error (log above)")
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("the test ran out of its 90 s")
	}
}
