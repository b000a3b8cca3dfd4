package instance

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/session"
)

// attemptFrom posts the sign-in form with browser c from client address ip
// (the peer is the loopback proxy, which X-Forwarded-For is believed from).
func (ti *tlsInstance) attemptFrom(c *http.Client, login, pw, ip string) reply {
	ti.t.Helper()
	form := ti.call(c, "GET", "/auth/sign_in", nil, "", "X-Forwarded-For", ip)
	return ti.call(c, "POST", "/auth/sign_in", url.Values{"csrf_token": {csrfOf(ti.t, form.body)}, "username": {login}, "password": {pw}},
		"", "X-Forwarded-For", ip)
}

// stranger is a fresh browser.
func (ti *tlsInstance) stranger() *http.Client {
	c, _ := ti.newClient()
	return c
}

// An attacker on one network is stopped after login_attempts guesses at a
// login, and cannot lock its owner out: the owner signs in from another
// network, from a browser never seen before.
func TestOneNetworkCannotLockTheOwnerOut(t *testing.T) {
	ti := startTLS(t, "[security]", "login_attempts = 3", `login_window = "10m"`)
	ti.createUser("carol", "correct horse battery")
	for i := 1; i <= 3; i++ {
		if r := ti.attemptFrom(ti.stranger(), "carol", "wrong password!", fmt.Sprintf("198.51.100.%d", i)); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, r.status)
		}
	}
	if r := ti.attemptFrom(ti.stranger(), "carol", "correct horse battery", "198.51.100.99"); r.status != http.StatusTooManyRequests {
		t.Fatalf("the attacker's network after 3 guesses: %d", r.status)
	}
	if r := ti.attemptFrom(ti.stranger(), "carol", "correct horse battery", "192.0.2.7"); r.status != http.StatusSeeOther {
		t.Errorf("the owner from another network: %d (locked out)", r.status)
	}
}

// During an attack from many networks, the global per-login limit stops the
// attacker and a new browser of the owner alike, while the browser the owner
// signed in with before still signs in, after signing out too.
func TestKnownBrowserSignsInDuringADistributedAttack(t *testing.T) {
	ti := startTLS(t, "[security]", "login_attempts = 3", `login_window = "10m"`)
	ti.createUser("carol", "correct horse battery")
	owner, _ := ti.newClient()
	r := ti.attemptFrom(owner, "carol", "correct horse battery", "192.0.2.7")
	if r.status != http.StatusSeeOther {
		t.Fatalf("the owner's first sign-in: %d", r.status)
	}
	line, c := deviceCookie(t, r.header)
	attrs := map[string]bool{}
	for _, part := range strings.Split(line, ";")[1:] {
		attrs[strings.TrimSpace(strings.SplitN(part, "=", 2)[0])] = true
	}
	if c.Name != session.DeviceCookieName || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
		attrs["Domain"] || c.MaxAge != int(accounts.DeviceLifetime.Seconds()) || len(c.Value) != accounts.DeviceTokenLen {
		t.Errorf("device cookie: %s", line)
	}
	home := ti.call(owner, "GET", "/", nil, "")
	if out := ti.call(owner, "POST", "/auth/sign_out", url.Values{"csrf_token": {csrfOf(t, home.body)}}, ""); out.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", out.status)
	}

	for i := 0; i < 6*3; i++ { // the global limit: 6 × login_attempts
		if r := ti.attemptFrom(ti.stranger(), "carol", "wrong password!", fmt.Sprintf("10.0.%d.1", i)); r.status != http.StatusUnauthorized {
			t.Fatalf("distributed guess %d: %d", i+1, r.status)
		}
	}
	if r := ti.attemptFrom(ti.stranger(), "carol", "wrong password!", "10.1.0.1"); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("a guess past the global limit: %d", r.status)
	}
	// The trade-off: a browser the owner never signed in with must wait too.
	if r := ti.attemptFrom(ti.stranger(), "carol", "correct horse battery", "192.0.2.8"); r.status != http.StatusTooManyRequests {
		t.Errorf("the owner's new browser: %d", r.status)
	}
	r = ti.attemptFrom(owner, "carol", "correct horse battery", "192.0.2.7")
	if r.status != http.StatusSeeOther {
		t.Fatalf("the owner's known browser during the attack: %d %s", r.status, r.body)
	}
	if _, renewed := deviceCookie(t, r.header); renewed.Value == c.Value {
		t.Error("the device token was not renewed at sign-in")
	}
	if home := ti.call(owner, "GET", "/", nil, ""); !strings.Contains(home.body, "Signed in as <strong>@carol</strong>") {
		t.Error("the owner is not signed in")
	}
	// Abused, the known browser's token is revoked and removed from the browser.
	for i := 1; i <= 3; i++ {
		if r := ti.attemptFrom(owner, "carol", "wrong password!", "192.0.2.7"); r.status != http.StatusUnauthorized {
			t.Fatalf("known browser, wrong password %d: %d", i, r.status)
		}
	}
	r = ti.attemptFrom(owner, "carol", "correct horse battery", "192.0.2.7")
	if _, gone := deviceCookie(t, r.header); r.status != http.StatusTooManyRequests || gone.MaxAge >= 0 {
		t.Errorf("an abused device token: %d, cookie Max-Age %d", r.status, gone.MaxAge)
	}
}

func deviceCookie(t *testing.T, h http.Header) (string, *http.Cookie) {
	t.Helper()
	for _, line := range h.Values("Set-Cookie") {
		if strings.HasPrefix(line, session.DeviceCookieName+"=") {
			c, err := http.ParseSetCookie(line)
			if err != nil {
				t.Fatal(err)
			}
			return line, c
		}
	}
	t.Fatalf("no %s in %q", session.DeviceCookieName, h.Values("Set-Cookie"))
	return "", nil
}
