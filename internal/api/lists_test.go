package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store"
)

// The List entity and the lists endpoints as Mastodon documents them: CRUD,
// members (only followed accounts, 422 otherwise; paged with Link, limit=0
// for all), the lists holding an account, and the list timeline.
func TestListEntitiesAndEndpoints(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	danAcc, danTok := f.newUser(t, "dan")
	danID := idString(danAcc.ID)
	// alice follows bob and dan; bob and dan post; alice also follows erin,
	// who stays off the list.
	erinAcc, erinTok := f.newUser(t, "erin")
	erinID := idString(erinAcc.ID)
	for _, id := range []string{f.bobID, danID, erinID} {
		f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+id+"/follow", nil)
	}

	created := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/lists", url.Values{"title": {"Friends"}})
	listID, _ := created.(map[string]any)["id"].(string)
	f.name(listID, "LIST_ID")
	checkSocialContract(t, "list", created)
	f.golden(t, "list", created)
	if x, _ := lookup(created, "replies_policy"); x != "list" {
		t.Errorf("default replies_policy %v, want list", x)
	}
	updated := f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v1/lists/"+listID, url.Values{"title": {"Close friends"},
		"replies_policy": {"followed"}, "exclusive": {"true"}})
	f.golden(t, "list_updated", updated)
	if d := f.diff(updated, f.get(t, f.aliceTok, "/api/v1/lists/"+listID)); d != "" {
		t.Errorf("GET after PUT differs:\n%s", d)
	}
	// A PUT without a setting keeps it.
	kept := f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v1/lists/"+listID, url.Values{"title": {"Close friends"}})
	if d := f.diff(updated, kept); d != "" {
		t.Errorf("PUT with only a title changed settings:\n%s", d)
	}
	f.golden(t, "lists", f.get(t, f.aliceTok, "/api/v1/lists"))

	// Members: bob and dan; carol is not followed (and pending), erin's
	// follow is fine but she is added twice.
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/lists/"+listID+"/accounts", url.Values{"account_ids[]": {f.bobID, danID}})
	rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v1/lists/"+listID+"/accounts", url.Values{"account_ids[]": {f.bobID}})
	if v := wantJSON(t, rec, http.StatusUnprocessableEntity); !strings.HasPrefix(fmt.Sprint(v["error"]), "Validation failed") {
		t.Errorf("adding a member again: %v", v)
	}
	rec = f.call(t, f.bobTok, http.MethodPost, "/api/v1/lists", url.Values{"title": {"bob's"}})
	bobList, _ := wantJSON(t, rec, http.StatusOK)["id"].(string)
	rec = f.call(t, f.bobTok, http.MethodPost, "/api/v1/lists/"+bobList+"/accounts", url.Values{"account_ids[]": {danID}})
	wantJSON(t, rec, http.StatusUnprocessableEntity) // bob does not follow dan
	rec = f.call(t, f.aliceTok, http.MethodPost, "/api/v1/lists/"+listID+"/accounts", url.Values{"account_ids[]": {"999999999"}})
	wantJSON(t, rec, http.StatusNotFound)

	members := f.get(t, f.aliceTok, "/api/v1/lists/"+listID+"/accounts")
	if l := asList(t, members); len(l) != 2 {
		t.Fatalf("members %v", members)
	}
	f.golden(t, "list_accounts", members)
	rec = f.call(t, f.aliceTok, http.MethodGet, "/api/v1/lists/"+listID+"/accounts?limit=1", nil)
	page := asList(t, decodeAny(t, rec, http.StatusOK))
	link := rec.Header().Get("Link")
	if len(page) != 1 || !strings.Contains(link, `rel="next"`) || !strings.Contains(link, `rel="prev"`) {
		t.Fatalf("limit=1: %d members, Link %q", len(page), link)
	}
	next := strings.TrimPrefix(strings.SplitN(link, ">", 2)[0], "<https://"+testHost)
	rest := asList(t, f.get(t, f.aliceTok, next))
	if len(rest) != 1 || fmt.Sprint(lookup0(rest[0], "id")) == fmt.Sprint(lookup0(page[0], "id")) {
		t.Errorf("next page %v after %v", rest, page)
	}
	rec = f.call(t, f.aliceTok, http.MethodGet, "/api/v1/lists/"+listID+"/accounts?limit=0", nil)
	if all := asList(t, decodeAny(t, rec, http.StatusOK)); len(all) != 2 || rec.Header().Get("Link") != "" {
		t.Errorf("limit=0: %d members, Link %q; want all 2, no Link", len(all), rec.Header().Get("Link"))
	}
	f.golden(t, "account_lists", f.get(t, f.aliceTok, "/api/v1/accounts/"+danID+"/lists"))
	if l := asList(t, f.get(t, f.aliceTok, "/api/v1/accounts/"+erinID+"/lists")); len(l) != 0 {
		t.Errorf("lists holding erin: %v", l)
	}

	// The timeline: bob's and dan's posts, not erin's; paged with Link.
	var want []string
	for i := range 3 {
		want = append(want, f.postStatus(t, f.bobTok, fmt.Sprintf("BOB_%d", i), url.Values{"status": {fmt.Sprintf("bob %d", i)}}))
		want = append(want, f.postStatus(t, danTok, fmt.Sprintf("DAN_%d", i), url.Values{"status": {fmt.Sprintf("dan %d", i)}, "visibility": {"private"}}))
		f.postStatus(t, erinTok, fmt.Sprintf("ERIN_%d", i), url.Values{"status": {fmt.Sprintf("erin %d", i)}})
	}
	slices.Reverse(want)
	tl := f.get(t, f.aliceTok, "/api/v1/timelines/list/"+listID)
	if got := statusIDs(t, tl); !slices.Equal(got, want) {
		t.Errorf("list timeline %v, want %v", got, want)
	}
	for _, s := range asList(t, tl) {
		checkStatus(t, "list timeline", s, f.aliceID)
	}
	rec = f.call(t, f.aliceTok, http.MethodGet, "/api/v1/timelines/list/"+listID+"?limit=4", nil)
	if got := statusIDs(t, decodeAny(t, rec, http.StatusOK)); !slices.Equal(got, want[:4]) || !strings.Contains(rec.Header().Get("Link"), "max_id="+want[3]) {
		t.Errorf("limit=4: %v, Link %q", got, rec.Header().Get("Link"))
	}
	// Exclusive: bob's and dan's posts left alice's home; erin's stayed.
	home := statusIDs(t, f.get(t, f.aliceTok, "/api/v1/timelines/home"))
	for _, id := range want {
		if slices.Contains(home, id) {
			t.Errorf("a member's status %s is on the home timeline of the exclusive list's owner", f.names[id])
		}
	}
	if len(home) != 3 {
		t.Errorf("home %v, want erin's 3", home)
	}

	// Another's list is not found, whatever the verb.
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		wantJSON(t, f.call(t, f.bobTok, m, "/api/v1/lists/"+listID, url.Values{"title": {"x"}}), http.StatusNotFound)
	}
	wantJSON(t, f.call(t, f.bobTok, http.MethodGet, "/api/v1/timelines/list/"+listID, nil), http.StatusNotFound)
	wantJSON(t, f.call(t, f.bobTok, http.MethodGet, "/api/v1/lists/"+listID+"/accounts", nil), http.StatusNotFound)
	wantJSON(t, f.call(t, f.bobTok, http.MethodPost, "/api/v1/lists/"+listID+"/accounts", url.Values{"account_ids[]": {f.aliceID}}), http.StatusNotFound)

	// Bad settings are 422.
	for _, form := range []url.Values{{"title": {" "}}, {"title": {"x"}, "replies_policy": {"everyone"}}, {"title": {strings.Repeat("x", 257)}}} {
		wantJSON(t, f.call(t, f.aliceTok, http.MethodPost, "/api/v1/lists", form), http.StatusUnprocessableEntity)
	}

	// Removing a member, then unfollowing the other, empties the list.
	f.okJSON(t, f.aliceTok, http.MethodDelete, "/api/v1/lists/"+listID+"/accounts", url.Values{"account_ids[]": {f.bobID}})
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+danID+"/unfollow", nil)
	if l := asList(t, f.get(t, f.aliceTok, "/api/v1/lists/"+listID+"/accounts")); len(l) != 0 {
		t.Errorf("members after removing bob and unfollowing dan: %v", l)
	}
	if got := f.okJSON(t, f.aliceTok, http.MethodDelete, "/api/v1/lists/"+listID, nil); fmt.Sprint(got) != "map[]" {
		t.Errorf("DELETE answered %v, want {}", got)
	}
	wantJSON(t, f.call(t, f.aliceTok, http.MethodGet, "/api/v1/lists/"+listID, nil), http.StatusNotFound)
}

