package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Registration refuses wildcard and non-absolute redirect URIs with 422 (the
// consent page would otherwise widen its CSP form-action to https://*), and
// keeps the URIs Mastodon apps use.
func TestAppRegistrationRedirectURIs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	register := func(uris ...string) *http.Response {
		form := url.Values{"client_name": {"App"}, "redirect_uris": {strings.Join(uris, "\n")}, "scopes": {"read"}}
		rec := e.do(t, http.MethodPost, "/api/v1/apps", strings.NewReader(form.Encode()),
			"Content-Type", "application/x-www-form-urlencoded")
		return rec.Result()
	}
	for _, uri := range []string{
		"https://*/cb", "https://*.app.example/cb", "https://%2A/cb", "http://*:8080/cb", "https://app.example/*",
		"myapp://*/cb", "/cb", "//app.example/cb", "app.example/cb", "https:app.example/cb", "https:///cb",
	} {
		if res := register(uri); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("redirect_uris %q: status %d, want 422", uri, res.StatusCode)
		}
	}
	// One bad URI among good ones spoils the registration.
	if res := register("https://app.example/cb", "https://*/cb"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a wildcard beside a good URI: status %d, want 422", res.StatusCode)
	}
	for _, uri := range []string{
		"urn:ietf:wg:oauth:2.0:oob", "com.example.app:/cb", "myapp://oauth/callback", "https://app.example/cb?x=1",
		"http://127.0.0.1:8080/cb", "http://[::1]:8080/cb",
	} {
		if res := register(uri); res.StatusCode != http.StatusOK {
			t.Errorf("redirect_uris %q: status %d, want 200", uri, res.StatusCode)
		}
	}
}
