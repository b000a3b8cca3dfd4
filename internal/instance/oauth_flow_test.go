package instance

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/session"
	"github.com/rampart-social/rampart/internal/testutil"
)

// tlsInstance runs a prod instance behind TLS on loopback, the way browsers
// reach it through the proxy, and a client that trusts its certificate.
type tlsInstance struct {
	*running
	t      *testing.T
	client *http.Client // follows no redirects; keeps cookies
	jar    *cookiejar.Jar
	pool   *x509.CertPool
}

func startTLS(t *testing.T, extra ...string) *tlsInstance {
	t.Helper()
	return startTLSWith(t, testutil.ProdConfig(t, t.TempDir(), extra...))
}

// startTLSWith is startTLS on cfg (two instances given one config are two
// processes of one instance).
func startTLSWith(t *testing.T, cfg *config.Config) *tlsInstance {
	t.Helper()
	cert, pool := testutil.SelfSignedTLS(t, time.Hour, "example.test", "media.example.test")
	r := startOn(t, cfg, func(ln net.Listener) net.Listener {
		return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	})
	ti := &tlsInstance{running: r, t: t, pool: pool}
	ti.client, ti.jar = ti.newClient()
	return ti
}

// newClient is a fresh browser: its own cookie jar.
func (ti *tlsInstance) newClient() (*http.Client, *cookiejar.Jar) {
	jar, _ := cookiejar.New(nil)
	addr := ti.addr
	return &http.Client{
		Jar:     jar,
		Timeout: 20 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			},
			TLSClientConfig: &tls.Config{RootCAs: ti.pool, ServerName: "example.test"},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, jar
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	return m
}

