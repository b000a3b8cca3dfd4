package instance

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/session"
	"github.com/rampart-social/rampart/internal/testutil"
)

// cookieAttrs splits a Set-Cookie line into its name, value and attributes
// (keys lower-cased; a flag maps to "").
func cookieAttrs(line string) (name, value string, attrs map[string]string) {
	parts := strings.Split(line, ";")
	name, value, _ = strings.Cut(strings.TrimSpace(parts[0]), "=")
	attrs = map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		attrs[strings.ToLower(k)] = v
	}
	return name, value, attrs
}

// TestSessionCookieAttributesInEveryMode: whether security.secure_cookies is
// on (the default) or off (the dev fallback), every session cookie Rampart
// sets — the anonymous one, the signed-in one and the one that signs out —
// is HttpOnly, SameSite=Lax, Path=/ and host-only. Only the name and Secure
// differ; the fallback is warned about at every start.
func TestSessionCookieAttributesInEveryMode(t *testing.T) {
	for _, mode := range []struct {
		name   string
		extra  []string
		cookie string
		secure bool
	}{
		{"secure_cookies = true", nil, "__Host-rampart_session", true},
		{"secure_cookies = false", []string{"[security]", "secure_cookies = false", `session_lifetime = "3h"`}, "rampart_session", false},
	} {
		t.Run(mode.name, func(t *testing.T) {
			ti := startTLS(t, mode.extra...)
			ti.createUser("alice", "correct horse battery")
			lifetime := ti.inst.cfg.Security.SessionLifetime.D()

			check := func(what string, h http.Header, wantMaxAge string) {
				t.Helper()
				var found int
				for _, line := range h.Values("Set-Cookie") {
					name, value, attrs := cookieAttrs(line)
					if name != session.CookieName && name != session.InsecureCookieName {
						continue
					}
					found++
					if name != mode.cookie {
						t.Errorf("%s: cookie named %q, want %q", what, name, mode.cookie)
					}
					if _, ok := attrs["httponly"]; !ok {
						t.Errorf("%s: not HttpOnly: %s", what, line)
					}
					if attrs["samesite"] != "Lax" {
						t.Errorf("%s: SameSite %q, want Lax: %s", what, attrs["samesite"], line)
					}
					if attrs["path"] != "/" {
						t.Errorf("%s: Path %q, want /: %s", what, attrs["path"], line)
					}
					if _, ok := attrs["domain"]; ok {
						t.Errorf("%s: has a Domain: %s", what, line)
					}
					if _, ok := attrs["secure"]; ok != mode.secure {
						t.Errorf("%s: Secure is %v, want %v: %s", what, ok, mode.secure, line)
					}
					if got, ok := attrs["max-age"]; got != wantMaxAge || (wantMaxAge == "") == ok {
						t.Errorf("%s: Max-Age %q, want %q: %s", what, got, wantMaxAge, line)
					}
					if wantMaxAge != "0" && len(value) != 43 {
						t.Errorf("%s: value %q is not 43 characters", what, value)
					}
				}
				if found != 1 {
					t.Errorf("%s: %d session cookies set, want 1: %q", what, found, h.Values("Set-Cookie"))
				}
			}

			form := ti.call(ti.client, "GET", "/auth/sign_in", nil, "")
			check("the anonymous cookie", form.header, "") // ends with the browser session
			in := ti.call(ti.client, "POST", "/auth/sign_in", url.Values{"csrf_token": {csrfOf(t, form.body)},
				"username": {"alice"}, "password": {"correct horse battery"}, "return_to": {"/"}}, "")
			if in.status != http.StatusSeeOther {
				t.Fatalf("sign in: %d", in.status)
			}
			check("the signed-in cookie", in.header, strconv.Itoa(int(lifetime/time.Second)))
			home := ti.call(ti.client, "GET", "/", nil, "")
			if !strings.Contains(home.body, "Signed in as <strong>@alice</strong>") {
				t.Fatalf("the cookie does not sign in:\n%s", home.body)
			}
			out := ti.call(ti.client, "POST", "/auth/sign_out", url.Values{"csrf_token": {csrfOf(t, home.body)}}, "")
			if out.status != http.StatusSeeOther {
				t.Fatalf("sign out: %d", out.status)
			}
			check("the signing-out cookie", out.header, "0") // net/http writes MaxAge < 0 as Max-Age=0

			logs := &testutil.SyncBuffer{}
			LogStartup(ti.inst.cfg, slog.New(slog.NewJSONHandler(logs, nil)))
			warned := strings.Contains(logs.String(), `"level":"WARN","msg":"security.secure_cookies is false`)
			if warned == mode.secure {
				t.Errorf("start-up warning about secure_cookies: %v, want %v:\n%s", warned, !mode.secure, logs)
			}
		})
	}
}
