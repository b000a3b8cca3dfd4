package web_test

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testdb"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/session"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// openSiteWithConfig is openSite that also returns the config, for tests
// that look into the database behind the pages.
func openSiteWithConfig(t *testing.T, extra ...string) (*site, *config.Config) {
	t.Helper()
	cfg := testutil.ProdConfig(t, t.TempDir(), extra...)
	logs := &testutil.SyncBuffer{}
	storetest.Seed(cfg.DatabasePath())
	inst, err := instance.Open(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)), instance.Options{KeyPairs: testutil.RSAKeyPair})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), `"level":"ERROR"`) {
			t.Errorf("the server logged an error:\n%s", logs.String())
		}
		inst.Close()
	})
	return newSite(t, inst, "example.test"), cfg
}

// countRows counts a table's rows, reading the database file directly.
func countRows(t *testing.T, cfg *config.Config, table string) int {
	t.Helper()
	db := testdb.Open(t, cfg.DatabasePath())
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// formClient is one browser on the in-process site: it keeps the session
// cookie it is given and sends it back, as a browser would. A jar client
// (newJar) keeps every cookie it is given — the device cookie too — and
// names its browser, as the sessions page and the security history need.
type formClient struct {
	s           *site
	cookies     map[string]string // name → value of the cookies it keeps
	everyCookie bool              // keep every cookie, not only the session's
}

// jarClient is a formClient from newJar.
type jarClient = formClient

func (s *site) newFormClient() *formClient { return &formClient{s: s, cookies: map[string]string{}} }

func (s *site) newJar() *jarClient {
	return &formClient{s: s, cookies: map[string]string{}, everyCookie: true}
}

// do sends a request with the client's cookies and keeps what the answer sets.
func (c *formClient) do(method, target string, form url.Values) *httptest.ResponseRecorder {
	c.s.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	rec := c.send(req)
	for _, sc := range rec.Result().Cookies() {
		if !c.everyCookie && sc.Name != session.CookieName {
			continue
		}
		if sc.MaxAge < 0 || sc.Value == "" {
			delete(c.cookies, sc.Name)
		} else {
			c.cookies[sc.Name] = sc.Value
		}
	}
	return rec
}

// send serves req as the client's: its host, its cookies and, for a jar
// client, its browser.
func (c *formClient) send(req *http.Request) *httptest.ResponseRecorder {
	req.Host = c.s.host
	if c.everyCookie {
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
	}
	for name, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	rec := httptest.NewRecorder()
	c.s.inst.Handler().ServeHTTP(rec, req)
	return rec
}

var formCSRF = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// csrfIn is the CSRF token of the form on a page.
func csrfIn(t *testing.T, body string) string {
	t.Helper()
	m := formCSRF.FindStringSubmatch(body)
	if m == nil || m[1] == "" {
		t.Fatalf("no CSRF token on the page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// signIn signs the client in through the form and fails the test if that does not work.
func (c *formClient) signIn(login string) {
	c.s.t.Helper()
	form := c.do(http.MethodGet, "/auth/sign_in", nil)
	r := c.do(http.MethodPost, "/auth/sign_in", url.Values{"csrf_token": {csrfIn(c.s.t, form.Body.String())},
		"username": {login}, "password": {"correct horse battery"}})
	if r.Code != http.StatusSeeOther {
		c.s.t.Fatalf("sign in as %s: %d\n%s", login, r.Code, r.Body)
	}
}

// signedInAs reports the account the home page greets, "" when signed out.
func (c *formClient) signedInAs() string {
	c.s.t.Helper()
	m := regexp.MustCompile(`Signed in as <strong>@([^<]+)</strong>`).FindStringSubmatch(c.do(http.MethodGet, "/", nil).Body.String())
	if m == nil {
		return ""
	}
	return m[1]
}
