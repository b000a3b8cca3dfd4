package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserSessionsAndHistoryPages loads /settings/sessions and
// /settings/history in headless Chromium at desktop and phone width, revokes
// an app with a real click, and fails on any CSP violation, console error or
// sideways scrolling at phone width.
func TestBrowserSessionsAndHistoryPages(t *testing.T) {
	browserPath := requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dev := startDevInstance(t, ctx)
	poster := newSite(t, dev.inst, dev.appHost)
	token := poster.token("alice")

	b := newHeadless(t, ctx, browserPath, dev.log)
	defer b.stop()
	var violations []map[string]any
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
	evalBool := func(what, js string) bool {
		t.Helper()
		sctx, done := b.step()
		defer done()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[bool](js))
		if err != nil {
			b.fatal("%s: %v", what, err)
		}
		return v
	}
	b.watch()

	b.load("sign-in page", chromedp.Navigate(dev.base+"/auth/sign_in?return_to=/settings/sessions"))
	b.fillSignIn("alice", "correct horse battery")
	if r := b.load("sign in", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_in"] button[type="submit"]`))); r.Status != http.StatusOK {
		b.fatal("after sign-in: status %d", r.Status)
	}
	if !evalBool("the sessions page", `location.pathname === "/settings/sessions" && document.body.textContent.includes("This browser") && document.body.textContent.includes("poster")`) {
		b.fatal("after sign-in the browser is not on the sessions page showing this browser and the app")
	}
	collect()

	for _, width := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 800}, {"phone", 375, 740}} {
		sctx, done := b.step()
		if err := chromedp.Do(sctx, chromedp.EmulateViewport(width.w, width.h)); err != nil {
			done()
			b.fatal("viewport %s: %v", width.name, err)
		}
		done()
		for _, path := range []string{"/settings/sessions", "/settings/history"} {
			if r := b.load(path, chromedp.Navigate(dev.base+path)); r.Status != http.StatusOK {
				b.fatal("%s at %s width: status %d", path, width.name, r.Status)
			}
			if !evalBool("overflow", `document.documentElement.scrollWidth <= window.innerWidth`) {
				t.Errorf("%s scrolls sideways at %s width", path, width.name)
			}
			collect()
		}
	}

	// Revoke the app with a real click: the form's POST carries its CSRF token.
	b.load("sessions page", chromedp.Navigate(dev.base+"/settings/sessions"))
	if r := b.load("revoke the app", chromedp.Click(chromedp.CSS(`form[action="/settings/apps/revoke"] button`))); r.Status != http.StatusOK {
		b.fatal("after revoking: status %d", r.Status)
	}
	if evalBool("the app is gone", `document.body.textContent.includes("poster")`) {
		b.fatal("the revoked app is still listed")
	}
	collect()
	if code := poster.apiStatus(token); code != http.StatusUnauthorized {
		t.Errorf("the revoked app's token: %d; want 401", code)
	}
	b.load("history", chromedp.Navigate(dev.base+"/settings/history"))
	if !evalBool("history", `document.body.textContent.includes("App access revoked") && document.body.textContent.includes("Signed in from a new browser")`) {
		b.fatal("the history does not show the revocation and the sign-in")
	}
	collect()

	csp, errs, _ := b.problems.snapshot()
	if len(csp) > 0 || len(violations) > 0 || len(errs) > 0 {
		b.dump()
		t.Errorf("the browser reported %d CSP issues, %d securitypolicyviolation events (%v) and %d errors", len(csp), len(violations), violations, len(errs))
	}
	if strings.Contains(dev.log.String(), `"level":"ERROR"`) {
		t.Errorf("the server logged an error:\n%s", dev.log.String())
	}
}
