// Package hostname holds the one rule for a host name Rampart will repeat to a
// browser: an OAuth app's redirect URI host is registered only if literal
// (internal/oauth) and the consent page's CSP names only literal hosts
// (internal/httpsec), so a pattern can never widen form-action.
package hostname

import "strings"

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