// call sends a request with optional form body, bearer token and extra headers.
func (ti *tlsInstance) call(c *http.Client, method, path string, form url.Values, token string, hdr ...string) reply {
	ti.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	target := path
	if !strings.HasPrefix(path, "https://") {
		target = "https://example.test" + path
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		ti.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		ti.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

func (ti *tlsInstance) createUser(name, pw string) {
	ti.t.Helper()
	if _, _, err := ti.inst.Accounts().Create(context.Background(), accounts.NewParams{
		Username: name, Email: name + "@example.test", Password: pw, Approved: true}); err != nil {
		ti.t.Fatal(err)
	}
}

// signIn goes through the sign-in form as a browser would.
func (ti *tlsInstance) signIn(c *http.Client, login, pw, returnTo string) reply {
	ti.t.Helper()
	form := ti.call(c, "GET", "/auth/sign_in?return_to="+url.QueryEscape(returnTo), nil, "")
	if form.status != 200 {
		ti.t.Fatalf("sign-in form: %d", form.status)
	}
	return ti.call(c, "POST", "/auth/sign_in", url.Values{"csrf_token": {csrfOf(ti.t, form.body)},
		"username": {login}, "password": {pw}, "return_to": {returnTo}}, "")
}

type app struct{ id, secret string }

func (ti *tlsInstance) registerApp(redirects, scopes string) app {
	ti.t.Helper()
	r := ti.call(ti.client, "POST", "/api/v1/apps", url.Values{"client_name": {"Test App"}, "redirect_uris": {redirects},
		"scopes": {scopes}, "website": {"https://client.test"}}, "")
	if r.status != 200 {
		ti.t.Fatalf("create app: %d %s", r.status, r.body)
	}
	m := r.json(ti.t)
	return app{m["client_id"].(string), m["client_secret"].(string)}
}

func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// consent runs authorize → (sign in) → consent → decision and returns the final reply.
func (ti *tlsInstance) consent(c *http.Client, q url.Values, decision string) reply {
	ti.t.Helper()
	r := ti.call(c, "GET", "/oauth/authorize?"+q.Encode(), nil, "")
	if r.status != 200 {
		ti.t.Fatalf("authorize page: %d %s %s", r.status, r.header.Get("Location"), r.body)
	}
	post := url.Values{"csrf_token": {csrfOf(ti.t, r.body)}, "decision": {decision}}
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"} {
		if m := regexp.MustCompile(`name="` + k + `" value="([^"]*)"`).FindStringSubmatch(r.body); m != nil {
			post.Set(k, html.UnescapeString(m[1]))
		}
	}
	return ti.call(c, "POST", "/oauth/authorize", post, "")
}

func TestOAuthCodeFlowEndToEnd(t *testing.T) {
	ti := startTLS(t)
	ti.createUser("alice", "correct horse battery")
	a := ti.registerApp("https://client.test/cb\nurn:ietf:wg:oauth:2.0:oob", "read write profile")

	// The app alone: client_credentials and apps/verify_credentials.
	r := ti.call(ti.client, "POST", "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {a.id},
		"client_secret": {a.secret}, "scope": {"read"}}, "")
	if r.status != 200 {
		t.Fatalf("client_credentials: %d %s", r.status, r.body)
	}
	appToken := r.json(t)["access_token"].(string)
	if r := ti.call(ti.client, "GET", "/api/v1/apps/verify_credentials", nil, appToken); r.status != 200 || r.json(t)["name"] != "Test App" {
		t.Errorf("apps/verify_credentials: %d %s", r.status, r.body)
	}

	verifier, challenge := pkce()
	q := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {"https://client.test/cb"},
		"scope": {"read"}, "state": {"s-123"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}

	// Not signed in: authorize sends the browser to the sign-in page and back.
	r = ti.call(ti.client, "GET", "/oauth/authorize?"+q.Encode(), nil, "")
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || loc.Path != "/auth/sign_in" {
		t.Fatalf("authorize while signed out: %d → %s", r.status, loc)
	}
	returnTo := loc.Query().Get("return_to")
	if r := ti.signIn(ti.client, "alice", "correct horse battery", returnTo); r.status != http.StatusSeeOther || r.header.Get("Location") != returnTo {
		t.Fatalf("sign in: %d → %q", r.status, r.header.Get("Location"))
	}

	// The consent page names the app and the scopes, and lets the form's redirect reach the client.
	page := ti.call(ti.client, "GET", returnTo, nil, "")
	if page.status != 200 || !strings.Contains(page.body, "Test App") || !strings.Contains(page.body, "<code>read</code>") {
		t.Fatalf("consent page: %d\n%s", page.status, page.body)
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://client.test;") {
		t.Errorf("consent page CSP does not allow the redirect: %s", csp)
	}
	r = ti.consent(ti.client, q, "approve")
	back, _ := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || back.Host != "client.test" || back.Query().Get("state") != "s-123" || back.Query().Get("code") == "" {
		t.Fatalf("approve: %d → %s", r.status, back)
	}
	code := back.Query().Get("code")

	exchange := func(code, verifier, redirect string) reply {
		return ti.call(ti.client, "POST", "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirect}, "client_id": {a.id}, "client_secret": {a.secret}, "code_verifier": {verifier}}, "")
	}
	// A wrong verifier burns nothing but gets nothing.
	wrong := []byte(verifier)
	if wrong[0] = 'A'; verifier[0] == 'A' { // in the verifier alphabet, never equal to the right one
		wrong[0] = 'B'
	}
	if r := exchange(code, string(wrong), "https://client.test/cb"); r.status != 400 || r.json(t)["error"] != "invalid_grant" {
		t.Errorf("wrong PKCE verifier: %d %s", r.status, r.body)
	}
	// The code was consumed by that failed attempt: single use means single use.
	if r := exchange(code, verifier, "https://client.test/cb"); r.status != 400 {
		t.Errorf("code reused after a failed exchange: %d %s", r.status, r.body)
	}

	// A fresh code, exchanged properly.
	r = ti.consent(ti.client, q, "approve")
	back, _ = url.Parse(r.header.Get("Location"))
	code = back.Query().Get("code")
	if r := exchange(code, verifier, "https://client.test/other"); r.status != 400 || r.json(t)["error"] != "invalid_grant" {
		t.Errorf("wrong redirect_uri at exchange: %d %s", r.status, r.body)
	}
	r = ti.consent(ti.client, q, "approve")
	back, _ = url.Parse(r.header.Get("Location"))
	code = back.Query().Get("code")
	r = exchange(code, verifier, "https://client.test/cb")
	if r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	tok := r.json(t)
	if tok["token_type"] != "Bearer" || tok["scope"] != "read" {
		t.Errorf("token entity: %v", tok)
	}
	if _, ok := tok["created_at"].(float64); !ok {
		t.Errorf("created_at is not a number: %v", tok["created_at"])
	}
	access := tok["access_token"].(string)
	if r := exchange(code, verifier, "https://client.test/cb"); r.status != 400 || r.json(t)["error"] != "invalid_grant" {
		t.Errorf("reused code: %d %s", r.status, r.body)
	}

	me := ti.call(ti.client, "GET", "/api/v1/accounts/verify_credentials", nil, access)
	if me.status != 200 || me.json(t)["username"] != "alice" || me.json(t)["source"] == nil {
		t.Fatalf("verify_credentials: %d %s", me.status, me.body)
	}
	// Scope enforcement: a read token cannot write.
	if r := ti.call(ti.client, "PATCH", "/api/v1/accounts/update_credentials", url.Values{"display_name": {"A"}}, access); r.status != 403 ||
		!strings.Contains(r.header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("write with a read token: %d %s", r.status, r.body)
	}
	// Revocation.
	if r := ti.call(ti.client, "POST", "/oauth/revoke", url.Values{"client_id": {a.id}, "client_secret": {a.secret}, "token": {access}}, ""); r.status != 200 {
		t.Errorf("revoke: %d %s", r.status, r.body)
	}
	if r := ti.call(ti.client, "GET", "/api/v1/accounts/verify_credentials", nil, access); r.status != 401 {
		t.Errorf("revoked token still works: %d", r.status)
	}

	// Deny goes back to the client with access_denied and the state.
	r = ti.consent(ti.client, q, "deny")
	back, _ = url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "s-123" {
		t.Errorf("deny: %d → %s", r.status, back)
	}

	// Out-of-band: the code is shown on a page and exchanges with the oob redirect URI.
	oobQ := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {"urn:ietf:wg:oauth:2.0:oob"}, "scope": {"read write"}}
	r = ti.consent(ti.client, oobQ, "approve")
	m := regexp.MustCompile(`<code class="code" id="code">([^<]+)</code>`).FindStringSubmatch(r.body)
	if r.status != 200 || m == nil {
		t.Fatalf("oob page: %d\n%s", r.status, r.body)
	}
	if r := exchange(m[1], "", "urn:ietf:wg:oauth:2.0:oob"); r.status != 200 || r.json(t)["scope"] != "read write" {
		t.Errorf("oob exchange: %d %s", r.status, r.body)
	}

	// A redirect URI that was not registered is refused on our page, never redirected to.
	bad := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {"https://evil.test/cb"}, "scope": {"read"}}
	if r := ti.call(ti.client, "GET", "/oauth/authorize?"+bad.Encode(), nil, ""); r.status != 400 || r.header.Get("Location") != "" {
		t.Errorf("unregistered redirect_uri: %d → %q", r.status, r.header.Get("Location"))
	}
	// A scope beyond the app's registration is refused on our page: an error of
	// the GET request is never redirected, or /oauth/authorize would be an open
	// redirect for anyone who registers an app.
	wide := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {"https://client.test/cb"}, "scope": {"admin:write"}, "state": {"x"}}
	r = ti.call(ti.client, "GET", "/oauth/authorize?"+wide.Encode(), nil, "")
	if r.status != http.StatusBadRequest || r.header.Get("Location") != "" || !strings.Contains(r.body, "invalid_scope") {
		t.Errorf("scope beyond registration: %d → %q", r.status, r.header.Get("Location"))
	}
	evil := ti.registerApp("https://evil.test/landing", "read")
	bad = url.Values{"response_type": {"token"}, "client_id": {evil.id}, "redirect_uri": {"https://evil.test/landing"}}
	anon, _ := ti.newClient()
	if r := ti.call(anon, "GET", "/oauth/authorize?"+bad.Encode(), nil, ""); r.header.Get("Location") != "" {
		t.Errorf("/oauth/authorize redirected an anonymous visitor to %q: an open redirect", r.header.Get("Location"))
	}
	// force_login shows the sign-in page even to a signed-in visitor, once.
	fl := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {"https://client.test/cb"}, "force_login": {"true"}}
	r = ti.call(ti.client, "GET", "/oauth/authorize?"+fl.Encode(), nil, "")
	loc, _ = url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || loc.Path != "/auth/sign_in" || strings.Contains(loc.Query().Get("return_to"), "force_login") {
		t.Errorf("force_login: %d → %s", r.status, loc)
	}
	// JSON bodies work on /oauth/token too (megalodon, masto.js send JSON).
	req, _ := http.NewRequest("POST", "https://example.test/oauth/token", strings.NewReader(
		`{"grant_type":"client_credentials","client_id":"`+a.id+`","client_secret":"`+a.secret+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := ti.client.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("JSON token request: %v %v", err, resp)
	}
	// A wrong secret is invalid_client with 401.
	if r := ti.call(ti.client, "POST", "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {a.id}, "client_secret": {"nope"}}, ""); r.status != 401 || r.json(t)["error"] != "invalid_client" {
		t.Errorf("wrong client secret: %d %s", r.status, r.body)
	}
}

