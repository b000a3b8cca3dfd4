package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
)

// filterFixture is the social pair with alice following bob, and the
// social service's clock fixed (and movable), so expiry is tested without
// waiting.
type filterFixture struct {
	*socialFixture
	now time.Time
}

func newFilterFixture(t *testing.T) *filterFixture {
	t.Helper()
	f := &filterFixture{socialFixture: newSocialPair(t), now: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}
	f.api.social.WithClock(func() time.Time { return f.now })
	// alice is locked; bob is not: alice follows bob at once.
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/follow", nil)
	return f
}

// jsonCall sends a JSON body.
func (f *filterFixture) jsonCall(t *testing.T, tok, method, target, body string) any {
	t.Helper()
	rec := f.do(t, method, target, strings.NewReader(body), append(bearerHeader(tok), "Content-Type", "application/json")...)
	return decodeAny(t, rec, http.StatusOK)
}

// ids lists the ids of a status list.
func statusIDs(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, x := range asList(t, v) {
		id, _ := x.(map[string]any)["id"].(string)
		out = append(out, id)
	}
	return out
}

func has(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// statusIn finds a status (by id) in a list.
func statusIn(t *testing.T, v any, id string) map[string]any {
	t.Helper()
	for _, x := range asList(t, v) {
		if m, _ := x.(map[string]any); m["id"] == id {
			return m
		}
	}
	t.Fatalf("status %s not in the list", id)
	return nil
}

// The entities, as Mastodon documents them: Filter (with keywords and
// statuses), FilterKeyword, FilterStatus, the v1 filter, and a Status's
// filtered[] of FilterResult (whose filter has no keywords or statuses).
func TestFilterEntities(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	post := f.postStatus(t, f.bobTok, "STATUS_BOB", url.Values{"status": {"The Finale was great"}, "visibility": {"public"}})
	v := f.jsonCall(t, f.aliceTok, http.MethodPost, "/api/v2/filters",
		`{"title":"Spoilers","context":["home","thread"],"filter_action":"warn","expires_in":3600,
		  "keywords_attributes":[{"keyword":"finale","whole_word":true},{"keyword":"ending","whole_word":false}]}`)
	filterID, _ := lookup(v, "id")
	f.name(filterID.(string), "FILTER")
	checkSocialContract(t, "filter", v)
	f.golden(t, "filter", v)

	fs := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v2/filters/"+filterID.(string)+"/statuses", url.Values{"status_id": {post}})
	f.golden(t, "filter_status", fs)
	kw := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v2/filters/"+filterID.(string)+"/keywords", url.Values{"keyword": {"twist"}})
	f.golden(t, "filter_keyword", kw)
	got := f.get(t, f.aliceTok, "/api/v2/filters/"+filterID.(string))
	if len(asList(t, wantPresent(t, "filter", got, "keywords"))) != 3 || len(asList(t, wantPresent(t, "filter", got, "statuses"))) != 1 {
		t.Errorf("the filter after adding: %v", got)
	}
	if d := f.diff([]any{got}, f.get(t, f.aliceTok, "/api/v2/filters")); d != "" {
		t.Errorf("the list differs from the filter:\n%s", d)
	}

	home := f.get(t, f.aliceTok, "/api/v1/timelines/home")
	st := statusIn(t, home, post)
	checkSocialContract(t, "filtered status", st)
	f.golden(t, "status_filtered", st["filtered"])

	v1 := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/filters", url.Values{"phrase": {"Cliffhanger"}, "context[]": {"public", "notifications"},
		"irreversible": {"true"}, "whole_word": {"false"}, "expires_in": {"60"}})
	f.golden(t, "filter_v1", v1)
}

