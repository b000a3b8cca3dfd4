package hostname

import (
	"strings"
	"testing"
)

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

func TestDomain(t *testing.T) {
	for in, want := range map[string]string{
		"example.net": "example.net", "Example.NET.": "example.net", "a-b.example": "a-b.example", "localhost": "localhost",
		"xn--bcher-kva.example": "xn--bcher-kva.example", "192.0.2.1": "192.0.2.1", "2001:DB8::1": "2001:db8::1",
		"": "", ".": "", "example.net:443": "", "https://example.net": "", "example.net/x": "", "*.example.net": "",
		"-a.example": "", "a-.example": "", "a..example": "", "exa_mple.net": "", "bücher.example": "", "ex ample.net": "",
		"[::1]": "", "fe80::1%eth0": "",
	} {
		got, ok := Domain(in)
		if got != want || ok != (want != "") {
			t.Errorf("Domain(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestSuffixes(t *testing.T) {
	for host, want := range map[string]string{
		"a.b.Example.NET:8443": "a.b.example.net b.example.net example.net net",
		"example.net.":         "example.net net",
		"localhost:3000":       "localhost",
		"192.0.2.1:443":        "192.0.2.1",
		"[2001:DB8::1]:443":    "2001:db8::1",
		"":                     "",
	} {
		if got := strings.Join(Suffixes(host), " "); got != want {
			t.Errorf("Suffixes(%q) = %q, want %q", host, got, want)
		}
	}
}