func lookup0(v any, k string) any { x, _ := lookup(v, k); return x }

// A list timeline never shows what its owner may not see: a member's post
// for someone else only (direct), a muted or blocked member's posts.
func TestListTimelineVisibility(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	danAcc, danTok := f.newUser(t, "dan")
	danID := idString(danAcc.ID)
	for _, id := range []string{f.bobID, danID} {
		f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+id+"/follow", nil)
	}
	list := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/lists", url.Values{"title": {"all"}, "replies_policy": {"followed"}})
	listID := list.(map[string]any)["id"].(string)
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/lists/"+listID+"/accounts", url.Values{"account_ids[]": {f.bobID, danID}})
	shown := f.postStatus(t, f.bobTok, "BOB_PUBLIC", url.Values{"status": {"hello"}})
	direct := f.postStatus(t, danTok, "DAN_DIRECT", url.Values{"status": {"@bob psst"}, "visibility": {"direct"}})
	danPost := f.postStatus(t, danTok, "DAN_PUBLIC", url.Values{"status": {"dan here"}})
	got := statusIDs(t, f.get(t, f.aliceTok, "/api/v1/timelines/list/"+listID))
	if !slices.Equal(got, []string{danPost, shown}) {
		t.Errorf("list timeline %v, want dan's public post and bob's (never the direct post %s)", got, direct)
	}
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+danID+"/mute", nil)
	if got := statusIDs(t, f.get(t, f.aliceTok, "/api/v1/timelines/list/"+listID)); !slices.Equal(got, []string{shown}) {
		t.Errorf("after muting dan: %v", got)
	}
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+f.aliceID+"/block", nil)
	if got := statusIDs(t, f.get(t, f.aliceTok, "/api/v1/timelines/list/"+listID)); len(got) != 0 {
		t.Errorf("after bob blocked alice: %v", got)
	}
}

