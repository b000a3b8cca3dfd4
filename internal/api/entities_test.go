package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/buildinfo"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/media"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/outbound"
	"github.com/rampart-social/rampart/internal/password"
	"github.com/rampart-social/rampart/internal/push"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// ---------------------------------------------------------------------------
// Harness: a real API over a real SQLite store, served through a ServeMux.

const testHost = "example.test"

// The bio and profile field hold markup that must come out escaped.
const (
	aliceNote       = "<script>x</script>\n\nline2"
	aliceFieldName  = "Site <b>"
	aliceFieldValue = `<a href="https://evil.example">x</a> & co`
	fixturePassword = "correct horse battery staple"
)

type env struct {
	cfg   *config.Config
	st    *store.Store
	acc   *accounts.Service
	oa    *oauth.Service
	api   *API
	mux   *http.ServeMux
	alice *store.Account // admin, approved, with a bio, fields and preferences
	bob   *store.Account // plain user, approved, defaults everywhere
	carol *store.Account // waiting for approval: invisible
	app   *store.App     // registered directly, for user tokens
}

type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newEnv builds the API over a fresh store; extra lines are appended to
// its config file (after [accounts]: start them with a section).
func newEnv(t *testing.T, extra ...string) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testutil.ProdConfig(t, dir, append([]string{
		`[instance]`,
		`title = "Rampart Test"`,
		`description = "An instance for tests."`,
		`contact_email = "admin@example.test"`,
		`contact_username = "alice"`,
		`[accounts]`,
		`registrations = "approval"`,
	}, extra...)...)
	log := slog.New(slog.NewTextHandler(testLogWriter{t}, nil))
	st, err := storetest.OpenErr(t, filepath.Join(dir, "rampart.db"), log)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	ids := id.NewGenerator()
	acc := accounts.New(cfg, st, ids, password.NewHasher(password.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}, 2)).
		WithKeyPairs(testutil.RSAKeyPair)
	oa := oauth.New(st, ids, accounts.LimiterKey(cfg))
	// A fixed VAPID key (RFC 8291's example sender key), so that goldens
	// showing it stay put.
	if err := st.SetSetting(ctx, push.VAPIDSetting, "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"); err != nil {
		t.Fatal(err)
	}
	pushes, err := push.New(ctx, cfg, st, ids, outbound.New(outbound.Config{}), log)
	if err != nil {
		t.Fatal(err)
	}
	ms := testMedia(t, cfg, st, ids, log).WithUploadLimit(accounts.LimiterKey(cfg))
	acc.WithMedia(ms)
	e := &env{cfg: cfg, st: st, acc: acc, oa: oa, api: New(Deps{Config: cfg, Log: log, Store: st, Accounts: acc, OAuth: oa, Social: social.New(cfg, st, ids, nil).WithLimits(accounts.LimiterKey(cfg)),
		Media: ms, Push: pushes}), mux: http.NewServeMux()}
	e.api.Register(e.mux)

	create := func(username, role string, approved bool) *store.Account {
		a, _, err := acc.Create(ctx, accounts.NewParams{Username: username, Email: username + "@example.test",
			Password: fixturePassword, Role: role, Approved: approved})
		if err != nil {
			t.Fatalf("create %s: %v", username, err)
		}
		return a
	}
	e.alice = create("alice", accounts.RoleAdmin, true)
	e.bob = create("bob", accounts.RoleUser, true)
	e.carol = create("carol", accounts.RoleUser, false)

	str := func(s string) *string { return &s }
	yes := true
	fields := []store.Field{{Name: aliceFieldName, Value: aliceFieldValue}}
	e.alice, _, err = acc.UpdateProfile(ctx, e.alice.ID, accounts.ProfileUpdate{
		DisplayName: str("Alice <Admin>"), Note: str(aliceNote), Fields: &fields, Locked: &yes,
		Privacy: str("private"), Sensitive: &yes, Language: str("en"),
	})
	if err != nil {
		t.Fatalf("alice's profile: %v", err)
	}

	e.app, _, err = oa.RegisterApp(ctx, oauth.AppParams{Name: "Fixture", RedirectURIs: []string{oauth.OOB},
		Scopes: "read write follow push profile"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	return e
}

// userToken issues a token acting for acc with exactly the scopes given.
func (e *env) userToken(t *testing.T, acc *store.Account, scope string) string {
	t.Helper()
	scopes, bad := oauth.ParseScopes(scope)
	if len(bad) > 0 {
		t.Fatalf("bad scopes %v", bad)
	}
	issued, err := e.oa.IssueForAccount(context.Background(), e.app.ID, acc.ID, scopes)
	if err != nil {
		t.Fatalf("IssueForAccount: %v", err)
	}
	return issued.Token
}

// do serves one request on mux; headers come in name/value pairs.
func do(t *testing.T, mux http.Handler, method, target string, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "https://"+testHost+target, body)
	req.Host = testHost
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

func (e *env) do(t *testing.T, method, target string, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, e.mux, method, target, body, headers...)
}

