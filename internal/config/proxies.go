package config

import (
	"fmt"
	"math/big"
	"net/netip"
	"slices"
)

// A trusted proxy may name any client address in X-Forwarded-For, so the
// list must name the proxies and nobody else. Private networks are the
// admin's own and may be as wide as needed; public address space is where
// attackers live, so the whole list may cover only a few public hosts,
// however it is split (two /1 ranges trust every IPv4 address as surely as
// 0.0.0.0/0 does).
const (
	// MaxPublicProxyV4 is how many public IPv4 addresses the list may cover
	// in all: one /24, e.g. a handful of proxies in one provider subnet.
	MaxPublicProxyV4 = 256
	// MaxPublicProxyV6Bits: the list may cover one /64 of public IPv6
	// addresses in all, the subnet of one host.
	MaxPublicProxyV6Bits = 64
)

// nonPublic are the ranges no stranger on the internet can send from:
// loopback, private (RFC 1918, RFC 4193 unique-local), link-local and the
// carrier-grade NAT space (RFC 6598, also used by overlay VPNs).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
}

// nat64 are the IPv6 ranges that carry IPv4 clients (RFC 6052's well-known
// prefix and RFC 8215's local-use one): behind a NAT64 or SIIT translator,
// every IPv4 address arrives from inside them, so an IPv6 range overlapping
// one trusts as many IPv4 addresses as it embeds.
var nat64 = []netip.Prefix{
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// parseProxy reads one http.trusted_proxies item: an address (one host) or a
// CIDR range. An IPv4-mapped IPv6 range (::ffff:0:0/96 and inside it) is
// turned into the IPv4 range it means, since client addresses are compared
// unmapped (clientip) and the range must be counted as the IPv4 space it is.
func parseProxy(s string) (netip.Prefix, error) {
	prefix, err := netip.ParsePrefix(s)
	if err != nil {
		addr, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return netip.Prefix{}, err
		}
		prefix = netip.PrefixFrom(addr, addr.BitLen())
	}
	if prefix.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q has a zone", s)
	}
	if a := prefix.Addr(); a.Is4In6() && prefix.Bits() >= 96 {
		prefix = netip.PrefixFrom(a.Unmap(), prefix.Bits()-96)
	}
	return prefix.Masked(), nil
}

// publicAddresses counts the public addresses that a set of ranges covers,
// overlaps counted once, for IPv4 and IPv6 separately.
func publicAddresses(prefixes []netip.Prefix) (v4, v6 *big.Int) {
	v4, v6 = new(big.Int), new(big.Int)
	for _, p := range outermost(prefixes) {
		n := size(p)
		for _, np := range nonPublic {
			// CIDR ranges either nest or are disjoint.
			if np.Addr().Is4() == p.Addr().Is4() && p.Overlaps(np) {
				n.Sub(n, size(smaller(p, np)))
			}
		}
		if p.Addr().Is4() {
			v4.Add(v4, n)
			continue
		}
		for _, t := range nat64 {
			if p.Overlaps(t) {
				embedded := size(smaller(p, t))
				n.Sub(n, embedded)
				v4.Add(v4, bigMin(embedded, new(big.Int).Lsh(big.NewInt(1), 32)))
			}
		}
		v6.Add(v6, n)
	}
	return v4, v6
}

// outermost drops every range that lies inside another (or repeats it), so
// that each address is counted once.
func outermost(prefixes []netip.Prefix) []netip.Prefix {
	sorted := slices.Clone(prefixes)
	// Wider ranges first: a range can only lie inside one sorted before it.
	slices.SortFunc(sorted, func(a, b netip.Prefix) int { return a.Bits() - b.Bits() })
	var out []netip.Prefix
	for _, p := range sorted {
		inside := false
		for _, q := range out {
			if q.Addr().Is4() == p.Addr().Is4() && q.Overlaps(p) {
				inside = true // q is at least as wide, so it holds p
				break
			}
		}
		if !inside {
			out = append(out, p)
		}
	}
	return out
}

func size(p netip.Prefix) *big.Int {
	return new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()-p.Bits()))
}

func bigMin(a, b *big.Int) *big.Int {
	if a.Cmp(b) < 0 {
		return a
	}
	return b
}

func smaller(a, b netip.Prefix) netip.Prefix {
	if a.Bits() >= b.Bits() {
		return a
	}
	return b
}

// checkPublicProxies is the rule on the list as a whole: it returns "" when
// the public addresses it trusts are few enough, else why not.
func checkPublicProxies(prefixes []netip.Prefix) string {
	v4, v6 := publicAddresses(prefixes)
	maxV6 := new(big.Int).Lsh(big.NewInt(1), MaxPublicProxyV6Bits)
	switch {
	case v4.Cmp(big.NewInt(MaxPublicProxyV4)) > 0:
		return fmt.Sprintf("the list trusts %s public IPv4 addresses in all, and any of them could claim any client address in X-Forwarded-For; name the proxies' own addresses (at most %d public IPv4 addresses in all; private, loopback and link-local ranges may be as wide as needed)",
			v4, MaxPublicProxyV4)
	case v6.Cmp(maxV6) > 0:
		return fmt.Sprintf("the list trusts about 2^%d public IPv6 addresses in all, and any of them could claim any client address in X-Forwarded-For; name the proxies' own addresses (at most one /%d of public IPv6 in all; unique-local fc00::/7, loopback and link-local ranges may be as wide as needed)",
			v6.BitLen()-1, MaxPublicProxyV6Bits)
	}
	return ""
}