// Filters need read:filters to read and write:filters to change, with a
// user's token; without the scope 403, without a token 401.
func TestFilterScopes(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	readOnly := f.userToken(t, f.alice, "read:filters")
	writeOnly := f.userToken(t, f.alice, "write:filters")
	other := f.userToken(t, f.alice, "read:statuses write:statuses")
	v := f.okJSON(t, writeOnly, http.MethodPost, "/api/v2/filters", url.Values{"title": {"x"}, "context[]": {"home"}, "keywords_attributes[][keyword]": {"x"}})
	id := fmt.Sprint(v.(map[string]any)["id"])
	kwID := fmt.Sprint(asList(t, v.(map[string]any)["keywords"])[0].(map[string]any)["id"])
	reads := []string{"/api/v2/filters", "/api/v2/filters/" + id, "/api/v2/filters/" + id + "/keywords", "/api/v2/filters/keywords/" + kwID,
		"/api/v2/filters/" + id + "/statuses", "/api/v1/filters", "/api/v1/filters/" + kwID}
	writes := [][2]string{{http.MethodPost, "/api/v2/filters"}, {http.MethodPut, "/api/v2/filters/" + id}, {http.MethodDelete, "/api/v2/filters/" + id},
		{http.MethodPost, "/api/v2/filters/" + id + "/keywords"}, {http.MethodPut, "/api/v2/filters/keywords/" + kwID},
		{http.MethodDelete, "/api/v2/filters/keywords/" + kwID}, {http.MethodPost, "/api/v2/filters/" + id + "/statuses"},
		{http.MethodDelete, "/api/v2/filters/statuses/1"}, {http.MethodPost, "/api/v1/filters"}, {http.MethodPut, "/api/v1/filters/" + kwID},
		{http.MethodDelete, "/api/v1/filters/" + kwID}}
	for _, p := range reads {
		if rec := f.call(t, readOnly, http.MethodGet, p, nil); rec.Code != http.StatusOK {
			t.Errorf("GET %s with read:filters: %d", p, rec.Code)
		}
		for _, tok := range []string{writeOnly, other} {
			if rec := f.call(t, tok, http.MethodGet, p, nil); rec.Code != http.StatusForbidden {
				t.Errorf("GET %s without read:filters: %d, want 403", p, rec.Code)
			}
		}
		if rec := f.call(t, "", http.MethodGet, p, nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", p, rec.Code)
		}
	}
	for _, w := range writes {
		for _, tok := range []string{readOnly, other} {
			if rec := f.call(t, tok, w[0], w[1], url.Values{}); rec.Code != http.StatusForbidden {
				t.Errorf("%s %s without write:filters: %d, want 403", w[0], w[1], rec.Code)
			}
		}
	}
	// Another account's filters are not found.
	bobs := f.userToken(t, f.bob, "read write")
	for _, p := range reads[1:] {
		if p == "/api/v2/filters" || p == "/api/v1/filters" {
			continue
		}
		if rec := f.call(t, bobs, http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("bob's GET %s of alice's: %d, want 404", p, rec.Code)
		}
	}
	if rec := f.call(t, bobs, http.MethodDelete, "/api/v2/filters/"+id, nil); rec.Code != http.StatusNotFound {
		t.Errorf("bob's DELETE of alice's filter: %d", rec.Code)
	}
}