// get expects 200 and decodes the JSON body.
func (e *env) getJSON(t *testing.T, target string, headers ...string) map[string]any {
	t.Helper()
	rec := e.do(t, http.MethodGet, target, nil, headers...)
	return wantJSON(t, rec, http.StatusOK)
}

// wantJSON expects status and decodes a JSON object (or null), numbers as json.Number.
func wantJSON(t *testing.T, rec *httptest.ResponseRecorder, status int) map[string]any {
	t.Helper()
	v := decodeAny(t, rec, status)
	m, ok := v.(map[string]any)
	if !ok && v != nil {
		t.Fatalf("body is not a JSON object:\n%s", rec.Body)
	}
	return m
}

// decodeAny expects status and decodes any JSON value (object or array), numbers as json.Number.
func decodeAny(t *testing.T, rec *httptest.ResponseRecorder, status int) any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, rec.Body)
	}
	return v
}

func bearerHeader(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// createApp registers an app over HTTP and returns the decoded response.
func (e *env) createApp(t *testing.T, body string) map[string]any {
	t.Helper()
	rec := e.do(t, http.MethodPost, "/api/v1/apps", strings.NewReader(body), "Content-Type", "application/json")
	return wantJSON(t, rec, http.StatusOK)
}

// clientToken runs client_credentials over HTTP.
func (e *env) clientToken(t *testing.T, clientID, secret, scope string) map[string]any {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope}}
	rec := e.do(t, http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded")
	return wantJSON(t, rec, http.StatusOK)
}

// ---------------------------------------------------------------------------
// Golden files. Volatile values are replaced on the decoded JSON, by key.

// placeholderKeys are replaced wherever they occur (except role ids, which are fixed).
var placeholderKeys = map[string]string{
	"id":            "<ID>",
	"client_id":     "<CLIENT_ID>",
	"client_secret": "<CLIENT_SECRET>",
	"access_token":  "<ACCESS_TOKEN>",
	"created_at":    "<DATE>",
}

func normalise(v any, parent string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			ph, volatile := placeholderKeys[k]
			switch {
			case volatile && x != nil && !(k == "id" && parent == "role"):
				if _, isNum := x.(json.Number); isNum && k == "created_at" {
					ph = "<UNIX_SECONDS>"
				}
				out[k] = ph
			case k == "version":
				if s, ok := x.(string); ok {
					out[k] = strings.ReplaceAll(s, buildinfo.Version, "<RAMPART_VERSION>")
				} else {
					out[k] = normalise(x, k)
				}
			default:
				out[k] = normalise(x, k)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalise(x, parent)
		}
		return out
	default:
		return v
	}
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	compareGolden(t, name, normalise(v, ""))
}

// compareGolden compares (or, with -update, writes) testdata/name.golden.json
// with v, already normalised, as indented JSON.
func compareGolden(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // readable markup in the files
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run go test ./internal/api/ -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("%s differs from %s (rerun with -update if the change is intended):\n%s", name, path, lineDiff(string(want), buf.String()))
	}
}

// lineDiff lists the lines only in want (-) or only in got (+).
func lineDiff(want, got string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	w, g := count(want), count(got)
	var out []string
	for l, n := range w {
		if g[l] < n {
			out = append(out, "- "+l)
		}
	}
	for l, n := range g {
		if w[l] < n {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// ---------------------------------------------------------------------------
// Mastodon's contract, checked on the raw response independently of goldens.

var (
	dateRe    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	idRe      = regexp.MustCompile(`^\d+$`)
	roleIDRe  = regexp.MustCompile(`^-?\d+$`)
	versionRe = regexp.MustCompile(`^4\.\d+\.\d+ \(compatible; Rampart \d+\.\d+\.\d+\)$`)
)

var urlKeys = map[string]bool{"url": true, "uri": true, "avatar": true, "avatar_static": true, "header": true,
	"header_static": true, "thumbnail": true, "website": true, "streaming_api": true, "streaming": true, "href": true}

var dateKeys = map[string]bool{"created_at": true, "last_status_at": true, "verified_at": true, "updated_at": true, "expires_at": true}

// walkFields calls visit for every key of every object inside v, depth
// first, with its path (".a[0].b"), the key of the object that holds it
// ("a" for b) and its value.
func walkFields(v any, visit func(path, parent, key string, x any)) {
	var walk func(path, parent string, v any)
	walk = func(path, parent string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				p := path + "." + k
				visit(p, parent, k, x)
				walk(p, k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), parent, x)
			}
		}
	}
	walk("", "", v)
}

