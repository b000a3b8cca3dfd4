package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/instance"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// site drives an instance's full request path in process, as a client of
// the instance host would (Host set, headers and all).
type site struct {
	t     *testing.T
	inst  *instance.Instance
	host  string
	appID int64
}

func newSite(t *testing.T, inst *instance.Instance, host string) *site {
	t.Helper()
	app, _, err := inst.OAuth().RegisterApp(context.Background(), oauth.AppParams{Name: "poster", RedirectURIs: []string{oauth.OOB}, Scopes: "read write"})
	if err != nil {
		t.Fatalf("register app: %v", err)
	}
	return &site{t: t, inst: inst, host: host, appID: app.ID}
}

// openSite opens a prod instance for example.test; fail reports whether the
// server logged an error when the test ends.
func openSite(t *testing.T) *site {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	cfg := testutil.ProdConfig(t, t.TempDir())
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
	return newSite(t, inst, "example.test")
}

// request sends one request; form goes in the body (POST) or nowhere.
func (s *site) request(method, target string, form url.Values, token string) *httptest.ResponseRecorder {
	s.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.Host = s.host
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.inst.Handler().ServeHTTP(rec, req)
	return rec
}

func (s *site) get(target string) *httptest.ResponseRecorder {
	s.t.Helper()
	return s.request(http.MethodGet, target, nil, "")
}

// user creates an approved account and returns a read/write token for it.
func (s *site) user(name string) string {
	s.t.Helper()
	if _, _, err := s.inst.Accounts().Create(context.Background(), accounts.NewParams{Username: name, Email: name + "@example.test",
		Password: "correct horse battery", Approved: true}); err != nil {
		s.t.Fatalf("create %s: %v", name, err)
	}
	return s.token(name)
}

// token issues a read/write token for an existing account.
func (s *site) token(name string) string {
	s.t.Helper()
	ctx := context.Background()
	acc, err := s.inst.Store().AccountByUsername(ctx, name, "")
	if err != nil {
		s.t.Fatalf("account %s: %v", name, err)
	}
	sc, _ := oauth.ParseScopes("read write")
	tok, err := s.inst.OAuth().IssueForAccount(ctx, s.appID, acc.ID, sc)
	if err != nil {
		s.t.Fatalf("token for %s: %v", name, err)
	}
	return tok.Token
}

// account loads an account by name.
func (s *site) account(name string) *store.Account {
	s.t.Helper()
	acc, err := s.inst.Store().AccountByUsername(context.Background(), name, "")
	if err != nil {
		s.t.Fatalf("account %s: %v", name, err)
	}
	return acc
}

// post publishes a status through the API (params are name, value pairs)
// and returns its id.
func (s *site) post(token, text string, params ...string) string {
	s.t.Helper()
	form := url.Values{"status": {text}}
	for i := 0; i+1 < len(params); i += 2 {
		form.Set(params[i], params[i+1])
	}
	return s.apiID(s.request(http.MethodPost, "/api/v1/statuses", form, token), "post "+text)
}

// reblog boosts a status and returns the reblog's id.
func (s *site) reblog(token, id string) string {
	s.t.Helper()
	return s.apiID(s.request(http.MethodPost, "/api/v1/statuses/"+id+"/reblog", url.Values{}, token), "reblog "+id)
}

func (s *site) apiID(rec *httptest.ResponseRecorder, what string) string {
	s.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.ID == "" {
		s.t.Fatalf("%s: %d %s", what, rec.Code, rec.Body.String())
	}
	return out.ID
}

// page gets a public page, wanting status; it returns the body.
func (s *site) page(target string, status int) string {
	s.t.Helper()
	rec := s.get(target)
	body := rec.Body.String()
	if rec.Code != status {
		s.t.Fatalf("GET %s: status %d, want %d\n%s", target, rec.Code, status, body)
	}
	if ct := rec.Header().Get("Content-Type"); status != http.StatusFound && ct != "text/html; charset=utf-8" {
		s.t.Errorf("GET %s: Content-Type %q", target, ct)
	}
	if c := rec.Header().Values("Set-Cookie"); len(c) > 0 {
		s.t.Errorf("GET %s: a public page set cookies %q", target, c)
	}
	if cc := rec.Header().Get("Cache-Control"); status == http.StatusOK && cc != "no-store" {
		s.t.Errorf("GET %s: Cache-Control %q, want no-store", target, cc)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		s.t.Errorf("GET %s: CSP %q", target, csp)
	}
	return body
}