// sessionCookie finds the session cookie in a response's Set-Cookie headers.
func sessionCookie(t *testing.T, h http.Header) (raw string, c *http.Cookie) {
	t.Helper()
	for _, line := range h.Values("Set-Cookie") {
		if strings.HasPrefix(line, session.CookieName+"=") {
			parsed, err := http.ParseSetCookie(line)
			if err != nil {
				t.Fatal(err)
			}
			return line, parsed
		}
	}
	t.Fatalf("no %s in %q", session.CookieName, h.Values("Set-Cookie"))
	return "", nil
}

func TestSessionCookieAttributesAndLifecycle(t *testing.T) {
	ti := startTLS(t)
	ti.createUser("bob", "correct horse battery")

	form := ti.call(ti.client, "GET", "/auth/sign_in", nil, "")
	_, anon := sessionCookie(t, form.header)
	r := ti.signIn(ti.client, "bob", "correct horse battery", "/")
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d %s", r.status, r.body)
	}
	line, c := sessionCookie(t, r.header)
	attrs := map[string]bool{}
	for _, part := range strings.Split(line, ";")[1:] {
		attrs[strings.TrimSpace(strings.SplitN(part, "=", 2)[0])] = true
	}
	if c.Name != "__Host-rampart_session" {
		t.Errorf("name %q", c.Name)
	}
	if !c.Secure || !attrs["Secure"] {
		t.Errorf("not Secure: %s", line)
	}
	if !c.HttpOnly || !attrs["HttpOnly"] {
		t.Errorf("not HttpOnly: %s", line)
	}
	if c.SameSite != http.SameSiteLaxMode || !strings.Contains(line, "SameSite=Lax") {
		t.Errorf("SameSite: %s", line)
	}
	if c.Path != "/" {
		t.Errorf("Path %q", c.Path)
	}
	if attrs["Domain"] || c.Domain != "" {
		t.Errorf("has a Domain: %s", line)
	}
	if c.MaxAge != int((30 * 24 * time.Hour).Seconds()) {
		t.Errorf("Max-Age %d, want the session lifetime", c.MaxAge)
	}
	if c.Value == anon.Value || len(c.Value) != 43 {
		t.Errorf("the session id did not rotate at sign-in (%q → %q)", anon.Value, c.Value)
	}

	// Replaying the cookie by hand (a fresh client with no jar) signs in; altering it does not.
	bare, _ := ti.newClient()
	bare.Jar = nil
	signedInAs := func(value string) bool {
		r := ti.call(bare, "GET", "/", nil, "", "Cookie", session.CookieName+"="+value)
		return strings.Contains(r.body, "Signed in as <strong>@bob</strong>")
	}
	if !signedInAs(c.Value) {
		t.Fatal("the session cookie does not sign in")
	}
	flipped := []byte(c.Value)
	flipped[10] ^= 1
	if signedInAs(string(flipped)) {
		t.Error("an altered cookie signed in")
	}
	forged := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	if signedInAs(forged) || signedInAs("bob") {
		t.Error("a forged cookie signed in")
	}

	// Sign-out ends the session server-side: the old value no longer works.
	home := ti.call(ti.client, "GET", "/", nil, "")
	out := ti.call(ti.client, "POST", "/auth/sign_out", url.Values{"csrf_token": {csrfOf(t, home.body)}}, "")
	if out.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", out.status)
	}
	if _, gone := sessionCookie(t, out.header); gone.MaxAge >= 0 {
		t.Errorf("sign-out did not expire the cookie: %+v", gone)
	}
	if signedInAs(c.Value) {
		t.Error("the session survived sign-out")
	}

	// Sign-out without the CSRF token is refused.
	ti.signIn(ti.client, "bob", "correct horse battery", "/")
	if r := ti.call(ti.client, "POST", "/auth/sign_out", url.Values{"csrf_token": {"wrong"}}, ""); r.status != 403 {
		t.Errorf("sign-out with a bad CSRF token: %d", r.status)
	}
	// Sign-in with a CSRF token of another visitor is refused.
	other, _ := ti.newClient()
	otherForm := ti.call(other, "GET", "/auth/sign_in", nil, "")
	stranger, _ := ti.newClient()
	ti.call(stranger, "GET", "/auth/sign_in", nil, "")
	if r := ti.call(stranger, "POST", "/auth/sign_in", url.Values{"csrf_token": {csrfOf(t, otherForm.body)}, "username": {"bob"},
		"password": {"correct horse battery"}}, ""); r.status != 403 {
		t.Errorf("sign-in with someone else's CSRF token: %d", r.status)
	}

	// A password reset ends every session and token.
	second, _ := ti.newClient()
	r = ti.signIn(second, "bob", "correct horse battery", "/")
	_, live := sessionCookie(t, r.header)
	acc, _ := ti.inst.Store().AccountByUsername(context.Background(), "bob", "")
	if err := ti.inst.Accounts().ResetPassword(context.Background(), acc.ID, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if signedInAs(live.Value) {
		t.Error("a session survived the password reset")
	}
	if r := ti.signIn(second, "bob", "correct horse battery", "/"); r.status != 401 {
		t.Errorf("the old password still works: %d", r.status)
	}
	if r := ti.signIn(second, "bob", "a brand new password", "/"); r.status != http.StatusSeeOther {
		t.Errorf("the new password does not work: %d", r.status)
	}
}

