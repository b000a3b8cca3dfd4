package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/social"
)

// post makes a status over the API and returns its id.
func (e *env) post(t *testing.T, token string, form url.Values) string {
	t.Helper()
	rec := e.do(t, http.MethodPost, "/api/v1/statuses", strings.NewReader(form.Encode()),
		append(bearerHeader(token), "Content-Type", "application/x-www-form-urlencoded")...)
	v := wantJSON(t, rec, http.StatusOK)
	return v["id"].(string)
}

func (e *env) call(t *testing.T, token, method, path string) {
	t.Helper()
	if rec := e.do(t, method, path, nil, bearerHeader(token)...); rec.Code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
}

// statements serves one GET and returns how many statements the store ran
// for it and how many items the JSON array answered holds.
func (e *env) statements(t *testing.T, token, path string) (stmts int64, items int) {
	t.Helper()
	var headers []string
	if token != "" {
		headers = bearerHeader(token)
	}
	before, writes := e.st.StatementCount(), e.st.WriteCount()
	rec := e.do(t, http.MethodGet, path, nil, headers...)
	stmts = e.st.StatementCount() - before
	if w := e.st.WriteCount() - writes; w != 0 {
		t.Errorf("GET %s wrote to the database (%d statements): a read must not", path, w)
	}
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &obj); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		var a, d, g []json.RawMessage
		json.Unmarshal(obj["ancestors"], &a)
		json.Unmarshal(obj["descendants"], &d)
		json.Unmarshal(obj["notification_groups"], &g)
		return stmts, len(a) + len(d) + len(g)
	}
	return stmts, len(list)
}

// maxPageStatements bounds the statements of any read endpoint's page: the
// token with its app, user, account and counters (1), the list (1 or 2),
// and the render path's loaders (statuses, reblogged statuses, mentions,
// tags, viewer flags, media, custom emojis, polls with the viewer's votes,
// the viewer's active filters, accounts with their counters, apps: 11).
const maxPageStatements = 14

