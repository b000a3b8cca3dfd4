package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/store"
)

// normStartup is the social fixture's norm, with the volatile values of the
// start-up entities (days, weeks, marker times and ids) as placeholders.
func (f *socialFixture) normStartup(v any) any {
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, y := range x {
				switch k {
				case "day", "week":
					out[k] = "<UNIX_SECONDS>"
				case "updated_at":
					if y != nil {
						out[k] = "<DATE>"
					} else {
						out[k] = nil
					}
				default:
					out[k] = walk(y)
				}
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, y := range x {
				out[i] = walk(y)
			}
			return out
		}
		return v
	}
	return walk(f.norm(v, ""))
}

func (f *socialFixture) goldenStartup(t *testing.T, name string, v any) {
	t.Helper()
	compareGolden(t, name, f.normStartup(v))
}

// wantStatus expects an HTTP status of one call.
func (f *socialFixture) wantStatus(t *testing.T, tok, method, target string, form url.Values, want int) {
	t.Helper()
	if rec := f.call(t, tok, method, target, form); rec.Code != want {
		t.Errorf("%s %s: %d, want %d: %s", method, target, rec.Code, want, rec.Body)
	}
}

func TestPreferencesEntity(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	p := f.get(t, f.aliceTok, "/api/v1/preferences")
	for k, want := range map[string]any{"posting:default:visibility": "private", "posting:default:sensitive": true,
		"posting:default:language": "en", "reading:expand:media": "default", "reading:expand:spoilers": false} {
		if x, ok := lookup(p, k); !ok || x != want {
			t.Errorf("alice's %s = %#v, want %#v", k, x, want)
		}
	}
	f.goldenStartup(t, "preferences", p)
	b := f.get(t, f.bobTok, "/api/v1/preferences")
	wantNull(t, "bob's preferences", b, "posting:default:language")
	wantString(t, "bob's preferences", b, "public", "posting:default:visibility")

	// read:accounts, as Mastodon; a token without it is refused.
	f.wantStatus(t, f.userToken(t, f.alice, "read:statuses"), http.MethodGet, "/api/v1/preferences", nil, http.StatusForbidden)
	f.wantStatus(t, f.userToken(t, f.alice, "read:accounts"), http.MethodGet, "/api/v1/preferences", nil, http.StatusOK)
	f.wantStatus(t, "", http.MethodGet, "/api/v1/preferences", nil, http.StatusUnauthorized)
}

// Markers: {} before any save; a save answers what it stored; each move
// of a marker is a new version; a form and a JSON body alike; the scopes.
func TestMarkers(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	both := "/api/v1/markers?timeline[]=home&timeline[]=notifications"
	if m := f.get(t, f.aliceTok, both); fmt.Sprint(m) != "map[]" {
		t.Fatalf("markers before any save: %v, want {}", m)
	}
	home := f.postStatus(t, f.bobTok, "STATUS_HOME", url.Values{"status": {"first"}})
	saved := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/markers", url.Values{"home[last_read_id]": {home}})
	wantString(t, "saved", saved, home, "home", "last_read_id")
	if v, _ := lookup(saved, "home", "version"); v != json.Number("1") {
		t.Errorf("first version %v, want 1", v)
	}
	wantAbsent(t, "saved", saved, "notifications")

	// JSON, as most apps send it: both timelines, home moved on.
	next := f.postStatus(t, f.bobTok, "STATUS_NEXT", url.Values{"status": {"second"}})
	rec := f.do(t, http.MethodPost, "/api/v1/markers",
		strings.NewReader(`{"home":{"last_read_id":"`+next+`"},"notifications":{"last_read_id":"42"}}`),
		append(bearerHeader(f.aliceTok), "Content-Type", "application/json")...)
	saved = decodeAny(t, rec, http.StatusOK)
	if v, _ := lookup(saved, "home", "version"); v != json.Number("2") {
		t.Errorf("home version after a move %v, want 2", v)
	}
	if v, _ := lookup(saved, "notifications", "version"); v != json.Number("1") {
		t.Errorf("notifications version %v, want 1", v)
	}
	got := f.get(t, f.aliceTok, both)
	checkSocialContract(t, "markers", got)
	if f.diff(got, saved) != "" {
		t.Errorf("GET differs from what POST answered:\n%s", f.diff(saved, got))
	}
	f.goldenStartup(t, "markers", got)
	// One timeline asked for, one answered; unknown names are ignored.
	one := f.get(t, f.aliceTok, "/api/v1/markers?timeline[]=notifications&timeline[]=public")
	wantAbsent(t, "one marker", one, "home")
	wantString(t, "one marker", one, "42", "notifications", "last_read_id")
	// Bob has none of alice's.
	if m := f.get(t, f.bobTok, both); fmt.Sprint(m) != "map[]" {
		t.Errorf("bob's markers: %v", m)
	}
	// Not an id: 422.
	f.wantStatus(t, f.aliceTok, http.MethodPost, "/api/v1/markers", url.Values{"home[last_read_id]": {"abc"}}, http.StatusUnprocessableEntity)

	// read:statuses reads, write:statuses saves.
	reader, writer := f.userToken(t, f.alice, "read:statuses"), f.userToken(t, f.alice, "write:statuses")
	f.wantStatus(t, reader, http.MethodGet, both, nil, http.StatusOK)
	f.wantStatus(t, writer, http.MethodGet, both, nil, http.StatusForbidden)
	f.wantStatus(t, writer, http.MethodPost, "/api/v1/markers", url.Values{"home[last_read_id]": {home}}, http.StatusOK)
	f.wantStatus(t, reader, http.MethodPost, "/api/v1/markers", url.Values{"home[last_read_id]": {home}}, http.StatusForbidden)
	f.wantStatus(t, "", http.MethodGet, both, nil, http.StatusUnauthorized)
}