// Bad input is 422 with Mastodon's shape; the bounds (filters per
// account, keywords per filter) are refused, not truncated.
func TestFilterValidationAndLimits(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	for _, form := range []url.Values{
		{"context[]": {"home"}}, // no title
		{"title": {"x"}},        // no context
		{"title": {"x"}, "context[]": {"home", "elsewhere"}}, // a context Mastodon has not
		{"title": {"x"}, "context[]": {"home"}, "filter_action": {"blur"}},
		{"title": {"x"}, "context[]": {"home"}, "expires_in": {"soon"}},
		{"title": {"x"}, "context[]": {"home"}, "keywords_attributes[][keyword]": {"  "}},
		{"title": {strings.Repeat("x", 257)}, "context[]": {"home"}},
	} {
		rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v2/filters", form)
		v := wantJSON(t, rec, http.StatusUnprocessableEntity)
		if _, ok := v["details"]; !ok {
			t.Errorf("%v: %v, want Mastodon's validation shape", form, v)
		}
	}
	if rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v1/filters", url.Values{"context[]": {"home"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("a v1 filter without a phrase: %d", rec.Code)
	}
	many := url.Values{"title": {"many"}, "context[]": {"home"}}
	for i := range 101 {
		many.Add("keywords_attributes[][keyword]", fmt.Sprint("k", i))
	}
	if rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v2/filters", many); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("101 keywords: %d, want 422", rec.Code)
	}
	many.Del("keywords_attributes[][keyword]")
	for i := range 100 {
		many.Add("keywords_attributes[][keyword]", fmt.Sprint("k", i))
	}
	v := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v2/filters", many)
	id := fmt.Sprint(v.(map[string]any)["id"])
	if rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v2/filters/"+id+"/keywords", url.Values{"keyword": {"one more"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("a 101st keyword: %d, want 422", rec.Code)
	}
	for i := range 99 {
		f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v2/filters", url.Values{"title": {fmt.Sprint("f", i)}, "context[]": {"home"}})
	}
	if rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v2/filters", url.Values{"title": {"101st"}, "context[]": {"home"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("a 101st filter: %d, want 422", rec.Code)
	}
	if n := len(asList(t, f.get(t, f.aliceTok, "/api/v2/filters"))); n != 100 {
		t.Errorf("%d filters, want 100", n)
	}
}

