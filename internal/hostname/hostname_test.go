package hostname

import "testing"

func TestLiteral(t *testing.T) {
	for host, want := range map[string]bool{
		"example.net": true, "app.example.net:8443": true, "127.0.0.1": true, "127.0.0.1:80": true,
		"[::1]": true, "[2001:db8::1]:443": true, "Example.NET": true, "xn--bcher-kva.example": true,
		"": false, "*": false, "*.example.net": false, "example.net:*": false, "example.net:": false,
		".example.net": false, "-example.net": false, "a..b": false, "[::1": false, "[]": false,
		"[::1]*": false, "ex ample.net": false, "exa_mple.net": false, "bücher.example": false,
		"example.net:8o": false, "[fe80::1%25eth0]": false,
	} {
		if got := Literal(host); got != want {
			t.Errorf("Literal(%q) = %v, want %v", host, got, want)
		}
	}
}
