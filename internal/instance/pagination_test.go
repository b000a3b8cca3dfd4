package instance

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var linkRe = regexp.MustCompile(`<([^>]*)>\s*;\s*rel="([^"]*)"`)

// links parses a Link header into rel → URL.
func links(h http.Header) map[string]string {
	out := map[string]string{}
	for _, v := range h.Values("Link") {
		for _, m := range linkRe.FindAllStringSubmatch(v, -1) {
			out[m[2]] = m[1]
		}
	}
	return out
}

// withParam rewrites one query parameter of a Link URL (v "" deletes it).
func withParam(t *testing.T, raw, k, v string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("Link URL %q: %v", raw, err)
	}
	q := u.Query()
	if v == "" {
		q.Del(k)
	} else {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// listIDs reads the "id" of each item of a list answer (status, notification or account).
func listIDs(t *testing.T, r reply) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	return itemIDs(r.list(t))
}

// checkPaging walks path (which must hold exactly want, newest first) three
// at a time along the Link rel="next" URLs, and checks the cursors the
// Link URLs carry: prev (min_id) and the same cursor as since_id. byItem
// says whether the cursor is the item's own id (statuses, notifications) or
// that of the row behind it (a favourite, a follow).
func (s *socialT) checkPaging(u user, path string, want []string, byItem bool) {
	t := s.t
	t.Helper()
	if len(want) != 7 {
		t.Fatalf("checkPaging wants 7 items, has %d", len(want))
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	next := path + sep + "limit=3"
	var got [][]string
	var last map[string]string
	for i := 0; next != "" && i < 10; i++ {
		r := s.req(u, "GET", next, nil)
		page := listIDs(t, r)
		got = append(got, page)
		last = links(r.header)
		if n := last["next"]; n != "" {
			nu, err := url.Parse(n)
			if err != nil || nu.Scheme != "https" || nu.Host != "example.test" || nu.Path != strings.SplitN(path, "?", 2)[0] {
				t.Errorf("%s: next link %q is not on the same endpoint", path, n)
			}
			if q := nu.Query(); q.Get("limit") != "3" || q.Get("max_id") == "" || q.Has("min_id") || q.Has("since_id") || q.Has("access_token") {
				t.Errorf("%s: next link %q", path, n)
			}
			if q := nu.Query(); slices.Contains(page, q.Get("max_id")) != byItem || byItem && q.Get("max_id") != page[len(page)-1] {
				t.Errorf("%s: next link's max_id %s vs the page's ids %v: wrong kind of cursor", path, q.Get("max_id"), page)
			}
		}
		next = last["next"]
	}
	var flat []string
	sizes := []int{}
	for _, p := range got {
		flat = append(flat, p...)
		sizes = append(sizes, len(p))
	}
	if !slices.Equal(flat, want) || fmt.Sprint(sizes) != "[3 3 1]" {
		t.Errorf("%s: pages %v (sizes %v), want %v in pages of 3, 3, 1", path, got, sizes, want)
		return
	}
	if last["next"] != "" {
		t.Errorf("%s: the last page has a next link", path)
	}
	prev := last["prev"]
	if prev == "" {
		t.Errorf("%s: the last page has no prev link", path)
		return
	}
	// min_id: the items immediately above the cursor, newest first.
	if got := listIDs(t, s.req(u, "GET", prev, nil)); !slices.Equal(got, want[3:6]) {
		t.Errorf("%s: prev (min_id) page %v, want %v", path, got, want[3:6])
	}
	// since_id with the same cursor: the newest items above it.
	cursor := func() string { pu, _ := url.Parse(prev); return pu.Query().Get("min_id") }()
	since := withParam(t, withParam(t, prev, "min_id", ""), "since_id", cursor)
	if got := listIDs(t, s.req(u, "GET", since, nil)); !slices.Equal(got, want[:3]) {
		t.Errorf("%s: since_id page %v, want %v", path, got, want[:3])
	}
	// A full page has a next link; past the oldest item the page is empty and has no Link.
	r := s.req(u, "GET", path+sep+"limit=7", nil)
	if got := listIDs(t, r); !slices.Equal(got, want) {
		t.Errorf("%s?limit=7: %v", path, got)
	}
	n := links(r.header)["next"]
	if n == "" {
		t.Errorf("%s?limit=7: a full page without a next link", path)
		return
	}
	r = s.req(u, "GET", n, nil)
	if got := listIDs(t, r); len(got) != 0 {
		t.Errorf("%s: past the end: %v", path, got)
	}
	if l := r.header.Get("Link"); l != "" {
		t.Errorf("%s: an empty page has a Link header: %s", path, l)
	}
	// A cursor that is not a number is ignored, not an error.
	for _, k := range []string{"max_id", "since_id", "min_id"} {
		r := s.req(u, "GET", path+sep+k+"=abc&limit=3", nil)
		if got := listIDs(t, r); !slices.Equal(got, want[:3]) {
			t.Errorf("%s?%s=abc: %d %v", path, k, r.status, got)
		}
	}
}

func reversed(in []string) []string {
	out := slices.Clone(in)
	slices.Reverse(out)
	return out
}

func TestPagination(t *testing.T) {
	s := newSocial(t)
	a, f, m := s.user("alice"), s.user("fan"), s.user("mentioned")
	var posted []string // oldest first
	for i := range 7 {
		posted = append(posted, s.post(a, "@mentioned post "+strconv.Itoa(i), "visibility", "public"))
	}
	newest := reversed(posted)
	s.checkPaging(a, "/api/v1/timelines/home", newest, true)
	s.checkPaging(a, "/api/v1/accounts/"+a.id+"/statuses", newest, true)
	s.checkPaging(anon, "/api/v1/accounts/"+a.id+"/statuses", newest, true)
	s.checkPaging(anon, "/api/v1/timelines/public", newest, true)
	s.checkPaging(a, "/api/v1/timelines/public?local=true", newest, true)

	// since_id and min_id by status id: the newest above, or the ones just above.
	if got := s.statusList(a, "/api/v1/timelines/home?limit=3&since_id="+posted[1]); !slices.Equal(got, newest[:3]) {
		t.Errorf("since_id: %v, want %v", got, newest[:3])
	}
	if got := s.statusList(a, "/api/v1/timelines/home?limit=3&min_id="+posted[1]); !slices.Equal(got, []string{posted[4], posted[3], posted[2]}) {
		t.Errorf("min_id: %v, want %v", got, []string{posted[4], posted[3], posted[2]})
	}
	if got := s.statusList(a, "/api/v1/timelines/home?max_id="+posted[5]+"&since_id="+posted[1]); !slices.Equal(got, []string{posted[4], posted[3], posted[2]}) {
		t.Errorf("max_id with since_id: %v", got)
	}

	// Favourites and bookmarks page by the mark, not by the status: mark out of order.
	var favs, marks []string
	for _, i := range []int{2, 0, 6, 4, 1, 5, 3} {
		s.act(f, "statuses/"+posted[i]+"/favourite")
		favs = append(favs, posted[i])
	}
	for _, i := range []int{5, 6, 0, 3, 2, 1, 4} {
		s.act(f, "statuses/"+posted[i]+"/bookmark")
		marks = append(marks, posted[i])
	}
	s.checkPaging(f, "/api/v1/favourites", reversed(favs), false)
	s.checkPaging(f, "/api/v1/bookmarks", reversed(marks), false)

	// Notifications: seven mentions, newest first; the cursor is the notification's id.
	all := s.notes(m, "?limit=40")
	var noteIDs []string
	for i, n := range all {
		if n.typ != "mention" || n.status != newest[i] {
			t.Fatalf("notification %d: %+v, want a mention of %s", i, n, newest[i])
		}
		noteIDs = append(noteIDs, n.id)
	}
	if len(noteIDs) != 7 {
		t.Fatalf("%d notifications", len(noteIDs))
	}
	s.checkPaging(m, "/api/v1/notifications", noteIDs, true)
	s.checkPaging(m, "/api/v1/notifications?types[]=mention", noteIDs, true)

	// Account lists: newest relation first, paged by the relation's row.
	var followers, followed, muted []string
	var others []user
	favMe := s.post(m, "favourite me", "visibility", "unlisted")
	for i := range 7 {
		u := s.user("follower" + strconv.Itoa(i))
		s.follow(u, a)
		s.act(u, "statuses/"+favMe+"/favourite")
		followers = append(followers, u.id)
		others = append(others, u)
	}
	for _, i := range []int{3, 1, 5, 0, 6, 2, 4} {
		s.follow(a, others[i])
		followed = append(followed, others[i].id)
	}
	for _, i := range []int{6, 4, 2, 0, 1, 3, 5} {
		s.act(a, "accounts/"+others[i].id+"/mute")
		muted = append(muted, others[i].id)
	}
	s.checkPaging(anon, "/api/v1/accounts/"+a.id+"/followers", reversed(followers), false)
	s.checkPaging(f, "/api/v1/accounts/"+a.id+"/following", reversed(followed), false)
	s.checkPaging(a, "/api/v1/mutes", reversed(muted), false)
	s.checkPaging(anon, "/api/v1/statuses/"+favMe+"/favourited_by", reversed(followers), false)
	r := s.req(f, "GET", "/api/v1/accounts/"+a.id+"/followers?limit=1000", nil)
	if got := listIDs(t, r); !slices.Equal(got, reversed(followers)) || links(r.header)["next"] != "" {
		t.Errorf("followers?limit=1000: %v, next %q", got, links(r.header)["next"])
	}

	// Limits: 1000 is clamped to 40, 0 and negative mean the default 20.
	for i := 7; i < 45; i++ {
		posted = append(posted, s.post(a, "filler "+strconv.Itoa(i), "visibility", "public"))
	}
	newest = reversed(posted)
	for _, path := range []string{"/api/v1/timelines/home", "/api/v1/accounts/" + a.id + "/statuses", "/api/v1/timelines/public"} {
		for _, tc := range []struct {
			limit string
			want  int
		}{{"1000", 40}, {"41", 40}, {"40", 40}, {"0", 20}, {"-5", 20}, {"abc", 20}, {"", 20}, {"1", 1}} {
			r := s.req(a, "GET", path+"?limit="+tc.limit, nil)
			got := listIDs(t, r)
			if !slices.Equal(got, newest[:tc.want]) {
				t.Errorf("%s?limit=%s: %d items, want the newest %d", path, tc.limit, len(got), tc.want)
				continue
			}
			next := links(r.header)["next"]
			if nu, err := url.Parse(next); next == "" || err != nil || nu.Query().Get("max_id") != newest[tc.want-1] {
				t.Errorf("%s?limit=%s: next link %q", path, tc.limit, next)
			}
		}
		// Walking the clamped pages reaches all 45 and stops.
		var seen []string
		next := path + "?limit=1000"
		for i := 0; next != "" && i < 5; i++ {
			r := s.req(a, "GET", next, nil)
			seen = append(seen, listIDs(t, r)...)
			next = links(r.header)["next"]
		}
		if !slices.Equal(seen, newest) {
			t.Errorf("%s: walking pages of 40 gave %d statuses, want all 45 in order", path, len(seen))
		}
	}
}

func TestMalformedInputIsRefusedCleanly(t *testing.T) {
	s := newSocial(t)
	a, b, st := s.user("alice"), s.user("bob"), s.user("stranger")
	m := s.user("mentioned")
	// m takes strangers' private mentions (the default policy holds them back).
	s.must(m, "PATCH", "/api/v2/notifications/policy", url.Values{"for_private_mentions": {"accept"}})
	pub := s.post(a, "public", "visibility", "public")
	priv := s.post(a, "private", "visibility", "private")
	dm := s.post(a, "@mentioned direct", "visibility", "direct")
	const unknown = "111111111111111111"

	// Unknown and non-numeric ids: 404 with Mastodon's error shape, never a 500.
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/statuses/" + unknown},
		{"GET", "/api/v1/statuses/" + unknown + "/context"},
		{"GET", "/api/v1/statuses/" + unknown + "/history"},
		{"GET", "/api/v1/statuses/" + unknown + "/source"},
		{"GET", "/api/v1/statuses/" + unknown + "/favourited_by"},
		{"POST", "/api/v1/statuses/" + unknown + "/favourite"},
		{"POST", "/api/v1/statuses/" + unknown + "/reblog"},
		{"POST", "/api/v1/statuses/" + unknown + "/bookmark"},
		{"POST", "/api/v1/statuses/" + unknown + "/pin"},
		{"PUT", "/api/v1/statuses/" + unknown},
		{"DELETE", "/api/v1/statuses/" + unknown},
		{"GET", "/api/v1/accounts/" + unknown},
		{"GET", "/api/v1/accounts/" + unknown + "/statuses"},
		{"GET", "/api/v1/accounts/" + unknown + "/followers"},
		{"POST", "/api/v1/accounts/" + unknown + "/follow"},
		{"POST", "/api/v1/accounts/" + unknown + "/block"},
		{"GET", "/api/v1/notifications/" + unknown},
		{"POST", "/api/v1/notifications/" + unknown + "/dismiss"},
		{"GET", "/api/v1/statuses/abc"},
		{"GET", "/api/v1/statuses/-5"},
		{"GET", "/api/v1/statuses/0"},
		{"GET", "/api/v1/statuses/99999999999999999999999"},
		{"GET", "/api/v1/statuses/abc/context"},
		{"GET", "/api/v1/accounts/xyz"},
		{"GET", "/api/v1/accounts/xyz/statuses"},
		{"POST", "/api/v1/statuses/1e9/favourite"},
		{"POST", "/api/v1/accounts/1e9/follow"},
		{"GET", "/api/v1/notifications/abc"},
	} {
		form := url.Values{}
		if tc.method == "PUT" {
			form.Set("status", "edit")
		}
		if tc.method == "GET" {
			form = nil
		}
		r := s.req(b, tc.method, tc.path, form)
		if r.status != 404 || r.json(t)["error"] == nil {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.status, r.body)
		}
	}
	// Another user's notification is as unknown as a made-up one.
	if ns := s.notes(m, ""); len(ns) != 1 {
		t.Fatalf("mentioned: %v", ns)
	} else if r := s.req(b, "GET", "/api/v1/notifications/"+ns[0].id, nil); r.status != 404 {
		t.Errorf("someone else's notification: %d", r.status)
	} else if r := s.req(b, "POST", "/api/v1/notifications/"+ns[0].id+"/dismiss", nil); r.status != 404 {
		t.Errorf("dismissing someone else's notification: %d", r.status)
	}

	// Text length: 5000 counted characters, a URL counting 23.
	post := func(u user, text string, kv ...string) reply {
		form := url.Values{"status": {text}}
		for i := 0; i+1 < len(kv); i += 2 {
			form.Set(kv[i], kv[i+1])
		}
		return s.req(u, "POST", "/api/v1/statuses", form)
	}
	link := "https://example.org/" + strings.Repeat("p", 80) // 100 characters
	for _, tc := range []struct {
		what   string
		text   string
		kv     []string
		status int
	}{
		{"5000 characters", strings.Repeat("a", 5000), nil, 200},
		{"5001 characters", strings.Repeat("a", 5001), nil, 422},
		{"4990 characters with a 100-character URL", strings.Repeat("a", 4889) + " " + link, nil, 200},
		{"5051 characters, 4974 counted", strings.Repeat("a", 4950) + " " + link, nil, 200},
		{"5001 counted with a URL", strings.Repeat("a", 4977) + " " + link, nil, 422},
		{"text and spoiler over 5000", strings.Repeat("a", 4995), []string{"spoiler_text", "0123456789"}, 422},
		{"empty", "", nil, 422},
		{"blank", " \n\t ", nil, 422},
		{"invalid visibility", "hello", []string{"visibility", "secret"}, 422},
		{"invalid language", "hello", []string{"language", "english"}, 422},
		{"non-numeric in_reply_to_id", "hello", []string{"in_reply_to_id", "abc"}, 404},
		{"unknown in_reply_to_id", "hello", []string{"in_reply_to_id", unknown}, 404},
		{"reply to a private status the poster cannot see", "hello", []string{"in_reply_to_id", priv}, 404},
		{"reply to a direct status the poster cannot see", "hello", []string{"in_reply_to_id", dm}, 404},
	} {
		r := post(st, tc.text, tc.kv...)
		if r.status != tc.status {
			t.Errorf("%s: %d, want %d: %.300s", tc.what, r.status, tc.status, r.body)
			continue
		}
		if tc.status == 422 && strings.Contains(tc.what, "500") {
			if msg, _ := r.json(t)["error"].(string); !strings.Contains(msg, "5000") {
				t.Errorf("%s: the message does not name the limit: %q", tc.what, msg)
			}
		}
	}
	// Nor can one reply to, favourite or reblog a status whose author blocks one.
	blocker := s.user("blocker")
	theirs := s.post(blocker, "not for bob", "visibility", "public")
	s.act(blocker, "accounts/"+b.id+"/block")
	if r := post(b, "hello", "in_reply_to_id", theirs); r.status != 404 {
		t.Errorf("reply to a status whose author blocks the poster: %d", r.status)
	}
	for _, action := range []string{"favourite", "reblog", "bookmark"} {
		if r := s.req(b, "POST", "/api/v1/statuses/"+theirs+"/"+action, nil); r.status != 404 {
			t.Errorf("%s of a status whose author blocks one: %d", action, r.status)
		}
		if r := s.req(st, "POST", "/api/v1/statuses/"+priv+"/"+action, nil); r.status != 404 {
			t.Errorf("%s of a private status one cannot see: %d", action, r.status)
		}
	}
	// The mentioned account may reply to the direct status it can see.
	if r := post(m, "@alice hello back", "in_reply_to_id", dm, "visibility", "direct"); r.status != 200 {
		t.Errorf("reply to a visible direct status: %d %s", r.status, r.body)
	}

	// Someone else's statuses cannot be edited, deleted or pinned.
	for _, id := range []string{pub, priv} {
		if r := s.req(b, "PUT", "/api/v1/statuses/"+id, url.Values{"status": {"mine now"}}); r.status != 403 && r.status != 404 {
			t.Errorf("editing someone else's status: %d", r.status)
		}
		if r := s.req(b, "DELETE", "/api/v1/statuses/"+id, nil); r.status != 403 && r.status != 404 {
			t.Errorf("deleting someone else's status: %d", r.status)
		}
		if r := s.req(b, "POST", "/api/v1/statuses/"+id+"/pin", nil); r.status != 403 && r.status != 404 && r.status != 422 {
			t.Errorf("pinning someone else's status: %d", r.status)
		}
	}
	if s.statusCode(a, pub) != 200 || s.statusCode(a, priv) != 200 {
		t.Error("a refused edit or delete removed the status")
	}
	if r := s.req(a, "POST", "/api/v1/statuses/"+dm+"/pin", nil); r.status != 422 {
		t.Errorf("pinning a direct status: %d %s", r.status, r.body)
	}
	s.must(a, "POST", "/api/v1/statuses/"+pub+"/pin", nil)
	if got := s.statusList(anon, "/api/v1/accounts/"+a.id+"/statuses?pinned=true"); !slices.Equal(got, []string{pub}) {
		t.Errorf("pinned statuses: %v", got)
	}

	// Follows: not oneself, not across a block either way.
	if r := s.req(a, "POST", "/api/v1/accounts/"+a.id+"/follow", url.Values{}); r.status != 403 {
		t.Errorf("following oneself: %d %s", r.status, r.body)
	}
	s.act(a, "accounts/"+st.id+"/block")
	if r := s.req(st, "POST", "/api/v1/accounts/"+a.id+"/follow", url.Values{}); r.status != 403 {
		t.Errorf("following someone who blocks you: %d %s", r.status, r.body)
	}
	if r := s.req(a, "POST", "/api/v1/accounts/"+st.id+"/follow", url.Values{}); r.status != 403 {
		t.Errorf("following someone you block: %d %s", r.status, r.body)
	}

	// Idempotency-Key: one status per key and author.
	countStatuses := func(u user) int { return len(s.statusList(u, "/api/v1/accounts/"+u.id+"/statuses?limit=40")) }
	before := countStatuses(b)
	idem := func(u user, key, text string) string {
		t.Helper()
		r := s.req(u, "POST", "/api/v1/statuses", url.Values{"status": {text}}, "Idempotency-Key", key)
		if r.status != 200 {
			t.Fatalf("post with key %q: %d %s", key, r.status, r.body)
		}
		return r.json(t)["id"].(string)
	}
	first := idem(b, "key-1", "once only")
	if again := idem(b, "key-1", "once only"); again != first {
		t.Errorf("the same key made a second status: %s, %s", first, again)
	}
	if n := countStatuses(b); n != before+1 {
		t.Errorf("%d statuses after two posts with one key, want %d", n, before+1)
	}
	if other := idem(b, "key-2", "once only"); other == first {
		t.Error("a different key returned the same status")
	}
	if n := countStatuses(b); n != before+2 {
		t.Errorf("%d statuses after a second key, want %d", n, before+2)
	}
	mine := idem(m, "key-1", "once only")
	if mine == first {
		t.Error("another user's key returned someone else's status")
	}
	if r := s.must(m, "GET", "/api/v1/statuses/"+mine, nil).json(t); r["account"].(map[string]any)["id"] != m.id {
		t.Errorf("the status made with another user's key: %v", r["account"])
	}
	if r := s.req(b, "POST", "/api/v1/statuses", url.Values{"status": {"x"}}, "Idempotency-Key", strings.Repeat("k", 201)); r.status != 422 {
		t.Errorf("an over-long Idempotency-Key: %d", r.status)
	}
}