// A v2 filter's keywords change through keywords_attributes: by id, with
// _destroy, and new ones without an id; a v1 filter is one keyword of a
// v2 filter, irreversible its hide action.
func TestFilterUpdatesAndTheV1Mapping(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	v := f.jsonCall(t, f.aliceTok, http.MethodPost, "/api/v2/filters",
		`{"title":"T","context":["home"],"keywords_attributes":[{"keyword":"one"},{"keyword":"two","whole_word":false}]}`)
	id := fmt.Sprint(v.(map[string]any)["id"])
	kws := asList(t, v.(map[string]any)["keywords"])
	one, two := fmt.Sprint(kws[0].(map[string]any)["id"]), fmt.Sprint(kws[1].(map[string]any)["id"])
	if kws[0].(map[string]any)["whole_word"] != true {
		t.Errorf("whole_word defaults to true, as on Mastodon: %v", kws[0])
	}
	v = f.jsonCall(t, f.aliceTok, http.MethodPut, "/api/v2/filters/"+id,
		`{"filter_action":"hide","expires_in":"","keywords_attributes":[{"id":"`+one+`","keyword":"uno"},{"id":"`+two+`","_destroy":true},{"keyword":"three"}]}`)
	var words []string
	for _, k := range asList(t, v.(map[string]any)["keywords"]) {
		words = append(words, fmt.Sprint(k.(map[string]any)["keyword"]))
	}
	if fmt.Sprint(words) != "[uno three]" || v.(map[string]any)["filter_action"] != "hide" || v.(map[string]any)["title"] != "T" {
		t.Errorf("after the update: %v", v)
	}
	// A keyword id of no keyword of this filter: 404, nothing changed.
	if rec := f.call(t, f.aliceTok, http.MethodPut, "/api/v2/filters/"+id, url.Values{"title": {"X"}, "keywords_attributes[0][id]": {two},
		"keywords_attributes[0][_destroy]": {"true"}}); rec.Code != http.StatusNotFound {
		t.Errorf("destroying a gone keyword: %d", rec.Code)
	}

	// The v1 view of it: one filter per keyword, with the filter's fields.
	list := asList(t, f.get(t, f.aliceTok, "/api/v1/filters"))
	if len(list) != 2 || list[0].(map[string]any)["phrase"] != "uno" || list[0].(map[string]any)["irreversible"] != true {
		t.Fatalf("v1 filters: %v", list)
	}
	// Changing the filter's own fields through v1 is refused while it holds two keywords; the keyword alone may change.
	uno := fmt.Sprint(list[0].(map[string]any)["id"])
	if rec := f.call(t, f.aliceTok, http.MethodPut, "/api/v1/filters/"+uno, url.Values{"phrase": {"uno"}, "context[]": {"public"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("a v1 change of a two-keyword filter's context: %d, want 422", rec.Code)
	}
	// (go-mastodon's UpdateFilter sends every field, unchanged ones too, and expires_in "" for none.)
	v = f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v1/filters/"+uno, url.Values{"phrase": {"T"}, "context[]": {"home"}, "whole_word": {"false"},
		"irreversible": {"true"}, "expires_in": {""}})
	if v.(map[string]any)["phrase"] != "T" || v.(map[string]any)["whole_word"] != false {
		t.Errorf("the v1 keyword change: %v", v)
	}

	// A v1 filter made through v1: a v2 filter titled with the phrase.
	v = f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/filters", url.Values{"phrase": {"solo"}, "context[]": {"home"}})
	solo := fmt.Sprint(v.(map[string]any)["id"])
	if v.(map[string]any)["irreversible"] != false || v.(map[string]any)["whole_word"] != true {
		t.Errorf("v1 defaults: %v", v)
	}
	v = f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v1/filters/"+solo, url.Values{"phrase": {"solo2"}, "context[]": {"home", "public"},
		"irreversible": {"true"}, "expires_in": {"120"}})
	if v.(map[string]any)["irreversible"] != true || fmt.Sprint(v.(map[string]any)["context"]) != "[home public]" ||
		v.(map[string]any)["expires_at"] != "2026-12-08T00:02:00.000Z" {
		t.Errorf("the v1 update: %v", v)
	}
	v2 := asList(t, f.get(t, f.aliceTok, "/api/v2/filters"))
	if len(v2) != 2 || v2[1].(map[string]any)["title"] != "solo2" || v2[1].(map[string]any)["filter_action"] != "hide" {
		t.Errorf("v2 after the v1 calls: %v", v2)
	}
	f.okJSON(t, f.aliceTok, http.MethodDelete, "/api/v1/filters/"+solo, nil)
	if rec := f.call(t, f.aliceTok, http.MethodGet, "/api/v1/filters/"+solo, nil); rec.Code != http.StatusNotFound {
		t.Errorf("a deleted v1 filter: %d", rec.Code)
	}
	f.okJSON(t, f.aliceTok, http.MethodDelete, "/api/v2/filters/"+id, nil)
	if n := len(asList(t, f.get(t, f.aliceTok, "/api/v1/filters"))); n != 0 {
		t.Errorf("%d v1 filters after deleting their v2 filter", n)
	}
}

