package api

import (
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

// newUser adds an approved user with a token of every scope.
func (f *socialFixture) newUser(t *testing.T, name string) (*store.Account, string) {
	t.Helper()
	a, _, err := f.acc.Create(t.Context(), accounts.NewParams{Username: name, Email: name + "@example.test",
		Password: fixturePassword, Role: accounts.RoleUser, Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	f.name(idString(a.ID), strings.ToUpper(name)+"_ID")
	return a, f.userToken(t, a, "read write follow")
}

// homeIDs lists the ids on tok's home timeline (its first 40).
func (f *socialFixture) homeIDs(t *testing.T, tok string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, s := range asList(t, f.get(t, tok, "/api/v1/timelines/home?limit=40")) {
		out[mustLookup(s, "id").(string)]++
	}
	return out
}

// checkHistory checks a Tag's history (seven days, newest first, each a UTC
// midnight as a string of Unix seconds, counts as strings) and replaces the
// days with <DAY_n> for the golden files; it returns today's uses.
func checkHistory(t *testing.T, what string, tag any) string {
	t.Helper()
	hist := asList(t, mustLookup(tag, "history"))
	if len(hist) != 7 {
		t.Fatalf("%s: %d days of history, want 7", what, len(hist))
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for i, h := range hist {
		m := h.(map[string]any)
		day, err := strconv.ParseInt(m["day"].(string), 10, 64)
		if err != nil || day != today.AddDate(0, 0, -i).Unix() {
			t.Errorf("%s: history[%d].day = %v, want %d", what, i, m["day"], today.AddDate(0, 0, -i).Unix())
		}
		for _, k := range []string{"uses", "accounts"} {
			if _, err := strconv.Atoi(fmt.Sprint(m[k])); err != nil || !isString(m[k]) {
				t.Errorf("%s: history[%d].%s = %#v, want a number as a string", what, i, k, m[k])
			}
		}
		m["day"] = fmt.Sprintf("<DAY_%d>", i)
	}
	return hist[0].(map[string]any)["uses"].(string)
}

// Following a tag: the Tag entity (following for a signed-in viewer only,
// a week of history), the followed list paged by Link, and the tag's public
// posts by people the follower does not follow in the home timeline, once,
// under the visibility, block and mute rules; nothing after the unfollow.
func TestFollowedTags(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	dave, daveTok := f.newUser(t, "dave")
	erin, erinTok := f.newUser(t, "erin")
	frank, frankTok := f.newUser(t, "frank")
	aliceTok := f.aliceTok
	// alice follows erin, blocks dave and mutes frank; she follows not bob.
	f.okJSON(t, aliceTok, http.MethodPost, "/api/v1/accounts/"+idString(erin.ID)+"/follow", nil)
	f.okJSON(t, aliceTok, http.MethodPost, "/api/v1/accounts/"+idString(dave.ID)+"/block", nil)
	f.okJSON(t, aliceTok, http.MethodPost, "/api/v1/accounts/"+idString(frank.ID)+"/mute", nil)

	tag := f.okJSON(t, aliceTok, http.MethodPost, "/api/v1/tags/Rampart/follow", nil)
	checkTag(t, "followed tag", tag, "rampart")
	checkHistory(t, "followed tag", tag)
	if x, _ := lookup(tag, "following"); x != true {
		t.Errorf("following after the follow: %v", x)
	}
	f.golden(t, "tag_followed", tag)
	f.okJSON(t, aliceTok, http.MethodPost, "/api/v1/tags/go/follow", nil)

	public := func(tok, placeholder, status, vis string) string {
		return f.postStatus(t, tok, placeholder, url.Values{"status": {status}, "visibility": {vis}})
	}
	shown := public(f.bobTok, "BOB_TAGGED", "bob on #Rampart", "public")
	both := public(f.bobTok, "BOB_BOTH", "#go #rampart", "public")
	unlisted := public(f.bobTok, "BOB_UNLISTED", "quietly #rampart", "unlisted")
	private := public(f.bobTok, "BOB_PRIVATE", "followers only #rampart", "private")
	fromFollowed := public(erinTok, "ERIN_TAGGED", "erin on #rampart", "public")
	erinPrivate := public(erinTok, "ERIN_PRIVATE", "erin's followers #rampart", "private")
	blocked := public(daveTok, "DAVE_TAGGED", "dave on #rampart", "public")
	muted := public(frankTok, "FRANK_TAGGED", "frank on #rampart", "public")
	reblog := f.okJSON(t, frankTok, http.MethodPost, "/api/v1/statuses/"+shown+"/reblog", nil)
	home := f.homeIDs(t, aliceTok)
	for _, id := range []string{shown, both, fromFollowed, erinPrivate} {
		if home[id] != 1 {
			t.Errorf("%s is on alice's home timeline %d times, want once", f.names[id], home[id])
		}
	}
	for _, id := range []string{unlisted, private, blocked, muted, mustLookup(reblog, "id").(string)} {
		if home[id] != 0 {
			t.Errorf("%s is on alice's home timeline", f.norm(id, ""))
		}
	}

	got := f.get(t, aliceTok, "/api/v1/tags/RAMPART")
	checkTag(t, "tag", got, "rampart")
	// Today: the public statuses with the tag (bob's two, erin's, dave's and
	// frank's), by four accounts.
	if uses := checkHistory(t, "tag", got); uses != "5" {
		t.Errorf("today's uses %s, want 5", uses)
	}
	if x, _ := lookup(mustLookup(got, "history").([]any)[0], "accounts"); x != "4" {
		t.Errorf("today's accounts %v, want 4", x)
	}
	f.golden(t, "tag_show", got)
	anon := f.get(t, "", "/api/v1/tags/rampart")
	wantAbsent(t, "anonymous tag", anon, "following")
	if x, _ := lookup(f.get(t, f.bobTok, "/api/v1/tags/rampart"), "following"); x != false {
		t.Errorf("following for bob, who does not: %v", x)
	}
	// A tag nothing used yet is shown all the same; a name that is no tag is not found.
	fresh := f.get(t, "", "/api/v1/tags/neverused")
	if uses := checkHistory(t, "fresh tag", fresh); uses != "0" {
		t.Errorf("a new tag's uses: %s", uses)
	}
	for _, bad := range []string{"no-such", "123", "%23%23x"} {
		if rec := f.call(t, aliceTok, http.MethodGet, "/api/v1/tags/"+bad, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET /api/v1/tags/%s: %d", bad, rec.Code)
		}
		if rec := f.call(t, aliceTok, http.MethodPost, "/api/v1/tags/"+bad+"/follow", nil); rec.Code != http.StatusNotFound {
			t.Errorf("POST /api/v1/tags/%s/follow: %d", bad, rec.Code)
		}
	}

	// The list, newest follow first, paged by Link.
	rec := f.call(t, aliceTok, http.MethodGet, "/api/v1/followed_tags?limit=1", nil)
	list := asList(t, decodeAny(t, rec, http.StatusOK))
	if len(list) != 1 || mustLookup(list[0], "name") != "go" {
		t.Fatalf("first page: %v", list)
	}
	checkTag(t, "followed_tags[0]", list[0], "go")
	checkHistory(t, "followed_tags[0]", list[0])
	f.golden(t, "followed_tags", list)
	next := linkURL(t, rec.Header().Get("Link"), "next")
	list = asList(t, f.get(t, aliceTok, next))
	if len(list) != 1 || mustLookup(list[0], "name") != "rampart" || mustLookup(list[0], "following") != true {
		t.Fatalf("second page (%s): %v", next, list)
	}
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/followed_tags")); len(l) != 0 {
		t.Errorf("bob follows no tag: %v", l)
	}

	// After the unfollow, what came stays and nothing new comes.
	un := f.okJSON(t, aliceTok, http.MethodPost, "/api/v1/tags/rampart/unfollow", nil)
	if x, _ := lookup(un, "following"); x != false {
		t.Errorf("following after the unfollow: %v", x)
	}
	later := public(f.bobTok, "BOB_LATER", "later #rampart", "public")
	home = f.homeIDs(t, aliceTok)
	if home[later] != 0 || home[shown] != 1 || home[both] != 1 {
		t.Errorf("after the unfollow: later %d, earlier %d and %d", home[later], home[shown], home[both])
	}
	f.okJSON(t, aliceTok, http.MethodPost, "/api/v1/tags/go/unfollow", nil)
	if l := asList(t, f.get(t, aliceTok, "/api/v1/followed_tags")); len(l) != 0 {
		t.Errorf("followed after both unfollows: %v", l)
	}
}

// linkURL is the path and query of a Link header's rel.
func linkURL(t *testing.T, link, rel string) string {
	t.Helper()
	for _, part := range strings.Split(link, ", ") {
		if strings.HasSuffix(part, `rel="`+rel+`"`) {
			u, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(part, ">", 2)[0], "<"), ">"))
			if err != nil {
				t.Fatal(err)
			}
			return u.RequestURI()
		}
	}
	t.Fatalf("no %s in Link %q", rel, link)
	return ""
}

