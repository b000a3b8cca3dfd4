package outbound

import "net/netip"

// refusedPrefixes are the networks no request to another server may reach:
// this machine, the local networks, and addresses that are not on the
// public Internet (cloud metadata services among them: 169.254.169.254,
// fd00:ec2::254, 100.100.100.200). The ranges that embed an IPv4 address
// (IPv4-mapped, NAT64, 6to4) are judged by what they embed (embedded).
var refusedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local (cloud metadata lives here)
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, and broadcast
		"::/128",          // unspecified
		"::1/128",         // loopback
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard
		"2001::/23",       // IETF protocol assignments (Teredo, ORCHID, …)
		"2001:db8::/32",   // documentation
		"3fff::/20",       // documentation
		"5f00::/16",       // segment routing SIDs
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated)
		"ff00::/8",        // multicast
		"::/8",            // reserved: IPv4-compatible and the rest of 0000::/8
		"::ffff:0:0:0/96", // IPv4-translated
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Prefixes whose addresses carry an IPv4 address: what they carry decides.
var (
	mapped = netip.MustParsePrefix("::ffff:0:0/96")
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// embedded returns the IPv4 address an IPv6 address carries, if it is of a
// form that does.
func embedded(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	switch {
	case mapped.Contains(a), nat64.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixTo4.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// Public reports whether a connection to a is allowed: a public unicast
// address. An IPv6 address that embeds an IPv4 one is public only when that
// one is.
func Public(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.WithZone("")
	if v4, ok := embedded(a); ok {
		return Public(v4)
	}
	for _, p := range refusedPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
