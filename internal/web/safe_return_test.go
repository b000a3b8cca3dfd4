package web

import (
	"net/url"
	"strings"
	"testing"
)

// browserTarget is where a browser on https://example.test/auth/sign_in goes
// for a Location of s, following the URL standard's forgiving parser: it
// trims C0 controls and spaces at the ends, drops every tab and newline, and
// reads a backslash as a slash.
func browserTarget(t *testing.T, s string) *url.URL {
	t.Helper()
	s = strings.TrimFunc(s, func(r rune) bool { return r <= 0x20 })
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(s)
	base, _ := url.Parse("https://example.test/auth/sign_in")
	u, err := base.Parse(s)
	if err != nil {
		return &url.URL{Host: "(unparseable)"}
	}
	return u
}

// TestSafeReturnRefusesEveryWayOffThisHost has, for each check of
// safeReturn, inputs that only that check refuses, and for each input that
// is kept, proves a browser would stay on this host with it.
func TestSafeReturnRefusesEveryWayOffThisHost(t *testing.T) {
	refused := []string{
		// Not a path: other hosts, absolute URLs, schemes, relative paths.
		"", "evil.test", "evil.test/path", "https://evil.test/", "http://evil.test", "HTTPS://evil.test",
		"javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "mailto:a@evil.test",
		" /path", "\t/path", "?return=/", "#frag", ".", "../",
		// Protocol-relative: another host.
		"//evil.test", "//evil.test/", "///evil.test", "//", "//@evil.test",
		// A backslash is a slash to browsers.
		`/\evil.test`, `/\/evil.test`, `/path\..\..\evil`,
		// Control characters: browsers drop tabs and newlines, so these are "//evil.test".
		"/\t/evil.test", "/\n/evil.test", "/\r/evil.test", "/\r\n/evil.test", "/\x00/evil.test", "/\x0b/evil.test",
		"/\x0c/evil.test", "/\x1f/evil.test", "/\x7f/evil", "/path\n",
		// A path that does not parse.
		"/%zz", "/path%", "/%2",
	}
	for _, in := range refused {
		if got := safeReturn(in); got != "/" {
			t.Errorf("safeReturn(%q) = %q, want /", in, got)
		}
	}
	kept := []string{
		"/", "/oauth/authorize?client_id=x&redirect_uri=https%3A%2F%2Fclient.test%2Fcb&a=b", "/@alice", "/@alice/123#top",
		"/%2F%2Fevil.test", // a percent-encoded path: browsers do not decode it into a host
		"/%09/evil.test", "/%5Cevil.test", "/ /evil.test", "/path?next=//evil.test", "/a//b",
	}
	for _, in := range kept {
		got := safeReturn(in)
		if got != in {
			t.Errorf("safeReturn(%q) = %q, want it kept", in, got)
		}
		if u := browserTarget(t, got); u.Host != "example.test" || u.Scheme != "https" {
			t.Errorf("safeReturn kept %q, which takes a browser to %s", in, u)
		}
	}
	// Whatever comes back, a browser stays here.
	for _, in := range append(refused, kept...) {
		if u := browserTarget(t, safeReturn(in)); u.Host != "example.test" {
			t.Errorf("safeReturn(%q) takes a browser to %s", in, u)
		}
	}
}
