package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/testdb"
)

func (c *jarClient) signOut() {
	c.s.t.Helper()
	home := c.do(http.MethodGet, "/", nil)
	if r := c.do(http.MethodPost, "/auth/sign_out", url.Values{"csrf_token": {csrfIn(c.s.t, home.Body.String())}}); r.Code != http.StatusSeeOther {
		c.s.t.Fatalf("sign out: %d", r.Code)
	}
}

// post sends a form from the page at from, with that page's CSRF token.
func (c *jarClient) post(from, target string, form url.Values) *httptest.ResponseRecorder {
	c.s.t.Helper()
	page := c.do(http.MethodGet, from, nil)
	form.Set("csrf_token", csrfIn(c.s.t, page.Body.String()))
	return c.do(http.MethodPost, target, form)
}

var sessionIDs = regexp.MustCompile(`name="session" value="([0-9a-f]+)"`)

// otherSessions are the ids of the sessions the sessions page offers to revoke.
func (c *jarClient) otherSessions() []string {
	c.s.t.Helper()
	r := c.do(http.MethodGet, "/settings/sessions", nil)
	if r.Code != http.StatusOK {
		c.s.t.Fatalf("/settings/sessions: %d", r.Code)
	}
	var ids []string
	for _, m := range sessionIDs.FindAllStringSubmatch(r.Body.String(), -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// apiStatus is the status of an authenticated API call with token.
func (s *site) apiStatus(token string) int {
	s.t.Helper()
	return s.request(http.MethodGet, "/api/v1/accounts/verify_credentials", nil, token).Code
}

// Revoking from the page ends the other browser's session (its next page
// load is signed out) and the app's token (the next API call gets 401);
// "sign out everywhere else" ends the rest and keeps this browser.
func TestRevokingFromTheSessionsPageEndsTheSessionAndTheToken(t *testing.T) {
	s := openSite(t)
	token := s.user("alice")
	here, there, third := s.newJar(), s.newJar(), s.newJar()
	here.signIn("alice")
	there.signIn("alice")

	page := here.do(http.MethodGet, "/settings/sessions", nil).Body.String()
	for _, want := range []string{"This browser", "Firefox on Linux", "192.0.2.0/24", "poster", "read write", "Sign out everywhere else"} {
		if !strings.Contains(page, want) {
			t.Errorf("the sessions page does not show %q", want)
		}
	}
	others := here.otherSessions()
	if len(others) != 1 {
		t.Fatalf("the page offers %d other sessions to revoke; want the other browser's one", len(others))
	}
	if r := here.post("/settings/sessions", "/settings/sessions/revoke", url.Values{"session": {others[0]}}); r.Code != http.StatusSeeOther {
		t.Fatalf("revoke the other session: %d\n%s", r.Code, r.Body)
	}
	if who := there.signedInAs(); who != "" {
		t.Errorf("the revoked browser still signed in as %s", who)
	}
	if who := here.signedInAs(); who != "alice" {
		t.Errorf("this browser was signed out too (%q)", who)
	}

	if code := s.apiStatus(token); code != http.StatusOK {
		t.Fatalf("the app's token before revoking: %d", code)
	}
	if r := here.post("/settings/sessions", "/settings/apps/revoke", url.Values{"app": {itoa(s.appID)}}); r.Code != http.StatusSeeOther {
		t.Fatalf("revoke the app: %d\n%s", r.Code, r.Body)
	}
	if code := s.apiStatus(token); code != http.StatusUnauthorized {
		t.Errorf("the revoked app's token: %d; want 401", code)
	}
	if strings.Contains(here.do(http.MethodGet, "/settings/sessions", nil).Body.String(), "poster") {
		t.Error("the revoked app is still listed")
	}

	there.signIn("alice")
	third.signIn("alice")
	if r := here.post("/settings/sessions", "/settings/sessions/others", url.Values{}); r.Code != http.StatusSeeOther {
		t.Fatalf("sign out everywhere else: %d", r.Code)
	}
	if a, b, c := here.signedInAs(), there.signedInAs(), third.signedInAs(); a != "alice" || b != "" || c != "" {
		t.Errorf("after signing out everywhere else: this browser %q, the others %q and %q; want alice, none, none", a, b, c)
	}
	history := here.do(http.MethodGet, "/settings/history", nil).Body.String()
	for _, want := range []string{"Signed out other browsers", "App access revoked", "poster", "2 browsers signed out"} {
		if !strings.Contains(history, want) {
			t.Errorf("the history does not show %q", want)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// A revoke without the page's CSRF token, or with another visitor's, does
// nothing and gets 403.
func TestRevokingNeedsTheCSRFToken(t *testing.T) {
	s := openSite(t)
	token := s.user("alice")
	here, there := s.newJar(), s.newJar()
	here.signIn("alice")
	there.signIn("alice")
	other := here.otherSessions()[0]
	for name, csrf := range map[string]string{"no token": "", "another visitor's token": csrfIn(t, s.newJar().do(http.MethodGet, "/auth/sign_in", nil).Body.String())} {
		for target, form := range map[string]url.Values{
			"/settings/sessions/revoke": {"session": {other}},
			"/settings/sessions/others": {},
			"/settings/apps/revoke":     {"app": {itoa(s.appID)}},
		} {
			form.Set("csrf_token", csrf)
			if r := here.do(http.MethodPost, target, form); r.Code != http.StatusForbidden {
				t.Errorf("%s with %s: %d; want 403", target, name, r.Code)
			}
		}
	}
	if who := there.signedInAs(); who != "alice" {
		t.Errorf("a refused revoke signed the other browser out (%q)", who)
	}
	if code := s.apiStatus(token); code != http.StatusOK {
		t.Errorf("a refused revoke ended the token: %d", code)
	}
}

// Ids of another account's session or app get 404 and revoke nothing.
func TestOneCannotRevokeAnotherAccountsSessionOrApp(t *testing.T) {
	s := openSite(t)
	ctx := context.Background()
	s.user("alice")
	s.user("bob")
	bobsApp, _, err := s.inst.OAuth().RegisterApp(ctx, oauth.AppParams{Name: "bob's app", RedirectURIs: []string{oauth.OOB}, Scopes: "read"})
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := oauth.ParseScopes("read")
	bobsToken, err := s.inst.OAuth().IssueForAccount(ctx, bobsApp.ID, s.account("bob").ID, sc)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := s.newJar(), s.newJar()
	alice.signIn("alice")
	bob.signIn("bob")
	bobs, err := s.inst.Store().AccountSessions(ctx, s.account("bob").ID, time.Now())
	if err != nil || len(bobs) != 1 {
		t.Fatalf("bob's sessions: %v %v", bobs, err)
	}
	for target, form := range map[string]url.Values{
		"/settings/sessions/revoke": {"session": {bobs[0].IDHash}},
		"/settings/apps/revoke":     {"app": {itoa(bobsApp.ID)}},
	} {
		if r := alice.post("/settings/sessions", target, form); r.Code != http.StatusNotFound {
			t.Errorf("alice posting bob's id to %s: %d; want 404", target, r.Code)
		}
	}
	for _, bad := range []string{"", "x", "-1", "99999999999999999999"} {
		if r := alice.post("/settings/sessions", "/settings/apps/revoke", url.Values{"app": {bad}}); r.Code != http.StatusNotFound {
			t.Errorf("app id %q: %d; want 404", bad, r.Code)
		}
	}
	if who := bob.signedInAs(); who != "bob" {
		t.Errorf("bob was signed out by alice's request (%q)", who)
	}
	if code := s.apiStatus(bobsToken.Token); code != http.StatusOK {
		t.Errorf("bob's token after alice's request: %d; want 200", code)
	}
	if strings.Contains(alice.do(http.MethodGet, "/settings/sessions", nil).Body.String(), "bob&#39;s app") {
		t.Error("alice's page lists bob's app")
	}
}

// A sign-in from a browser that has not signed in to the account before
// records one event; the same browser signing in again records none.
func TestNewBrowserSignInIsRecordedOnce(t *testing.T) {
	s := openSite(t)
	s.user("alice")
	events := func() int {
		t.Helper()
		list, err := s.inst.Accounts().SecurityHistory(context.Background(), s.account("alice").ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range list {
			if e.Kind == accounts.EventNewBrowserSignIn {
				n++
			}
		}
		return n
	}
	first := s.newJar()
	first.signIn("alice")
	if n := events(); n != 1 {
		t.Fatalf("a first sign-in from a new browser: %d events; want 1", n)
	}
	first.signOut()
	first.signIn("alice")
	if n := events(); n != 1 {
		t.Fatalf("the same browser signing in again: %d events; want still 1", n)
	}
	s.newJar().signIn("alice")
	if n := events(); n != 2 {
		t.Fatalf("a second new browser: %d events; want 2", n)
	}
	history := first.do(http.MethodGet, "/settings/history", nil).Body.String()
	if c := strings.Count(history, "Signed in from a new browser"); c != 2 || !strings.Contains(history, "192.0.2.0/24") || !strings.Contains(history, "Firefox on Linux") {
		t.Errorf("the history shows %d new-browser sign-ins (want 2), with the network and browser:\n%s", c, history)
	}
}

// The history shows the account's own events only.
func TestHistoryShowsOnlyTheOwnersEvents(t *testing.T) {
	s := openSite(t)
	ctx := context.Background()
	s.user("alice")
	s.user("bob")
	if err := s.inst.Accounts().RecordSecurityEvent(ctx, s.account("bob").ID, accounts.EventPasswordChanged, "198.51.100.7", "curl/8", "bob-only"); err != nil {
		t.Fatal(err)
	}
	if err := s.inst.Accounts().RecordSecurityEvent(ctx, s.account("alice").ID, accounts.EventSecondFactorAdded, "2001:db8:1:2::3", "", "alice-only"); err != nil {
		t.Fatal(err)
	}
	alice, bob := s.newJar(), s.newJar()
	alice.signIn("alice")
	bob.signIn("bob")
	a := alice.do(http.MethodGet, "/settings/history", nil).Body.String()
	b := bob.do(http.MethodGet, "/settings/history", nil).Body.String()
	if strings.Contains(a, "bob-only") || strings.Contains(a, "Password changed") || !strings.Contains(a, "alice-only") || !strings.Contains(a, "2001:db8:1::/48") {
		t.Errorf("alice's history:\n%s", a)
	}
	if strings.Contains(b, "alice-only") || !strings.Contains(b, "bob-only") || !strings.Contains(b, "198.51.100.0/24") {
		t.Errorf("bob's history:\n%s", b)
	}
	// Signed out, the pages send the visitor to sign in.
	for _, p := range []string{"/settings/history", "/settings/sessions"} {
		if r := s.newJar().do(http.MethodGet, p, nil); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), "/auth/sign_in") {
			t.Errorf("%s signed out: %d to %q", p, r.Code, r.Header().Get("Location"))
		}
	}
}

// With security.access_token_lifetime set, tokens are issued with an
// expiry, and a token past it gets 401.
func TestExpiredTokenGets401(t *testing.T) {
	s, cfg := openSiteWithConfig(t, "[security]", `access_token_lifetime = "1h"`)
	token := s.user("alice")
	if code := s.apiStatus(token); code != http.StatusOK {
		t.Fatalf("a fresh token: %d", code)
	}
	db := testdb.Open(t, cfg.DatabasePath())
	var expires int64
	if err := db.QueryRow(`SELECT expires_at FROM oauth_tokens WHERE token_hash = '` + oauth.Hash(token) + `'`).Scan(&expires); err != nil {
		t.Fatal(err)
	}
	if left := time.Until(time.UnixMilli(expires)); left <= 0 || left > time.Hour {
		t.Fatalf("the token expires in %v; want within the configured hour", left)
	}
	// The hour passes.
	if _, err := db.Exec(`UPDATE oauth_tokens SET expires_at = expires_at - 3600001 WHERE token_hash = '` + oauth.Hash(token) + `'`); err != nil {
		t.Fatal(err)
	}
	if code := s.apiStatus(token); code != http.StatusUnauthorized {
		t.Errorf("an expired token: %d; want 401", code)
	}
}
