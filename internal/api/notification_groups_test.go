package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/store"
)

// types lists the types of the notifications a list holds, newest first.
func types(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, n := range asList(t, v) {
		out = append(out, fmt.Sprint(mustLookup(n, "type")))
	}
	return out
}

// The 4.3 endpoints answer only to tokens with their scope: read:notifications
// for reads, write:notifications for writes; 403 otherwise.
func TestNotificationPolicyAndGroupScopes(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	reads := []string{"/api/v1/notifications/unread_count", "/api/v2/notifications/policy", "/api/v1/notifications/requests",
		"/api/v1/notifications/requests/merged", "/api/v1/notifications/requests/1", "/api/v2/notifications",
		"/api/v2/notifications/unread_count", "/api/v2/notifications/ungrouped-1", "/api/v2/notifications/follow-1/accounts"}
	writes := [][2]string{{http.MethodPatch, "/api/v2/notifications/policy"}, {http.MethodPost, "/api/v1/notifications/requests/1/accept"},
		{http.MethodPost, "/api/v1/notifications/requests/1/dismiss"}, {http.MethodPost, "/api/v1/notifications/requests/accept"},
		{http.MethodPost, "/api/v1/notifications/requests/dismiss"}, {http.MethodPost, "/api/v2/notifications/follow-1/dismiss"}}
	writeOnly := f.userToken(t, f.alice, "write:notifications read:statuses")
	readOnly := f.userToken(t, f.alice, "read:notifications write:statuses")
	for _, p := range reads {
		if rec := f.call(t, writeOnly, http.MethodGet, p, nil); rec.Code != http.StatusForbidden {
			t.Errorf("GET %s without read:notifications: %d %s", p, rec.Code, rec.Body)
		}
		if rec := f.call(t, "", http.MethodGet, p, nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d", p, rec.Code)
		}
		if rec := f.call(t, readOnly, http.MethodGet, p, nil); rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized {
			t.Errorf("GET %s with read:notifications: %d %s", p, rec.Code, rec.Body)
		}
	}
	for _, w := range writes {
		if rec := f.call(t, readOnly, w[0], w[1], url.Values{}); rec.Code != http.StatusForbidden {
			t.Errorf("%s %s without write:notifications: %d %s", w[0], w[1], rec.Code, rec.Body)
		}
		if rec := f.call(t, writeOnly, w[0], w[1], url.Values{}); rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized {
			t.Errorf("%s %s with write:notifications: %d %s", w[0], w[1], rec.Code, rec.Body)
		}
	}
}