// The rules are config's, the same list in /instance/rules and both
// instance documents.
func TestInstanceRules(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	if r := asList(t, f.get(t, "", "/api/v1/instance/rules")); len(r) != 0 {
		t.Errorf("rules without config: %v", r)
	}
	f.cfg.Instance.Rules = []string{"Be kind <3.", "No spam & no ads."}
	rules := f.get(t, "", "/api/v1/instance/rules")
	f.goldenStartup(t, "instance_rules", rules)
	wantString(t, "rule", asList(t, rules)[0], "1", "id")
	wantString(t, "rule", asList(t, rules)[1], "No spam & no ads.", "text")
	for _, path := range []string{"/api/v1/instance", "/api/v2/instance"} {
		doc := f.get(t, "", path)
		r, _ := lookup(doc, "rules")
		if d := f.diff(r, rules); d != "" {
			t.Errorf("%s rules differ from /instance/rules:\n%s", path, d)
		}
	}
}

func TestInstancePeers(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	now := time.Now()
	f.api.instance.now = func() time.Time { return now }
	remote := func(id int64, user, domain string) {
		if _, err := f.st.UpsertRemoteAccount(t.Context(), &store.RemoteAccount{Account: store.Account{Username: user, Domain: domain,
			URI: "https://" + domain + "/users/" + user, URL: "https://" + domain + "/@" + user, CreatedAt: now},
			InboxURL: "https://" + domain + "/inbox", FetchedAt: now}, id); err != nil {
			t.Fatal(err)
		}
	}
	remote(9001, "a", "zeta.example")
	remote(9002, "b", "alpha.example")
	remote(9003, "c", "alpha.example")
	peers := f.get(t, "", "/api/v1/instance/peers") // public
	if fmt.Sprint(peers) != "[alpha.example zeta.example]" {
		t.Errorf("peers %v, want [alpha.example zeta.example]", peers)
	}
	compareGolden(t, "instance_peers", peers)
	// Built at most every publicDocMaxAge: a new peer shows after it.
	remote(9004, "d", "beta.example")
	before := f.st.StatementCount()
	if p := f.get(t, "", "/api/v1/instance/peers"); fmt.Sprint(p) != fmt.Sprint(peers) {
		t.Errorf("peers within the interval %v, want the last %v", p, peers)
	}
	if n := f.st.StatementCount() - before; n != 0 {
		t.Errorf("serving the peers again ran %d statements", n)
	}
	now = now.Add(publicDocMaxAge)
	if p := f.get(t, "", "/api/v1/instance/peers"); fmt.Sprint(p) != "[alpha.example beta.example zeta.example]" {
		t.Errorf("peers after the interval %v", p)
	}
}

