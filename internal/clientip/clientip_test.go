package clientip

import (
	"net/netip"
	"testing"
)

func TestResolve(t *testing.T) {
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	cases := []struct {
		remote string
		xff    []string
		want   string
	}{
		{"203.0.113.5:4000", nil, "203.0.113.5"},
		{"203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"}, // untrusted peer: header ignored
		{"127.0.0.1:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"127.0.0.1:5000", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"}, // the client's own claim is not believed
		{"127.0.0.1:5000", []string{"198.51.100.1, 127.0.0.1"}, "198.51.100.1"},
		{"127.0.0.1:5000", nil, "127.0.0.1"},
		{"127.0.0.1:5000", []string{"garbage"}, "127.0.0.1"},
		{"[::1]:5000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"@", []string{"198.51.100.9"}, "198.51.100.9"},
		{"@", nil, "unix"},
	}
	for _, tc := range cases {
		if got := Resolve(loop, tc.remote, tc.xff); got != tc.want {
			t.Errorf("Resolve(%q, %q) = %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
	}
}
