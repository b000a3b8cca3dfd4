package main

import (
	"context"
	"html"
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
)

// localhostJar stores and sends cookies for http://localhost as browsers do:
// localhost counts as a secure context, so Secure (and __Host-) cookies work.
type localhostJar struct{ *cookiejar.Jar }

func secureURL(u *url.URL) *url.URL {
	c := *u
	c.Scheme = "https"
	return &c
}

func (j localhostJar) SetCookies(u *url.URL, c []*http.Cookie) { j.Jar.SetCookies(secureURL(u), c) }
func (j localhostJar) Cookies(u *url.URL) []*http.Cookie       { return j.Jar.Cookies(secureURL(u)) }

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// formFields returns a page's hidden form fields.
func formFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// A third-party Mastodon client library registers, has a person sign in
// through the pages, and reads verify_credentials from `rampart quickstart`.
func TestMastodonClientLibraryAgainstQuickstart(t *testing.T) {
	data := t.TempDir()
	port := freePort(t)
	addr := "127.0.0.1:" + port
	server := "http://localhost:" + port
	p := startProc(t, nil, "quickstart", "--data", data, "--listen", addr)
	waitReady(t, p, addr, "localhost:"+port)
	cfg := filepath.Join(data, "rampart.toml")

	cmd := []string{"admin", "user", "create", "--config", cfg, "--username", "frank", "--email", "frank@example.test", "--password-stdin"}
	if _, stderr, code := runStdin(t, nil, "a long test password\n", cmd...); code != 0 {
		t.Fatalf("admin user create: %d %s", code, stderr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: "go-mastodon test", Scopes: "read write", Website: "https://example.test"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}

	// The person's part, as a browser without JavaScript does it.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: localhostJar{jar}, Timeout: 10 * time.Second}
	get := func(u string) string {
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
		}
		return string(b)
	}
	post := func(path string, form url.Values) string {
		resp, err := browser.PostForm(server+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	signIn := get(app.AuthURI) // redirected to the sign-in page
	form := formFields(signIn)
	form.Set("username", "frank")
	form.Set("password", "a long test password")
	consent := post("/auth/sign_in", form) // back to the consent page
	if !strings.Contains(consent, "go-mastodon test") {
		t.Fatalf("not the consent page:\n%s", consent)
	}
	approve := formFields(consent)
	approve.Set("decision", "approve")
	codePage := post("/oauth/authorize", approve)
	m := regexp.MustCompile(`id="code">([^<]+)<`).FindStringSubmatch(codePage)
	if m == nil {
		t.Fatalf("no code shown:\n%s", codePage)
	}

	// Back to the library.
	c := mastodon.NewClient(&mastodon.Config{Server: server, ClientID: app.ClientID, ClientSecret: app.ClientSecret})
	if err := c.AuthenticateToken(ctx, m[1], "urn:ietf:wg:oauth:2.0:oob"); err != nil {
		t.Fatalf("AuthenticateToken: %v", err)
	}
	me, err := c.GetAccountCurrentUser(ctx)
	if err != nil {
		t.Fatalf("GetAccountCurrentUser: %v", err)
	}
	if me.Username != "frank" || me.Acct != "frank" || me.Avatar == "" || string(me.ID) == "" {
		t.Errorf("account: %+v", me)
	}
	inst, err := c.GetInstance(ctx)
	if err != nil {
		t.Fatalf("GetInstance: %v", err)
	}
	if !strings.Contains(inst.Version, "(compatible; Rampart ") || inst.URLs["streaming_api"] != "ws://localhost:"+port {
		t.Errorf("instance: version %q urls %v", inst.Version, inst.URLs)
	}
	if _, err := c.VerifyAppCredentials(ctx); err != nil {
		t.Errorf("VerifyAppCredentials: %v", err)
	}
}