// The policy reads as Mastodon 4.3's defaults until changed; a change
// keeps the rules not named; a value other than accept, filter or drop is
// refused with 422.
func TestNotificationPolicyEntity(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	p := f.get(t, f.aliceTok, "/api/v2/notifications/policy")
	f.golden(t, "notification_policy", p)
	changed := f.okJSON(t, f.aliceTok, http.MethodPatch, "/api/v2/notifications/policy", url.Values{"for_not_following": {"filter"}, "for_new_accounts": {"drop"}})
	for k, want := range map[string]string{"for_not_following": "filter", "for_not_followers": "accept", "for_new_accounts": "drop",
		"for_private_mentions": "filter", "for_limited_accounts": "filter"} {
		wantString(t, "the changed policy", changed, want, k)
	}
	if d := f.diff(changed, f.get(t, f.aliceTok, "/api/v2/notifications/policy")); d != "" {
		t.Errorf("the policy read back differs from PATCH's answer:\n%s", d)
	}
	rec := f.call(t, f.aliceTok, http.MethodPatch, "/api/v2/notifications/policy", url.Values{"for_not_followers": {"ignore"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("for_not_followers=ignore: %d %s, want 422", rec.Code, rec.Body)
	}
	wantString(t, "bob's policy", f.get(t, f.bobTok, "/api/v2/notifications/policy"), "accept", "for_not_following")
}

// A stranger's private mention is held back by the default policy: not in
// the notifications (v1, v2, unread counts) but in a request; accepting the
// request brings it into the list and lets the stranger's next ones in;
// dismissing one deletes what it held; a dropped notification is never
// stored at all.
func TestNotificationPolicyFiltersAcceptsAndDrops(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	carol, carolTok := f.newUser(t, "carola")
	_, daveTok := f.newUser(t, "dave")
	dm := f.postStatus(t, carolTok, "STATUS_DM", url.Values{"status": {"@bob psst"}, "visibility": {"direct"}})
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/notifications")); len(l) != 0 {
		t.Fatalf("bob's notifications show a stranger's private mention: %v", types(t, l))
	}
	if g := f.get(t, f.bobTok, "/api/v2/notifications"); len(asList(t, mustLookup(g, "notification_groups"))) != 0 {
		t.Errorf("grouped notifications show it: %v", g)
	}
	for _, p := range []string{"/api/v1/notifications/unread_count", "/api/v2/notifications/unread_count"} {
		wantNumber(t, p, f.get(t, f.bobTok, p), "0", "count")
	}
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/notifications?include_filtered=true")); len(l) != 1 {
		t.Errorf("include_filtered=true: %d notifications, want the held one", len(l))
	}
	p := f.get(t, f.bobTok, "/api/v2/notifications/policy")
	wantNumber(t, "summary", p, "1", "summary", "pending_requests_count")
	wantNumber(t, "summary", p, "1", "summary", "pending_notifications_count")

	reqs := asList(t, f.get(t, f.bobTok, "/api/v1/notifications/requests"))
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want carola's", len(reqs))
	}
	req := reqs[0]
	reqID := mustLookup(req, "id").(string)
	f.name(reqID, "REQUEST_ID")
	wantString(t, "request", req, idString(carol.ID), "account", "id")
	wantString(t, "request", req, "1", "notifications_count")
	wantString(t, "request", req, dm, "last_status", "id")
	checkSocialContract(t, "request", req)
	f.golden(t, "notification_request", req)
	if d := f.diff(req, f.get(t, f.bobTok, "/api/v1/notifications/requests/"+reqID)); d != "" {
		t.Errorf("the single request differs from the list's:\n%s", d)
	}
	// Nobody else sees it, or accepts it.
	if rec := f.call(t, f.aliceTok, http.MethodGet, "/api/v1/notifications/requests/"+reqID, nil); rec.Code != http.StatusNotFound {
		t.Errorf("alice reads bob's request: %d", rec.Code)
	}
	if rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v1/notifications/requests/"+reqID+"/accept", url.Values{}); rec.Code != http.StatusNotFound {
		t.Errorf("alice accepts bob's request: %d", rec.Code)
	}

	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/notifications/requests/"+reqID+"/accept", url.Values{})
	if got := types(t, f.get(t, f.bobTok, "/api/v1/notifications")); len(got) != 1 || got[0] != "mention" {
		t.Fatalf("after accepting: %v, want the mention", got)
	}
	if m := f.get(t, f.bobTok, "/api/v1/notifications/requests/merged"); mustLookup(m, "merged") != true {
		t.Errorf("merged: %v", m)
	}
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/notifications/requests")); len(l) != 0 {
		t.Errorf("the accepted request is still listed")
	}
	f.postStatus(t, carolTok, "STATUS_DM2", url.Values{"status": {"@bob again"}, "visibility": {"direct"}})
	if got := types(t, f.get(t, f.bobTok, "/api/v1/notifications")); len(got) != 2 {
		t.Errorf("carola's next private mention after the accept: %v, want it listed", got)
	}

	// Dave's is dismissed, with what it held.
	f.postStatus(t, daveTok, "STATUS_DAVE_DM", url.Values{"status": {"@bob hi"}, "visibility": {"direct"}})
	reqs = asList(t, f.get(t, f.bobTok, "/api/v1/notifications/requests"))
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want dave's", len(reqs))
	}
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/notifications/requests/dismiss", url.Values{"id[]": {mustLookup(reqs[0], "id").(string)}})
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/notifications?include_filtered=true")); len(l) != 2 {
		t.Errorf("after dismissing: %d notifications (with the held ones), want carola's 2", len(l))
	}
	wantNumber(t, "summary", f.get(t, f.bobTok, "/api/v2/notifications/policy"), "0", "summary", "pending_requests_count")

	// Drop: bob drops what comes from those he does not follow; dave's
	// favourite is never stored, carola's (accepted) still is.
	f.okJSON(t, f.bobTok, http.MethodPatch, "/api/v2/notifications/policy", url.Values{"for_not_following": {"drop"}})
	bobPost := f.postStatus(t, f.bobTok, "STATUS_BOB", url.Values{"status": {"bob's"}})
	f.okJSON(t, daveTok, http.MethodPost, "/api/v1/statuses/"+bobPost+"/favourite", nil)
	f.okJSON(t, carolTok, http.MethodPost, "/api/v1/statuses/"+bobPost+"/favourite", nil)
	all, err := f.st.Notifications(t.Context(), f.bob.ID, store.NotificationFilter{IncludeFiltered: true, Types: []string{"favourite"}}, store.Page{Limit: 40})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].FromAccountID != carol.ID {
		t.Errorf("favourite notifications stored: %+v, want carola's only", all)
	}
}

