package web_test

import (
	"context"
	"encoding/base32"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserTwoFactorPagesKeepTheCSP sets up TOTP in headless Chromium
// (the QR image loads from the instance host), signs out and in again
// through the second step, at desktop and at phone width, and fails on any
// CSP violation, console error or exception the browser reports.
func TestBrowserTwoFactorPagesKeepTheCSP(t *testing.T) {
	browserPath := requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, width := range []int64{1280, 390} {
		dev := startDevInstance(t, ctx)
		b := newHeadless(t, ctx, browserPath, dev.log)
		b.watch()
		run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
			t.Helper()
			sctx, done := b.step()
			defer done()
			if err := chromedp.Do(sctx, steps...); err != nil {
				b.fatal("width %d: %s: %v", width, what, err)
			}
		}
		eval := func(js string) string {
			t.Helper()
			sctx, done := b.step()
			defer done()
			v, err := chromedp.Run(sctx, chromedp.Evaluate[string](js))
			if err != nil {
				b.fatal("width %d: %s: %v", width, js, err)
			}
			return v
		}
		run("viewport", chromedp.EmulateViewport(width, 900))
		b.load("sign-in page", chromedp.Navigate(dev.base+"/auth/sign_in?return_to=/settings/two_factor"))
		b.fillSignIn("alice", "correct horse battery")
		if r := b.load("sign in", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_in"] button[type="submit"]`))); r.Status != http.StatusOK {
			b.fatal("after sign-in: %d", r.Status)
		}
		b.load("set up", chromedp.Click(chromedp.CSS(`form[action="/settings/two_factor/enrol"] button`)))
		// The QR code is an image of the instance host that loaded.
		run("QR image", chromedp.WaitVisible(chromedp.CSS("img.tf-qr")))
		if w := eval(`String(document.querySelector("img.tf-qr").complete && document.querySelector("img.tf-qr").naturalWidth)`); w == "0" || w == "false" {
			b.fatal("width %d: the QR image did not load (%s)", width, w)
		}
		b.screenshot(fmt.Sprintf("two_factor-enrol-%d", width))
		key := strings.ReplaceAll(eval(`document.querySelector("code.tf-secret").textContent`), " ", "")
		secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key)
		if err != nil {
			b.fatal("width %d: key %q: %v", width, key, err)
		}
		run("type the code", chromedp.SendKeys(chromedp.ID("confirm-code"), totpCode(t, secret, 0)))
		run("type the password", chromedp.SendKeys(chromedp.ID("confirm-password"), "correct horse battery"))
		b.load("confirm", chromedp.Click(chromedp.CSS(`form[action="/settings/two_factor/confirm"] button`)))
		if n := eval(`String(document.querySelectorAll("ol.recovery-codes li").length)`); n != "10" {
			b.fatal("width %d: %s recovery codes shown", width, n)
		}
		b.screenshot(fmt.Sprintf("two_factor-recovery_codes-%d", width))
		// Sign out, and in again through the second step.
		b.load("home", chromedp.Navigate(dev.base+"/"))
		b.load("sign out", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_out"] button`)))
		b.load("sign-in page", chromedp.Navigate(dev.base+"/auth/sign_in"))
		b.fillSignIn("alice", "correct horse battery")
		b.load("password", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_in"] button[type="submit"]`)))
		if loc := eval(`location.pathname`); loc != "/auth/second_factor" {
			b.fatal("width %d: after the password: %s", width, loc)
		}
		b.screenshot(fmt.Sprintf("second_factor-%d", width))
		run("type the code", chromedp.SendKeys(chromedp.ID("code"), totpCode(t, secret, 1)))
		b.load("second step", chromedp.Click(chromedp.CSS(`form[action="/auth/second_factor"] button`)))
		if main := eval(`document.querySelector("main").textContent`); !strings.Contains(main, "Signed in as") {
			b.fatal("width %d: not signed in after the second step: %q", width, main)
		}
		if v := eval(`JSON.stringify(window.__csp || [])`); v != "[]" {
			b.fatal("width %d: securitypolicyviolation events: %s", width, v)
		}
		csp, errs, _ := b.problems.snapshot()
		if len(csp) > 0 || len(errs) > 0 {
			b.fatal("width %d: CSP reports %q, browser errors %q", width, csp, errs)
		}
		b.stop()
	}
}