// articles lists the ids of the posts a page shows, in order.
var articleRE = regexp.MustCompile(`<article class="post(?: focus)?" id="s(\d+)">`)

func articles(body string) []string {
	var ids []string
	for _, m := range articleRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func alternate(href string) string {
	return `<link rel="alternate" type="application/activity+json" href="` + href + `">`
}

const noindex = `<meta name="robots" content="noindex">`

func TestProfileShowsPublicAndUnlistedPostsOnly(t *testing.T) {
	s := openSite(t)
	alice := s.user("alice")
	bob := s.user("bob")
	desc := "Hello <b>world</b> & friends\nsecond line"
	fields := []store.Field{{Name: "Site <i>", Value: "https://alice.example/<x>"}}
	dn := "Alice <A>"
	if _, _, err := s.inst.Accounts().UpdateProfile(context.Background(), s.account("alice").ID,
		accounts.ProfileUpdate{DisplayName: &dn, Note: &desc, Fields: &fields}); err != nil {
		t.Fatal(err)
	}
	public := s.post(alice, "a public post", "visibility", "public")
	unlisted := s.post(alice, "an unlisted post", "visibility", "unlisted")
	private := s.post(alice, "a private post", "visibility", "private")
	direct := s.post(alice, "@bob a direct post", "visibility", "direct")
	script := s.post(alice, "<script>alert(1)</script>")
	cw := s.post(alice, "behind the warning", "spoiler_text", "CW <here>")
	link := s.post(alice, "see https://example.org/a/very/long/path/that/goes/on/and/on #Rampart @bob")
	bobs := s.post(bob, "bob's own post")

	body := s.page("/@alice", http.StatusOK)
	if got, want := articles(body), []string{link, cw, script, unlisted, public}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("profile shows %v, want %v (newest first, public and unlisted only)", got, want)
	}
	for _, hidden := range []string{"a private post", "a direct post", private, direct, "bob&#39;s own post"} {
		if strings.Contains(body, hidden) {
			t.Errorf("the profile shows %q", hidden)
		}
	}
	for _, want := range []string{
		alternate("https://example.test/users/alice"),
		"<title>Alice &lt;A&gt; (@alice@example.test) · example.test</title>",
		"<h1>Alice &lt;A&gt;</h1>",
		`<p class="note">Hello &lt;b&gt;world&lt;/b&gt; &amp; friends` + "\nsecond line</p>",
		// A field's URL is a link (rel "me", as in the API), the rest escaped.
		`<dt>Site &lt;i&gt;</dt><dd><a href="https://alice.example/" target="_blank" rel="nofollow noopener noreferrer me" translate="no">` +
			`<span class="invisible">https://</span><span class="">alice.example/</span><span class="invisible"></span></a>&lt;x&gt;</dd>`,
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		`<details class="cw">` + "\n<summary>CW &lt;here&gt;</summary>",
		`<span class="invisible">https://</span>`,
		`<span class="ellipsis">`,
		`class="mention hashtag" rel="tag">#<span>Rampart</span></a>`,
		`href="/@alice/` + public + `"><time datetime="`,
		`<strong>6</strong> posts`, // the counter counts private posts too (not direct ones), as the API's does
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the profile lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "<b>world") || strings.Contains(body, "<A>") {
		t.Errorf("the profile carries unescaped markup:\n%s", body)
	}
	if strings.Contains(body, noindex) {
		t.Error("a discoverable account's profile is noindex")
	}
	if strings.Contains(body, "Older posts") {
		t.Error("a profile of one page links to older posts")
	}
	// Names are case-insensitive.
	if got := articles(s.page("/@ALICE", http.StatusOK)); len(got) != 5 {
		t.Errorf("/@ALICE shows %v", got)
	}

	// Status pages: public and unlisted are there, private and direct are not.
	page := s.page("/@alice/"+public, http.StatusOK)
	if !strings.Contains(page, alternate("https://example.test/users/alice/statuses/"+public)) {
		t.Errorf("the status page lacks its alternate link:\n%s", page)
	}
	if got := articles(page); len(got) != 1 || got[0] != public || !strings.Contains(page, `<article class="post focus" id="s`+public+`">`) {
		t.Errorf("the status page shows %v", got)
	}
	if !strings.Contains(page, "<title>Alice &lt;A&gt;: “a public post” · example.test</title>") {
		t.Errorf("status page title:\n%s", page)
	}
	s.page("/@alice/"+unlisted, http.StatusOK)
	if page := s.page("/@alice/"+cw, http.StatusOK); strings.Contains(page, "<title>Alice &lt;A&gt;: “behind") {
		t.Error("the title of a status with a content warning quotes the hidden text")
	}
	if page := s.page("/@alice/"+script, http.StatusOK); !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(page, "<script>") {
		t.Errorf("the script status is not escaped:\n%s", page)
	}
	for _, target := range []string{
		"/@alice/" + private,
		"/@alice/" + direct,
		"/@alice/" + bobs, // bob's status under alice's name
		"/@bob/" + public, // and alice's under bob's
		"/@alice/abc",
		"/@alice/-1",
		"/@alice/+" + public,
		"/@alice/0",
		"/@alice/99999999999999999999999",
		"/@alice/" + public + "/x",
		"/@alice/",
		"/@nobody",
		"/@nobody/" + public,
		"/@",
		"/@alice@example.test",
		"/@al%20ice",
	} {
		if body := s.page(target, http.StatusNotFound); !strings.Contains(body, "<title>Not found · example.test</title>") {
			t.Errorf("GET %s: not the 404 page:\n%s", target, body)
		}
	}
	s.page("/@bob/"+bobs, http.StatusOK)

	// A hidden account's pages say noindex.
	no := false
	if _, _, err := s.inst.Accounts().UpdateProfile(context.Background(), s.account("alice").ID, accounts.ProfileUpdate{Discoverable: &no}); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/@alice", "/@alice/" + public} {
		if body := s.page(target, http.StatusOK); !strings.Contains(body, noindex) {
			t.Errorf("GET %s of an undiscoverable account is not noindex", target)
		}
	}
	if body := s.page("/@bob", http.StatusOK); strings.Contains(body, noindex) {
		t.Error("bob's profile is noindex")
	}

	// HEAD works; other methods are not allowed.
	if rec := s.request(http.MethodHead, "/@alice", nil, ""); rec.Code != http.StatusOK {
		t.Errorf("HEAD /@alice: %d", rec.Code)
	}
	for _, target := range []string{"/@alice", "/@alice/" + public} {
		if rec := s.request(http.MethodPost, target, url.Values{}, ""); rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: %d, Allow %q", target, rec.Code, rec.Header().Get("Allow"))
		}
	}
}

