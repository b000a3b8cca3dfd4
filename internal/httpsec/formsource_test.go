package httpsec

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// What formSource may yield: an app's own scheme, or one http(s) origin whose
// host is a literal name or address. Never a wildcard, nor anything a CSP
// would read as more than one source.
var formSourceShape = regexp.MustCompile(`^(?:[a-z][a-z0-9+.-]*:|https?://(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*)|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?)$`)

func checkFormSource(t *testing.T, uri, got string) {
	t.Helper()
	if got == "" {
		return
	}
	// ".." is refused in a host; a scheme may hold dots ("a..:" is a valid scheme-source).
	_, host, isWeb := strings.Cut(got, "://")
	if !formSourceShape.MatchString(got) || strings.Contains(got, "*") || isWeb && strings.Contains(host, "..") {
		t.Fatalf("formSource(%q) = %q: not one literal source", uri, got)
	}
	switch strings.TrimSuffix(got, ":") {
	case "javascript", "data", "blob", "filesystem", "urn":
		t.Fatalf("formSource(%q) = %q: a scheme that runs or names no place", uri, got)
	}
}

func TestFormSourceIsNeverAPattern(t *testing.T) {
	for uri, want := range map[string]string{
		"https://client.test/cb?x=1":  "https://client.test",
		"HTTPS://Client.Test:8443/cb": "https://Client.Test:8443",
		"http://127.0.0.1:8080/cb":    "http://127.0.0.1:8080",
		"http://[::1]:8080/cb":        "http://[::1]:8080",
		"com.example.app:/cb":         "com.example.app:",
		"myapp://oauth/callback":      "myapp:",
		"urn:ietf:wg:oauth:2.0:oob":   "",
		"javascript:alert(1)":         "",
		"/cb":                         "",
		// Stored before registration refused them: no wildcard reaches the CSP.
		"https://*/cb":             "",
		"https://*.client.test/cb": "",
		"http://*:8080/cb":         "",
		"https://client.test:*/cb": "",
		"https://%2A/cb":           "",
		"https://client_test/cb":   "",
		"https://client.test:/cb":  "",
		"https://[fe80::1%25en0]/": "",
		"https://./cb":             "",
		"https:///cb":              "",
	} {
		got := formSource(uri)
		if got != want {
			t.Errorf("formSource(%q) = %q, want %q", uri, got, want)
		}
		checkFormSource(t, uri, got)
	}

	// Through AllowFormTarget: a stored wildcard URI leaves form-action 'self'.
	l := New(testutil.ProdConfig(t, t.TempDir()))
	for uri, want := range map[string]string{"https://*/cb": "form-action 'self';", "https://client.test/cb": "form-action 'self' https://client.test;"} {
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Security-Policy", l.CSP())
		l.AllowFormTarget(rec, uri)
		if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "*") || !strings.Contains(csp, want) {
			t.Errorf("CSP for redirect URI %q: %s; want %q", uri, csp, want)
		}
	}
}

func FuzzFormSource(f *testing.F) {
	for _, s := range []string{"https://client.test/cb", "https://*/cb", "myapp://cb", "com.example.app:/cb",
		"http://[::1]:80/", "https://a.b:*/", "https://%2a/", "urn:ietf:wg:oauth:2.0:oob", "https://a;b/", "x:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		checkFormSource(t, uri, formSource(uri))
	})
}