// Rendering a page is a fixed number of queries, whatever its length: every
// read endpoint runs no more statements for 40 items than for 20, and never
// more than maxPageStatements.
func TestReadEndpointsRunAFixedNumberOfStatements(t *testing.T) {
	t.Parallel()
	// Hundreds of requests with a few tokens: limits.api_requests off.
	e := newEnv(t, `[limits]`, `api_requests = 0`)
	alice := e.userToken(t, e.alice, "read write follow")
	bob := e.userToken(t, e.bob, "read write follow")
	e.call(t, bob, http.MethodPost, "/api/v1/accounts/"+idString(e.alice.ID)+"/follow")
	e.addEmoji(t, "rampart", "", false)
	e.addEmoji(t, "blob", "", false)

	// Alice posts a thread of replies to herself, mentioning bob and tagged;
	// bob favourites, bookmarks and reblogs them, and mentions alice back.
	var ids []string
	parent := ""
	for i := range 24 {
		form := url.Values{"status": {fmt.Sprintf("post %d for @bob #rampart :rampart:", i)}, "visibility": {"public"}}
		if i%2 == 1 {
			form.Set("in_reply_to_id", parent)
		}
		if i%3 == 0 { // a poll on every third, which bob votes in
			form["poll[options][]"] = []string{"yes", "no"}
			form.Set("poll[expires_in]", "3600")
		}
		id := e.post(t, alice, form)
		if i%2 == 0 {
			parent = id
		}
		if i%3 == 0 {
			poll, _ := lookup(e.getJSON(t, "/api/v1/statuses/"+id, bearerHeader(bob)...), "poll", "id")
			rec := e.do(t, http.MethodPost, "/api/v1/polls/"+fmt.Sprint(poll)+"/votes", strings.NewReader("choices[]=1"),
				append(bearerHeader(bob), "Content-Type", "application/x-www-form-urlencoded")...)
			wantJSON(t, rec, http.StatusOK)
		}
		ids = append(ids, id)
		e.call(t, bob, http.MethodPost, "/api/v1/statuses/"+id+"/favourite")
		e.call(t, bob, http.MethodPost, "/api/v1/statuses/"+id+"/bookmark")
		e.call(t, bob, http.MethodPost, "/api/v1/statuses/"+id+"/reblog")
		e.post(t, bob, url.Values{"status": {fmt.Sprintf("@alice reply %d :blob:", i)}, "in_reply_to_id": {id}})
	}
	deep := ids[0]
	for range 12 { // a long thread under the first post
		deep = e.post(t, alice, url.Values{"status": {"deeper"}, "in_reply_to_id": {deep}, "visibility": {"public"}})
	}
	// Forty-five more people, so every list holds more than 40 items from
	// more than 40 accounts (a query per author or per account would show):
	// each follows bob and favourites his first post, and posts a tagged
	// status mentioning alice, which bob favourites and bookmarks; bob
	// follows each of them.
	bobFirst := e.post(t, bob, url.Values{"status": {"bob's first"}, "visibility": {"public"}})
	var fans []int64
	for i := range 45 {
		u, _, err := e.acc.Create(t.Context(), accounts.NewParams{Username: fmt.Sprintf("fan%d", i), Email: fmt.Sprintf("fan%d@example.test", i),
			Password: fixturePassword, Role: accounts.RoleUser, Approved: true})
		if err != nil {
			t.Fatal(err)
		}
		fans = append(fans, u.ID)
		tok := e.userToken(t, u, "read write follow")
		e.call(t, tok, http.MethodPost, "/api/v1/accounts/"+idString(e.bob.ID)+"/follow")
		e.call(t, tok, http.MethodPost, "/api/v1/statuses/"+bobFirst+"/favourite")
		id := e.post(t, tok, url.Values{"status": {fmt.Sprintf("hi @alice #rampart %d :blob: :rampart:", i)}, "visibility": {"public"}})
		e.call(t, bob, http.MethodPost, "/api/v1/accounts/"+idString(u.ID)+"/follow")
		e.call(t, bob, http.MethodPost, "/api/v1/statuses/"+id+"/favourite")
		e.call(t, bob, http.MethodPost, "/api/v1/statuses/"+id+"/bookmark")
		e.call(t, bob, http.MethodPost, fmt.Sprintf("/api/v1/tags/fan%d/follow", i))
		// A direct thread with bob each: his conversations.
		e.post(t, tok, url.Values{"status": {fmt.Sprintf("@bob psst %d", i)}, "visibility": {"direct"}})
		// Alice's scheduled statuses, at most 25 for a day.
		at := time.Now().UTC().Truncate(24 * time.Hour).Add(time.Duration(2+i/20) * 24 * time.Hour).Add(time.Duration(i) * time.Minute)
		e.post(t, alice, url.Values{"status": {"later"}, "scheduled_at": {at.Format(time.RFC3339)}})
		// bob endorses each, puts the first 32 on a list (one statement
		// of the list timeline's reads), and blocks a domain for each.
		e.call(t, bob, http.MethodPost, "/api/v1/accounts/"+idString(u.ID)+"/pin")
		rec := e.do(t, http.MethodPost, "/api/v1/domain_blocks", strings.NewReader(url.Values{"domain": {fmt.Sprintf("fan%d.example", i)}}.Encode()),
			append(bearerHeader(bob), "Content-Type", "application/x-www-form-urlencoded")...)
		wantJSON(t, rec, http.StatusOK)
	}
	rec := e.do(t, http.MethodPost, "/api/v1/lists", strings.NewReader("title=fans"), append(bearerHeader(bob), "Content-Type", "application/x-www-form-urlencoded")...)
	listID := wantJSON(t, rec, http.StatusOK)["id"].(string)
	rec = e.do(t, http.MethodPost, "/api/v1/lists/"+listID+"/accounts", strings.NewReader(url.Values{"account_ids[]": idStrings(fans[:32])}.Encode()),
		append(bearerHeader(bob), "Content-Type", "application/x-www-form-urlencoded")...)
	wantJSON(t, rec, http.StatusOK)
	// Forty-five strangers' private mentions of bob: as many notification
	// requests, held back by his default policy.
	for i := range 45 {
		u, _, err := e.acc.Create(t.Context(), accounts.NewParams{Username: fmt.Sprintf("stranger%d", i), Email: fmt.Sprintf("stranger%d@example.test", i),
			Password: fixturePassword, Role: accounts.RoleUser, Approved: true})
		if err != nil {
			t.Fatal(err)
		}
		e.post(t, e.userToken(t, u, "write"), url.Values{"status": {"@bob psst"}, "visibility": {"direct"}})
	}
	// The group of the fans' favourites of bob's first post.
	var favs struct {
		Groups []struct {
			Key string `json:"group_key"`
		} `json:"notification_groups"`
	}
	rec = e.do(t, http.MethodGet, "/api/v2/notifications?types[]=favourite&limit=1", nil, bearerHeader(bob)...)
	if err := json.Unmarshal(rec.Body.Bytes(), &favs); err != nil || len(favs.Groups) != 1 {
		t.Fatalf("bob's favourites group: %v %s", err, rec.Body)
	}

	// Muted threads: the viewer flags find them in the same statement.
	e.call(t, alice, http.MethodPost, "/api/v1/statuses/"+ids[0]+"/mute")
	e.call(t, bob, http.MethodPost, "/api/v1/statuses/"+ids[2]+"/mute")

	// The trends' ranking is computed at most every few minutes, not per
	// request: the first call builds it, the pages below read it.
	e.cfg.Discovery.Trends = true
	e.statements(t, bob, "/api/v1/trends/statuses")

	for _, tc := range []struct{ name, token, path string }{
		{"home", bob, "/api/v1/timelines/home"},
		{"trending statuses", bob, "/api/v1/trends/statuses"},
		{"trending statuses, anonymous", "", "/api/v1/trends/statuses"},
		{"home of the author", alice, "/api/v1/timelines/home"},
		{"public", bob, "/api/v1/timelines/public"},
		{"public, anonymous", "", "/api/v1/timelines/public"},
		{"local", bob, "/api/v1/timelines/public?local=true"},
		{"tag", bob, "/api/v1/timelines/tag/rampart"},
		{"account statuses", bob, "/api/v1/accounts/" + idString(e.alice.ID) + "/statuses"},
		{"account statuses, own", alice, "/api/v1/accounts/" + idString(e.alice.ID) + "/statuses"},
		{"favourites", bob, "/api/v1/favourites"},
		{"bookmarks", bob, "/api/v1/bookmarks"},
		{"notifications", alice, "/api/v1/notifications"},
		{"grouped notifications", alice, "/api/v2/notifications"},
		{"grouped notifications, partial avatars", alice, "/api/v2/notifications?expand_accounts=partial_avatars"},
		{"grouped notifications, favourites", alice, "/api/v2/notifications?types[]=favourite&grouped_types[]=favourite"},
		{"notification group accounts", bob, "/api/v2/notifications/<FAVS>/accounts"},
		{"notification requests", bob, "/api/v1/notifications/requests"},
		{"favourited by", alice, "/api/v1/statuses/" + bobFirst + "/favourited_by"},
		{"followers", alice, "/api/v1/accounts/" + idString(e.bob.ID) + "/followers"},
		{"followed tags", bob, "/api/v1/followed_tags"},
		{"directory", bob, "/api/v1/directory"},
		{"directory, new, anonymous", "", "/api/v1/directory?order=new"},
		{"conversations", bob, "/api/v1/conversations"},
		{"scheduled statuses", alice, "/api/v1/scheduled_statuses"},
		{"list timeline", bob, "/api/v1/timelines/list/" + listID},
		{"list accounts", bob, "/api/v1/lists/" + listID + "/accounts"},
		{"endorsements", bob, "/api/v1/endorsements"},
		{"domain blocks", bob, "/api/v1/domain_blocks"},
	} {
		tc.path = strings.Replace(tc.path, "<FAVS>", favs.Groups[0].Key, 1)
		t.Run(tc.name, func(t *testing.T) {
			sep := "?"
			if strings.Contains(tc.path, "?") {
				sep = "&"
			}
			few, nFew := e.statements(t, tc.token, tc.path+sep+"limit=2")
			mid, nMid := e.statements(t, tc.token, tc.path+sep+"limit=20")
			many, nMany := e.statements(t, tc.token, tc.path+sep+"limit=40")
			if nFew != 2 || nMid != 20 || nMany <= nMid {
				t.Fatalf("%d, %d and %d items for limit=2, 20 and 40: want 2, 20, and more", nFew, nMid, nMany)
			}
			// A loader with nothing to load (no reblogs on the page, say)
			// runs no query, so a short page may run fewer; a longer one
			// never runs more.
			if mid != many || few > mid || many > maxPageStatements {
				t.Errorf("%d, %d and %d statements for %d, %d and %d items; want the same for the longer pages, and at most %d",
					few, mid, many, nFew, nMid, nMany, maxPageStatements)
			}
			t.Logf("%d, %d and %d statements for %d, %d and %d items", few, mid, many, nFew, nMid, nMany)
		})
	}

	t.Run("verify_credentials", func(t *testing.T) {
		before := e.st.StatementCount()
		v := e.getJSON(t, "/api/v1/accounts/verify_credentials", bearerHeader(alice)...)
		if n := e.st.StatementCount() - before; n != 1 {
			t.Errorf("verify_credentials ran %d statements, want 1 (the token with its app, user, account and counters)", n)
		}
		if n, _ := lookup(v, "statuses_count"); fmt.Sprint(n) != "36" {
			t.Errorf("statuses_count %v, want alice's 36", n)
		}
	})

	t.Run("statuses by id", func(t *testing.T) {
		query := func(n int) string {
			q := url.Values{}
			for _, id := range ids[:n] {
				q.Add("id[]", id)
			}
			return "/api/v1/statuses?" + q.Encode()
		}
		few, nFew := e.statements(t, bob, query(2))
		many, nMany := e.statements(t, bob, query(24))
		if nFew != 2 || nMany != 24 {
			t.Fatalf("%d and %d statuses for 2 and 24 ids", nFew, nMany)
		}
		if few > many || many > maxPageStatements {
			t.Errorf("%d and %d statements for 2 and 24 statuses; want no more for more, and at most %d", few, many, maxPageStatements)
		}
	})

	t.Run("accounts by id", func(t *testing.T) {
		query := func(n int) string {
			q := url.Values{}
			for i := range n {
				q.Add("id[]", idString(fans[i]))
			}
			return "/api/v1/accounts?" + q.Encode()
		}
		few, nFew := e.statements(t, bob, query(2))
		many, nMany := e.statements(t, "", query(40))
		if nFew != 2 || nMany != 40 {
			t.Fatalf("%d and %d accounts for 2 and 40 ids", nFew, nMany)
		}
		if few != many+1 || many > maxPageStatements {
			t.Errorf("%d statements for 2 accounts with a token, %d for 40 without; want one more (the token), and at most %d", few, many, maxPageStatements)
		}
	})

	// Lists bounded by a rule rather than paged: one item costs what many do.
	t.Run("featured tags, familiar followers", func(t *testing.T) {
		e.call(t, alice, http.MethodPost, "/api/v1/featured_tags?name=rampart")
		one, _ := e.statements(t, "", "/api/v1/accounts/"+idString(e.alice.ID)+"/featured_tags")
		for i := range 9 {
			e.call(t, alice, http.MethodPost, fmt.Sprintf("/api/v1/featured_tags?name=more%d", i))
		}
		ten, n := e.statements(t, "", "/api/v1/accounts/"+idString(e.alice.ID)+"/featured_tags")
		if n != 10 || one != ten {
			t.Errorf("%d statements for 1 featured tag, %d for %d", one, ten, n)
		}
		few, _ := e.statements(t, alice, "/api/v1/accounts/familiar_followers?id[]="+idString(e.bob.ID))
		path := "/api/v1/accounts/familiar_followers?"
		for i := range 40 {
			path += fmt.Sprintf("id[]=%d&", e.alice.ID+int64(i))
		}
		many, n := e.statements(t, alice, path)
		if n != 40 || few != many || many > maxPageStatements {
			t.Errorf("%d statements for 1 account, %d for %d", few, many, n)
		}
		if one, _ := e.statements(t, bob, "/api/v1/tags/fan1"); one > 3 {
			t.Errorf("a tag took %d statements: the token, the tag, its history", one)
		}
	})

	t.Run("context", func(t *testing.T) {
		short, nShort := e.statements(t, bob, "/api/v1/statuses/"+ids[2]+"/context")
		long, nLong := e.statements(t, bob, "/api/v1/statuses/"+ids[0]+"/context")
		if nLong <= nShort {
			t.Fatalf("threads of %d and %d statuses", nShort, nLong)
		}
		if short != long {
			t.Errorf("%d statements for a thread of %d, %d for %d", short, nShort, long, nLong)
		}
	})
}