func TestSignInBruteForceIsRateLimited(t *testing.T) {
	ti := startTLS(t, "[security]", "login_attempts = 3", `login_window = "10m"`)
	ti.createUser("carol", "correct horse battery")
	attempt := func(login, pw, ip string) reply {
		c, _ := ti.newClient()
		form := ti.call(c, "GET", "/auth/sign_in", nil, "")
		return ti.call(c, "POST", "/auth/sign_in", url.Values{"csrf_token": {csrfOf(t, form.body)}, "username": {login}, "password": {pw}},
			"", "X-Forwarded-For", ip)
	}
	// Per account, from changing addresses of one network (/24): N wrong passwords, then refusal even of the right one.
	for i, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		if r := attempt("carol", "wrong password!", ip); r.status != 401 || !strings.Contains(r.body, "Wrong username or password") {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	r := attempt("carol", "correct horse battery", "198.51.100.4")
	retry, _ := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || retry < 1 || retry > 600 || !strings.Contains(r.body, "Try again in "+strconv.Itoa(retry)+" s") {
		t.Fatalf("4th attempt: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// Per address, over changing names — including names that do not exist, answered exactly alike.
	for i, name := range []string{"nobody1", "nobody2", "dave"} {
		if r := attempt(name, "whatever password", "203.0.113.9"); r.status != 401 || !strings.Contains(r.body, "Wrong username or password") {
			t.Fatalf("address attempt %d: %d", i+1, r.status)
		}
	}
	if r := attempt("someone", "whatever password", "203.0.113.9"); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("address over the limit: %d", r.status)
	}
	// Another address and account are unaffected.
	ti.createUser("erin", "correct horse battery")
	if r := attempt("erin", "correct horse battery", "192.0.2.77"); r.status != http.StatusSeeOther {
		t.Errorf("unrelated sign-in: %d", r.status)
	}
}

func TestRegistrationModes(t *testing.T) {
	for _, mode := range []string{"closed", "approval", "open"} {
		t.Run(mode, func(t *testing.T) {
			ti := startTLS(t, "[accounts]", `registrations = "`+mode+`"`)
			a := ti.registerApp("urn:ietf:wg:oauth:2.0:oob", "read write")
			r := ti.call(ti.client, "POST", "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {a.id},
				"client_secret": {a.secret}, "scope": {"write"}}, "")
			appToken := r.json(t)["access_token"].(string)
			signup := url.Values{"username": {"newbie"}, "email": {"newbie@example.test"}, "password": {"long enough password"}, "agreement": {"true"}, "locale": {"en"}}
			r = ti.call(ti.client, "POST", "/api/v1/accounts", signup, appToken)
			switch mode {
			case "closed":
				if r.status != 403 {
					t.Fatalf("closed: %d %s", r.status, r.body)
				}
				return
			}
			if r.status != 200 {
				t.Fatalf("sign-up: %d %s", r.status, r.body)
			}
			userToken := r.json(t)["access_token"].(string)
			me := ti.call(ti.client, "GET", "/api/v1/accounts/verify_credentials", nil, userToken)
			signIn := ti.signIn(ti.client, "newbie", "long enough password", "/")
			if mode == "approval" {
				if me.status != 403 || signIn.status != 403 || !strings.Contains(signIn.body, "waiting for approval") {
					t.Errorf("pending account usable: api %d, sign-in %d", me.status, signIn.status)
				}
				if r := ti.call(ti.client, "GET", "/api/v1/accounts/lookup?acct=newbie", nil, ""); r.status != 404 {
					t.Errorf("pending account is visible: %d", r.status)
				}
			} else if me.status != 200 || signIn.status != http.StatusSeeOther {
				t.Errorf("open sign-up not usable: api %d, sign-in %d", me.status, signIn.status)
			}
			// The same name again is a 422 naming the field.
			signup.Set("email", "other@example.test")
			if r := ti.call(ti.client, "POST", "/api/v1/accounts", signup, appToken); r.status != 422 || !strings.Contains(r.body, `"username"`) {
				t.Errorf("duplicate username: %d %s", r.status, r.body)
			}
			signup.Set("agreement", "false")
			if r := ti.call(ti.client, "POST", "/api/v1/accounts", signup, appToken); r.status != 422 {
				t.Errorf("agreement not accepted: %d", r.status)
			}
		})
	}
}

func TestSignupsAreRateLimitedPerAddress(t *testing.T) {
	ti := startTLS(t, "[accounts]", `registrations = "open"`)
	a := ti.registerApp("urn:ietf:wg:oauth:2.0:oob", "read write")
	r := ti.call(ti.client, "POST", "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {a.id},
		"client_secret": {a.secret}, "scope": {"write"}}, "")
	appToken := r.json(t)["access_token"].(string)
	signup := func(n int, ip string) reply {
		name := "user" + strconv.Itoa(n)
		return ti.call(ti.client, "POST", "/api/v1/accounts", url.Values{"username": {name}, "email": {name + "@example.test"},
			"password": {"long enough password"}, "agreement": {"true"}}, appToken, "X-Forwarded-For", ip)
	}
	for i := 0; i < 5; i++ {
		if r := signup(i, "198.51.100.20"); r.status != 200 {
			t.Fatalf("sign-up %d: %d %s", i+1, r.status, r.body)
		}
	}
	r = signup(5, "198.51.100.20")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.json(t)["error"] == nil {
		t.Errorf("6th sign-up from one address: %d %s", r.status, r.body)
	}
	if r := signup(6, "198.51.100.21"); r.status != 200 {
		t.Errorf("another address: %d", r.status)
	}
}