// Filters apply where they say: hide leaves the status out of the
// timelines of its contexts, warn keeps it with filtered[]; whole words
// need boundaries, substrings do not; the viewer's own posts never hide.
func TestFiltersApplyToTimelines(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	cats := f.postStatus(t, f.bobTok, "CATS", url.Values{"status": {"I love my Cat"}, "visibility": {"public"}})
	concat := f.postStatus(t, f.bobTok, "CONCAT", url.Values{"status": {"concatenate strings"}, "visibility": {"public"}})
	plain := f.postStatus(t, f.bobTok, "PLAIN", url.Values{"status": {"nothing to see"}, "visibility": {"public"}})
	own := f.postStatus(t, f.aliceTok, "OWN", url.Values{"status": {"my cat too"}, "visibility": {"public"}})
	home := func() []string { return statusIDs(t, f.get(t, f.aliceTok, "/api/v1/timelines/home")) }
	if h := home(); !has(h, cats) || !has(h, concat) || !has(h, plain) || !has(h, own) {
		t.Fatalf("home before any filter: %v", h)
	}
	v := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v2/filters", url.Values{"title": {"cats"}, "context[]": {"home", "account"},
		"filter_action": {"hide"}, "keywords_attributes[][keyword]": {"cat"}, "keywords_attributes[][whole_word]": {"true"}})
	id := fmt.Sprint(v.(map[string]any)["id"])
	if h := home(); has(h, cats) || !has(h, concat) || !has(h, plain) || !has(h, own) {
		t.Errorf("home with a whole-word hide filter: %v", h)
	}
	if a := statusIDs(t, f.get(t, f.aliceTok, "/api/v1/accounts/"+f.bobID+"/statuses")); has(a, cats) || !has(a, concat) {
		t.Errorf("bob's statuses (account context): %v", a)
	}
	// Not in public: there it is shown, with the match in filtered[] (the
	// client sees the filter's contexts, as on Mastodon).
	pub := f.get(t, f.aliceTok, "/api/v1/timelines/public")
	st := statusIn(t, pub, cats)
	if fl := asList(t, st["filtered"]); len(fl) != 1 || fmt.Sprint(lookupMust(fl[0], "keyword_matches")) != "[cat]" {
		t.Errorf("filtered in public: %v", st["filtered"])
	}
	if fl := asList(t, statusIn(t, pub, plain)["filtered"]); len(fl) != 0 {
		t.Errorf("an unmatched status's filtered: %v", fl)
	}
	// Bob, whose filter it is not, sees everything unfiltered.
	if st := statusIn(t, f.get(t, f.bobTok, "/api/v1/timelines/home"), cats); len(asList(t, st["filtered"])) != 0 {
		t.Errorf("bob's view carries alice's filter: %v", st["filtered"])
	}
	// Anonymous: no filtered at all.
	if st := statusIn(t, f.get(t, "", "/api/v1/timelines/public"), cats); st["filtered"] != nil {
		t.Errorf("anonymous filtered: %v", st["filtered"])
	}

	// A substring keyword hides "concatenate" too; warn keeps both.
	kwID := fmt.Sprint(asList(t, v.(map[string]any)["keywords"])[0].(map[string]any)["id"])
	f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v2/filters/keywords/"+kwID, url.Values{"whole_word": {"false"}})
	if h := home(); has(h, cats) || has(h, concat) || !has(h, plain) {
		t.Errorf("home with a substring hide filter: %v", h)
	}
	f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v2/filters/"+id, url.Values{"filter_action": {"warn"}})
	h := f.get(t, f.aliceTok, "/api/v1/timelines/home")
	for _, s := range []string{cats, concat} {
		fl := asList(t, statusIn(t, h, s)["filtered"])
		if len(fl) != 1 || lookupMust(fl[0], "filter", "filter_action") != "warn" || lookupMust(fl[0], "status_matches") != nil {
			t.Errorf("warned status %s: %v", s, fl)
		}
	}
	// A status filter hides that status by id.
	f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v2/filters/"+id, url.Values{"filter_action": {"hide"}, "keywords_attributes[0][id]": {kwID},
		"keywords_attributes[0][_destroy]": {"1"}})
	if h := home(); !has(h, cats) || !has(h, concat) {
		t.Errorf("home with the keyword gone: %v", h)
	}
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v2/filters/"+id+"/statuses", url.Values{"status_id": {plain}})
	if h := home(); has(h, plain) || !has(h, cats) {
		t.Errorf("home with a status filter: %v", h)
	}
	if rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v2/filters/"+id+"/statuses", url.Values{"status_id": {plain}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("the same status twice: %d", rec.Code)
	}
	// The status itself is still there to open (no context hides a single status).
	f.get(t, f.aliceTok, "/api/v1/statuses/"+plain)
	f.okJSON(t, f.aliceTok, http.MethodDelete, "/api/v2/filters/"+id, nil)
	if h := home(); !has(h, plain) || !has(h, cats) {
		t.Errorf("home after deleting the filter: %v", h)
	}
}

func lookupMust(v any, keys ...string) any {
	x, _ := lookup(v, keys...)
	return x
}

