package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestSignInAndSignOutRefuseEmptyCSRFTokens: a POST to the sign-in or
// sign-out form without the visitor's token does nothing and gets 403, also
// when the visitor has no cookie at all and sends an empty token (the case in
// which there is no token to compare with).
func TestSignInAndSignOutRefuseEmptyCSRFTokens(t *testing.T) {
	s := openSite(t)
	s.user("alice")
	creds := func(token *string) url.Values {
		v := url.Values{"username": {"alice"}, "password": {"correct horse battery"}, "return_to": {"/"}}
		if token != nil {
			v.Set("csrf_token", *token)
		}
		return v
	}
	empty := ""

	// Sign-in: no cookie, no token or an empty one; a cookie and an empty token.
	for name, token := range map[string]*string{"without a token": nil, "with an empty token": &empty} {
		c := s.newFormClient()
		if r := c.do(http.MethodPost, "/auth/sign_in", creds(token)); r.Code != http.StatusForbidden {
			t.Errorf("sign-in without a cookie, %s: %d, want 403", name, r.Code)
		}
		if who := c.signedInAs(); who != "" {
			t.Errorf("sign-in without a cookie, %s, signed in as %s", name, who)
		}
		c.do(http.MethodGet, "/auth/sign_in", nil) // now the visitor has a cookie
		if r := c.do(http.MethodPost, "/auth/sign_in", creds(token)); r.Code != http.StatusForbidden {
			t.Errorf("sign-in with a cookie, %s: %d, want 403", name, r.Code)
		}
		if who := c.signedInAs(); who != "" {
			t.Errorf("sign-in with a cookie, %s, signed in as %s", name, who)
		}
	}

	// Sign-out: a signed-in visitor's POST without its token leaves it signed in.
	alice := s.newFormClient()
	alice.signIn("alice")
	for name, form := range map[string]url.Values{"without a token": {}, "with an empty token": {"csrf_token": {""}}} {
		if r := alice.do(http.MethodPost, "/auth/sign_out", form); r.Code != http.StatusForbidden {
			t.Errorf("sign-out %s: %d, want 403", name, r.Code)
		}
		if who := alice.signedInAs(); who != "alice" {
			t.Fatalf("sign-out %s signed alice out (home greets %q)", name, who)
		}
		if r := s.newFormClient().do(http.MethodPost, "/auth/sign_out", form); r.Code != http.StatusForbidden {
			t.Errorf("sign-out without a cookie, %s: %d, want 403", name, r.Code)
		}
	}

	// With the right tokens both work, so the refusals were the tokens' doing.
	home := alice.do(http.MethodGet, "/", nil)
	if r := alice.do(http.MethodPost, "/auth/sign_out", url.Values{"csrf_token": {csrfIn(t, home.Body.String())}}); r.Code != http.StatusSeeOther {
		t.Fatalf("sign-out with the token: %d", r.Code)
	}
	if who := alice.signedInAs(); who != "" {
		t.Errorf("still signed in as %s after signing out", who)
	}
	alice.signIn("alice")
}
