package instance

import (
	"net/url"
	"strings"
	"testing"
)

// App registrations are unauthenticated writes: 30 per client address in 5
// minutes (an IPv6 address counts by its /64), then 429 with Retry-After,
// while other addresses register as before.
func TestAppRegistrationsAreLimitedPerAddress(t *testing.T) {
	ti := startTLS(t)
	register := func(from string) reply {
		form := url.Values{"client_name": {"app"}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}}
		r, err := ti.request("POST", "/api/v1/apps", strings.NewReader(form.Encode()), "",
			"Content-Type", "application/x-www-form-urlencoded", "X-Forwarded-For", from)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i := 0; i < 30; i++ {
		if r := register("203.0.113.9"); r.status != 200 {
			t.Fatalf("registration %d from one address: %d %s", i+1, r.status, r.body)
		}
	}
	if r := register("203.0.113.9"); r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Errorf("registration 31 from one address: %d (Retry-After %q), want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	if r := register("198.51.100.7"); r.status != 200 {
		t.Errorf("another address: %d %s, want its registration accepted", r.status, r.body)
	}
	for i := 0; i < 30; i++ {
		register("2001:db8:1:2::" + strings.Repeat("a", 1+i%4))
	}
	if r := register("2001:db8:1:2:ffff::1"); r.status != 429 {
		t.Errorf("the same IPv6 /64 after 30: %d, want 429", r.status)
	}
}
