package web

import "testing"

func TestSafeReturnStaysOnThisHost(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "/",
		"/":                                "/",
		"/oauth/authorize?client_id=x&a=b": "/oauth/authorize?client_id=x&a=b",
		"//evil.test/":                     "/",
		"/\\evil.test":                     "/",
		"/\t/evil.test":                    "/",
		"/\n/evil.test":                    "/",
		"https://evil.test/":               "/",
		"javascript:alert(1)":              "/",
		"evil.test":                        "/",
		"/%2F%2Fevil.test":                 "/%2F%2Fevil.test", // a path, percent-encoded: stays local
		"/\x7f/evil":                       "/",
	} {
		if got := safeReturn(in); got != want {
			t.Errorf("safeReturn(%q) = %q, want %q", in, got, want)
		}
	}
}