func TestInstanceActivity(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	f.postStatus(t, f.aliceTok, "STATUS_A", url.Values{"status": {"one"}})
	f.postStatus(t, f.bobTok, "STATUS_B", url.Values{"status": {"two"}, "visibility": {"private"}})
	weeks := asList(t, f.get(t, "", "/api/v1/instance/activity"))
	if len(weeks) != 12 {
		t.Fatalf("%d weeks, want 12", len(weeks))
	}
	prev := int64(0)
	for i, w := range weeks {
		for _, k := range []string{"week", "statuses", "logins", "registrations"} {
			if x, _ := lookup(w, k); !isString(x) {
				t.Errorf("week %d: %s = %#v, want a string", i, k, x)
			}
		}
		s, _ := lookup(w, "week")
		sec, _ := strconv.ParseInt(s.(string), 10, 64)
		start := time.Unix(sec, 0).UTC()
		if start.Weekday() != time.Monday || start.Hour() != 0 || (prev != 0 && prev-sec != 7*24*3600) {
			t.Errorf("week %d starts %v (after %d)", i, start, prev)
		}
		prev = sec
	}
	// This week: both posts, the three sign-ups (carol's too, pending),
	// and the two approved users, who used it (a sign-up counts as a use).
	if fmt.Sprint(weeks[0]) != fmt.Sprintf("map[logins:2 registrations:3 statuses:2 week:%v]", weeks[0].(map[string]any)["week"]) {
		t.Errorf("this week: %v", weeks[0])
	}
	f.goldenStartup(t, "instance_activity", weeks[:2])
}

// The extended description is plain text from config, escaped.
func TestExtendedDescription(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	d := f.get(t, "", "/api/v1/instance/extended_description")
	wantNull(t, "empty", d, "updated_at")
	wantString(t, "empty", d, "", "content")
	f.cfg.Instance.ExtendedDescription = "Welcome <script>alert(1)</script>\n\nRules & more\nhere"
	d = f.get(t, "", "/api/v1/instance/extended_description")
	wantString(t, "set", d, "<p>Welcome &lt;script&gt;alert(1)&lt;/script&gt;</p><p>Rules &amp; more<br>here</p>", "content")
	checkSocialContract(t, "extended description", d)
	if x, _ := lookup(d, "updated_at"); !isString(x) || !dateRe.MatchString(x.(string)) {
		t.Errorf("updated_at = %#v", x)
	}
	f.goldenStartup(t, "extended_description", d)
	if v := f.get(t, "", "/api/v1/instance/translation_languages"); fmt.Sprint(v) != "map[]" {
		t.Errorf("translation_languages %v, want {}", v)
	}
}

// trendsFixture: alice the viewer; bob, erin and frank post tagged public
// statuses that others favourite; alice mutes erin and frank blocks her;
// gina is a stranger; dave is followed by bob, whom alice follows.
type trendsFixture struct {
	*socialFixture
	bobPost, erinPost, franPost string
	dave, erin, frank, gina     *store.Account
}

func newTrendsFixture(t *testing.T) *trendsFixture {
	f := &trendsFixture{socialFixture: newSocialPair(t)}
	mk := func(name string) (*store.Account, string) {
		a, _, err := f.acc.Create(t.Context(), accounts.NewParams{Username: name, Email: name + "@example.test",
			Password: fixturePassword, Role: accounts.RoleUser, Approved: true})
		if err != nil {
			t.Fatal(err)
		}
		f.name(idString(a.ID), strings.ToUpper(name)+"_ID")
		return a, f.userToken(t, a, "read write follow")
	}
	var daveTok, erinTok, frankTok string
	f.dave, daveTok = mk("dave")
	f.erin, erinTok = mk("erin")
	f.frank, frankTok = mk("frank")
	f.gina, _ = mk("gina")
	f.bobPost = f.postStatus(t, f.bobTok, "BOB_POST", url.Values{"status": {"Go is fun #golang"}, "visibility": {"public"}})
	f.erinPost = f.postStatus(t, erinTok, "ERIN_POST", url.Values{"status": {"#golang and #rust"}, "visibility": {"public"}})
	f.franPost = f.postStatus(t, frankTok, "FRANK_POST", url.Values{"status": {"hello #golang"}, "visibility": {"public"}})
	f.postStatus(t, f.bobTok, "BOB_UNLISTED", url.Values{"status": {"quiet #secret"}, "visibility": {"unlisted"}})
	fav := func(tok, id string) { f.okJSON(t, tok, http.MethodPost, "/api/v1/statuses/"+id+"/favourite", nil) }
	fav(daveTok, f.bobPost)
	fav(f.aliceTok, f.bobPost) // bob's: 2
	fav(daveTok, f.erinPost)   // erin's: 1
	fav(daveTok, f.franPost)
	fav(f.bobTok, f.franPost)
	f.okJSON(t, daveTok, http.MethodPost, "/api/v1/statuses/"+f.franPost+"/reblog", nil) // frank's: 3
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+idString(f.erin.ID)+"/mute", nil)
	f.okJSON(t, frankTok, http.MethodPost, "/api/v1/accounts/"+f.aliceID+"/block", nil)
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/follow", nil)
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+idString(f.dave.ID)+"/follow", nil)
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+idString(f.gina.ID)+"/follow", nil)
	f.okJSON(t, daveTok, http.MethodPost, "/api/v1/accounts/"+idString(f.gina.ID)+"/follow", nil)
	return f
}

