package config

import (
	"fmt"
	"strings"
	"testing"
)

func proxyList(items ...string) string {
	return `trusted_proxies = ["` + strings.Join(items, `", "`) + `"]`
}

// However public address space is split, a list that trusts more of it than
// a few hosts is refused.
func TestTrustedProxiesRefuseWidePublicSpaceHoweverSplit(t *testing.T) {
	var eights []string
	for i := 0; i < 256; i++ {
		eights = append(eights, fmt.Sprintf("%d.0.0.0/8", i))
	}
	var slash24s []string
	for i := 0; i < 2; i++ {
		slash24s = append(slash24s, fmt.Sprintf("198.51.%d.0/24", i))
	}
	cases := map[string][]string{
		"two /1":                    {"0.0.0.0/1", "128.0.0.0/1"},
		"four /2":                   {"0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"},
		"256 /8":                    eights,
		"one public /8":             {"8.0.0.0/8"},
		"IPv6 halves":               {"::/1", "8000::/1"},
		"IPv4-mapped IPv6 space":    {"::ffff:0:0/96"},
		"IPv4-mapped half":          {"::ffff:0:0/97"},
		"global unicast IPv6":       {"2000::/3"},
		"a public IPv6 /48":         {"2001:db8::/48"},
		"two public /24s":           slash24s,
		"a /25 and 129 more hosts":  append([]string{"203.0.113.0/25"}, hosts("198.51.100.", 129)...),
		"halves with private cover": {"10.0.0.0/8", "0.0.0.0/1", "128.0.0.0/1"},
		// Behind a NAT64 or SIIT translator every IPv4 client comes from these.
		"NAT64 well-known /96":   {"64:ff9b::/96"},
		"NAT64 within a /64":     {"64:ff9b::/64"},
		"NAT64 local-use /48":    {"64:ff9b:1::/48"},
		"NAT64 local-use /96":    {"64:ff9b:1::/96"},
		"NAT64 /120s, 257 hosts": {"64:ff9b::c633:6400/120", "64:ff9b::cb00:7100/128"},
	}
	for name, items := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(valid(`[http]`, proxyList(items...))), nil)
			if err == nil {
				t.Fatalf("%v accepted; it trusts public address space beyond a few hosts", items)
			}
			if !strings.Contains(err.Error(), "http.trusted_proxies:") {
				t.Errorf("error %q does not name http.trusted_proxies", err)
			}
		})
	}
}

// Private, loopback, link-local and unique-local ranges may be as wide as
// an admin needs, beside a few public hosts.
func TestTrustedProxiesAcceptPrivateRangesAndFewPublicHosts(t *testing.T) {
	cases := map[string][]string{
		"default loopback":          {"127.0.0.1/32", "::1/128"},
		"private /8":                {"10.0.0.0/8"},
		"every private range":       {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10"},
		"a few public hosts":        {"203.0.113.7", "198.51.100.20/32", "192.0.2.1"},
		"one public /24":            {"203.0.113.0/24"},
		"a /24 and a host in it":    {"203.0.113.0/24", "203.0.113.9"},
		"unique-local IPv6":         {"fd00::/8", "fc00::/7"},
		"link-local IPv6":           {"fe80::/10"},
		"one public IPv6 /64":       {"2001:db8:1:2::/64"},
		"public IPv6 hosts":         {"2001:db8::1", "2001:db8::2"},
		"mapped host":               {"::ffff:203.0.113.7"},
		"256 public hosts exactly":  hosts("198.51.100.", 256),
		"one NAT64 /120 (256 IPv4)": {"64:ff9b::c633:6400/120"},
	}
	for name, items := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(valid(`[http]`, proxyList(items...))), nil); err != nil {
				t.Fatalf("%v refused: %v", items, err)
			}
		})
	}
}

// hosts lists n addresses prefix+0 … prefix+(n-1) (n ≤ 256).
func hosts(prefix string, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// A mapped range is stored as the IPv4 range it means, so that clientip's
// comparison with unmapped client addresses matches it.
func TestTrustedProxiesMappedRangesBecomeIPv4(t *testing.T) {
	cfg, err := Parse([]byte(valid(`[http]`, proxyList("::ffff:203.0.113.0/120", "::ffff:10.0.0.0/104"))), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(cfg.TrustedProxies())
	if got != "[203.0.113.0/24 10.0.0.0/8]" {
		t.Errorf("trusted proxies = %s, want [203.0.113.0/24 10.0.0.0/8]", got)
	}
	if _, err := Parse([]byte(valid(`[http]`, proxyList("::ffff:0:0/96"))), nil); err == nil ||
		!strings.Contains(err.Error(), `"::ffff:0:0/96" would trust X-Forwarded-For from anyone`) {
		t.Errorf("::ffff:0:0/96: %v, want it refused as every IPv4 address", err)
	}
}

// The default trusts exactly loopback: 127.0.0.1 and ::1, nothing more.
func TestDefaultTrustedProxiesAreExactlyLoopback(t *testing.T) {
	cfg, err := Parse([]byte(valid()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cfg.TrustedProxies()); got != "[127.0.0.1/32 ::1/128]" {
		t.Errorf("default trusted proxies = %s, want exactly [127.0.0.1/32 ::1/128]", got)
	}
}