// A filter stops applying the moment it expires (the service's clock, no
// sweep); expires_in "" makes it last again.
func TestFilterExpiry(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	post := f.postStatus(t, f.bobTok, "POST", url.Values{"status": {"big spoiler"}, "visibility": {"public"}})
	v := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v2/filters", url.Values{"title": {"s"}, "context[]": {"home"}, "filter_action": {"hide"},
		"expires_in": {"60"}, "keywords_attributes[][keyword]": {"spoiler"}})
	id := fmt.Sprint(v.(map[string]any)["id"])
	if v.(map[string]any)["expires_at"] != "2026-12-08T00:01:00.000Z" {
		t.Errorf("expires_at %v", v.(map[string]any)["expires_at"])
	}
	home := func() []string { return statusIDs(t, f.get(t, f.aliceTok, "/api/v1/timelines/home")) }
	f.now = f.now.Add(59 * time.Second)
	if has(home(), post) {
		t.Errorf("hidden a second before expiry? shown")
	}
	f.now = f.now.Add(time.Second)
	if !has(home(), post) {
		t.Errorf("still hidden once expired")
	}
	v = f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v2/filters/"+id, url.Values{"expires_in": {""}})
	if v.(map[string]any)["expires_at"] != nil || has(home(), post) {
		t.Errorf("made to last again: %v, home %v", v, home())
	}
}

// Notifications whose status a hiding filter of the notifications context
// matches are left out (the page's Link still leads on); a filter of
// another context leaves them, flagged.
func TestFiltersApplyToNotifications(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	other := f.postStatus(t, f.bobTok, "OTHER", url.Values{"status": {"@alice hello"}})
	mention := f.postStatus(t, f.bobTok, "MENTION", url.Values{"status": {"@alice spoiler alert"}})
	statuses := func() []string {
		var out []string
		for _, n := range asList(t, f.get(t, f.aliceTok, "/api/v1/notifications?types[]=mention")) {
			out = append(out, fmt.Sprint(lookupMust(n, "status", "id")))
		}
		return out
	}
	if s := statuses(); !has(s, mention) || !has(s, other) {
		t.Fatalf("notifications before: %v", s)
	}
	v := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/filters", url.Values{"phrase": {"spoiler"}, "context[]": {"home"}, "irreversible": {"true"}})
	if s := statuses(); !has(s, mention) {
		t.Errorf("a home filter hid a notification: %v", s)
	}
	f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v1/filters/"+fmt.Sprint(v.(map[string]any)["id"]), url.Values{"phrase": {"spoiler"},
		"context[]": {"notifications"}, "irreversible": {"true"}})
	if s := statuses(); has(s, mention) || !has(s, other) {
		t.Errorf("notifications with a hiding notifications filter: %v", s)
	}
	// Grouped notifications (v2) hide it alike.
	var grouped []string
	for _, g := range asList(t, lookupMust(f.get(t, f.aliceTok, "/api/v2/notifications?types[]=mention"), "notification_groups")) {
		grouped = append(grouped, fmt.Sprint(lookupMust(g, "status_id")))
	}
	if has(grouped, mention) || !has(grouped, other) {
		t.Errorf("grouped notifications with a hiding notifications filter: %v", grouped)
	}
	// A page of one, hidden whole: empty, with a Link to go on.
	rec := f.call(t, f.aliceTok, http.MethodGet, "/api/v1/notifications?types[]=mention&limit=1", nil)
	if l := asList(t, decodeAny(t, rec, http.StatusOK)); len(l) != 0 || !strings.Contains(rec.Header().Get("Link"), `rel="next"`) {
		t.Errorf("a hidden page: %v, Link %q", l, rec.Header().Get("Link"))
	}
}