// checkURLOrID holds for a URL field (never "") and an id (a numeric
// string; a role's may be negative) wherever they occur.
func checkURLOrID(t *testing.T, what, p, parent, k string, x any) {
	t.Helper()
	s, isStr := x.(string)
	switch {
	case urlKeys[k] && isStr && s == "":
		t.Errorf(`%s%s is "" (a URL field must be a URL or null)`, what, p)
	case k == "id":
		re := idRe
		if parent == "role" {
			re = roleIDRe
		}
		if !isStr || !re.MatchString(s) {
			t.Errorf("%s%s = %#v, want a numeric string", what, p, x)
		}
	}
}

// checkContract walks a response: dates, URL fields and ids as Mastodon
// documents them. unixCreatedAt allows Token's numeric created_at.
func checkContract(t *testing.T, what string, v any, unixCreatedAt bool) {
	t.Helper()
	walkFields(v, func(p, parent, k string, x any) {
		if !dateKeys[k] {
			checkURLOrID(t, what, p, parent, k, x)
			return
		}
		switch x := x.(type) {
		case nil:
			if k == "created_at" {
				t.Errorf("%s%s is null", what, p)
			}
		case string:
			if !dateRe.MatchString(x) {
				t.Errorf("%s%s = %q, not Mastodon's date format", what, p, x)
			}
		case json.Number:
			if !(unixCreatedAt && k == "created_at") {
				t.Errorf("%s%s is a number, want a date string", what, p)
			} else if _, err := x.Int64(); err != nil {
				t.Errorf("%s%s = %v, want integer seconds", what, p, x)
			}
		default:
			t.Errorf("%s%s has type %T", what, p, x)
		}
	})
}

// lookup follows keys; ok is false when one is missing.
func lookup(v any, keys ...string) (any, bool) {
	for _, k := range keys {
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, false
		}
		if v, isMap = m[k]; !isMap {
			return nil, false
		}
	}
	return v, true
}

func wantNull(t *testing.T, what string, v any, keys ...string) {
	t.Helper()
	x, ok := lookup(v, keys...)
	if !ok {
		t.Errorf("%s: %s is missing, want present as null", what, strings.Join(keys, "."))
	} else if x != nil {
		t.Errorf("%s: %s = %#v, want null", what, strings.Join(keys, "."), x)
	}
}

func wantPresent(t *testing.T, what string, v any, keys ...string) any {
	t.Helper()
	x, ok := lookup(v, keys...)
	if !ok {
		t.Errorf("%s: %s is missing", what, strings.Join(keys, "."))
	}
	return x
}

func wantAbsent(t *testing.T, what string, v any, keys ...string) {
	t.Helper()
	if _, ok := lookup(v, keys...); ok {
		t.Errorf("%s: %s is present, want absent", what, strings.Join(keys, "."))
	}
}

func wantString(t *testing.T, what string, v any, want string, keys ...string) {
	t.Helper()
	x, _ := lookup(v, keys...)
	if s, ok := x.(string); !ok || s != want {
		t.Errorf("%s: %s = %#v, want %q", what, strings.Join(keys, "."), x, want)
	}
}

// checkAccount holds for every Account entity.
func checkAccount(t *testing.T, what string, a any) {
	t.Helper()
	wantNull(t, what, a, "last_status_at")
	wantPresent(t, what, a, "noindex")
	wantPresent(t, what, a, "discoverable")
	checkAccountListsAndCounters(t, what, a)
}

// checkAccountListsAndCounters: an Account's fields, emojis and roles are
// arrays, its counters numbers.
func checkAccountListsAndCounters(t *testing.T, what string, a any) {
	t.Helper()
	for _, k := range []string{"fields", "emojis", "roles"} {
		if x, _ := lookup(a, k); !isArray(x) {
			t.Errorf("%s: %s = %#v, want an array", what, k, x)
		}
	}
	for _, k := range []string{"statuses_count", "followers_count", "following_count"} {
		if x, _ := lookup(a, k); !isNumber(x) {
			t.Errorf("%s: %s = %#v, want a number", what, k, x)
		}
	}
}

// ---------------------------------------------------------------------------
// Entities.

