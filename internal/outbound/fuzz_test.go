package outbound

import (
	"net/netip"
	"testing"
)

// FuzzPublic: any address, as the dialer's hook sees it, is judged without
// a panic, and an IPv6 form that carries an IPv4 address (mapped, NAT64,
// 6to4) is judged as that address is; a refused address is refused by the
// hook itself, before any connection.
func FuzzPublic(f *testing.F) {
	for _, s := range []string{"8.8.8.8:443", "127.0.0.1:80", "[::ffff:10.0.0.1]:443", "[64:ff9b::808:808]:443",
		"[2002:7f00:1::]:443", "[fe80::1%eth0]:443", "[2606:4700::1111]:443", "0.0.0.0:0", "junk"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, address string) {
		err := refuseNonPublic("tcp", address, nil)
		ap, perr := netip.ParseAddrPort(address)
		if perr != nil {
			if err == nil {
				t.Fatalf("%q does not parse, yet the hook let it through", address)
			}
			return
		}
		a := ap.Addr()
		if (err == nil) != Public(a) {
			t.Fatalf("%q: hook %v, Public %v", address, err, Public(a))
		}
		if v4, ok := embedded(a.WithZone("")); ok && Public(a) != Public(v4) {
			t.Fatalf("%s carries %s but is judged otherwise", a, v4)
		}
		if a.Is4() && Public(netip.AddrFrom16(a.As16())) != Public(a) {
			t.Fatalf("%s and its IPv4-mapped form are judged differently", a)
		}
	})
}