// The instance documents need no authentication: after the first, asking
// for them costs no database work at all until they are rebuilt, and a
// rebuild reads a fixed number of rows.
func TestInstanceDocumentsCostNothingWhenServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	e.api.instance.now = func() time.Time { return now }
	paths := []string{"/api/v1/instance", "/api/v2/instance", "/nodeinfo/2.0", "/nodeinfo/2.1"}
	first, _ := e.statements(t, "", paths[0])
	if first == 0 || first > 2 {
		t.Errorf("building the documents ran %d statements, want 1 or 2 (the counters, the contact account)", first)
	}
	for range 3 {
		for _, p := range paths {
			if n, _ := e.statements(t, "", p); n != 0 {
				t.Errorf("GET %s ran %d statements; it is served from memory", p, n)
			}
		}
	}

	// A new user shows once the documents are rebuilt, not before.
	users := func() string {
		v := e.getJSON(t, "/api/v1/instance")
		n, _ := lookup(v, "stats", "user_count")
		return fmt.Sprint(n)
	}
	if got := users(); got != "2" {
		t.Fatalf("user_count %s, want 2", got)
	}
	bob := e.userToken(t, e.bob, "read write")
	e.post(t, bob, url.Values{"status": {"hello"}})
	approved := true
	if _, err := e.acc.Modify(t.Context(), e.carol.ID, accounts.Change{Approved: &approved}); err != nil {
		t.Fatal(err)
	}
	if got := users(); got != "2" {
		t.Errorf("user_count %s before the documents were rebuilt", got)
	}
	now = now.Add(instanceDocsMaxAge)
	if n, _ := e.statements(t, "", "/nodeinfo/2.1"); n != first {
		t.Errorf("the rebuild ran %d statements, the first build %d", n, first)
	}
	if got := users(); got != "3" {
		t.Errorf("user_count %s after the rebuild, want 3", got)
	}
	v := e.getJSON(t, "/nodeinfo/2.1")
	if n, _ := lookup(v, "usage", "localPosts"); fmt.Sprint(n) != "1" {
		t.Errorf("localPosts %v, want 1", n)
	}
}