func TestAccountEntity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.getJSON(t, "/api/v1/accounts/"+strconv.FormatInt(e.alice.ID, 10))
	checkContract(t, "account", a, false)
	checkAccount(t, "account", a)
	wantString(t, "account", a, strconv.FormatInt(e.alice.ID, 10), "id")
	wantString(t, "account", a, "alice", "acct")
	wantString(t, "account", a, "https://example.test/@alice", "url")
	wantString(t, "account", a, "https://example.test/users/alice", "uri")
	wantAbsent(t, "account", a, "source")
	wantAbsent(t, "account", a, "role")

	// User text is escaped HTML: no markup of the author's survives.
	note, _ := a["note"].(string)
	if note != "<p>&lt;script&gt;x&lt;/script&gt;</p><p>line2</p>" {
		t.Errorf("note = %q", note)
	}
	if strings.Contains(strings.ToLower(note), "<script") {
		t.Errorf("note carries a raw <script>: %q", note)
	}
	fields, _ := a["fields"].([]any)
	if len(fields) != 1 {
		t.Fatalf("fields = %#v", a["fields"])
	}
	// The author's markup is escaped; the URL in it is a link of Rampart's
	// own making (rel "me", as Mastodon's), and nothing else is markup.
	value, _ := lookup(fields[0], "value")
	const link = `<a href="https://evil.example" target="_blank" rel="nofollow noopener noreferrer me" translate="no">` +
		`<span class="invisible">https://</span><span class="">evil.example</span><span class="invisible"></span></a>`
	if value != "&lt;a href=&#34;"+link+"&#34;&gt;x&lt;/a&gt; &amp; co" {
		t.Errorf("field value = %#v, want escaped HTML with the URL linked", value)
	}
	if s, _ := value.(string); strings.Count(s, "<a") != 1 || strings.Contains(s, "<script") {
		t.Errorf("field value carries markup beyond the one link: %q", s)
	}
	wantNull(t, "account", fields[0], "verified_at")
	golden(t, "account", a)

	// The plain account has an empty note, no fields, and the same contract.
	b := e.getJSON(t, "/api/v1/accounts/"+strconv.FormatInt(e.bob.ID, 10))
	checkContract(t, "account bob", b, false)
	checkAccount(t, "account bob", b)
	wantString(t, "account bob", b, "", "note")
}

func TestAccountNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, target := range []string{
		"/api/v1/accounts/" + strconv.FormatInt(e.carol.ID, 10), // pending approval
		"/api/v1/accounts/999",
		"/api/v1/accounts/notanumber",
	} {
		rec := e.do(t, http.MethodGet, target, nil)
		v := wantJSON(t, rec, http.StatusNotFound)
		wantString(t, target, v, "Record not found", "error")
	}
}

func TestCredentialAccountEntity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.getJSON(t, "/api/v1/accounts/verify_credentials", bearerHeader(e.userToken(t, e.alice, "read"))...)
	checkContract(t, "credential account", a, false)
	checkAccount(t, "credential account", a)
	wantString(t, "credential account", a, "private", "source", "privacy")
	wantString(t, "credential account", a, "en", "source", "language")
	wantString(t, "credential account", a, aliceNote, "source", "note") // plain text, as written
	if x, _ := lookup(a, "source", "fields"); x != nil {
		fs, _ := x.([]any)
		if len(fs) != 1 {
			t.Errorf("source.fields = %#v", x)
		} else {
			wantString(t, "credential account", fs[0], aliceFieldValue, "value")
			wantString(t, "credential account", fs[0], aliceFieldName, "name")
		}
	}
	wantString(t, "credential account", a, "3", "role", "id")
	wantString(t, "credential account", a, "Admin", "role", "name")
	golden(t, "credential_account", a)

	b := e.getJSON(t, "/api/v1/accounts/verify_credentials", bearerHeader(e.userToken(t, e.bob, "read"))...)
	checkContract(t, "credential account bob", b, false)
	checkAccount(t, "credential account bob", b)
	wantNull(t, "credential account bob", b, "source", "language")
	wantString(t, "credential account bob", b, "public", "source", "privacy")
	wantString(t, "credential account bob", b, "-99", "role", "id")
	if x, _ := lookup(b, "source", "fields"); x == nil {
		t.Errorf("source.fields is null, want []")
	}
	golden(t, "credential_account_user", b)

	// An app reads the posting defaults again from /preferences at
	// start-up: they are source's, for both.
	for _, who := range []struct {
		acc  *store.Account
		cred map[string]any
	}{{e.alice, a}, {e.bob, b}} {
		p := e.getJSON(t, "/api/v1/preferences", bearerHeader(e.userToken(t, who.acc, "read"))...)
		privacy, _ := lookup(who.cred, "source", "privacy")
		sensitive, _ := lookup(who.cred, "source", "sensitive")
		lang, _ := lookup(who.cred, "source", "language")
		if p["posting:default:visibility"] != privacy || p["posting:default:sensitive"] != sensitive || p["posting:default:language"] != lang {
			t.Errorf("%s: preferences %v disagree with source (%v, %v, %v)", who.acc.Username, p, privacy, sensitive, lang)
		}
	}
}