func wantNumber(t *testing.T, what string, v any, want string, keys ...string) {
	t.Helper()
	if x, _ := lookup(v, keys...); fmt.Sprint(x) != want {
		t.Errorf("%s: %s = %v, want %s", what, strings.Join(keys, "."), x, want)
	}
}

// Three accounts' favourites of one status make one group naming all three;
// a mention stays a group of its own; a muted or blocked account's
// notifications are in no group; the group reads alone, lists its
// accounts, and is dismissed whole.
func TestGroupedNotifications(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	post := f.postStatus(t, f.bobTok, "STATUS_POST", url.Values{"status": {"bob's post"}, "visibility": {"public"}})
	var toks []string
	var ids []string
	for _, name := range []string{"fan", "fanb", "fanc", "muted", "blocked"} {
		u, tok := f.newUser(t, name)
		toks, ids = append(toks, tok), append(ids, idString(u.ID))
		// bob follows them all, so that no policy holds them back.
		f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+idString(u.ID)+"/follow", nil)
	}
	for _, tok := range toks {
		f.okJSON(t, tok, http.MethodPost, "/api/v1/statuses/"+post+"/favourite", nil)
	}
	mention := f.postStatus(t, toks[0], "STATUS_MENTION", url.Values{"status": {"@bob hello"}})
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+ids[3]+"/mute", nil)
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+ids[4]+"/block", nil)

	g := f.get(t, f.bobTok, "/api/v2/notifications")
	groups := asList(t, mustLookup(g, "notification_groups"))
	if len(groups) != 2 {
		t.Fatalf("%d groups, want the mention and the favourites: %v", len(groups), g)
	}
	wantString(t, "first group", groups[0], "mention", "type")
	wantString(t, "first group", groups[0], mention, "status_id")
	fav := groups[1]
	wantString(t, "favourites", fav, "favourite", "type")
	wantString(t, "favourites", fav, post, "status_id")
	wantNumber(t, "favourites", fav, "3", "notifications_count")
	samples := asList(t, mustLookup(fav, "sample_account_ids"))
	if fmt.Sprint(samples) != fmt.Sprint([]any{ids[2], ids[1], ids[0]}) {
		t.Errorf("sample_account_ids %v, want the three fans newest first %v", samples, ids[:3])
	}
	for _, acc := range asList(t, mustLookup(g, "accounts")) {
		if id := mustLookup(acc, "id"); id == ids[3] || id == ids[4] {
			t.Errorf("accounts lists the muted or blocked account %v", id)
		}
	}
	if n := len(asList(t, mustLookup(g, "accounts"))); n != 3 {
		t.Errorf("%d accounts, want the three fans", n)
	}
	if n := len(asList(t, mustLookup(g, "statuses"))); n != 2 {
		t.Errorf("%d statuses, want bob's post and the mention", n)
	}
	f.golden(t, "grouped_notifications", g)

	// The same with partial avatars: the most recent account in full, the others partial.
	pg := f.get(t, f.bobTok, "/api/v2/notifications?expand_accounts=partial_avatars")
	// fan is the mention's most recent account, fanc the favourites': in
	// full; fanb partial.
	if n := len(asList(t, mustLookup(pg, "accounts"))); n != 2 {
		t.Errorf("partial_avatars: %d full accounts, want fan's and fanc's", n)
	}
	if p := asList(t, mustLookup(pg, "partial_accounts")); len(p) != 1 || mustLookup(p[0], "id") != ids[1] {
		t.Errorf("partial_accounts %v, want fanb's", p)
	}
	f.golden(t, "grouped_notifications_partial", map[string]any{"partial_accounts": mustLookup(pg, "partial_accounts")})
	if rec := f.call(t, f.bobTok, http.MethodGet, "/api/v2/notifications?expand_accounts=some", nil); rec.Code != http.StatusBadRequest {
		t.Errorf("expand_accounts=some: %d", rec.Code)
	}

	// grouped_types[] without favourite: each favourite a group of its own.
	ug := f.get(t, f.bobTok, "/api/v2/notifications?grouped_types[]=follow")
	if n := len(asList(t, mustLookup(ug, "notification_groups"))); n != 4 {
		t.Errorf("grouped_types[]=follow: %d groups, want 4", n)
	}
	// types[] and exclude_types[] as in v1.
	if n := len(asList(t, mustLookup(f.get(t, f.bobTok, "/api/v2/notifications?exclude_types[]=favourite"), "notification_groups"))); n != 1 {
		t.Errorf("exclude_types[]=favourite: %d groups, want the mention", n)
	}
	wantNumber(t, "grouped unread", f.get(t, f.bobTok, "/api/v2/notifications/unread_count"), "2", "count")
	wantNumber(t, "unread", f.get(t, f.bobTok, "/api/v1/notifications/unread_count"), "4", "count")
	wantNumber(t, "unread", f.get(t, f.bobTok, "/api/v1/notifications/unread_count?types[]=mention"), "1", "count")
	wantNumber(t, "unread", f.get(t, f.bobTok, "/api/v1/notifications/unread_count?limit=2"), "2", "count")
	// The notifications read marker: what came after it is unread, no more.
	seen := asList(t, f.get(t, f.bobTok, "/api/v1/notifications"))
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/markers", url.Values{"notifications[last_read_id]": {mustLookup(seen[1], "id").(string)}})
	wantNumber(t, "unread after the marker", f.get(t, f.bobTok, "/api/v1/notifications/unread_count"), "1", "count")
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/markers", url.Values{"notifications[last_read_id]": {"1"}})

	key := mustLookup(fav, "group_key").(string)
	one := f.get(t, f.bobTok, "/api/v2/notifications/"+key)
	og := asList(t, mustLookup(one, "notification_groups"))
	if len(og) != 1 {
		t.Fatalf("GET the group: %v", one)
	}
	wantNumber(t, "the group alone", og[0], "3", "notifications_count")
	wantAbsent(t, "the group alone", og[0], "page_min_id")
	f.golden(t, "notification_group", one)
	accs := asList(t, f.get(t, f.bobTok, "/api/v2/notifications/"+key+"/accounts"))
	if len(accs) != 3 || mustLookup(accs[0], "id") != ids[2] {
		t.Errorf("the group's accounts: %d, want the three fans, newest first", len(accs))
	}
	if rec := f.call(t, f.aliceTok, http.MethodGet, "/api/v2/notifications/"+key, nil); rec.Code != http.StatusNotFound {
		t.Errorf("alice reads bob's group: %d", rec.Code)
	}
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v2/notifications/"+key+"/dismiss", url.Values{})
	if rec := f.call(t, f.bobTok, http.MethodGet, "/api/v2/notifications/"+key, nil); rec.Code != http.StatusNotFound {
		t.Errorf("the dismissed group: %d", rec.Code)
	}
	if got := types(t, f.get(t, f.bobTok, "/api/v1/notifications")); len(got) != 1 {
		t.Errorf("after dismissing the favourites: %v, want the mention", got)
	}
}