// A reblog is matched on the status it reblogs: hidden with it, or
// flagged on both the reblog and the reblogged status.
func TestFiltersApplyToReblogs(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	approved := true
	if _, err := f.acc.Modify(t.Context(), f.carol.ID, accounts.Change{Approved: &approved}); err != nil {
		t.Fatal(err)
	}
	carolTok := f.userToken(t, f.carol, "read write")
	orig := f.postStatus(t, carolTok, "ORIG", url.Values{"status": {"the murderer is the butler"}, "visibility": {"public"}})
	rb := f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/statuses/"+orig+"/reblog", nil)
	reblog := fmt.Sprint(rb.(map[string]any)["id"])
	home := func() any { return f.get(t, f.aliceTok, "/api/v1/timelines/home") }
	if !has(statusIDs(t, home()), reblog) {
		t.Fatal("the reblog is not at home")
	}
	v := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v2/filters", url.Values{"title": {"b"}, "context[]": {"home"}, "filter_action": {"warn"},
		"keywords_attributes[][keyword]": {"BUTLER"}})
	st := statusIn(t, home(), reblog)
	if len(asList(t, st["filtered"])) != 1 || len(asList(t, lookupMust(st, "reblog", "filtered"))) != 1 {
		t.Errorf("a warned reblog: %v / %v", st["filtered"], lookupMust(st, "reblog", "filtered"))
	}
	f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v2/filters/"+fmt.Sprint(v.(map[string]any)["id"]), url.Values{"filter_action": {"hide"}})
	if has(statusIDs(t, home()), reblog) {
		t.Error("a hidden reblog is at home")
	}
}

// Paging over hidden statuses: a page hidden whole is empty but its Link
// header still leads to the next, older page, built from the underlying
// page's ids.
func TestFilteredPagesKeepTheirLinks(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	older := f.postStatus(t, f.bobTok, "OLDER", url.Values{"status": {"plain and old"}, "visibility": {"public"}})
	for i := range 3 {
		f.postStatus(t, f.bobTok, fmt.Sprint("HIDDEN", i), url.Values{"status": {fmt.Sprint("secret ", i)}, "visibility": {"public"}})
	}
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/filters", url.Values{"phrase": {"secret"}, "context[]": {"home"}, "irreversible": {"true"}})
	rec := f.call(t, f.aliceTok, http.MethodGet, "/api/v1/timelines/home?limit=3", nil)
	if l := asList(t, decodeAny(t, rec, http.StatusOK)); len(l) != 0 {
		t.Fatalf("the first page: %v", statusIDs(t, l))
	}
	link := rec.Header().Get("Link")
	next := ""
	for _, part := range strings.Split(link, ", ") {
		if strings.HasSuffix(part, `rel="next"`) {
			next = strings.TrimSuffix(strings.TrimPrefix(strings.Split(part, ">")[0], "<"), "")
		}
	}
	if next == "" || !strings.Contains(link, `rel="prev"`) {
		t.Fatalf("Link %q: want next and prev", link)
	}
	u, err := url.Parse(next)
	if err != nil {
		t.Fatal(err)
	}
	if got := statusIDs(t, f.get(t, f.aliceTok, u.RequestURI())); len(got) != 1 || got[0] != older {
		t.Errorf("the next page: %v, want the older post", got)
	}
}

// A thread's filters hide ancestors and descendants they match; the
// status asked for stays.
func TestFiltersApplyToThreads(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	root := f.postStatus(t, f.bobTok, "ROOT", url.Values{"status": {"a plot twist"}, "visibility": {"public"}})
	mid := f.postStatus(t, f.bobTok, "MID", url.Values{"status": {"fine"}, "visibility": {"public"}, "in_reply_to_id": {root}})
	leaf := f.postStatus(t, f.bobTok, "LEAF", url.Values{"status": {"another twist"}, "visibility": {"public"}, "in_reply_to_id": {mid}})
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/filters", url.Values{"phrase": {"twist"}, "context[]": {"thread"}, "irreversible": {"true"}})
	v := f.get(t, f.aliceTok, "/api/v1/statuses/"+mid+"/context")
	anc, desc := statusIDs(t, lookupMust(v, "ancestors")), statusIDs(t, lookupMust(v, "descendants"))
	if len(anc) != 0 || len(desc) != 0 {
		t.Errorf("ancestors %v, descendants %v: want none", anc, desc)
	}
	v = f.get(t, f.aliceTok, "/api/v1/statuses/"+root+"/context")
	if desc := statusIDs(t, lookupMust(v, "descendants")); len(desc) != 1 || desc[0] != mid || has(desc, leaf) {
		t.Errorf("descendants of the root: %v", desc)
	}
	// Home is not the thread: there they show.
	if h := statusIDs(t, f.get(t, f.aliceTok, "/api/v1/timelines/home")); !has(h, root) || !has(h, leaf) {
		t.Errorf("home: %v", h)
	}
}

