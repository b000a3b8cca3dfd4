package main

import (
	"context"
	"encoding/base32"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/rampart-social/rampart/internal/testdb"
	"github.com/rampart-social/rampart/internal/totp"
)

// twoFactorBrowser is a browser without JavaScript on a quickstart
// instance: it keeps its cookies and follows redirects.
type twoFactorBrowser struct {
	t      *testing.T
	server string
	c      *http.Client
}

func newTwoFactorBrowser(t *testing.T, server string) *twoFactorBrowser {
	jar, _ := cookiejar.New(nil)
	return &twoFactorBrowser{t: t, server: server, c: &http.Client{Jar: localhostJar{jar}, Timeout: 10 * time.Second}}
}

// page reads an answer that must be 200 and says where it ended up.
func (b *twoFactorBrowser) page(resp *http.Response, err error, what string) (string, string) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("%s: %d\n%s", what, resp.StatusCode, body)
	}
	return string(body), resp.Request.URL.Path
}

func (b *twoFactorBrowser) get(target string) (string, string) {
	b.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = b.server + target
	}
	resp, err := b.c.Get(target)
	return b.page(resp, err, "GET "+target)
}

func (b *twoFactorBrowser) post(path string, form url.Values) (string, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.server+path, form)
	return b.page(resp, err, "POST "+path)
}

var totpKey = regexp.MustCompile(`<code class="tf-secret">([A-Z2-7 ]+)</code>`)

// enableTOTP signs username in and turns TOTP on through the settings page,
// confirming with the current step's code; it returns the secret. Sign-in
// then uses the next step's code (the server accepts one step of skew), so
// a step boundary passing between the two requests changes nothing.
func (b *twoFactorBrowser) enableTOTP(username string) []byte {
	b.t.Helper()
	form, _ := b.get("/auth/sign_in")
	f := formFields(form)
	f.Set("username", username)
	f.Set("password", socialPassword)
	if _, at := b.post("/auth/sign_in", f); at != "/" {
		b.t.Fatalf("sign in ended at %s", at)
	}
	settings, _ := b.get("/settings/two_factor")
	enrolment, _ := b.post("/settings/two_factor/enrol", formFields(settings))
	m := totpKey.FindStringSubmatch(enrolment)
	if m == nil {
		b.t.Fatalf("no key on the enrolment page:\n%s", enrolment)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		b.t.Fatal(err)
	}
	f = formFields(enrolment)
	f.Set("code", stepCode(b.t, secret, 0))
	f.Set("password", socialPassword)
	if done, _ := b.post("/settings/two_factor/confirm", f); !strings.Contains(done, "<strong>on</strong>") {
		b.t.Fatalf("confirm:\n%s", done)
	}
	return secret
}