// Grouped notifications page by their notifications' ids through Link:
// next holds the older groups, prev the newer; the last page has no next.
func TestGroupedNotificationsPaging(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	var posts []string
	for i := range 5 {
		posts = append(posts, f.postStatus(t, f.bobTok, fmt.Sprintf("STATUS_%d", i), url.Values{"status": {fmt.Sprintf("post %d", i)}}))
	}
	_, fanTok := f.newUser(t, "fan")
	_, fanbTok := f.newUser(t, "fanb")
	for _, p := range posts {
		for _, tok := range []string{fanTok, fanbTok} {
			f.okJSON(t, tok, http.MethodPost, "/api/v1/statuses/"+p+"/favourite", nil)
		}
	}
	// Those are strangers' favourites: bob's policy accepts them by default.
	// As on Mastodon, a page's next starts below its oldest group's newest
	// notification, so a group's older part shows again on the next page,
	// counted up to that page's newest group.
	var seen, counts []string
	next := "/api/v2/notifications?limit=2"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		rec := f.call(t, f.bobTok, http.MethodGet, next, nil)
		g := decodeAny(t, rec, http.StatusOK)
		for _, x := range asList(t, mustLookup(g, "notification_groups")) {
			seen = append(seen, f.names[mustLookup(x, "status_id").(string)])
			counts = append(counts, fmt.Sprint(mustLookup(x, "notifications_count")))
			wantPresent(t, "a page's group", x, "page_min_id")
			wantPresent(t, "a page's group", x, "latest_page_notification_at")
		}
		next = ""
		link := rec.Header().Get("Link")
		if !strings.Contains(link, `rel="prev"`) {
			t.Errorf("Link %q has no prev", link)
		}
		for _, part := range strings.Split(link, ", ") {
			if strings.HasSuffix(part, `rel="next"`) {
				u, _ := url.Parse(strings.Trim(strings.SplitN(part, ";", 2)[0], "<>"))
				next = u.RequestURI()
			}
		}
	}
	want := "[<STATUS_4> <STATUS_3> <STATUS_3> <STATUS_2> <STATUS_2> <STATUS_1> <STATUS_1> <STATUS_0> <STATUS_0>]"
	if fmt.Sprint(seen) != want {
		t.Errorf("groups paged: %v, want %v", seen, want)
	}
	if fmt.Sprint(counts) != "[2 2 1 2 1 2 1 2 1]" {
		t.Errorf("their counts: %v", counts)
	}
	// min_id pages up from the oldest: the groups just above it.
	oldest := asList(t, mustLookup(f.get(t, f.bobTok, "/api/v2/notifications?limit=80"), "notification_groups"))
	last := oldest[len(oldest)-1]
	up := f.get(t, f.bobTok, "/api/v2/notifications?limit=2&min_id="+mustLookup(last, "page_min_id").(string))
	var ups []string
	for _, x := range asList(t, mustLookup(up, "notification_groups")) {
		ups = append(ups, mustLookup(x, "status_id").(string))
	}
	// Above the oldest favourite: the other favourite of post 0, then post 1's.
	if fmt.Sprint(ups) != fmt.Sprint([]string{posts[1], posts[0]}) {
		t.Errorf("min_id page: %v, want %v", ups, []string{posts[1], posts[0]})
	}
}

