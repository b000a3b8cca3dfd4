package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

// TestSignInRedirectStaysOnThisHost: whatever return_to the sign-in form is
// given or posted, the form carries and the redirect after a successful
// sign-in goes to a path on this host; a local path is kept.
func TestSignInRedirectStaysOnThisHost(t *testing.T) {
	s := openSite(t)
	s.user("alice")
	hidden := regexp.MustCompile(`name="return_to" value="([^"]*)"`)
	for returnTo, want := range map[string]string{
		"//evil.test/":        "/",
		`/\evil.test`:         "/",
		"/\t/evil.test":       "/",
		"/\r/evil.test":       "/",
		"https://evil.test/":  "/",
		"javascript:alert(1)": "/",
		"/@alice?x=1":         "/@alice?x=1",
	} {
		c := s.newFormClient()
		form := c.do(http.MethodGet, "/auth/sign_in?"+url.Values{"return_to": {returnTo}}.Encode(), nil)
		if m := hidden.FindStringSubmatch(form.Body.String()); m == nil || html.UnescapeString(m[1]) != want {
			t.Errorf("return_to %q: the form carries %q, want %q", returnTo, m, want)
		}
		// The POST is checked on its own: a forged form may carry anything.
		r := c.do(http.MethodPost, "/auth/sign_in", url.Values{"csrf_token": {csrfIn(t, form.Body.String())},
			"username": {"alice"}, "password": {"correct horse battery"}, "return_to": {returnTo}})
		if r.Code != http.StatusSeeOther || r.Header().Get("Location") != want {
			t.Errorf("return_to %q: %d → %q, want %q", returnTo, r.Code, r.Header().Get("Location"), want)
		}
	}
}