func TestPendingAndDisabledAccountsHaveNoPages(t *testing.T) {
	s := openSite(t)
	gone := s.user("gone")
	id := s.post(gone, "soon gone")
	s.page("/@gone/"+id, http.StatusOK)
	// Someone replies to it; once its author is disabled, the reply no longer names them.
	stay := s.user("stay")
	reply := s.post(stay, "@gone hello", "in_reply_to_id", id)
	if body := s.page("/@stay/"+reply, http.StatusOK); !strings.Contains(body, "/@gone") {
		t.Fatalf("the reply does not name its parent's author before disabling:\n%s", body)
	}
	yes := true
	if _, err := s.inst.Accounts().Modify(context.Background(), s.account("gone").ID, accounts.Change{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.inst.Accounts().Create(context.Background(), accounts.NewParams{Username: "waiting", Email: "w@example.test",
		Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/@gone", "/@gone/" + id, "/@waiting"} {
		s.page(target, http.StatusNotFound)
	}
	if body := s.page("/@stay/"+reply, http.StatusOK); strings.Contains(body, `href="/@gone`) {
		t.Errorf("the reply still links the disabled account:\n%s", body)
	}
}

func TestProfilePages(t *testing.T) {
	s := openSite(t)
	carol := s.user("carol")
	var ids []string // oldest first
	for i := range 25 {
		ids = append(ids, s.post(carol, "post number "+strconv.Itoa(i)))
	}
	newest := func(from, n int) []string { // ids[from], ids[from-1], … (n of them)
		var out []string
		for i := from; i > from-n; i-- {
			out = append(out, ids[i])
		}
		return out
	}
	first := s.page("/@carol", http.StatusOK)
	if got, want := articles(first), newest(24, 20); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("first page %v, want %v", got, want)
	}
	older := `<a href="/@carol?max_id=` + ids[5] + `" rel="next">Older posts</a>`
	if !strings.Contains(first, older) {
		t.Fatalf("first page lacks %q:\n%s", older, first)
	}
	if strings.Contains(first, "Newest posts") {
		t.Error("the first page links to itself")
	}
	last := s.page("/@carol?max_id="+ids[5], http.StatusOK)
	if got, want := articles(last), newest(4, 5); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("last page %v, want %v", got, want)
	}
	if strings.Contains(last, "Older posts") || strings.Contains(last, "max_id") {
		t.Errorf("the last page links further:\n%s", last)
	}
	if !strings.Contains(last, `<a href="/@carol">Newest posts</a>`) {
		t.Errorf("the last page does not link back:\n%s", last)
	}
	// Exactly 20 left: one page, no link.
	if page := s.page("/@carol?max_id="+ids[20], http.StatusOK); len(articles(page)) != 20 || strings.Contains(page, "Older posts") {
		t.Errorf("a page of exactly 20 shows %d posts and links older: %v", len(articles(page)), strings.Contains(page, "Older posts"))
	}
	if page := s.page("/@carol?max_id="+ids[0], http.StatusOK); len(articles(page)) != 0 || !strings.Contains(page, "No public posts here.") {
		t.Errorf("past the end:\n%s", page)
	}
	s.page("/@carol?max_id=abc", http.StatusBadRequest)
}

func TestThreadsAndBoosts(t *testing.T) {
	s := openSite(t)
	alice := s.user("alice")
	bob := s.user("bob")
	root := s.post(alice, "the root")
	r1 := s.post(bob, "@alice first reply", "in_reply_to_id", root)
	r2 := s.post(alice, "@bob second reply, unlisted", "in_reply_to_id", r1, "visibility", "unlisted")
	hidden := s.post(bob, "@alice followers only", "in_reply_to_id", r2, "visibility", "private")
	r3 := s.post(bob, "@alice another public reply", "in_reply_to_id", root)

	page := s.page("/@alice/"+root, http.StatusOK)
	if got, want := articles(page), []string{root, r1, r2, r3}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("root's thread %v, want %v", got, want)
	}
	if strings.Contains(page, hidden) || strings.Contains(page, "followers only") {
		t.Error("the thread shows a private reply")
	}
	page = s.page("/@alice/"+r2, http.StatusOK)
	if got, want := articles(page), []string{root, r1, r2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("r2's thread %v, want %v", got, want)
	}
	if !strings.Contains(page, `<article class="post focus" id="s`+r2+`">`) {
		t.Error("r2 is not the focus of its page")
	}
	if !strings.Contains(page, `Replying to <a href="/@bob/`+r1+`">@bob</a>`) {
		t.Errorf("r2 does not say what it replies to:\n%s", page)
	}
	s.page("/@bob/"+r1, http.StatusOK)
	s.page("/@bob/"+hidden, http.StatusNotFound)

	// A boost shows the original, by its author, on the booster's profile.
	boost := s.reblog(bob, root)
	profile := s.page("/@bob", http.StatusOK)
	if got := articles(profile); len(got) == 0 || got[0] != root {
		t.Errorf("bob's profile shows %v, want the boosted root first", got)
	}
	for _, want := range []string{`<p class="boost"><a href="/@bob">@bob</a> boosted</p>`, `<a class="author" href="/@alice">`, "the root"} {
		if !strings.Contains(profile, want) {
			t.Errorf("bob's profile lacks %q:\n%s", want, profile)
		}
	}
	// The boost's own address leads to the original.
	rec := s.get("/@bob/" + boost)
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/@alice/"+root {
		t.Errorf("GET /@bob/%s: %d to %q", boost, rec.Code, rec.Header().Get("Location"))
	}
	s.page("/@alice/"+boost, http.StatusNotFound)
}

