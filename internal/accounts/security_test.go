package accounts

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/store"
)

func TestNetworkTruncatesAddresses(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.77":                 "192.0.2.0/24",
		"203.0.113.255":              "203.0.113.0/24",
		"2001:db8:1234:5678::1":      "2001:db8:1234::/48",
		"2001:db8:abcd:ffff:1:2:3:4": "2001:db8:abcd::/48",
		"::ffff:198.51.100.9":        "198.51.100.0/24", // IPv4-mapped: its IPv4 network
		"fe80::1%eth0":               "fe80::/48",
		"":                           "",
		"not an address":             "",
		"192.0.2.1:443":              "",
	} {
		if got := Network(in); got != want {
			t.Errorf("Network(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestBrowserInWords(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0":                                                                  "Firefox on Linux",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":                         "Chrome on Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0":           "Edge on Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15":                   "Safari on macOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1": "Safari on iOS",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36":                   "Chrome on Android",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36":                           "Chrome on Linux",
		"curl/8.5.0": "Unknown browser",
		"":           "Unknown browser",
	} {
		if got := Browser(ua); got != want {
			t.Errorf("Browser(%q) = %q; want %q", ua, got, want)
		}
	}
}

func TestBoundKeepsValidUTF8(t *testing.T) {
	v := strings.Repeat("é", 200) // 400 bytes
	got := bound(v, 301)
	if len(got) > 301 || !utf8.ValidString(got) {
		t.Fatalf("bound gave %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if got := bound("a\xffb", 10); got != "ab" {
		t.Fatalf("bound kept invalid bytes: %q", got)
	}
}

func FuzzBrowser(f *testing.F) {
	f.Add("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
	f.Add("")
	f.Add("\xff\xfe Chrome/ iPhone")
	f.Fuzz(func(t *testing.T, ua string) {
		got := Browser(ua)
		if got == "" || len(got) > 40 {
			t.Fatalf("Browser(%q) = %q", ua, got)
		}
	})
}

func FuzzNetwork(f *testing.F) {
	f.Add("192.0.2.1")
	f.Add("::ffff:192.0.2.1")
	f.Add("2001:db8::1%zone")
	f.Fuzz(func(t *testing.T, ip string) {
		got := Network(ip)
		if got != "" && !strings.Contains(got, "/") {
			t.Fatalf("Network(%q) = %q: not a network", ip, got)
		}
	})
}

// Authenticate says a browser is new unless it holds a device token of the
// account signing in.
func TestAuthenticateReportsANewBrowser(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.s.Create(context.Background(), NewParams{Username: "bob", Email: "bob@example.test", Password: ownerPassword, Approved: true}); err != nil {
		t.Fatal(err)
	}
	first := f.wantErr("no device token", nil, "alice", ownerPassword, "192.0.2.1", "")
	if !first.NewBrowser {
		t.Fatal("a browser without a device token is not new")
	}
	if again := f.wantErr("alice's device token", nil, "alice", ownerPassword, "192.0.2.1", first.Device); again.NewBrowser {
		t.Fatal("a browser with the account's device token is new")
	}
	if bob := f.wantErr("alice's device token, bob signing in", nil, "bob", ownerPassword, "192.0.2.1", first.Device); !bob.NewBrowser {
		t.Fatal("another account's device token makes a browser known")
	}
	if forged := f.wantErr("a forged token", nil, "alice", ownerPassword, "192.0.2.1", first.Device[:len(first.Device)-2]+"AA"); !forged.NewBrowser {
		t.Fatal("a forged device token makes a browser known")
	}
}

// Revoking an app tells the streams (so its sockets close at once) and
// writes the history; an app without the account's tokens is ErrNotYours
// and tells nobody.
func TestRevokeAppTellsTheStreams(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	bus := events.NewBus(slog.New(slog.DiscardHandler))
	queue, stop := bus.Subscribe(4)
	defer stop()
	f.s.WithEvents(bus)
	alice, err := f.s.store.UserByLogin(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	app := &store.App{ID: f.s.ids.Next(), Name: "Tusky", RedirectURIs: []string{"urn:ietf:wg:oauth:2.0:oob"}, Scopes: "read", ClientID: "c", ClientSecretHash: "h", CreatedAt: now}
	if err := f.s.store.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RevokeApp(ctx, alice.AccountID, app.ID, Actor{}); !errors.Is(err, ErrNotYours) {
		t.Fatalf("revoking an app holding nothing: %v; want ErrNotYours", err)
	}
	if err := f.s.store.CreateToken(ctx, &store.Token{ID: f.s.ids.Next(), TokenHash: "x", AppID: app.ID, AccountID: alice.AccountID, Scopes: "read", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RevokeApp(ctx, alice.AccountID, app.ID, Actor{ClientIP: "192.0.2.9", UserAgent: "ua"}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-queue:
		if e.Kind != events.TokensRevoked || e.Account != alice.AccountID {
			t.Fatalf("published %+v; want tokens revoked for alice", e)
		}
	default:
		t.Fatal("revoking an app published nothing")
	}
	select {
	case e := <-queue:
		t.Fatalf("published a second event %+v", e)
	default:
	}
	h, err := f.s.SecurityHistory(ctx, alice.AccountID)
	if err != nil || len(h) != 1 || h[0].Kind != EventAppRevoked || h[0].Detail != "Tusky" || h[0].Network != "192.0.2.0/24" {
		t.Fatalf("history %+v (%v)", h, err)
	}
}