func ids(t *testing.T, f *socialFixture, v any, key ...string) []string {
	t.Helper()
	var out []string
	for _, x := range asList(t, v) {
		id, _ := lookup(x, key...)
		s, _ := id.(string)
		if ph, ok := f.names[s]; ok {
			s = ph
		}
		out = append(out, s)
	}
	return out
}

// Off by default: every discovery list is empty, whoever asks.
func TestTrendsAndSuggestionsAreOptIn(t *testing.T) {
	t.Parallel()
	f := newTrendsFixture(t)
	for _, path := range []string{"/api/v1/trends/tags", "/api/v1/trends", "/api/v1/trends/statuses", "/api/v1/trends/links"} {
		for _, tok := range []string{"", f.aliceTok} {
			if l := asList(t, f.get(t, tok, path)); len(l) != 0 {
				t.Errorf("GET %s with trends off: %v", path, l)
			}
		}
	}
	for _, path := range []string{"/api/v2/suggestions", "/api/v1/suggestions"} {
		if l := asList(t, f.get(t, f.aliceTok, path)); len(l) != 0 {
			t.Errorf("GET %s with suggestions off: %v", path, l)
		}
	}
}

func TestTrends(t *testing.T) {
	t.Parallel()
	f := newTrendsFixture(t)
	f.cfg.Discovery.Trends = true

	// Tags: golang by three accounts, rust by one; the unlisted tag is not
	// public, so it does not trend.
	tags := f.get(t, "", "/api/v1/trends/tags")
	if got := fmt.Sprint(ids(t, f.socialFixture, tags, "name")); got != "[golang rust]" {
		t.Errorf("trending tags %s, want [golang rust]", got)
	}
	first := asList(t, tags)[0]
	hist, _ := lookup(first, "history")
	if h := asList(t, hist); len(h) != 7 {
		t.Errorf("history of %d days, want 7", len(h))
	} else {
		wantString(t, "today", h[0], "3", "uses")
		wantString(t, "today", h[0], "3", "accounts")
		wantString(t, "yesterday", h[1], "0", "uses")
		day, _ := lookup(h[0], "day")
		sec, _ := strconv.ParseInt(fmt.Sprint(day), 10, 64)
		if today := time.Now().UTC().Truncate(24 * time.Hour); sec != today.Unix() {
			t.Errorf("history[0].day = %v, want today %d", day, today.Unix())
		}
	}
	f.goldenStartup(t, "trends_tags", tags)
	// Paged by offset, with Link.
	rec := f.call(t, "", http.MethodGet, "/api/v1/trends/tags?limit=1", nil)
	if l := rec.Header().Get("Link"); !strings.Contains(l, "offset=1") || !strings.Contains(l, `rel="next"`) {
		t.Errorf("Link %q", l)
	}
	if got := fmt.Sprint(ids(t, f.socialFixture, f.get(t, "", "/api/v1/trends/tags?offset=1"), "name")); got != "[rust]" {
		t.Errorf("offset 1: %s", got)
	}

	// Statuses: most shared first; alice does not see erin's (muted) nor
	// frank's (he blocks her); nobody sees an unlisted one.
	anon := f.get(t, "", "/api/v1/trends/statuses")
	if got := fmt.Sprint(ids(t, f.socialFixture, anon, "id")); got != "[<FRANK_POST> <BOB_POST> <ERIN_POST>]" {
		t.Errorf("anonymous trending statuses %s", got)
	}
	mine := f.get(t, f.aliceTok, "/api/v1/trends/statuses")
	if got := fmt.Sprint(ids(t, f.socialFixture, mine, "id")); got != "[<BOB_POST>]" {
		t.Errorf("alice's trending statuses %s, want [<BOB_POST>]", got)
	}
	for i, s := range asList(t, mine) {
		checkStatus(t, fmt.Sprintf("trending status %d", i), s, f.aliceID)
	}
	f.goldenStartup(t, "trends_statuses", mine)
	rec = f.call(t, f.bobTok, http.MethodGet, "/api/v1/trends/statuses?limit=2", nil)
	if got := fmt.Sprint(ids(t, f.socialFixture, decodeAny(t, rec, http.StatusOK), "id")); got != "[<FRANK_POST> <BOB_POST>]" ||
		!strings.Contains(rec.Header().Get("Link"), "offset=2") {
		t.Errorf("bob's first page %s, Link %q", got, rec.Header().Get("Link"))
	}
	// A token, when sent, must read statuses.
	f.wantStatus(t, f.userToken(t, f.alice, "write"), http.MethodGet, "/api/v1/trends/statuses", nil, http.StatusForbidden)
	if l := asList(t, f.get(t, "", "/api/v1/trends/links")); len(l) != 0 {
		t.Errorf("links: %v", l)
	}
}

