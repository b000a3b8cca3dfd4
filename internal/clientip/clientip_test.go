package clientip

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
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

// The default config trusts X-Forwarded-For from loopback (127.0.0.1 and ::1)
// and from no other peer: not the rest of 127/8, not private networks, not
// the public internet.
func TestDefaultConfigBelievesOnlyLoopbackPeers(t *testing.T) {
	trusted := testutil.ProdConfig(t, t.TempDir()).TrustedProxies()
	const claimed = "198.51.100.77"
	believed := []string{"127.0.0.1:5000", "[::1]:5000", "[::ffff:127.0.0.1]:5000"}
	ignored := []string{"127.0.0.2:5000", "10.0.0.1:5000", "192.168.1.1:5000", "172.16.0.1:5000", "203.0.113.5:5000",
		"[::2]:5000", "[fe80::1]:5000", "[fd00::1]:5000", "[2001:db8::1]:5000", "0.0.0.0:5000"}
	for _, peer := range believed {
		if got := Resolve(trusted, peer, []string{claimed}); got != claimed {
			t.Errorf("peer %s: client %q, want the forwarded %s (a loopback proxy is trusted by default)", peer, got, claimed)
		}
	}
	for _, peer := range ignored {
		got := Resolve(trusted, peer, []string{claimed})
		if got == claimed {
			t.Errorf("peer %s: X-Forwarded-For believed; by default only loopback is trusted", peer)
		}
	}
	// The same through the middleware, as every request goes.
	var seen string
	h := Middleware(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = From(r.Context()) }))
	for peer, want := range map[string]string{"127.0.0.1:1": claimed, "203.0.113.5:1": "203.0.113.5"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", claimed)
		h.ServeHTTP(httptest.NewRecorder(), r)
		if seen != want {
			t.Errorf("middleware, peer %s: client %q, want %q", peer, seen, want)
		}
	}
}