// api_versions.mastodon 2 promises the grouped notifications: each of their
// routes answers (none is a 404).
func TestAPIVersionPromisesGroupedNotifications(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	v, _ := lookup(f.get(t, "", "/api/v2/instance"), "api_versions", "mastodon")
	if fmt.Sprint(v) != "2" {
		t.Fatalf("api_versions.mastodon = %v, want 2", v)
	}
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/follow", nil)
	g := f.get(t, f.bobTok, "/api/v2/notifications")
	key := mustLookup(asList(t, mustLookup(g, "notification_groups"))[0], "group_key").(string)
	for _, c := range [][2]string{{http.MethodGet, "/api/v2/notifications"}, {http.MethodGet, "/api/v2/notifications/unread_count"},
		{http.MethodGet, "/api/v2/notifications/" + key}, {http.MethodGet, "/api/v2/notifications/" + key + "/accounts"},
		{http.MethodPost, "/api/v2/notifications/" + key + "/dismiss"}} {
		if rec := f.call(t, f.bobTok, c[0], c[1], nil); rec.Code != http.StatusOK {
			t.Errorf("%s %s: %d %s", c[0], c[1], rec.Code, rec.Body)
		}
	}
}

// Notification requests page through Link, newest first; the last page has
// no next.
func TestNotificationRequestsPaging(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	var senders []string
	for _, name := range []string{"ann", "ben", "cat"} {
		u, tok := f.newUser(t, name)
		senders = append(senders, idString(u.ID))
		f.postStatus(t, tok, "STATUS_"+strings.ToUpper(name), url.Values{"status": {"@bob psst"}, "visibility": {"direct"}})
	}
	var got []string
	next := "/api/v1/notifications/requests?limit=2"
	for pages := 0; next != ""; pages++ {
		if pages > 2 {
			t.Fatal("paging does not end")
		}
		rec := f.call(t, f.bobTok, http.MethodGet, next, nil)
		for _, r := range asList(t, decodeAny(t, rec, http.StatusOK)) {
			got = append(got, mustLookup(r, "account", "id").(string))
		}
		next = ""
		for _, part := range strings.Split(rec.Header().Get("Link"), ", ") {
			if strings.HasSuffix(part, `rel="next"`) {
				u, _ := url.Parse(strings.Trim(strings.SplitN(part, ";", 2)[0], "<>"))
				next = u.RequestURI()
			}
		}
	}
	if want := []string{senders[2], senders[1], senders[0]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests paged: %v, want %v", got, want)
	}
}