// Every lists, endorsements and domain blocks route refuses a token
// without its scope (403), and takes one with it.
func TestListRoutesNeedTheirScopes(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/follow", nil)
	list := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/lists", url.Values{"title": {"l"}})
	listID := list.(map[string]any)["id"].(string)
	for _, rt := range []struct {
		scope, method, path string
		form                url.Values
	}{
		{"read:lists", "GET", "/api/v1/lists", nil},
		{"read:lists", "GET", "/api/v1/lists/" + listID, nil},
		{"read:lists", "GET", "/api/v1/lists/" + listID + "/accounts", nil},
		{"read:lists", "GET", "/api/v1/accounts/" + f.bobID + "/lists", nil},
		{"read:lists", "GET", "/api/v1/timelines/list/" + listID, nil},
		{"write:lists", "POST", "/api/v1/lists", url.Values{"title": {"x"}}},
		{"write:lists", "PUT", "/api/v1/lists/" + listID, url.Values{"title": {"y"}}},
		{"write:lists", "POST", "/api/v1/lists/" + listID + "/accounts", url.Values{"account_ids[]": {f.bobID}}},
		{"write:lists", "DELETE", "/api/v1/lists/" + listID + "/accounts", url.Values{"account_ids[]": {f.bobID}}},
		{"read:accounts", "GET", "/api/v1/endorsements", nil},
		{"write:accounts", "POST", "/api/v1/accounts/" + f.bobID + "/pin", nil},
		{"write:accounts", "POST", "/api/v1/accounts/" + f.bobID + "/unpin", nil},
		{"read:blocks", "GET", "/api/v1/domain_blocks", nil},
		{"write:blocks", "POST", "/api/v1/domain_blocks", url.Values{"domain": {"spam.example"}}},
		{"write:blocks", "DELETE", "/api/v1/domain_blocks", url.Values{"domain": {"spam.example"}}},
		{"write:lists", "DELETE", "/api/v1/lists/" + listID, nil},
	} {
		kind, _, _ := strings.Cut(rt.scope, ":")
		other := "read:statuses write:statuses"
		if kind == "read" {
			other += " write"
		} else {
			other += " read"
		}
		tok := f.userToken(t, f.alice, other)
		rec := f.call(t, tok, rt.method, rt.path, rt.form)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Errorf("%s %s with %q: %d %s, want 403", rt.method, rt.path, other, rec.Code, rec.Body)
		}
		if rec := f.call(t, f.userToken(t, f.alice, rt.scope), rt.method, rt.path, rt.form); rec.Code != http.StatusOK {
			t.Errorf("%s %s with %s: %d %s", rt.method, rt.path, rt.scope, rec.Code, rec.Body)
		}
	}
	// follow covers blocks, as Mastodon.
	if rec := f.call(t, f.userToken(t, f.alice, "follow"), "GET", "/api/v1/domain_blocks", nil); rec.Code != http.StatusOK {
		t.Errorf("domain blocks with follow: %d", rec.Code)
	}
}

