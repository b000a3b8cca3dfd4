package activitypub

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
)

func TestIsContentType(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/activity+json":                                                                 true,
		"application/activity+json; charset=utf-8":                                                  true,
		`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`:                      true,
		`application/ld+json;profile="https://example.com/x https://www.w3.org/ns/activitystreams"`: true,
		"application/ld+json":                                                                       false,
		`application/ld+json; profile="https://example.com/other"`:                                  false,
		"application/json":                   false, // CVE-2024-23832
		"text/html":                          false,
		"":                                   false,
		"application/activity+json; =broken": false,
	} {
		if got := IsContentType(ct); got != want {
			t.Errorf("IsContentType(%q) = %v; want %v", ct, got, want)
		}
	}
}

func TestWantsActivityPub(t *testing.T) {
	for accept, want := range map[string]bool{
		"application/activity+json": true,
		`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`:                  true,
		"application/activity+json, application/ld+json":                                        true,
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8": false, // a browser
		"*/*":                 false,
		"":                    false,
		"application/json":    true,
		"application/ld+json": true,
		"text/html;q=0.9, application/activity+json": true,
		"text/html, application/activity+json;q=0.5": false,
		"application/activity+json;q=0":              false,
	} {
		if got := WantsActivityPub(accept); got != want {
			t.Errorf("WantsActivityPub(%q) = %v; want %v", accept, got, want)
		}
	}
}

func TestMultikeyRoundTrip(t *testing.T) {
	for range 50 {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s := EncodeMultikey(pub)
		// Every Ed25519 Multikey starts so: base58btc of 0xed 0x01.
		if !strings.HasPrefix(s, "z6Mk") {
			t.Fatalf("%s does not start with z6Mk", s)
		}
		back, err := DecodeMultikey(s)
		if err != nil || !bytes.Equal(back, pub) {
			t.Fatalf("%s decoded to %x, %v; want %x", s, back, err, pub)
		}
	}
	for _, bad := range []string{"", "z", "f00", "z6Mk0OIl", "z" + strings.Repeat("1", 40)} {
		if _, err := DecodeMultikey(bad); err == nil {
			t.Errorf("DecodeMultikey(%q) accepted", bad)
		}
	}
}

func FuzzDecodeMultikey(f *testing.F) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	f.Add(EncodeMultikey(pub))
	f.Add("z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := DecodeMultikey(s)
		if err != nil {
			return
		}
		if again := EncodeMultikey(k); again != s {
			t.Fatalf("%q decoded and encoded to %q", s, again)
		}
	})
}

func TestAddressingExpressesTheFourVisibilities(t *testing.T) {
	f, m := "https://a.example/users/al/followers", []string{"https://b.example/users/bo"}
	for vis, want := range map[string][2][]string{
		"public":   {{Public}, {f, m[0]}},
		"unlisted": {{f}, {Public, m[0]}},
		"private":  {{f}, {m[0]}},
		"direct":   {{m[0]}, {}},
	} {
		to, cc := Addressing(vis, f, m)
		if fmt.Sprint(to) != fmt.Sprint(want[0]) || fmt.Sprint(cc) != fmt.Sprint(want[1]) {
			t.Errorf("%s: to %v cc %v; want to %v cc %v", vis, to, cc, want[0], want[1])
		}
	}
}