// Featured tags: the entity (counts of the account's public and unlisted
// statuses, as strings; the last day), at most ten, suggestions from what
// the account uses, the public list of another account (empty for one it
// blocks), and removal of one's own only.
func TestFeaturedTags(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	_, daveTok := f.newUser(t, "dave")
	post := func(tok, status, vis string) {
		f.okJSON(t, tok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {status}, "visibility": {vis}})
	}
	post(f.bobTok, "#Rampart one", "public")
	post(f.bobTok, "#rampart two #go", "unlisted")
	post(f.bobTok, "#rampart hidden", "private")
	post(f.bobTok, "#go #zig", "public")
	post(f.bobTok, "#go", "public")
	post(daveTok, "#rampart elsewhere", "public")

	ft := f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/featured_tags", url.Values{"name": {"#Rampart"}})
	checkSocialContract(t, "featured tag", ft)
	wantString(t, "featured tag", ft, "rampart", "name")
	wantString(t, "featured tag", ft, "2", "statuses_count")
	wantString(t, "featured tag", ft, "https://example.test/@bob/tagged/rampart", "url")
	if d, _ := lookup(ft, "last_status_at"); d != time.Now().UTC().Format("2006-01-02") {
		t.Errorf("last_status_at %v, want today", d)
	}
	ftID := mustLookup(ft, "id").(string)
	f.name(ftID, "FEATURED_RAMPART")
	f.golden(t, "featured_tag", ft)
	again := f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/featured_tags", url.Values{"name": {"rampart"}})
	if mustLookup(again, "id") != ftID {
		t.Errorf("featuring again made %v", again)
	}
	empty := f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/featured_tags", url.Values{"name": {"unused"}})
	wantString(t, "unused featured tag", empty, "0", "statuses_count")
	wantNull(t, "unused featured tag", empty, "last_status_at")

	sugg := asList(t, f.get(t, f.bobTok, "/api/v1/featured_tags/suggestions"))
	var names []string
	for _, s := range sugg {
		checkTag(t, "suggestion", s, fmt.Sprint(mustLookup(s, "name")))
		names = append(names, fmt.Sprint(mustLookup(s, "name")))
	}
	if strings.Join(names, " ") != "go zig" {
		t.Errorf("suggestions %v, want go (3 uses) and zig, not the featured rampart", names)
	}

	mine := asList(t, f.get(t, f.bobTok, "/api/v1/featured_tags"))
	if len(mine) != 2 || mustLookup(mine[0], "id") != ftID {
		t.Errorf("bob's featured tags: %v", f.norm(mine, ""))
	}
	public := asList(t, f.get(t, "", "/api/v1/accounts/"+f.bobID+"/featured_tags"))
	if d := f.diff(mine, public); d != "" {
		t.Errorf("the public list differs:\n%s", d)
	}
	f.golden(t, "featured_tags", public)
	if rec := f.call(t, "", http.MethodGet, "/api/v1/accounts/"+idString(f.carol.ID)+"/featured_tags", nil); rec.Code != http.StatusNotFound {
		t.Errorf("a pending account's featured tags: %d", rec.Code)
	}
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+f.aliceID+"/block", nil)
	if l := asList(t, f.get(t, f.aliceTok, "/api/v1/accounts/"+f.bobID+"/featured_tags")); len(l) != 0 {
		t.Errorf("featured tags of one who blocks the viewer: %v", l)
	}

	for i := range 8 {
		f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/featured_tags", url.Values{"name": {fmt.Sprintf("tag%d", i)}})
	}
	rec := f.call(t, f.bobTok, http.MethodPost, "/api/v1/featured_tags", url.Values{"name": {"eleventh"}})
	wantJSON(t, rec, http.StatusUnprocessableEntity)
	rec = f.call(t, f.bobTok, http.MethodPost, "/api/v1/featured_tags", url.Values{"name": {"not a tag"}})
	wantJSON(t, rec, http.StatusUnprocessableEntity)

	if rec := f.call(t, daveTok, http.MethodDelete, "/api/v1/featured_tags/"+ftID, nil); rec.Code != http.StatusNotFound {
		t.Errorf("deleting another's featured tag: %d", rec.Code)
	}
	if v := f.okJSON(t, f.bobTok, http.MethodDelete, "/api/v1/featured_tags/"+ftID, nil); len(v.(map[string]any)) != 0 {
		t.Errorf("delete answered %v, want {}", v)
	}
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/featured_tags")); len(l) != 9 {
		t.Errorf("%d featured after the delete, want 9", len(l))
	}
}