// Endorsements: only a followed account (422 otherwise), endorsed in the
// Relationship, paged with Link; unpinning and unfollowing end them.
func TestEndorsementEndpoints(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	danAcc, _ := f.newUser(t, "dan")
	danID := idString(danAcc.ID)
	wantJSON(t, f.call(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/pin", nil), http.StatusUnprocessableEntity)
	for _, id := range []string{f.bobID, danID} {
		f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+id+"/follow", nil)
	}
	rel := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/pin", nil)
	if x, _ := lookup(rel, "endorsed"); x != true {
		t.Errorf("pin answered %v", rel)
	}
	f.golden(t, "relationship_endorsed", rel)
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+danID+"/pin", nil)
	rec := f.call(t, f.aliceTok, http.MethodGet, "/api/v1/endorsements?limit=1", nil)
	page := asList(t, decodeAny(t, rec, http.StatusOK))
	if len(page) != 1 || lookup0(page[0], "id") != danID || !strings.Contains(rec.Header().Get("Link"), `rel="next"`) {
		t.Fatalf("first page %v, Link %q", page, rec.Header().Get("Link"))
	}
	f.golden(t, "endorsements", f.get(t, f.aliceTok, "/api/v1/endorsements"))
	rel = f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+danID+"/unpin", nil)
	if x, _ := lookup(rel, "endorsed"); x != false {
		t.Errorf("unpin answered %v", rel)
	}
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/unfollow", nil)
	if l := asList(t, f.get(t, f.aliceTok, "/api/v1/endorsements")); len(l) != 0 {
		t.Errorf("endorsements after unpinning one and unfollowing the other: %v", l)
	}
}