func TestApplicationEntity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := e.createApp(t, `{"client_name":"Test App","redirect_uris":["https://app.example/cb","urn:ietf:wg:oauth:2.0:oob"],
		"scopes":"read write:accounts profile"}`)
	checkContract(t, "application", created, false)
	wantNull(t, "application", created, "website")
	wantString(t, "application", created, "https://app.example/cb\nurn:ietf:wg:oauth:2.0:oob", "redirect_uri")
	clientID, _ := created["client_id"].(string)
	secret, _ := created["client_secret"].(string)
	if clientID == "" || secret == "" {
		t.Fatalf("client_id / client_secret missing: %#v", created)
	}
	if x := wantPresent(t, "application", created, "client_secret_expires_at"); x != json.Number("0") {
		t.Errorf("client_secret_expires_at = %#v, want 0", x)
	}
	golden(t, "application_create", created)

	tok := e.clientToken(t, clientID, secret, "read")
	verified := e.getJSON(t, "/api/v1/apps/verify_credentials", bearerHeader(tok["access_token"].(string))...)
	checkContract(t, "application verify", verified, false)
	wantNull(t, "application verify", verified, "website")
	for _, k := range []string{"client_id", "client_secret", "client_secret_expires_at"} {
		wantAbsent(t, "application verify", verified, k)
	}
	if verified["id"] != created["id"] || verified["name"] != "Test App" {
		t.Errorf("verify_credentials = %#v, not the app created", verified)
	}
	golden(t, "application_verify", verified)

	// A website, when given, is a string.
	withSite := e.createApp(t, `{"client_name":"Site App","redirect_uris":"urn:ietf:wg:oauth:2.0:oob","website":"https://app.example/"}`)
	checkContract(t, "application with website", withSite, false)
	wantString(t, "application with website", withSite, "https://app.example/", "website")
	if s, _ := lookup(withSite, "scopes"); fmt.Sprint(s) != "[read]" {
		t.Errorf("default scopes = %v, want [read]", s)
	}
}

func TestTokenEntity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.createApp(t, `{"client_name":"Token App","redirect_uris":"urn:ietf:wg:oauth:2.0:oob","scopes":"read write"}`)
	tok := e.clientToken(t, app["client_id"].(string), app["client_secret"].(string), "read")
	checkContract(t, "token", tok, true)
	wantString(t, "token", tok, "Bearer", "token_type")
	wantString(t, "token", tok, "read", "scope")
	if n, ok := tok["created_at"].(json.Number); !ok {
		t.Errorf("created_at = %#v, want integer seconds", tok["created_at"])
	} else if v, err := n.Int64(); err != nil || v < 1_600_000_000 {
		t.Errorf("created_at = %v, want Unix seconds", n)
	}
	if s, _ := tok["access_token"].(string); len(s) < 40 {
		t.Errorf("access_token %q is too short", s)
	}
	golden(t, "token", tok)
}

func TestInstanceV1(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.getJSON(t, "/api/v1/instance")
	checkContract(t, "instance v1", v, false)
	if s, _ := v["version"].(string); !versionRe.MatchString(s) {
		t.Errorf("version = %q", s)
	}
	wantString(t, "instance v1", v, "example.test", "uri")
	wantString(t, "instance v1", v, "wss://example.test", "urls", "streaming_api")
	if x, _ := lookup(v, "stats", "user_count"); x != json.Number("2") {
		t.Errorf("stats.user_count = %#v, want 2 (approved, enabled users)", x)
	}
	if x, _ := lookup(v, "approval_required"); x != true {
		t.Errorf("approval_required = %#v", x)
	}
	contact, _ := lookup(v, "contact_account")
	checkAccount(t, "instance v1 contact_account", contact)
	wantString(t, "instance v1", v, "alice", "contact_account", "username")
	golden(t, "instance_v1", v)
}

