package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// adminEnv is a fresh instance for the admin commands: a prod config and an empty data dir.
func adminEnv(t *testing.T) []string {
	t.Helper()
	return []string{"RAMPART_CONFIG=" + prodConfig(t), "RAMPART_DATA_DIR=" + t.TempDir()}
}

// adminOK runs an admin command that must succeed quietly (nothing on stderr).
func adminOK(t *testing.T, env []string, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := runStdin(t, env, stdin, append([]string{"admin", "user"}, args...)...)
	if code != 0 || errOut != "" {
		t.Fatalf("admin user %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

// adminFails checks a failing admin command: the exit status and one stderr line.
func adminFails(t *testing.T, env []string, stdin string, wantCode int, want string, args ...string) {
	t.Helper()
	out, errOut, code := runStdin(t, env, stdin, append([]string{"admin", "user"}, args...)...)
	oneErrorLine(t, errOut, code, want)
	if code != wantCode {
		t.Errorf("admin user %v: exit %d, want %d (%s)", args, code, wantCode, errOut)
	}
	if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 {
		t.Errorf("admin user %v: want one stderr line, got:\n%s", args, errOut)
	}
	if out != "" {
		t.Errorf("admin user %v: failed but printed %q", args, out)
	}
}

type adminUser struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
}

// adminUsers is `admin user list --json`, by username.
func adminUsers(t *testing.T, env []string) map[string]adminUser {
	t.Helper()
	var list []adminUser
	if err := json.Unmarshal([]byte(adminOK(t, env, "", "list", "--json")), &list); err != nil {
		t.Fatalf("list --json: %v", err)
	}
	out := map[string]adminUser{}
	for _, u := range list {
		out[u.Username] = u
	}
	if len(out) != len(list) {
		t.Errorf("list --json repeats a user: %v", list)
	}
	return out
}

// wantUser checks one user's role and state as list --json shows them.
func wantUser(t *testing.T, env []string, name, role, state string) {
	t.Helper()
	u, ok := adminUsers(t, env)[name]
	if !ok || u.Role != role || u.State != state {
		t.Errorf("@%s: %+v (present %v), want role %s, state %s", name, u, ok, role, state)
	}
}

var generatedPassword = regexp.MustCompile(`(?m)^password: (\S+) \(shown once; store it now\)$`)

func TestAdminUserCreateAndList(t *testing.T) {
	env := adminEnv(t)

	out := adminOK(t, env, "", "list")
	if !strings.Contains(out, "no local users") {
		t.Errorf("empty list: %q", out)
	}
	if out := adminOK(t, env, "", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty list --json: %q", out)
	}

	// Without --password-stdin a strong password is generated and printed once.
	out = adminOK(t, env, "", "create", "--username", "alice", "--email", "alice@example.test", "--admin")
	if !regexp.MustCompile(`(?m)^created @alice \(id \d+, role admin\)$`).MatchString(out) {
		t.Errorf("create output:\n%s", out)
	}
	m := generatedPassword.FindAllStringSubmatch(out, -1)
	if len(m) != 1 || len(m[0][1]) < 20 || strings.Count(out, m[0][1]) != 1 {
		t.Fatalf("want the generated password (>= 20 chars) printed exactly once:\n%s", out)
	}
	alicePassword := m[0][1]

	// With --password-stdin the first line is the password and nothing is printed of it.
	out = adminOK(t, env, "correct horse battery\r\nignored\n", "create", "--username", "bob", "--email", "bob@example.test", "--password-stdin")
	if !strings.HasPrefix(out, "created @bob (id ") || !strings.Contains(out, "role user)") || strings.Contains(out, "password") {
		t.Errorf("create --password-stdin output:\n%s", out)
	}
	adminOK(t, env, "", "create", "--username", "carol", "--email", "carol@example.test", "--moderator")

	list := adminOK(t, env, "", "list")
	if strings.Contains(list, alicePassword) {
		t.Error("list shows a password")
	}
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "ID USERNAME EMAIL ROLE STATE CREATED" {
		t.Fatalf("list table:\n%s", list)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	for i, want := range [][]string{
		{"alice", "alice@example.test", "admin", "active"},
		{"bob", "bob@example.test", "user", "active"},
		{"carol", "carol@example.test", "moderator", "active"},
	} {
		f := strings.Fields(lines[i+1])
		if len(f) != 6 || strings.Join(f[1:5], " ") != strings.Join(want, " ") || f[5] != today {
			t.Errorf("list row %d: %q, want %v created %s", i+1, lines[i+1], want, today)
		}
	}
	users := adminUsers(t, env)
	if len(users) != 3 {
		t.Fatalf("list --json: %v", users)
	}
	a := users["alice"]
	if a.ID == "" || a.ID == users["bob"].ID || a.Email != "alice@example.test" || a.Role != "admin" || a.State != "active" ||
		time.Since(a.CreatedAt) > time.Minute {
		t.Errorf("alice in list --json: %+v", a)
	}

	// Duplicates, compared case-insensitively, are refused and change nothing.
	adminFails(t, env, "", 1, "rampart admin user create: --username: is already taken",
		"create", "--username", "ALICE", "--email", "other@example.test")
	adminFails(t, env, "", 1, "rampart admin user create: --email: is already taken",
		"create", "--username", "alice2", "--email", "Alice@EXAMPLE.test")
	if got := adminUsers(t, env); len(got) != 3 || got["alice"] != a {
		t.Errorf("after the duplicates: %v", got)
	}

	// Bad input.
	adminFails(t, env, "", 1, "--username: must be 1 to 30 characters of a-z, 0-9 and _",
		"create", "--username", "bad name", "--email", "x@example.test")
	adminFails(t, env, "", 1, "--username: must be 1 to 30 characters",
		"create", "--username", strings.Repeat("a", 31), "--email", "x@example.test")
	adminFails(t, env, "", 1, "--email: is not an e-mail address",
		"create", "--username", "dave", "--email", "not-an-address")
	adminFails(t, env, "short\n", 1, "password from --password-stdin: must be at least 10 characters",
		"create", "--username", "dave", "--email", "dave@example.test", "--password-stdin")
	adminFails(t, env, "", 1, "--password-stdin: no password on standard input",
		"create", "--username", "dave", "--email", "dave@example.test", "--password-stdin")
	adminFails(t, env, "", 2, "--username and --email are required", "create", "--username", "dave")
	adminFails(t, env, "", 2, "--admin and --moderator exclude each other",
		"create", "--username", "dave", "--email", "dave@example.test", "--admin", "--moderator")
	if got := adminUsers(t, env); len(got) != 3 {
		t.Errorf("failed creates left accounts: %v", got)
	}

	// No config at all is a usage error.
	_, stderr, code := run(t, nil, "admin", "user", "list")
	oneErrorLine(t, stderr, code, "no config file: pass --config FILE or set RAMPART_CONFIG")
	if code != 2 {
		t.Errorf("no config: exit %d, want 2", code)
	}
}

func TestAdminUserRolesAndStates(t *testing.T) {
	env := adminEnv(t)
	adminOK(t, env, "", "create", "--username", "dave", "--email", "dave@example.test")
	wantUser(t, env, "dave", "user", "active")

	for _, step := range []struct {
		args        []string
		out         string
		role, state string
	}{
		{[]string{"promote", "--username", "dave"}, "@dave is now admin (was user)", "admin", "active"},
		{[]string{"promote", "--username", "DAVE", "--role", "moderator"}, "@dave is now moderator (was admin)", "moderator", "active"},
		{[]string{"demote", "--username", "dave"}, "@dave is now user (was moderator)", "user", "active"},
		{[]string{"disable", "--username", "dave"}, "disabled @dave; every session and token of the account was ended", "user", "disabled"},
		{[]string{"enable", "--username", "dave"}, "enabled @dave", "user", "active"},
		{[]string{"approve", "--username", "dave"}, "@dave was already approved", "user", "active"},
		{[]string{"suspend", "--username", "dave"}, "suspended @dave: hidden from everyone, every session and token ended; `rampart admin user unsuspend` restores it", "user", "suspended"},
		{[]string{"suspend", "dave"}, "@dave was already suspended; every session and token of the account was ended", "user", "suspended"},
		{[]string{"unsuspend", "--username", "dave"}, "unsuspended @dave", "user", "active"},
		{[]string{"unsuspend", "dave"}, "@dave was not suspended", "user", "active"},
	} {
		if out := adminOK(t, env, "", step.args...); strings.TrimSpace(out) != step.out {
			t.Errorf("%v: %q, want %q", step.args, out, step.out)
		}
		wantUser(t, env, "dave", step.role, step.state)
	}

	for _, cmd := range []string{"disable", "enable", "promote", "demote", "approve", "reset-password"} {
		adminFails(t, env, "", 1, `rampart admin user `+cmd+`: no local user named "nobody"`, cmd, "--username", "nobody")
		adminFails(t, env, "", 2, "--username is required", cmd)
	}
	adminFails(t, env, "", 2, `--role: "user" is not a role to promote to`, "promote", "--username", "dave", "--role", "user")
	adminFails(t, env, "", 2, `unexpected argument "dave"`, "disable", "dave")
	for _, cmd := range []string{"suspend", "unsuspend"} {
		adminFails(t, env, "", 1, `rampart admin user `+cmd+`: no local user named "nobody"`, cmd, "nobody")
		adminFails(t, env, "", 2, "--username is required", cmd)
	}
}

// signInPage gets the sign-in form: the anonymous session cookie and the form's CSRF token.
func signInPage(t *testing.T, addr string) (cookie, csrf string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/auth/sign_in", nil)
	req.Host = "example.test"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(body)
	cookie = sessionCookie(resp)
	if resp.StatusCode != 200 || m == nil || cookie == "" {
		t.Fatalf("sign-in form: %d cookie %q\n%s", resp.StatusCode, cookie, body)
	}
	return cookie, string(m[1])
}

// sessionCookie is the __Host-rampart_session value a response sets. The
// cookie is Secure, so a cookie jar would not send it back over http: the
// tests carry it by hand.
func sessionCookie(resp *http.Response) string {
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-rampart_session" && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

// signIn posts the sign-in form; it returns the status, Location, the signed-in session cookie and the page.
func signIn(t *testing.T, addr, login, pw string) (status int, location, session, page string) {
	t.Helper()
	cookie, csrf := signInPage(t, addr)
	form := url.Values{"csrf_token": {csrf}, "username": {login}, "password": {pw}, "return_to": {"/"}}
	req, _ := http.NewRequest("POST", "http://"+addr+"/auth/sign_in", strings.NewReader(form.Encode()))
	req.Host = "example.test"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "__Host-rampart_session="+cookie)
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), sessionCookie(resp), string(body)
}

// wantSignIn checks that a sign-in answers status (303 to "/" on success)
// and, on failure, a page that says why.
func wantSignIn(t *testing.T, addr, login, pw string, status int, why string) string {
	t.Helper()
	got, loc, session, page := signIn(t, addr, login, pw)
	if got != status || (status == http.StatusSeeOther && (loc != "/" || session == "")) || !strings.Contains(page, why) {
		t.Errorf("sign in as %s: %d %q (session set: %v), want %d and %q in:\n%s", login, got, loc, session != "", status, why, page)
	}
	return session
}

// signedInAs is who the home page says the session belongs to ("" for nobody).
func signedInAs(t *testing.T, addr, session string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Host = "example.test"
	req.Header.Set("Cookie", "__Host-rampart_session="+session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := regexp.MustCompile(`Signed in as <strong>@(\w+)</strong>`).FindSubmatch(body); m != nil {
		return string(m[1])
	}
	return ""
}

// apiPost posts a form to the API and decodes the JSON answer.
func apiPost(t *testing.T, addr, path, bearer string, form url.Values, out any) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+path, strings.NewReader(form.Encode()))
	req.Host = "example.test"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("POST %s: %v in %s", path, err, body)
	}
}

