package server

import (
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

func TestClassify(t *testing.T) {
	h := NewHostRouter(testutil.ProdConfig(t, t.TempDir()))
	cases := map[string]Origin{
		"example.test":             OriginApp,
		"EXAMPLE.test":             OriginApp,
		"example.test.":            OriginApp,
		"example.test:443":         OriginApp,
		"media.example.test":       OriginMedia,
		"media.example.test:8080":  OriginMedia,
		"":                         OriginOther,
		"evil.test":                OriginOther,
		"example.test.evil.test":   OriginOther,
		"xexample.test":            OriginOther,
		"media.example.test@x":     OriginOther,
		"example.test/":            OriginOther,
		"127.0.0.1:8080":           OriginOther,
		"[::1]:8080":               OriginOther,
		"example.test:443:443":     OriginOther,
		"example.test\r\nX: y":     OriginOther,
		strings.Repeat("a", 1000):  OriginOther,
		"sub.media.example.test":   OriginOther,
		"example.test.media.test":  OriginOther,
		"media.example.test.:1234": OriginMedia,
	}
	for host, want := range cases {
		if got := h.Classify(host); got != want {
			t.Errorf("Classify(%q) = %s, want %s", host, got, want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"example.test", "media.example.test:80", "[::1]", "EXAMPLE.TEST.", "x@example.test", ""} {
		f.Add(s)
	}
	h := NewHostRouter(testutil.ProdConfig(f, f.TempDir()))
	f.Fuzz(func(t *testing.T, host string) {
		got := h.Classify(host)
		// Only a Host that names the configured host (case, port and a final dot aside) may reach it.
		name := strings.ToLower(host)
		if i := strings.LastIndex(name, ":"); i >= 0 && !strings.HasSuffix(name, "]") {
			name = name[:i]
		}
		name = strings.TrimSuffix(name, ".")
		switch got {
		case OriginApp:
			if name != "example.test" {
				t.Fatalf("%q routed to the app", host)
			}
		case OriginMedia:
			if name != "media.example.test" {
				t.Fatalf("%q routed to media", host)
			}
		}
	})
}