// TestPublicPagesShadowNoOtherRoute: the pages' catch-all patterns leave
// every other route, its 405s and its trailing-slash redirects as they were.
func TestPublicPagesShadowNoOtherRoute(t *testing.T) {
	s := openSite(t)
	for _, tc := range []struct {
		method, target string
		status         int
		header, value  string // a header the answer must carry
		body           string // a part of the body
	}{
		{"GET", "/", 200, "", "", "Rampart"},
		{"DELETE", "/", 405, "Allow", "GET, HEAD", ""},
		{"GET", "/static/rampart.css", 200, "Content-Type", "text/css; charset=utf-8", ".invisible"},
		{"POST", "/static/rampart.css", 405, "Allow", "GET, HEAD", ""},
		{"GET", "/static", 307, "Location", "/static/", ""},
		{"GET", "/livez", 200, "", "", ""},
		{"POST", "/livez", 405, "Allow", "GET, HEAD", ""},
		{"GET", "/auth/sign_in", 200, "", "", "Sign in"},
		{"PUT", "/auth/sign_in", 405, "Allow", "GET, HEAD, POST", ""},
		{"GET", "/auth/sign_out", 405, "Allow", "POST", ""},
		{"GET", "/oauth/authorize", 400, "", "", ""},
		{"GET", "/oauth/token", 405, "Allow", "POST", ""},
		{"GET", "/api", 307, "Location", "/api/", ""},
		{"GET", "/api/v1/instance", 200, "", "", `"uri":"example.test"`},
		{"GET", "/api/v1/no_such_thing", 404, "", "", `{"error":"Record not found"}`},
		{"GET", "/.well-known/nodeinfo", 200, "", "", "nodeinfo"},
		{"GET", "/nothing", 404, "", "", "404 page not found"},
		{"POST", "/nothing", 404, "", "", "404 page not found"},
		{"GET", "/no/such/page", 404, "", "", "404 page not found"},
		{"DELETE", "/no/such", 404, "", "", "404 page not found"},
		{"GET", "/users/alice", 404, "", "", "404 page not found"},
	} {
		var form url.Values
		if tc.method == http.MethodPost || tc.method == http.MethodPut {
			form = url.Values{}
		}
		rec := s.request(tc.method, tc.target, form, "")
		what := tc.method + " " + tc.target
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", what, rec.Code, tc.status, rec.Body.String())
		}
		if tc.header != "" && rec.Header().Get(tc.header) != tc.value {
			t.Errorf("%s: %s %q, want %q", what, tc.header, rec.Header().Get(tc.header), tc.value)
		}
		if !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s: body lacks %q: %s", what, tc.body, rec.Body.String())
		}
	}
}

func TestTagPageShowsPublicPostsWithTheTag(t *testing.T) {
	s := openSite(t)
	tok := s.user("alice")
	pub := s.post(tok, "Hello #Fediverse friends")
	unlisted := s.post(tok, "Quiet #fediverse note", "visibility", "unlisted")
	private := s.post(tok, "Secret #fediverse", "visibility", "private")
	other := s.post(tok, "No tag here")
	body := s.page("/tags/fediverse", http.StatusOK)
	got := articles(body)
	if len(got) != 1 || got[0] != pub {
		t.Errorf("tag page shows %v, want only the public post %s (not unlisted %s, private %s or untagged %s)", got, pub, unlisted, private, other)
	}
	if !strings.Contains(body, "<h1>#fediverse</h1>") {
		t.Error("tag page has no heading")
	}
	// The link a status's hashtag points at is this page.
	status := s.page("/@alice/"+pub, http.StatusOK)
	if !strings.Contains(status, `href="https://example.test/tags/fediverse"`) {
		t.Errorf("hashtag link does not point at the tag page")
	}
	if got := articles(s.page("/tags/nothing", http.StatusOK)); len(got) != 0 {
		t.Errorf("an unused tag shows %v", got)
	}
}