func TestInstanceV2(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The hourly janitor's count: both users signed up just now.
	if err := e.st.CountActiveUsers(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	v := e.getJSON(t, "/api/v2/instance")
	checkContract(t, "instance v2", v, false)
	if s, _ := v["version"].(string); !versionRe.MatchString(s) {
		t.Errorf("version = %q", s)
	}
	wantString(t, "instance v2", v, "example.test", "domain")
	wantNull(t, "instance v2", v, "registrations", "message")
	wantNull(t, "instance v2", v, "registrations", "url")
	if x, _ := lookup(v, "api_versions", "mastodon"); func() bool { _, ok := x.(json.Number); return !ok }() {
		t.Errorf("api_versions.mastodon = %#v, want a number", x)
	}
	if s, _ := lookup(v, "configuration", "urls", "streaming"); !strings.HasPrefix(fmt.Sprint(s), "wss://") {
		t.Errorf("configuration.urls.streaming = %#v, want wss://", s)
	}
	if s, _ := lookup(v, "thumbnail", "url"); !strings.HasPrefix(fmt.Sprint(s), "https://example.test/") {
		t.Errorf("thumbnail.url = %#v", s)
	}
	contact, _ := lookup(v, "contact", "account")
	checkAccount(t, "instance v2 contact.account", contact)
	golden(t, "instance_v2", v)
}

func TestNodeInfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.st.CountActiveUsers(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	links := e.getJSON(t, "/.well-known/nodeinfo")
	checkContract(t, "nodeinfo links", links, false)
	golden(t, "nodeinfo_links", links)
	list, _ := links["links"].([]any)
	if len(list) != 2 {
		t.Fatalf("links = %#v", links["links"])
	}
	for _, version := range []string{"2.0", "2.1"} {
		t.Run(version, func(t *testing.T) {
			found := false
			for _, l := range list {
				if x, _ := lookup(l, "href"); x == "https://example.test/nodeinfo/"+version {
					wantString(t, "link", l, "http://nodeinfo.diaspora.software/ns/schema/"+version, "rel")
					found = true
				}
			}
			if !found {
				t.Errorf("no link to nodeinfo %s", version)
			}
			rec := e.do(t, http.MethodGet, "/nodeinfo/"+version, nil)
			if want := `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/` + version + `#"`; rec.Header().Get("Content-Type") != want {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), want)
			}
			v := wantJSON(t, rec, http.StatusOK)
			checkContract(t, "nodeinfo", v, false)
			wantString(t, "nodeinfo", v, "rampart", "software", "name")
			wantString(t, "nodeinfo", v, "mastodon", "metadata", "upstream", "name")
			wantString(t, "nodeinfo", v, version, "version")
			wantString(t, "nodeinfo", v, buildinfo.Version, "software", "version")
			if x, _ := lookup(v, "usage", "users", "total"); x != json.Number("2") {
				t.Errorf("usage.users.total = %#v, want 2", x)
			}
			if version == "2.0" {
				wantAbsent(t, "nodeinfo 2.0", v, "software", "repository")
			} else {
				wantPresent(t, "nodeinfo 2.1", v, "software", "repository")
			}
			golden(t, "nodeinfo_"+version, v)
		})
	}
	rec := e.do(t, http.MethodGet, "/nodeinfo/1.0", nil)
	wantJSON(t, rec, http.StatusNotFound)
}

func TestOAuthMetadata(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.getJSON(t, "/.well-known/oauth-authorization-server")
	checkContract(t, "oauth metadata", v, false)
	wantString(t, "oauth metadata", v, "https://example.test/", "issuer")
	wantString(t, "oauth metadata", v, "https://example.test/oauth/token", "token_endpoint")
	if x, _ := lookup(v, "code_challenge_methods_supported"); fmt.Sprint(x) != "[S256]" {
		t.Errorf("code_challenge_methods_supported = %v", x)
	}
	scopes, _ := v["scopes_supported"].([]any)
	for _, s := range scopes {
		if str, _ := s.(string); !oauth.Known(str) {
			t.Errorf("scopes_supported lists %v, which oauth.Known refuses", s)
		}
	}
	golden(t, "oauth_metadata", v)
}

// ---------------------------------------------------------------------------
// CORS.