// A user's domain block: the list of domains (strings, paged with Link),
// domain_blocking in the Relationship, the domain's statuses gone from
// the user's timelines and its notifications hidden, the user's follows
// with the domain's accounts ended both ways (with the activities that
// tell their server), 422 for no domain.
func TestUserDomainBlocks(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	ctx := context.Background()
	now := time.Now()
	remote, err := f.st.UpsertRemoteAccount(ctx, &store.RemoteAccount{Account: store.Account{Username: "spammer", Domain: "spam.example",
		URI: "https://spam.example/users/spammer", URL: "https://spam.example/@spammer", CreatedAt: now},
		InboxURL: "https://spam.example/inbox", FetchedAt: now}, 500)
	if err != nil {
		t.Fatal(err)
	}
	remoteID := idString(remote)
	// alice follows the spammer (as accepted), and the spammer follows alice.
	if _, err := f.st.Follow(ctx, 77, f.alice.ID, remote, store.FollowOptions{ShowReblogs: true, URI: "https://example.test/users/alice#follows/77"}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Follow(ctx, 78, remote, f.alice.ID, store.FollowOptions{ShowReblogs: true, URI: "https://spam.example/follows/1"}, now); err != nil {
		t.Fatal(err)
	}
	st, _, err := f.st.CreateRemoteStatus(ctx, store.NewStatus{Status: &store.Status{ID: 5000, URI: "https://spam.example/s/1", AccountID: remote,
		Visibility: store.Public, Content: "<p>buy now</p>", CreatedAt: now}})
	if err != nil {
		t.Fatal(err)
	}
	stID := idString(st)
	if !slices.Contains(statusIDs(t, f.get(t, f.aliceTok, "/api/v1/timelines/home")), stID) {
		t.Fatal("the followed spammer's status is not on alice's home timeline")
	}
	wantJSON(t, f.call(t, f.aliceTok, http.MethodPost, "/api/v1/domain_blocks", url.Values{}), http.StatusUnprocessableEntity)
	for _, d := range []string{"https://SPAM.example/", "other.example", "third.example"} {
		if got := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/domain_blocks", url.Values{"domain": {d}}); fmt.Sprint(got) != "map[]" {
			t.Errorf("POST answered %v, want {}", got)
		}
	}
	rec := f.call(t, f.aliceTok, http.MethodGet, "/api/v1/domain_blocks?limit=2", nil)
	page := asList(t, decodeAny(t, rec, http.StatusOK))
	if fmt.Sprint(page) != "[third.example other.example]" || !strings.Contains(rec.Header().Get("Link"), `rel="next"`) {
		t.Errorf("first page %v, Link %q", page, rec.Header().Get("Link"))
	}
	compareGolden(t, "domain_blocks", f.get(t, f.aliceTok, "/api/v1/domain_blocks"))
	for _, tl := range []string{"/api/v1/timelines/home", "/api/v1/timelines/public"} {
		if slices.Contains(statusIDs(t, f.get(t, f.aliceTok, tl)), stID) {
			t.Errorf("%s still shows the blocked domain's status", tl)
		}
	}
	if !slices.Contains(statusIDs(t, f.get(t, f.bobTok, "/api/v1/timelines/public")), stID) {
		t.Error("bob's public timeline lost a domain alice blocked")
	}
	rels := asList(t, f.get(t, f.aliceTok, "/api/v1/accounts/relationships?id[]="+remoteID))
	for k, want := range map[string]bool{"domain_blocking": true, "following": false, "followed_by": false} {
		if x := lookup0(rels[0], k); x != want {
			t.Errorf("relationship %s = %v, want %v", k, x, want)
		}
	}
	// The servers heard: an Undo of alice's Follow, a Reject of the spammer's.
	jobs, err := f.st.ClaimJobs(ctx, now.Add(time.Hour), time.Minute, 100, store.KindPublish)
	var activities []string
	for _, j := range jobs {
		activities = append(activities, string(j.Payload))
	}
	if err != nil || len(jobs) != 2 || !strings.Contains(strings.Join(activities, " "), `"UndoFollow"`) || !strings.Contains(strings.Join(activities, " "), `"Reject"`) {
		t.Errorf("publish jobs %q (%v), want the Undo of alice's Follow and the Reject of the spammer's", activities, err)
	}
	f.okJSON(t, f.aliceTok, http.MethodDelete, "/api/v1/domain_blocks", url.Values{"domain": {"spam.example"}})
	if !slices.Contains(statusIDs(t, f.get(t, f.aliceTok, "/api/v1/timelines/public")), stID) {
		t.Error("after the unblock the status stays hidden")
	}
}