func TestConcurrentGuessesCannotOutrunTheLimit(t *testing.T) {
	ti := startTLS(t, "[security]", "login_attempts = 3", `login_window = "10m"`)
	ti.createUser("dana", "correct horse battery")
	results := make(chan int, 20)
	for i := 0; i < 20; i++ {
		c, _ := ti.newClient()
		form := ti.call(c, "GET", "/auth/sign_in", nil, "")
		csrf := csrfOf(t, form.body)
		go func() {
			r := ti.call(c, "POST", "/auth/sign_in", url.Values{"csrf_token": {csrf}, "username": {"dana"}, "password": {"wrong guess here"}},
				"", "X-Forwarded-For", "198.51.100.77")
			results <- r.status
		}()
	}
	checked := 0
	for i := 0; i < 20; i++ {
		switch s := <-results; s {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if checked > 3 {
		t.Errorf("%d of 20 concurrent guesses were checked; the limit is 3", checked)
	}
}

func TestOnlyMultipartBodiesGetTheUploadLimit(t *testing.T) {
	ti := startTLS(t)
	tok, _ := ti.userToken("erin", "read write")
	big := `{"note":"` + strings.Repeat("a", 2<<20) + `"}`
	req, _ := http.NewRequest("PATCH", "https://example.test/api/v1/accounts/update_credentials", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := ti.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MiB JSON body on an upload route: %d, want 413", resp.StatusCode)
	}
	many := `{"redirect_uris":[` + strings.TrimSuffix(strings.Repeat(`"x",`, 5000), ",") + `],"client_name":"x"}`
	req, _ = http.NewRequest("POST", "https://example.test/api/v1/apps", strings.NewReader(many))
	req.Header.Set("Content-Type", "application/json")
	resp, err = ti.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("5000 values in one body: %d, want 400", resp.StatusCode)
	}
}
