// Package hostname holds the rules for host names: the one for a host name
// Rampart will repeat to a browser (an OAuth app's redirect URI host is
// registered only if literal, internal/oauth, and the consent page's CSP
// names only literal hosts, internal/httpsec, so a pattern can never widen
// form-action), and which domains a domain block covers.
package hostname

import (
	"net/netip"
	"strings"
)

// Literal reports whether host (as url.URL.Host holds it) is a DNS name, an
// IPv4 address or a bracketed IPv6 address, with an optional numeric port:
// nothing a browser or a CSP source would read as a pattern ("*" in a host
// or port is a CSP wildcard).
func Literal(host string) bool {
	name, port := host, ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		name, port = host[:i], host[i+1:]
		if port == "" {
			return false
		}
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return false
		}
	}
	if ip, ok := strings.CutPrefix(name, "["); ok {
		ip, ok = strings.CutSuffix(ip, "]")
		if !ok || ip == "" {
			return false
		}
		for _, r := range ip {
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == ':' || r == '.') {
				return false
			}
		}
		return true
	}
	if name == "" || name[0] == '.' || name[0] == '-' || strings.Contains(name, "..") {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// maxDomainLength is DNS's limit on a name.
const maxDomainLength = 253

// Domain reads a domain an admin blocks: a DNS name (labels of letters,
// digits and dashes) or an IP address, with no scheme, port or path. It
// returns it lower-cased, without a trailing dot.
func Domain(s string) (string, bool) {
	d := strings.TrimSuffix(strings.ToLower(s), ".")
	if d == "" || len(d) > maxDomainLength {
		return "", false
	}
	if ip, err := netip.ParseAddr(d); err == nil && ip.Zone() == "" {
		return ip.String(), true
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	return d, true
}

// Suffixes are the domains whose block covers host (as url.URL.Host or an
// acct's host holds it): its name, lower-cased, without port or trailing
// dot, then each parent domain, so that a block of example.net covers
// a.example.net. An IP address is only itself. Nil for an empty host.
func Suffixes(host string) []string {
	name := host
	if rest, ok := strings.CutPrefix(name, "["); ok {
		name, _, _ = strings.Cut(rest, "]")
	} else if strings.Count(name, ":") == 1 {
		name, _, _ = strings.Cut(name, ":")
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name == "" {
		return nil
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		return []string{ip.String()}
	}
	out := []string{name}
	for {
		_, parent, ok := strings.Cut(name, ".")
		if !ok || parent == "" {
			return out
		}
		out = append(out, parent)
		name = parent
	}
}