// The CLI works beside a running server, on the same database.
func TestAdminUsersSignInToRunningServer(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	env := append(adminEnv(t), "RAMPART_HTTP_LISTEN="+addr, "RAMPART_ACCOUNTS_REGISTRATIONS=approval")
	p := startProc(t, env, "serve")
	waitReady(t, p, addr, "example.test")

	out := adminOK(t, env, "", "create", "--username", "erin", "--email", "erin@example.test")
	m := generatedPassword.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no generated password:\n%s", out)
	}
	session := wantSignIn(t, addr, "erin", m[1], http.StatusSeeOther, "")
	if who := signedInAs(t, addr, session); who != "erin" {
		t.Fatalf("after sign-in the home page shows %q", who)
	}

	// A reset ends the session; only the new password works.
	out = adminOK(t, env, "a new long password\n", "reset-password", "--username", "erin", "--password-stdin")
	if strings.TrimSpace(out) != "reset the password of @erin; every session and token of the account was ended" {
		t.Errorf("reset-password: %q", out)
	}
	if who := signedInAs(t, addr, session); who != "" {
		t.Errorf("the session survived the reset (%q)", who)
	}
	wantSignIn(t, addr, "erin", m[1], http.StatusUnauthorized, "Wrong username or password.")
	session = wantSignIn(t, addr, "erin@example.test", "a new long password", http.StatusSeeOther, "")

	// Disabling ends the session and refuses sign-in; enabling lets it back.
	adminOK(t, env, "", "disable", "--username", "erin")
	if who := signedInAs(t, addr, session); who != "" {
		t.Errorf("the session survived disable (%q)", who)
	}
	wantSignIn(t, addr, "erin", "a new long password", http.StatusForbidden, "This account is disabled.")
	adminOK(t, env, "", "enable", "--username", "erin")
	wantSignIn(t, addr, "erin", "a new long password", http.StatusSeeOther, "")

	// So does suspending, until unsuspended.
	session = wantSignIn(t, addr, "erin", "a new long password", http.StatusSeeOther, "")
	adminOK(t, env, "", "suspend", "--username", "erin")
	if who := signedInAs(t, addr, session); who != "" {
		t.Errorf("the session survived suspend (%q)", who)
	}
	wantSignIn(t, addr, "erin", "a new long password", http.StatusForbidden, "This account is suspended.")
	adminOK(t, env, "", "unsuspend", "--username", "erin")
	wantSignIn(t, addr, "erin", "a new long password", http.StatusSeeOther, "")

	// A registration waits for approval, which the CLI gives.
	var app struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	apiPost(t, addr, "/api/v1/apps", "", url.Values{"client_name": {"test"}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read write"}}, &app)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	apiPost(t, addr, "/oauth/token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID},
		"client_secret": {app.ClientSecret}, "scope": {"write"}}, &tok)
	apiPost(t, addr, "/api/v1/accounts", tok.AccessToken, url.Values{"username": {"frank"}, "email": {"frank@example.test"},
		"password": {"franks password"}, "agreement": {"true"}, "reason": {"hello"}}, &struct{}{})
	wantUser(t, env, "frank", "user", "pending")
	wantSignIn(t, addr, "frank", "franks password", http.StatusForbidden, "This account is waiting for approval")
	if out := adminOK(t, env, "", "approve", "--username", "frank"); strings.TrimSpace(out) != "approved @frank" {
		t.Errorf("approve: %q", out)
	}
	wantUser(t, env, "frank", "user", "active")
	wantSignIn(t, addr, "frank", "franks password", http.StatusSeeOther, "")
}

// `admin user delete` needs --yes, deletes once, and a deleted account
// cannot be enabled again.
func TestAdminUserDelete(t *testing.T) {
	env := adminEnv(t)
	adminOK(t, env, socialPassword+"\n", "create", "--username", "gone", "--email", "gone@example.net", "--password-stdin")
	adminFails(t, env, "", 2, "add --yes to confirm", "delete", "--username", "gone")
	if out := adminOK(t, env, "", "delete", "--username", "gone", "--yes"); !strings.HasPrefix(out, "deleted @gone") {
		t.Errorf("delete: %q", out)
	}
	adminFails(t, env, "", 1, "@gone was deleted already", "delete", "--username", "gone", "--yes")
	adminFails(t, env, "", 1, "the account was deleted", "enable", "--username", "gone")
	adminFails(t, env, socialPassword+"\n", 1, "taken", "create", "--username", "gone", "--email", "new@example.net", "--password-stdin")
}