// Familiar followers: for each id, the accounts the viewer follows that
// follow it, never one the viewer may not see; the order of the ids kept.
func TestFamiliarFollowers(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	dave, daveTok := f.newUser(t, "dave")
	erin, erinTok := f.newUser(t, "erin")
	target, _ := f.newUser(t, "target")
	tid := idString(target.ID)
	for _, who := range []*store.Account{dave, erin, f.bob} {
		f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+idString(who.ID)+"/follow", nil)
	}
	for _, tok := range []string{daveTok, erinTok, f.bobTok} {
		f.okJSON(t, tok, http.MethodPost, "/api/v1/accounts/"+tid+"/follow", nil)
	}
	// bob blocks alice: she does not see him among them.
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+f.aliceID+"/block", nil)
	got := asList(t, f.get(t, f.aliceTok, "/api/v1/accounts/familiar_followers?id[]="+tid+"&id[]="+idString(dave.ID)+"&id[]=nonsense"))
	checkSocialContract(t, "familiar followers", got)
	if len(got) != 2 || mustLookup(got[0], "id") != tid || mustLookup(got[1], "id") != idString(dave.ID) {
		t.Fatalf("familiar followers: %v", f.norm(got, ""))
	}
	accs := asList(t, mustLookup(got[0], "accounts"))
	var names []string
	for _, a := range accs {
		checkSocialAccount(t, "familiar follower", a)
		names = append(names, fmt.Sprint(mustLookup(a, "username")))
	}
	if strings.Join(names, " ") != "dave erin" {
		t.Errorf("familiar followers of target: %v, want dave and erin (not bob, who blocks alice)", names)
	}
	if l := asList(t, mustLookup(got[1], "accounts")); len(l) != 0 {
		t.Errorf("familiar followers of dave: %v", l)
	}
	f.golden(t, "familiar_followers", got)
}