func TestCORS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page") })
	e.api.Register(mux)
	origin := []string{"Origin", "https://client.example"}

	t.Run("preflight", func(t *testing.T) {
		rec := do(t, mux, http.MethodOptions, "/api/v1/apps", nil, append(origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")...)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("status %d, want 204", rec.Code)
		}
		h := rec.Header()
		for k, want := range map[string]string{
			"Access-Control-Allow-Origin":  "*",
			"Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE",
			"Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
			"Access-Control-Max-Age":       "3600",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight allows credentials")
		}
		if rec.Body.Len() != 0 {
			t.Errorf("preflight has a body: %q", rec.Body)
		}
	})

	for _, target := range []string{"/api/v2/instance", "/.well-known/nodeinfo", "/nodeinfo/2.0", "/api/v1/nowhere"} {
		t.Run("GET "+target, func(t *testing.T) {
			rec := do(t, mux, http.MethodGet, target, nil, origin...)
			h := rec.Header()
			if h.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q, want *", h.Get("Access-Control-Allow-Origin"))
			}
			if _, ok := h["Access-Control-Allow-Credentials"]; ok {
				t.Errorf("Access-Control-Allow-Credentials is set")
			}
			if !strings.Contains(h.Get("Access-Control-Expose-Headers"), "Link") {
				t.Errorf("Access-Control-Expose-Headers = %q, want Link listed", h.Get("Access-Control-Expose-Headers"))
			}
			if h.Get("Access-Control-Allow-Methods") != "" {
				t.Errorf("a simple request got preflight headers")
			}
		})
	}

	t.Run("token endpoint", func(t *testing.T) {
		rec := do(t, mux, http.MethodOptions, "/oauth/token", nil, append(origin, "Access-Control-Request-Method", "POST")...)
		if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("preflight of /oauth/token: %d %v", rec.Code, rec.Header())
		}
	})

	// Pages (and the authorize page) are for this origin only.
	for _, target := range []string{"/", "/oauth/authorize"} {
		t.Run("no CORS on "+target, func(t *testing.T) {
			rec := do(t, mux, http.MethodGet, target, nil, origin...)
			if target == "/" && (rec.Code != http.StatusOK || rec.Body.String() != "page") {
				t.Fatalf("page: %d %q", rec.Code, rec.Body)
			}
			for k := range rec.Header() {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s carries %s: %q", target, k, rec.Header().Get(k))
				}
			}
			pre := do(t, mux, http.MethodOptions, target, nil, append(origin, "Access-Control-Request-Method", "POST")...)
			for k := range pre.Header() {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("preflight of %s answered with %s", target, k)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Bearer tokens and scopes.

func TestAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const verify = "/api/v1/accounts/verify_credentials"

	t.Run("no token", func(t *testing.T) {
		rec := e.do(t, http.MethodGet, verify, nil)
		wantJSON(t, rec, http.StatusUnauthorized)
		if h := rec.Header().Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) || !strings.HasPrefix(h, "Bearer ") {
			t.Errorf("WWW-Authenticate = %q", h)
		}
	})
	for name, hdr := range map[string][]string{
		"unknown token":      bearerHeader("not-a-token"),
		"not bearer":         {"Authorization", "Basic dXNlcjpwYXNz"},
		"empty bearer":       {"Authorization", "Bearer "},
		"over-long token":    bearerHeader(strings.Repeat("a", 300)),
		"app verify unknown": nil,
	} {
		t.Run(name, func(t *testing.T) {
			target := verify
			if hdr == nil {
				target, hdr = "/api/v1/apps/verify_credentials", bearerHeader("nope")
			}
			rec := e.do(t, http.MethodGet, target, nil, hdr...)
			wantJSON(t, rec, http.StatusUnauthorized)
			if h := rec.Header().Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q", h)
			}
		})
	}

	t.Run("app token on a user route", func(t *testing.T) {
		app := e.createApp(t, `{"client_name":"App","redirect_uris":"urn:ietf:wg:oauth:2.0:oob","scopes":"read write"}`)
		tok := e.clientToken(t, app["client_id"].(string), app["client_secret"].(string), "read")
		rec := e.do(t, http.MethodGet, verify, nil, bearerHeader(tok["access_token"].(string))...)
		v := wantJSON(t, rec, http.StatusUnprocessableEntity)
		wantString(t, "422", v, "This method requires an authenticated user", "error")
		// The same token is enough for the app's own route.
		e.getJSON(t, "/api/v1/apps/verify_credentials", bearerHeader(tok["access_token"].(string))...)
	})

	t.Run("insufficient scope", func(t *testing.T) {
		rec := e.do(t, http.MethodGet, verify, nil, bearerHeader(e.userToken(t, e.alice, "write"))...)
		wantJSON(t, rec, http.StatusForbidden)
		h := rec.Header().Get("WWW-Authenticate")
		if !strings.Contains(h, `error="insufficient_scope"`) {
			t.Errorf("WWW-Authenticate = %q", h)
		}
		if !strings.Contains(h, "read:accounts") {
			t.Errorf("WWW-Authenticate %q does not name the scope needed", h)
		}
	})

	for _, scope := range []string{"profile", "read:accounts", "read", "read write"} {
		t.Run("scope "+scope, func(t *testing.T) {
			v := e.getJSON(t, verify, bearerHeader(e.userToken(t, e.alice, scope))...)
			wantString(t, scope, v, "alice", "username")
		})
	}
	for _, scope := range []string{"read:statuses", "follow", "push", "write:accounts"} {
		t.Run("scope "+scope+" refused", func(t *testing.T) {
			rec := e.do(t, http.MethodGet, verify, nil, bearerHeader(e.userToken(t, e.alice, scope))...)
			wantJSON(t, rec, http.StatusForbidden)
		})
	}

	t.Run("lower-case bearer scheme", func(t *testing.T) {
		rec := e.do(t, http.MethodGet, verify, nil, "Authorization", "bearer "+e.userToken(t, e.bob, "read"))
		wantJSON(t, rec, http.StatusOK)
	})

	t.Run("access_token parameter", func(t *testing.T) {
		v := e.getJSON(t, verify+"?access_token="+url.QueryEscape(e.userToken(t, e.bob, "read")))
		wantString(t, "query token", v, "bob", "username")
	})

	t.Run("revoked token", func(t *testing.T) {
		app := e.createApp(t, `{"client_name":"Revoker","redirect_uris":"urn:ietf:wg:oauth:2.0:oob"}`)
		id, secret := app["client_id"].(string), app["client_secret"].(string)
		tok := e.clientToken(t, id, secret, "read")["access_token"].(string)
		e.getJSON(t, "/api/v1/apps/verify_credentials", bearerHeader(tok)...)
		form := url.Values{"client_id": {id}, "client_secret": {secret}, "token": {tok}}
		rec := e.do(t, http.MethodPost, "/oauth/revoke", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		wantJSON(t, rec, http.StatusOK)
		rec = e.do(t, http.MethodGet, "/api/v1/apps/verify_credentials", nil, bearerHeader(tok)...)
		wantJSON(t, rec, http.StatusUnauthorized)
	})

	t.Run("disabled user", func(t *testing.T) {
		tok := e.userToken(t, e.bob, "read")
		if err := e.st.SetUserFlags(context.Background(), e.bob.ID, accounts.RoleUser, true, true); err != nil {
			t.Fatal(err)
		}
		rec := e.do(t, http.MethodGet, verify, nil, bearerHeader(tok)...)
		if rec.Code != http.StatusForbidden && rec.Code != http.StatusUnauthorized {
			t.Errorf("disabled user's token: status %d, want 401 or 403", rec.Code)
		}
	})
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.createApp(t, `{"client_name":"App","redirect_uris":"urn:ietf:wg:oauth:2.0:oob","scopes":"read"}`)
	id, secret := app["client_id"].(string), app["client_secret"].(string)
	post := func(form url.Values, headers ...string) *httptest.ResponseRecorder {
		return e.do(t, http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()),
			append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)...)
	}

	rec := post(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {"wrong"}})
	v := wantJSON(t, rec, http.StatusUnauthorized)
	wantString(t, "wrong secret", v, "invalid_client", "error")
	if rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("invalid_client without WWW-Authenticate")
	}

	rec = post(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"write"}})
	v = wantJSON(t, rec, http.StatusBadRequest)
	wantString(t, "scope beyond the app", v, "invalid_scope", "error")

	rec = post(url.Values{"grant_type": {"password"}, "client_id": {id}, "client_secret": {secret}})
	v = wantJSON(t, rec, http.StatusBadRequest)
	wantString(t, "password grant", v, "unsupported_grant_type", "error")

	// client_secret_basic works as well as client_secret_post.
	rec = post(url.Values{"grant_type": {"client_credentials"}}, "Authorization",
		"Basic "+basic(url.QueryEscape(id), url.QueryEscape(secret)))
	wantJSON(t, rec, http.StatusOK)

	rec = e.do(t, http.MethodPost, "/oauth/token", strings.NewReader("{"), "Content-Type", "application/json")
	v = wantJSON(t, rec, http.StatusBadRequest)
	wantString(t, "bad JSON", v, "invalid_request", "error")
}