// Reading filters is a fixed number of statements whatever their number.
func TestFilterListsRunAFixedNumberOfStatements(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	var counts []int64
	for _, n := range []int{2, 20} {
		for range n - len(asList(t, f.get(t, f.aliceTok, "/api/v2/filters"))) {
			f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v2/filters", url.Values{"title": {"t"}, "context[]": {"home"},
				"keywords_attributes[][keyword]": {"a", "b"}})
		}
		for _, p := range []string{"/api/v2/filters", "/api/v1/filters"} {
			stmts, items := f.statements(t, f.aliceTok, p)
			if p == "/api/v2/filters" && items != n || p == "/api/v1/filters" && items != 2*n {
				t.Fatalf("%s: %d items with %d filters", p, items, n)
			}
			counts = append(counts, stmts)
		}
	}
	if counts[0] != counts[2] || counts[1] != counts[3] || counts[0] > 4 {
		t.Errorf("statements for 2 and 20 filters: %v; want the same, at most 4 (token, filters, keywords, statuses)", counts)
	}
}

// A keyword matches a poll's options too, as on Mastodon.
func TestFiltersMatchPollOptions(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	poll := f.postStatus(t, f.bobTok, "POLL", url.Values{"status": {"Lunch?"}, "visibility": {"public"},
		"poll[options][]": {"pizza", "pineapple pizza"}, "poll[expires_in]": {"3600"}})
	home := func() []string { return statusIDs(t, f.get(t, f.aliceTok, "/api/v1/timelines/home")) }
	if !has(home(), poll) {
		t.Fatalf("the poll is not in alice's home before any filter")
	}
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v2/filters", url.Values{"title": {"fruit"}, "context[]": {"home"},
		"filter_action": {"hide"}, "keywords_attributes[][keyword]": {"pineapple"}})
	if has(home(), poll) {
		t.Errorf("a hide filter on a poll option left the status in home")
	}
}

// A list timeline is of the home context, as on Mastodon: a home filter
// hides there too.
func TestFiltersApplyToListTimelines(t *testing.T) {
	t.Parallel()
	f := newFilterFixture(t)
	cats := f.postStatus(t, f.bobTok, "CATS", url.Values{"status": {"I love my cat"}, "visibility": {"public"}})
	plain := f.postStatus(t, f.bobTok, "PLAIN", url.Values{"status": {"nothing to see"}, "visibility": {"public"}})
	list := fmt.Sprint(lookupMust(f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/lists", url.Values{"title": {"bob"}}), "id"))
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/lists/"+list+"/accounts", url.Values{"account_ids[]": {f.bobID}})
	timeline := func() []string { return statusIDs(t, f.get(t, f.aliceTok, "/api/v1/timelines/list/"+list)) }
	if l := timeline(); !has(l, cats) || !has(l, plain) {
		t.Fatalf("the list before any filter: %v", l)
	}
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v2/filters", url.Values{"title": {"cats"}, "context[]": {"home"},
		"filter_action": {"hide"}, "keywords_attributes[][keyword]": {"cat"}})
	if l := timeline(); has(l, cats) || !has(l, plain) {
		t.Errorf("the list with a home hide filter: %v", l)
	}
}