func TestSuggestions(t *testing.T) {
	t.Parallel()
	f := newTrendsFixture(t)
	f.cfg.Discovery.Suggestions = true
	// dave and gina are followed by bob, whom alice follows; gina has more
	// followers. erin (muted), frank (blocks alice), carol (pending), bob
	// (followed) and alice herself never come.
	sg := f.get(t, f.aliceTok, "/api/v2/suggestions")
	if got := fmt.Sprint(ids(t, f.socialFixture, sg, "account", "id")); got != "[<GINA_ID> <DAVE_ID>]" {
		t.Fatalf("suggestions %s, want [<GINA_ID> <DAVE_ID>]", got)
	}
	for i, s := range asList(t, sg) {
		wantString(t, "suggestion", s, "past_interactions", "source")
		acc, _ := lookup(s, "account")
		checkSocialAccount(t, fmt.Sprintf("suggestion %d", i), acc)
	}
	f.goldenStartup(t, "suggestions", sg)
	// v1 (deprecated): the same accounts, bare.
	if got := fmt.Sprint(ids(t, f.socialFixture, f.get(t, f.aliceTok, "/api/v1/suggestions"), "id")); got != "[<GINA_ID> <DAVE_ID>]" {
		t.Errorf("v1 suggestions %s", got)
	}
	// bob is told of the most followed he does not follow yet.
	bobs := f.get(t, f.bobTok, "/api/v2/suggestions?limit=1")
	if l := asList(t, bobs); len(l) != 1 {
		t.Errorf("limit 1: %v", l)
	} else {
		wantString(t, "bob's", l[0], "global", "source")
	}
	// Dismissed for good.
	if v := f.okJSON(t, f.aliceTok, http.MethodDelete, "/api/v1/suggestions/"+idString(f.gina.ID), nil); fmt.Sprint(v) != "map[]" {
		t.Errorf("dismiss answered %v", v)
	}
	if got := fmt.Sprint(ids(t, f.socialFixture, f.get(t, f.aliceTok, "/api/v2/suggestions"), "account", "id")); got != "[<DAVE_ID>]" {
		t.Errorf("after dismissing gina: %s", got)
	}
	f.wantStatus(t, f.aliceTok, http.MethodDelete, "/api/v1/suggestions/999999999", nil, http.StatusNotFound)
	// Scopes.
	stranger := f.userToken(t, f.alice, "read:statuses write:statuses")
	f.wantStatus(t, stranger, http.MethodGet, "/api/v2/suggestions", nil, http.StatusForbidden)
	f.wantStatus(t, stranger, http.MethodDelete, "/api/v1/suggestions/"+idString(f.dave.ID), nil, http.StatusForbidden)
	f.wantStatus(t, f.userToken(t, f.alice, "read:accounts"), http.MethodGet, "/api/v2/suggestions", nil, http.StatusOK)
	f.wantStatus(t, f.userToken(t, f.alice, "write:accounts"), http.MethodDelete, "/api/v1/suggestions/"+idString(f.dave.ID), nil, http.StatusOK)
	f.wantStatus(t, "", http.MethodGet, "/api/v2/suggestions", nil, http.StatusUnauthorized)
}