func basic(user, pass string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// The authorization-code flow through the token endpoint, with PKCE.
func TestTokenEndpointAuthorizationCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	created := e.createApp(t, `{"client_name":"Code App","redirect_uris":"https://app.example/cb","scopes":"read write"}`)
	id, secret := created["client_id"].(string), created["client_secret"].(string)
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // RFC 7636 appendix B
	req, err := e.oa.CheckAuthorize(ctx, url.Values{"client_id": {id}, "redirect_uri": {"https://app.example/cb"},
		"response_type": {"code"}, "scope": {"read:accounts"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}})
	if err != nil {
		t.Fatalf("CheckAuthorize: %v", err)
	}
	code, err := e.oa.IssueCode(ctx, req, e.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://app.example/cb"},
		"client_id": {id}, "client_secret": {secret}, "code_verifier": {verifier}}
	rec := e.do(t, http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	tok := wantJSON(t, rec, http.StatusOK)
	checkContract(t, "token", tok, true)
	wantString(t, "token", tok, "read:accounts", "scope")
	v := e.getJSON(t, "/api/v1/accounts/verify_credentials", bearerHeader(tok["access_token"].(string))...)
	wantString(t, "code token", v, "alice", "username")

	rec = e.do(t, http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	wantString(t, "reused code", wantJSON(t, rec, http.StatusBadRequest), "invalid_grant", "error")
}

// testMedia is a media service storing under the test's data directory.
func testMedia(t *testing.T, cfg *config.Config, st *store.Store, ids *id.Generator, log *slog.Logger) *media.Service {
	t.Helper()
	storage, err := media.NewLocal(cfg.MediaDir())
	if err != nil {
		t.Fatal(err)
	}
	return media.New(cfg, st, storage, ids, log)
}