// The store keeps each SQL text it runs prepared, so what a client varies
// (page sizes, cursors, filters, search words) must not make new texts:
// hundreds of differently shaped requests leave a few dozen statements.
func TestStatementTextsStayAFixedSet(t *testing.T) {
	t.Parallel()
	// About 1,200 requests with one token: more than limits.api_requests allows.
	e := newEnv(t, `[limits]`, `api_requests = 0`)
	bob := e.userToken(t, e.bob, "read write follow")
	for i := range 5 {
		e.post(t, bob, url.Values{"status": {fmt.Sprintf("hello #rampart %d", i)}, "visibility": {"public"}})
	}
	types := []string{"mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update", "admin.sign_up"}
	var paths []string
	for limit := 1; limit <= 45; limit++ {
		l := fmt.Sprint(limit)
		for _, bound := range []string{"", "&max_id=999999999999999999", "&since_id=1", "&min_id=1", "&max_id=999999999999999999&since_id=1"} {
			paths = append(paths, "/api/v1/timelines/home?limit="+l+bound, "/api/v1/timelines/public?limit="+l+bound,
				"/api/v1/timelines/tag/rampart?limit="+l+bound, "/api/v1/accounts/"+idString(e.bob.ID)+"/statuses?limit="+l+bound,
				"/api/v1/notifications?limit="+l+bound)
		}
		q := url.Values{}
		for j := range limit % len(types) {
			q.Add("types[]", types[(j*7+limit)%len(types)])
			q.Add("exclude_types[]", types[(j*5+limit)%len(types)])
		}
		paths = append(paths, "/api/v1/notifications?"+q.Encode(), "/api/v2/notifications?"+q.Encode(),
			"/api/v1/notifications/unread_count?"+q.Encode(), "/api/v2/notifications/unread_count?"+q.Encode())
		g := url.Values{"limit": {l}}
		for j := range limit % 4 {
			g.Add("grouped_types[]", []string{"favourite", "reblog", "follow", "mention"}[(j+limit)%4])
		}
		paths = append(paths, "/api/v2/notifications?"+g.Encode(), "/api/v2/notifications/unread_count?"+g.Encode())
		words := strings.Repeat("hello ", limit)
		paths = append(paths, "/api/v2/search?type=statuses&q="+url.QueryEscape(words), "/api/v2/search?q="+url.QueryEscape(words[:limit]))
	}
	for _, p := range paths {
		if rec := e.do(t, http.MethodGet, p, nil, bearerHeader(bob)...); rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", p, rec.Code, rec.Body)
		}
	}
	if n := e.st.Prepared(); n > 120 {
		t.Errorf("%d requests of %d shapes left %d prepared statements; the texts should be a fixed set", len(paths), len(paths), n)
	} else {
		t.Logf("%d requests left %d prepared statements", len(paths), n)
	}
}

