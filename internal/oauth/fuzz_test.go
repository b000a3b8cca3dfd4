package oauth

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/hostname"
)

// FuzzParseScopes: every scope kept is a Mastodon scope, every one refused is
// not, and the rendered set parses back to itself.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"", "read write", "read+write:statuses,follow", "admin:read:accounts", "read:", ":read",
		"read read", "\tpush\nprofile", "bogus read:bogus", "admin:write:canonical_email_blocks"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		scopes, bad := ParseScopes(s)
		if len(scopes) == 0 && len(bad) == 0 {
			t.Fatalf("ParseScopes(%q) is empty: read is the default", s)
		}
		for k := range scopes {
			if !Known(k) || !strings.Contains(s, k) && k != "read" {
				t.Fatalf("ParseScopes(%q) kept %q", s, k)
			}
		}
		for _, b := range bad {
			if Known(b) || b == "" || !strings.Contains(s, b) {
				t.Fatalf("ParseScopes(%q) refused %q", s, b)
			}
		}
		if len(scopes) == 0 {
			return // only unknown scopes: refused as a whole by the callers
		}
		again, bad2 := ParseScopes(scopes.String())
		if len(bad2) > 0 || again.String() != scopes.String() {
			t.Fatalf("ParseScopes(%q).String() = %q parses to %q, %q", s, scopes.String(), again.String(), bad2)
		}
	})
}

// FuzzParseRedirectURIs: whatever registration keeps is one to ten absolute
// URIs without a fragment, a wildcard or a script scheme, each http(s) one
// with a literal host.
func FuzzParseRedirectURIs(f *testing.F) {
	for _, s := range []string{cb, OOB, cb + "\n" + OOB, "https://*/cb", "com.example.app:/cb", "myapp://cb",
		"javascript:alert(1)", "https://%2A/cb", "http://[::1]:8080/cb", "https://a.example:*/", "/cb", "https:app"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, first, second string) {
		raw := []string{first}
		if second != "" {
			raw = append(raw, second)
		}
		uris, err := ParseRedirectURIs(raw)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ParseRedirectURIs(%q): %T %v, want a ValidationError", raw, err, err)
			}
			return
		}
		if len(uris) == 0 || len(uris) > 10 {
			t.Fatalf("ParseRedirectURIs(%q) kept %d URIs", raw, len(uris))
		}
		for _, u := range uris {
			if u == OOB {
				continue
			}
			p, err := url.Parse(u)
			if err != nil || p.Scheme == "" || len(u) > 2000 || strings.ContainsAny(u, "#*\"'<>\\ \t\r\n") || strings.Contains(p.Host, "*") {
				t.Fatalf("ParseRedirectURIs(%q) kept %q", raw, u)
			}
			switch strings.ToLower(p.Scheme) {
			case "javascript", "data", "vbscript", "file", "about", "blob", "filesystem":
				t.Fatalf("ParseRedirectURIs(%q) kept the script scheme of %q", raw, u)
			case "http", "https":
				if !hostname.Literal(p.Host) {
					t.Fatalf("ParseRedirectURIs(%q) kept %q, whose host is %q", raw, u, p.Host)
				}
			}
		}
	})
}

// FuzzCheckAuthorize sends any authorize query (CLIENT stands for the
// registered app's client_id): an accepted request names one of the app's
// redirect URIs and scopes within its registration, carries a well-formed
// challenge or none, and its redirect stays on the registered URI's origin.
func FuzzCheckAuthorize(f *testing.F) {
	fx := newFixture(f)
	for _, s := range []string{
		"client_id=CLIENT&redirect_uri=" + url.QueryEscape(cb) + "&response_type=code&scope=read&state=xyz",
		"client_id=CLIENT&response_type=code&redirect_uri=" + url.QueryEscape(OOB),
		"client_id=CLIENT&redirect_uri=" + url.QueryEscape(cb) + "&response_type=code&code_challenge_method=S256&code_challenge=" + strings.Repeat("a", 43),
		"client_id=CLIENT&redirect_uri=" + url.QueryEscape(cb) + "&response_type=code&scope=write+admin:read",
		"client_id=nope&response_type=code",
		"client_id=CLIENT&redirect_uri=https://app.example/cb%23x&response_type=token",
	} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, query string) {
		q, _ := url.ParseQuery(strings.ReplaceAll(query, "CLIENT", fx.app.ClientID))
		req, err := fx.s.CheckAuthorize(ctx, q)
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("CheckAuthorize(%q): %v, want an OAuth error", query, err)
			}
			return
		}
		if !contains(fx.app.RedirectURIs, req.RedirectURI) {
			t.Fatalf("CheckAuthorize(%q) accepted redirect URI %q", query, req.RedirectURI)
		}
		appScopes, _ := ParseScopes(fx.app.Scopes)
		if !req.Scopes.Within(appScopes) {
			t.Fatalf("CheckAuthorize(%q) granted %q beyond %q", query, req.Scopes, fx.app.Scopes)
		}
		if req.CodeChallenge != "" && (len(req.CodeChallenge) != 43 || !validVerifier(req.CodeChallenge)) {
			t.Fatalf("CheckAuthorize(%q) kept challenge %q", query, req.CodeChallenge)
		}
		back, err := url.Parse(RedirectURL(req, url.Values{"code": {"c"}}))
		registered, _ := url.Parse(req.RedirectURI)
		if err != nil || back.Scheme != registered.Scheme || back.Host != registered.Host || back.Path != registered.Path ||
			back.Query().Get("state") != req.State || back.Fragment != "" {
			t.Fatalf("RedirectURL for %q = %v (%v)", query, back, err)
		}
	})
}
