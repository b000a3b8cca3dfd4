package session

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testutil"
)

// The device cookie takes every attribute from cookie, as the session cookie
// does: __Host- and Secure in the default mode, and in the fallback without
// them, HttpOnly, SameSite=Lax, Path=/ and no Domain in both.
func TestDeviceCookieHasTheSessionCookiesAttributes(t *testing.T) {
	for _, secure := range []bool{true, false} {
		extra := []string{}
		wantName := DeviceCookieName
		if !secure {
			extra, wantName = []string{"[security]", "secure_cookies = false"}, InsecureDeviceCookieName
		}
		m, err := New(testutil.ProdConfig(t, t.TempDir(), extra...), nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		m.SetDevice(rec, "device-token", time.Hour)
		m.ForgetDevice(rec)
		lines := rec.Header().Values("Set-Cookie")
		if len(lines) != 2 {
			t.Fatalf("secure=%v: %d Set-Cookie lines", secure, len(lines))
		}
		for i, line := range lines {
			attrs := map[string]string{}
			parts := strings.Split(line, ";")
			for _, part := range parts[1:] {
				k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
				attrs[k] = v
			}
			name, value, _ := strings.Cut(parts[0], "=")
			_, hasSecure := attrs["Secure"]
			_, httpOnly := attrs["HttpOnly"]
			_, domain := attrs["Domain"]
			if name != wantName || hasSecure != secure || !httpOnly || attrs["SameSite"] != "Lax" || attrs["Path"] != "/" || domain {
				t.Errorf("secure=%v: %s", secure, line)
			}
			if i == 0 && (value != "device-token" || attrs["Max-Age"] != "3600") {
				t.Errorf("set: %s", line)
			}
			if i == 1 && (value != "" || attrs["Max-Age"] != "0") {
				t.Errorf("forget does not expire the cookie: %s", line)
			}
		}
		// It is read back under its own name only, and an over-long value is no token.
		for value, want := range map[string]string{"device-token": "device-token", strings.Repeat("a", 4096): ""} {
			r := httptest.NewRequest("POST", "/auth/sign_in", nil)
			r.AddCookie(&http.Cookie{Name: wantName, Value: value})
			r.AddCookie(&http.Cookie{Name: m.Name(), Value: "session-value"})
			if got := m.DeviceToken(r); got != want {
				t.Errorf("secure=%v: DeviceToken = %.20q, want %.20q", secure, got, want)
			}
		}
	}
}
