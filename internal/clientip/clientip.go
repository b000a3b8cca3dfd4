// Package clientip decides a request's client address. X-Forwarded-For is
// believed only when the direct peer is a configured trusted proxy (loopback
// by default) or a unix-socket peer; otherwise a client could pick its own
// address and slip past per-address rate limits.
package clientip

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

type ctxKey struct{}

// From returns the client address stored by Middleware ("" outside a request).
func From(ctx context.Context) string {
	ip, _ := ctx.Value(ctxKey{}).(string)
	return ip
}

// Middleware stores the client address in the request context.
func Middleware(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := Resolve(trusted, r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ip)))
	})
}

// Resolve walks X-Forwarded-For from the right, skipping trusted proxies,
// and returns the first address not one of them.
func Resolve(trusted []netip.Prefix, remoteAddr string, xff []string) string {
	peer, ok := parseAddr(remoteAddr)
	if ok && !isTrusted(trusted, peer) {
		return peer.String()
	}
	// A unix-socket peer (remoteAddr "@" or "") is the local proxy.
	var hops []string
	for _, h := range xff {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseAddr(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		if !isTrusted(trusted, a) || i == 0 {
			return a.String()
		}
	}
	if ok {
		return peer.String()
	}
	return "unix"
}

func parseAddr(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func isTrusted(trusted []netip.Prefix, a netip.Addr) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