// stepCode is the TOTP code offset steps from now, computed by internal/totp.
func stepCode(t *testing.T, secret []byte, offset int64) string {
	t.Helper()
	c, err := totp.Default.At(secret, totp.Default.Step(time.Now())+offset)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A third-party client's OAuth flow for an account with TOTP on, driven
// through the pages of the real binary: authorize sends the browser to
// sign in, the password leads to the second step, the code back to the
// consent page (return_to kept through both steps), and go-mastodon ends
// with a working token. Then `rampart admin user 2fa-reset` removes the
// factors (TOTP and a passkey): it says what it removed, logs the admin
// action, and the password alone leads to the consent page again.
func TestMastodonClientOAuthWithTOTPAndAdminReset(t *testing.T) {
	data := t.TempDir()
	port := freePort(t)
	addr := "127.0.0.1:" + port
	p := startProc(t, nil, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)
	cfg := filepath.Join(data, "rampart.toml")
	if _, stderr, code := runStdin(t, nil, socialPassword+"\n", "admin", "user", "create", "--config", cfg, "--username", "tess",
		"--email", "tess@example.test", "--password-stdin"); code != 0 {
		t.Fatalf("admin user create: %d %s", code, stderr)
	}
	server := "http://localhost:" + port
	secret := newTwoFactorBrowser(t, server).enableTOTP("tess")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const clientName = "Two-factor client"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	b := newTwoFactorBrowser(t, server)
	signIn, at := b.get(app.AuthURI)
	if at != "/auth/sign_in" {
		t.Fatalf("authorize sent a signed-out browser to %s", at)
	}
	f := formFields(signIn)
	f.Set("username", "tess")
	f.Set("password", socialPassword)
	step, at := b.post("/auth/sign_in", f)
	if at != "/auth/second_factor" || strings.Contains(step, clientName) {
		t.Fatalf("the password alone led to %s", at)
	}
	f = formFields(step)
	f.Set("code", stepCode(t, secret, 1))
	consent, at := b.post("/auth/second_factor", f)
	if at != "/oauth/authorize" || !strings.Contains(consent, clientName) {
		t.Fatalf("after the code: %s, not the consent page:\n%s", at, consent)
	}
	approve := formFields(consent)
	approve.Set("decision", "approve")
	codePage, _ := b.post("/oauth/authorize", approve)
	m := regexp.MustCompile(`id="code">([^<]+)<`).FindStringSubmatch(codePage)
	if m == nil {
		t.Fatalf("no code shown:\n%s", codePage)
	}
	c := mastodon.NewClient(&mastodon.Config{Server: server, ClientID: app.ClientID, ClientSecret: app.ClientSecret})
	if err := c.AuthenticateToken(ctx, m[1], "urn:ietf:wg:oauth:2.0:oob"); err != nil {
		t.Fatalf("AuthenticateToken: %v", err)
	}
	me, err := c.GetAccountCurrentUser(ctx)
	if err != nil || me.Username != "tess" {
		t.Fatalf("verify_credentials: %+v %v", me, err)
	}

	// The admin reset, of TOTP and of a passkey tess also holds (stored
	// here as the passkey pages would store it; its own ceremony is tested
	// in Chromium by internal/web).
	db := testdb.Open(t, filepath.Join(data, "rampart.db"))
	if _, err := db.Exec(`INSERT INTO passkeys (id, account_id, credential_id, public_key, aaguid, name, created_at)
		SELECT 4242, id, ?, ?, ?, 'Blue key', 1 FROM accounts WHERE username = 'tess'`, []byte("cred"), []byte("key"), make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runStdin(t, nil, "", "admin", "user", "2fa-reset", "--config", cfg, "tess")
	if code != 0 || strings.TrimSpace(out) != "removed the second factors of @tess: the authenticator app (TOTP), 10 unused recovery codes and 1 passkey; the password alone signs in now" {
		t.Fatalf("2fa-reset: exit %d\n%s\n%s", code, out, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `level=INFO msg="admin action"`) ||
		!strings.Contains(lines[0], "action=account.second_factor_reset target=tess") || !strings.Contains(lines[0], "passkeys=1") {
		t.Errorf("2fa-reset logged:\n%s\nwant one INFO admin action line", stderr)
	}
	// tess learns of it in her security history.
	var resets int
	if err := db.QueryRow(`SELECT COUNT(*) FROM security_events e JOIN accounts a ON a.id = e.account_id
		WHERE a.username = 'tess' AND e.kind = 'second_factor_removed' AND e.detail = 'reset by an administrator'`).Scan(&resets); err != nil || resets != 1 {
		t.Errorf("%d resets in tess's security history (%v), want 1", resets, err)
	}
	if again := signInThroughBrowser(t, ctx, server, app, clientName, "tess"); again == nil {
		t.Fatal("no client after the reset")
	}
	out, _, code = runStdin(t, nil, "", "admin", "user", "2fa-reset", "--config", cfg, "--username", "tess")
	if code != 0 || strings.TrimSpace(out) != "@tess had no second factor; nothing removed" {
		t.Errorf("2fa-reset again: exit %d %q", code, out)
	}
	out, stderr, code = runStdin(t, nil, "", "admin", "user", "2fa-reset", "--config", cfg, "nobody")
	oneErrorLine(t, stderr, code, `no local user named "nobody"`)
	if code == 0 || out != "" {
		t.Errorf("2fa-reset of nobody: exit %d %q", code, out)
	}
}

// With security.require_staff_second_factor on (prod's default), serve
// names at start every admin and moderator without a second factor, in one
// WARN line; off, it says nothing.
func TestStaffWithoutSecondFactorWarnedAtStart(t *testing.T) {
	env := adminEnv(t)
	adminOK(t, env, "", "create", "--username", "root", "--email", "root@example.test", "--admin")
	adminOK(t, env, "", "create", "--username", "mod", "--email", "mod@example.test", "--moderator")
	adminOK(t, env, "", "create", "--username", "plain", "--email", "plain@example.test")
	for _, on := range []bool{true, false} {
		addr := "127.0.0.1:" + freePort(t)
		extra := []string{"RAMPART_HTTP_LISTEN=" + addr}
		if !on {
			extra = append(extra, "RAMPART_SECURITY_REQUIRE_STAFF_SECOND_FACTOR=false")
		}
		p := startProc(t, append(append([]string{}, env...), extra...), "serve")
		waitReady(t, p, addr, "example.test")
		logs := p.stderr.String()
		warned := strings.Contains(logs, `"level":"WARN","msg":"staff without a second factor`)
		if warned != on {
			t.Errorf("switch on=%v: warned=%v\n%s", on, warned, logs)
		}
		if on && (!strings.Contains(logs, `"accounts":"mod (moderator), root (admin)"`) || strings.Contains(logs, "plain")) {
			t.Errorf("the warning does not name exactly the staff:\n%s", logs)
		}
		p.cmd.Process.Kill()
		<-p.exited
	}
}
