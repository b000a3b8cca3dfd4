package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/oauth"
)

// consentForm is what the consent page's form posts, without its CSRF token.
func consentForm(t *testing.T, page string) url.Values {
	t.Helper()
	form := url.Values{"decision": {"approve"}}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		if m[1] != "csrf_token" {
			form.Set(m[1], m[2])
		}
	}
	if form.Get("client_id") == "" || form.Get("redirect_uri") == "" {
		t.Fatalf("not a consent form:\n%s", page)
	}
	return form
}

// TestConsentRefusesPostsWithoutTheVisitorsCSRFToken: approving an app is a
// POST that a signed-in visitor's own form must have made. Without the
// token, with an empty one, with another visitor's or with the one from
// before sign-in, the answer is 403 and no authorization code exists.
func TestConsentRefusesPostsWithoutTheVisitorsCSRFToken(t *testing.T) {
	s, cfg := openSiteWithConfig(t)
	s.user("alice")
	s.user("mallory")
	app, _, err := s.inst.OAuth().RegisterApp(context.Background(), oauth.AppParams{Name: "Client",
		RedirectURIs: []string{"https://client.test/cb"}, Scopes: "read write"})
	if err != nil {
		t.Fatal(err)
	}
	authorize := "/oauth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {app.ClientID},
		"redirect_uri": {"https://client.test/cb"}, "scope": {"read write"}, "state": {"st"}}.Encode()

	alice := s.newFormClient()
	beforeSignIn := csrfIn(t, alice.do(http.MethodGet, "/auth/sign_in", nil).Body.String())
	alice.signIn("alice")
	page := alice.do(http.MethodGet, authorize, nil)
	if page.Code != http.StatusOK {
		t.Fatalf("consent page: %d %s", page.Code, page.Header().Get("Location"))
	}
	own := csrfIn(t, page.Body.String())
	form := consentForm(t, page.Body.String())

	stranger := s.newFormClient()
	strangers := csrfIn(t, stranger.do(http.MethodGet, "/auth/sign_in", nil).Body.String())
	mallory := s.newFormClient()
	mallory.signIn("mallory")
	mallorys := csrfIn(t, mallory.do(http.MethodGet, authorize, nil).Body.String())

	for name, token := range map[string]*string{
		"no token":                             nil,
		"an empty token":                       new(string),
		"a signed-out visitor's token":         &strangers,
		"another signed-in user's token":       &mallorys,
		"her own token from before signing in": &beforeSignIn,
		"her token with one byte changed":      ptr(own[:10] + string(own[10]^1) + own[11:]),
	} {
		post := url.Values{}
		for k, v := range form {
			post[k] = v
		}
		if token != nil {
			post.Set("csrf_token", *token)
		}
		r := alice.do(http.MethodPost, "/oauth/authorize", post)
		if r.Code != http.StatusForbidden || r.Header().Get("Location") != "" || strings.Contains(r.Body.String(), "code=") {
			t.Errorf("consent with %s: %d → %q, want 403 and no redirect", name, r.Code, r.Header().Get("Location"))
		}
	}
	// A visitor with no cookie at all and an empty token.
	noCookie := s.newFormClient()
	post := url.Values{"csrf_token": {""}}
	for k, v := range form {
		post[k] = v
	}
	if r := noCookie.do(http.MethodPost, "/oauth/authorize", post); r.Code != http.StatusForbidden || r.Header().Get("Location") != "" {
		t.Errorf("consent without a cookie and with an empty token: %d → %q", r.Code, r.Header().Get("Location"))
	}
	if n := countRows(t, cfg, "oauth_codes"); n != 0 {
		t.Fatalf("%d authorization codes were issued by refused consent posts", n)
	}

	// The same form with her own token is approved: the refusals above were the token's doing.
	form.Set("csrf_token", own)
	r := alice.do(http.MethodPost, "/oauth/authorize", form)
	back, _ := url.Parse(r.Header().Get("Location"))
	if r.Code != http.StatusFound || back.Host != "client.test" || back.Query().Get("code") == "" {
		t.Fatalf("consent with her own token: %d → %q", r.Code, r.Header().Get("Location"))
	}
	if n := countRows(t, cfg, "oauth_codes"); n != 1 {
		t.Errorf("%d codes after one approval", n)
	}
}

func ptr(s string) *string { return &s }
