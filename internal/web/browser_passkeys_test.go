package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// TestBrowserPasskeys drives the passkey pages in Chromium with a virtual
// authenticator (the DevTools WebAuthn domain: CTAP2, internal, resident
// keys, user verification that succeeds): alice signs in with her password,
// adds a passkey on /settings/passkeys, signs out, and signs in again with
// the passkey alone through the sign-in page's button, landing where
// return_to said; then, signed out again, her password leads to the second
// step, where the passkey completes the sign-in (a second factor). No CSP
// violation, console error or exception on the way.
// Then a page on another origin asks the authenticator for a credential of
// the instance's RP id, and the browser refuses.
//
// The instance is startDevInstance's: http://localhost:PORT. WebAuthn needs
// a secure context and an RP id that is a domain: "localhost" is both (the
// browser treats http://localhost as secure, and the RP id is the URL's
// host name, here "localhost"), so no certificate or host-resolver rule is
// needed. The other origin is http://127.0.0.2:PORT, a secure context too
// (loopback), whose host "localhost" is not a suffix of.
func TestBrowserPasskeys(t *testing.T) {
	browserPath := requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dev := startDevInstance(t, ctx)
	base := dev.base

	// Without JavaScript the passkey button is not there: the form is hidden in the HTML.
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(base + "/auth/sign_in")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(html), `data-passkey="get" data-passkey-options="/auth/passkey/options" hidden>`) {
		t.Fatalf("the sign-in page's passkey form is not hidden before its script runs:\n%s", html)
	}

	b := newHeadless(t, ctx, browserPath, dev.log)
	defer b.stop()
	var pageViolations []map[string]any
	b.more = func() { t.Logf("securitypolicyviolation events (%d): %v", len(pageViolations), pageViolations) }
	collect := func() {
		t.Helper()
		sctx, done := b.step()
		defer done()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[[]map[string]any](`window.__csp || []`))
		if err != nil {
			b.fatal("reading window.__csp: %v", err)
		}
		pageViolations = append(pageViolations, v...)
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
	text := func(sel string) string {
		t.Helper()
		sctx, done := b.step()
		defer done()
		s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			b.fatal("text of %s: %v", sel, err)
		}
		return s
	}
	location := func() string {
		t.Helper()
		sctx, done := b.step()
		defer done()
		s, err := chromedp.Run(sctx, chromedp.Location())
		if err != nil {
			b.fatal("location: %v", err)
		}
		return s
	}
	b.watch()

	// The virtual authenticator: a platform authenticator with resident
	// keys whose user verification succeeds, present at once.
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.fatal("WebAuthn.enable: %v", err)
	}
	auth, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		b.fatal("WebAuthn.addVirtualAuthenticator: %v", err)
	}

	// 1. Sign in with the password.
	b.load("sign-in page", chromedp.Navigate(base+"/auth/sign_in?return_to=%2Fsettings%2Fpasskeys"))
	b.fillSignIn("alice", "correct horse battery")
	collect()
	if r := b.load("sign in", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_in"] button[type="submit"]`))); r.Status != http.StatusOK {
		b.fatal("after sign-in: status %d at %s", r.Status, location())
	}
	if loc := location(); loc != base+"/settings/passkeys" {
		b.fatal("after sign-in the browser is at %s, want the passkeys page", loc)
	}

	// 2. Add a passkey.
	if main := text("main"); !strings.Contains(main, "You have no passkey yet") {
		b.fatal("the passkeys page before any: %q", main)
	}
	if !evalBool("add form shown", `!document.querySelector('form[data-passkey="create"]').hidden`) {
		b.fatal("the script did not show the add form")
	}
	sctx, done := b.step()
	if err := chromedp.Do(sctx, chromedp.SendKeys(chromedp.ID("passkey-name"), "Test laptop"),
		chromedp.SendKeys(chromedp.ID("passkey-password"), "correct horse battery")); err != nil {
		done()
		b.fatal("name the passkey: %v", err)
	}
	done()
	collect()
	if r := b.load("add a passkey", chromedp.Click(chromedp.CSS(`form[data-passkey="create"] button[type="submit"]`))); r.Status != http.StatusOK {
		b.fatal("after adding: status %d at %s: %q", r.Status, location(), text("main"))
	}
	if loc := location(); loc != base+"/settings/passkeys?done=added" {
		b.fatal("after adding the browser is at %s: %q", loc, text("main"))
	}
	if main := text("main"); !strings.Contains(main, "Passkey added.") || !strings.Contains(main, "Test laptop") || !strings.Contains(main, "never used") {
		b.fatal("the passkeys page after adding: %q", main)
	}
	creds, err := chromedp.Call(b.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth.AuthenticatorID})
	if err != nil {
		b.fatal("WebAuthn.getCredentials: %v", err)
	}
	if len(creds.Credentials) != 1 || creds.Credentials[0].RpID != "localhost" || !creds.Credentials[0].IsResidentCredential ||
		len(creds.Credentials[0].UserHandle) != 32 || creds.Credentials[0].UserName != "alice" {
		b.fatal("the authenticator holds %+v; want one resident credential for localhost with a 32-byte user handle", creds.Credentials)
	}
	collect()

	// 3. Sign out.
	b.load("home", chromedp.Navigate(base+"/"))
	b.load("sign out", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_out"] button[type="submit"]`)))
	if main := text("main"); strings.Contains(main, "Signed in as") {
		b.fatal("still signed in after signing out: %q", main)
	}
	collect()

	// 4. Sign in with the passkey alone, back to where return_to says.
	b.load("sign-in page", chromedp.Navigate(base+"/auth/sign_in?return_to=%2Fsettings%2Fpasskeys"))
	if !evalBool("passkey button shown", `!document.querySelector('form[data-passkey="get"]').hidden`) {
		b.fatal("the script did not show the passkey sign-in button")
	}
	collect()
	if r := b.load("sign in with a passkey", chromedp.Click(chromedp.ID("passkey-signin"))); r.Status != http.StatusOK {
		b.fatal("after the passkey sign-in: status %d at %s: %q", r.Status, location(), text("main"))
	}
	if loc := location(); loc != base+"/settings/passkeys" {
		b.fatal("after the passkey sign-in the browser is at %s: %q", loc, text("main"))
	}
	if who := text("header .who"); who != "@alice" {
		b.fatal("signed in as %q after the passkey sign-in, want @alice", who)
	}
	if main := text("main"); !strings.Contains(main, "last used") {
		b.fatal("the passkey's last use is not shown: %q", main)
	}
	collect()
	// The security history tells of the passkey added.
	b.load("security history", chromedp.Navigate(base+"/settings/history"))
	if main := text("main"); !strings.Contains(main, "Passkey added") {
		b.fatal("the security history does not show the passkey added: %q", main)
	}
	collect()

	// 5. Sign out; the password alone no longer signs in: the second step
	// asks for the passkey (and no code, alice has no TOTP), and the passkey
	// completes the sign-in, back to where return_to said.
	b.load("home", chromedp.Navigate(base+"/"))
	b.load("sign out", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_out"] button[type="submit"]`)))
	b.load("sign-in page", chromedp.Navigate(base+"/auth/sign_in?return_to=%2Fsettings%2Fpasskeys"))
	b.fillSignIn("alice", "correct horse battery")
	if r := b.load("password step", chromedp.Click(chromedp.CSS(`form[action="/auth/sign_in"] button[type="submit"]`))); r.Status != http.StatusOK {
		b.fatal("after the password: status %d at %s", r.Status, location())
	}
	if loc := location(); loc != base+"/auth/second_factor" {
		b.fatal("after the password the browser is at %s, want the second step: %q", loc, text("main"))
	}
	if !evalBool("second-step passkey button shown", `!document.querySelector('form[action="/auth/second_factor/passkey"]').hidden`) {
		b.fatal("the script did not show the second step's passkey button")
	}
	if evalBool("code form", `document.querySelector('input[name="code"]') !== null`) {
		b.fatal("the second step asks a passkey-only account for a code: %q", text("main"))
	}
	collect()
	if r := b.load("second step with a passkey", chromedp.Click(chromedp.ID("passkey-second-factor"))); r.Status != http.StatusOK {
		b.fatal("after the second step: status %d at %s: %q", r.Status, location(), text("main"))
	}
	if loc := location(); loc != base+"/settings/passkeys" {
		b.fatal("after the second step the browser is at %s: %q", loc, text("main"))
	}
	if who := text("header .who"); who != "@alice" {
		b.fatal("signed in as %q after the second step, want @alice", who)
	}
	collect()

	// 6. A page on another origin cannot use the instance's RP id.
	other := listenLoopback(t, "127.0.0.2")
	otherSrv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>other</title></head><body><p>other origin</p></body></html>`)
	})}
	go otherSrv.Serve(other)
	t.Cleanup(func() { otherSrv.Close() })
	b.load("other origin", chromedp.Navigate("http://"+other.Addr().String()+"/"))
	sctx, done = b.step()
	refused, err := chromedp.Run(sctx, chromedp.Evaluate[string](`navigator.credentials.get({publicKey: {
		challenge: new Uint8Array(32), rpId: "localhost", userVerification: "discouraged", timeout: 5000}})
		.then(() => "allowed", e => e.name)`, chromedp.EvalAwaitPromise))
	done()
	if err != nil {
		b.fatal("the other origin's request: %v", err)
	}
	if refused != "SecurityError" {
		b.fatal("a page on %s asking for RP id localhost: %q, want SecurityError", other.Addr(), refused)
	}

	// Judge the instance's pages.
	csp, errs, _ := b.problems.snapshot()
	if len(csp) > 0 || len(pageViolations) > 0 || len(errs) > 0 {
		b.dump()
		t.Errorf("the browser reported %d CSP issues, %d securitypolicyviolation events and %d errors (listed above)",
			len(csp), len(pageViolations), len(errs))
	}
	if strings.Contains(dev.log.String(), `"level":"ERROR"`) {
		b.dump()
		t.Error("the server logged an error (log above)")
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("the test ran out of its 90 s")
	}
}