// The directory: discoverable accounts the viewer may see, by activity or
// age, local or all, with limit and offset.
func TestDirectory(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	dave, daveTok := f.newUser(t, "dave")
	_, erinTok := f.newUser(t, "erin")
	f.okJSON(t, daveTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"first"}, "visibility": {"public"}})
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"later"}, "visibility": {"public"}})
	// erin leaves the directory.
	rec := f.call(t, erinTok, http.MethodPatch, "/api/v1/accounts/update_credentials", url.Values{"discoverable": {"false"}})
	wantJSON(t, rec, http.StatusOK)
	usernames := func(tok, query string) string {
		t.Helper()
		var out []string
		for _, a := range asList(t, f.get(t, tok, "/api/v1/directory"+query)) {
			checkSocialAccount(t, "directory", a)
			out = append(out, fmt.Sprint(mustLookup(a, "username")))
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct{ tok, query, want string }{
		{"", "", "bob dave alice"},
		{"", "?order=active&local=true", "bob dave alice"},
		{"", "?order=new", "dave bob alice"},
		{"", "?order=new&limit=1&offset=1", "bob"},
		{f.aliceTok, "?order=new&offset=2", "alice"},
	} {
		if got := usernames(c.tok, c.query); got != c.want {
			t.Errorf("directory%s: %s, want %s", c.query, got, c.want)
		}
	}
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+idString(dave.ID)+"/mute", nil)
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+f.aliceID+"/block", nil)
	if got := usernames(f.aliceTok, ""); got != "alice" {
		t.Errorf("directory for alice, who mutes dave and is blocked by bob: %s", got)
	}
	f.golden(t, "directory", asList(t, f.get(t, "", "/api/v1/directory?order=new&limit=1")))
}