// The custom emoji list and the announcements (with their reactions,
// dismissals, mentions and emojis) are a fixed number of queries however
// many there are, and write nothing.
func TestEmojisAndAnnouncementsRunAFixedNumberOfStatements(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.userToken(t, e.alice, "read write follow")
	bob := e.userToken(t, e.bob, "read write follow")
	paths := []string{"/api/v1/custom_emojis", "/api/v1/announcements"}
	stmts := map[string][]int64{}
	made := 0
	for _, n := range []int{3, 30} {
		for ; made < n; made++ {
			code := fmt.Sprintf("emoji%d", made)
			e.addEmoji(t, code, "", false)
			a, err := e.api.social.AddAnnouncement(t.Context(), social.NewAnnouncement{Text: fmt.Sprintf("news %d :%s: @bob #rampart", made, code)})
			if err != nil {
				t.Fatal(err)
			}
			id := idString(a.ID)
			e.call(t, bob, http.MethodPut, "/api/v1/announcements/"+id+"/reactions/"+code)
			e.call(t, alice, http.MethodPut, "/api/v1/announcements/"+id+"/reactions/"+url.PathEscape("👍"))
			e.call(t, alice, http.MethodPost, "/api/v1/announcements/"+id+"/dismiss")
		}
		for _, path := range paths {
			n2, items := e.statements(t, alice, path)
			if items != n {
				t.Fatalf("GET %s: %d items, want %d", path, items, n)
			}
			stmts[path] = append(stmts[path], n2)
		}
	}
	for _, path := range paths {
		if c := stmts[path]; c[0] != c[1] || c[1] > 6 {
			t.Errorf("GET %s: %d statements for 3 items, %d for 30; want the same, at most 6", path, c[0], c[1])
		} else {
			t.Logf("GET %s: %d statements", path, c[0])
		}
	}
}