// Each route answers 403 to a token without its scope, and 401 (or, for
// the public ones, an answer) without a token.
func TestTagRoutesScopes(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	readOnly := f.userToken(t, f.alice, "read")
	writeOnly := f.userToken(t, f.alice, "write")
	for _, c := range []struct {
		method, path string
		wrong        string
		public       bool
	}{
		{http.MethodPost, "/api/v1/tags/x/follow", readOnly, false},
		{http.MethodPost, "/api/v1/tags/x/unfollow", readOnly, false},
		{http.MethodGet, "/api/v1/followed_tags", writeOnly, false},
		{http.MethodGet, "/api/v1/featured_tags", writeOnly, false},
		{http.MethodPost, "/api/v1/featured_tags?name=x", readOnly, false},
		{http.MethodDelete, "/api/v1/featured_tags/1", readOnly, false},
		{http.MethodGet, "/api/v1/featured_tags/suggestions", writeOnly, false},
		{http.MethodGet, "/api/v1/accounts/familiar_followers?id[]=1", writeOnly, false},
		{http.MethodGet, "/api/v1/tags/x", writeOnly, true},
		{http.MethodGet, "/api/v1/accounts/" + f.bobID + "/featured_tags", writeOnly, true},
		{http.MethodGet, "/api/v1/directory", writeOnly, true},
	} {
		if rec := f.call(t, c.wrong, c.method, c.path, nil); rec.Code != http.StatusForbidden {
			t.Errorf("%s %s without its scope: %d", c.method, c.path, rec.Code)
		}
		rec := f.call(t, "", c.method, c.path, nil)
		if want := map[bool]int{false: http.StatusUnauthorized, true: http.StatusOK}[c.public]; rec.Code != want {
			t.Errorf("%s %s without a token: %d, want %d", c.method, c.path, rec.Code, want)
		}
	}
	for _, scope := range []string{"read:follows", "follow"} {
		if rec := f.call(t, f.userToken(t, f.alice, scope), http.MethodGet, "/api/v1/followed_tags", nil); rec.Code != http.StatusOK {
			t.Errorf("followed_tags with %s: %d", scope, rec.Code)
		}
	}
}
