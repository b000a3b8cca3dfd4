package instance

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/store"
)

// apiCall sends method path on p with token (a form body when form is not
// nil) and returns the status.
func apiCall(t *testing.T, p *peer, token, method, path string, form url.Values) int {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, p.base+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return do(t, req)
}

// resolveOn finds acct on p as token's owner (search with resolve) and
// returns its account id there.
func resolveOn(t *testing.T, p *peer, token, acct string) string {
	t.Helper()
	var found struct{ Accounts []struct{ ID, Acct string } }
	getJSON(t, p, token, "/api/v2/search?type=accounts&resolve=true&q="+url.QueryEscape("@"+acct), &found)
	if len(found.Accounts) != 1 {
		t.Fatalf("resolving %s on %s: %+v\n%s", acct, p.base, found, p.logs.String())
	}
	return found.Accounts[0].ID
}

// queueDrained reports whether p has no pending job.
func queueDrained(t *testing.T, p *peer) bool {
	st, err := p.inst.Store().JobStats(t.Context())
	return err == nil && st.Pending == 0
}

// Two instances, A (alice, and carol who approves her followers) and B
// (bob), hold a conversation through the Mastodon API, every step carried
// by activities both ways: follows (one a request approved), posts into
// home timelines, a followers-only post only where a follower is, a
// favourite, a boost, a reply, a delete, an unfollow and a block.
func TestActivitiesBetweenTwoInstances(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	ctx := t.Context()
	aliceTok, carolTok := tokenFor(t, a, "alice"), tokenFor(t, a, "carol")
	bobTok := tokenFor(t, b, "bob")
	if status := apiCall(t, a, carolTok, "PATCH", "/api/v1/accounts/update_credentials", url.Values{"locked": {"true"}}); status != 200 {
		t.Fatalf("carol locks her account: %d", status)
	}
	bobAcct, aliceAcct, carolAcct := "bob@localhost:"+portB, "alice@127.0.0.1:"+portA, "carol@127.0.0.1:"+portA
	relationship := func(p *peer, tok, id string) map[string]any {
		var rels []map[string]any
		getJSON(t, p, tok, "/api/v1/accounts/relationships?id[]="+id, &rels)
		if len(rels) != 1 {
			t.Fatalf("relationships: %v", rels)
		}
		return rels[0]
	}
	logs := func() string { return "A's log:\n" + a.logs.String() + "\nB's log:\n" + b.logs.String() }

	// Alice follows bob: a request until B accepts, then a follow.
	bobOnA := resolveOn(t, a, aliceTok, bobAcct)
	if status := apiCall(t, a, aliceTok, "POST", "/api/v1/accounts/"+bobOnA+"/follow", url.Values{}); status != 200 {
		t.Fatalf("alice follows bob: %d", status)
	}
	waitFor(t, "B to accept alice's follow", func() bool { return relationship(a, aliceTok, bobOnA)["following"] == true })
	if r := relationship(a, aliceTok, bobOnA); r["requested"] != false {
		t.Errorf("after the Accept: %v", r)
	}
	var notes []struct {
		Type    string
		Account struct{ Acct string }
		Status  *struct{ ID, URI string }
	}
	getJSON(t, b, bobTok, "/api/v1/notifications", &notes)
	if len(notes) != 1 || notes[0].Type != "follow" || notes[0].Account.Acct != aliceAcct {
		t.Errorf("bob's notifications: %+v", notes)
	}

	// Bob asks to follow carol, who approves his request on A.
	carolOnB := resolveOn(t, b, bobTok, carolAcct)
	if status := apiCall(t, b, bobTok, "POST", "/api/v1/accounts/"+carolOnB+"/follow", url.Values{}); status != 200 {
		t.Fatalf("bob follows carol: %d", status)
	}
	var requests []struct{ ID, Acct string }
	waitFor(t, "carol to get bob's request", func() bool {
		getJSON(t, a, carolTok, "/api/v1/follow_requests", &requests)
		return len(requests) == 1
	})
	if requests[0].Acct != bobAcct || relationship(b, bobTok, carolOnB)["requested"] != true {
		t.Fatalf("carol's requests: %+v", requests)
	}
	if status := apiCall(t, a, carolTok, "POST", "/api/v1/follow_requests/"+requests[0].ID+"/authorize", nil); status != 200 {
		t.Fatalf("carol authorizes: %d", status)
	}
	waitFor(t, "bob to follow carol", func() bool { return relationship(b, bobTok, carolOnB)["following"] == true })

	// Bob's public post reaches alice's home timeline on A.
	type status struct {
		ID, URI, Content, Visibility string
		Account                      struct{ Acct string }
		RepliesCount                 int `json:"replies_count"`
		ReblogsCount                 int `json:"reblogs_count"`
		FavouritesCount              int `json:"favourites_count"`
	}
	home := func(p *peer, tok string) []status {
		var got []status
		getJSON(t, p, tok, "/api/v1/timelines/home", &got)
		return got
	}
	findURI := func(list []status, uri string) *status {
		for i := range list {
			if list[i].URI == uri {
				return &list[i]
			}
		}
		return nil
	}
	bobPostID, bobPost := post(t, b, bobTok, url.Values{"status": {"hello from B #fedi"}, "visibility": {"public"}})
	waitFor(t, "bob's post in alice's home", func() bool { return findURI(home(a, aliceTok), bobPost) != nil })
	onA := findURI(home(a, aliceTok), bobPost)
	if onA.Account.Acct != bobAcct || !strings.Contains(onA.Content, "hello from B") || onA.Visibility != "public" {
		t.Errorf("bob's post on A: %+v", onA)
	}

	// It is in A's federated timeline (remote=true, not local=true) and
	// in its hashtag timeline.
	for path, want := range map[string]bool{
		"/api/v1/timelines/public?remote=true": true, "/api/v1/timelines/public": true,
		"/api/v1/timelines/public?local=true": false, "/api/v1/timelines/tag/fedi": true,
	} {
		var list []status
		getJSON(t, a, aliceTok, path, &list)
		if got := findURI(list, bobPost) != nil; got != want {
			t.Errorf("%s on A lists bob's post: %v; want %v", path, got, want)
		}
	}

	// Bob renames himself: A, where alice follows him, shows the new name
	// (an Update of his actor, which A fetches again from B).
	if code := apiCall(t, b, bobTok, "PATCH", "/api/v1/accounts/update_credentials", url.Values{"display_name": {"Bob the Builder"}}); code != 200 {
		t.Fatalf("bob renames himself: %d", code)
	}
	waitFor(t, "bob's new name on A", func() bool {
		acc, err := a.inst.Store().AccountByURI(ctx, b.base+"/users/bob")
		return err == nil && acc.DisplayName == "Bob the Builder"
	})

	// Bob pins his post: A shows it among his pinned posts (an Add to his
	// featured collection); unpinned, it is not.
	pinned := func() []status {
		var list []status
		getJSON(t, a, aliceTok, "/api/v1/accounts/"+bobOnA+"/statuses?pinned=true", &list)
		return list
	}
	if code := apiCall(t, b, bobTok, "POST", "/api/v1/statuses/"+bobPostID+"/pin", url.Values{}); code != 200 {
		t.Fatalf("pin: %d", code)
	}
	waitFor(t, "the pin on A", func() bool { return findURI(pinned(), bobPost) != nil })
	if code := apiCall(t, b, bobTok, "POST", "/api/v1/statuses/"+bobPostID+"/unpin", url.Values{}); code != 200 {
		t.Fatalf("unpin: %d", code)
	}
	waitFor(t, "the unpin on A", func() bool { return len(pinned()) == 0 })

	// Carol's followers-only post reaches bob (her follower) on B.
	_, carolPrivate := post(t, a, carolTok, url.Values{"status": {"for my followers"}, "visibility": {"private"}})
	waitFor(t, "carol's followers-only post in bob's home", func() bool { return findURI(home(b, bobTok), carolPrivate) != nil })
	if got := findURI(home(b, bobTok), carolPrivate); got.Visibility != "private" {
		t.Errorf("carol's private post on B: %+v", got)
	}

	// Alice favourites and boosts bob's post; carol replies to it.
	for _, act := range []string{"favourite", "reblog"} {
		if code := apiCall(t, a, aliceTok, "POST", "/api/v1/statuses/"+onA.ID+"/"+act, url.Values{}); code != 200 {
			t.Fatalf("alice's %s: %d", act, code)
		}
	}
	carolReplyID, carolReply := post(t, a, carolTok, url.Values{"status": {"a reply from A"}, "visibility": {"public"}, "in_reply_to_id": {onA.ID}})
	var onB status
	waitFor(t, "the favourite, the boost and the reply on B", func() bool {
		getJSON(t, b, bobTok, "/api/v1/statuses/"+bobPostID, &onB)
		return onB.FavouritesCount == 1 && onB.ReblogsCount == 1 && onB.RepliesCount == 1
	})
	getJSON(t, b, bobTok, "/api/v1/notifications", &notes)
	kinds := map[string]string{}
	for _, n := range notes {
		kinds[n.Type] = n.Account.Acct
	}
	if kinds["favourite"] != aliceAcct || kinds["reblog"] != aliceAcct {
		t.Errorf("bob's notifications: %+v", notes)
	}
	var thread struct{ Descendants []status }
	getJSON(t, b, bobTok, "/api/v1/statuses/"+bobPostID+"/context", &thread)
	if len(thread.Descendants) != 1 || thread.Descendants[0].URI != carolReply {
		t.Errorf("the thread on B: %+v", thread)
	}

	// Bob edits his post: A shows the new text, and alice, who favourited
	// it, is told.
	if code := apiCall(t, b, bobTok, "PUT", "/api/v1/statuses/"+bobPostID, url.Values{"status": {"hello from B, edited"}}); code != 200 {
		t.Fatalf("bob edits: %d", code)
	}
	waitFor(t, "the edit on A", func() bool {
		var got status
		getJSON(t, a, aliceTok, "/api/v1/statuses/"+onA.ID, &got)
		return strings.Contains(got.Content, "edited")
	})
	var aliceNotes []struct {
		Type   string
		Status *struct{ URI string }
	}
	getJSON(t, a, aliceTok, "/api/v1/notifications", &aliceNotes)
	if len(aliceNotes) == 0 || aliceNotes[0].Type != "update" || aliceNotes[0].Status == nil || aliceNotes[0].Status.URI != bobPost {
		t.Errorf("alice's notifications after the edit: %+v", aliceNotes)
	}
	var history []struct{ Content string }
	getJSON(t, a, aliceTok, "/api/v1/statuses/"+onA.ID+"/history", &history)
	if len(history) != 2 {
		t.Errorf("the edit history on A: %+v", history)
	}

	// Alice takes back her favourite; carol deletes her reply.
	if code := apiCall(t, a, aliceTok, "POST", "/api/v1/statuses/"+onA.ID+"/unfavourite", url.Values{}); code != 200 {
		t.Fatalf("unfavourite: %d", code)
	}
	if code := apiCall(t, a, carolTok, "DELETE", "/api/v1/statuses/"+carolReplyID, nil); code != 200 {
		t.Fatalf("carol deletes her reply: %d", code)
	}
	waitFor(t, "the unfavourite and the delete on B", func() bool {
		getJSON(t, b, bobTok, "/api/v1/statuses/"+bobPostID, &onB)
		return onB.FavouritesCount == 0 && onB.RepliesCount == 0
	})
	if _, err := b.inst.Store().StatusByURI(ctx, carolReply); err == nil {
		t.Error("carol's deleted reply is still on B")
	}

	// Bob deletes his post: it leaves A.
	if code := apiCall(t, b, bobTok, "DELETE", "/api/v1/statuses/"+bobPostID, nil); code != 200 {
		t.Fatalf("bob deletes: %d", code)
	}
	waitFor(t, "bob's post to leave A", func() bool {
		_, err := a.inst.Store().StatusByURI(ctx, bobPost)
		return err != nil
	})

	// Alice unfollows bob: B forgets her as a follower, and bob's next
	// followers-only post never reaches A, where nobody follows him now.
	if code := apiCall(t, a, aliceTok, "POST", "/api/v1/accounts/"+bobOnA+"/unfollow", url.Values{}); code != 200 {
		t.Fatalf("unfollow: %d", code)
	}
	bobID, _ := b.inst.Store().AccountByUsername(ctx, "bob", "")
	waitFor(t, "B to drop alice from bob's followers", func() bool {
		st, _ := b.inst.Store().StatsFor(ctx, []int64{bobID.ID})
		return st[bobID.ID].Followers == 0
	})
	_, quiet := post(t, b, bobTok, url.Values{"status": {"only my followers"}, "visibility": {"private"}})
	waitFor(t, "B's queue to drain", func() bool { return queueDrained(t, b) })
	if _, err := a.inst.Store().StatusByURI(ctx, quiet); err == nil {
		t.Error("a followers-only post reached a server where nobody follows its author")
	}

	// Carol blocks bob: his follow of her ends on both sides.
	bobOnAForCarol := resolveOn(t, a, carolTok, bobAcct)
	if code := apiCall(t, a, carolTok, "POST", "/api/v1/accounts/"+bobOnAForCarol+"/block", nil); code != 200 {
		t.Fatalf("carol blocks bob: %d", code)
	}
	waitFor(t, "bob's follow of carol to end on B", func() bool { return relationship(b, bobTok, carolOnB)["following"] == false })

	// Nothing was left buried on either side.
	for _, p := range []*peer{a, b} {
		waitFor(t, p.base+"'s queue to drain", func() bool { return queueDrained(t, p) })
		if st, _ := p.inst.Store().JobStats(ctx); st.Dead != 0 {
			t.Errorf("%s has %d dead jobs\n%s", p.base, st.Dead, logs())
		}
	}
	_ = store.KindDeliver
}

// A reply that arrives before what it answers brings its thread: A fetches
// the missing ancestors from their origin (public ones, a bounded number)
// and the reply's context on A shows them, in order.
func TestARepliesThreadIsFetched(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	aliceTok := tokenFor(t, a, "alice")
	bobTok, danTok := tokenFor(t, b, "bob"), tokenFor(t, b, "dan")
	rootID, root := post(t, b, bobTok, url.Values{"status": {"the root, by bob"}, "visibility": {"public"}})
	midID, mid := post(t, b, bobTok, url.Values{"status": {"bob again"}, "visibility": {"public"}, "in_reply_to_id": {rootID}})
	_ = midID
	// Alice follows dan only: A knows nothing of bob's posts.
	danOnA := resolveOn(t, a, aliceTok, "dan@localhost:"+portB)
	if code := apiCall(t, a, aliceTok, "POST", "/api/v1/accounts/"+danOnA+"/follow", url.Values{}); code != 200 {
		t.Fatalf("follow: %d", code)
	}
	waitFor(t, "the follow", func() bool {
		var rels []map[string]any
		getJSON(t, a, aliceTok, "/api/v1/accounts/relationships?id[]="+danOnA, &rels)
		return len(rels) == 1 && rels[0]["following"] == true
	})
	if _, err := a.inst.Store().StatusByURI(t.Context(), root); err == nil {
		t.Fatal("A knew bob's root before the reply")
	}
	_, reply := post(t, b, danTok, url.Values{"status": {"dan answers"}, "visibility": {"public"}, "in_reply_to_id": {midID}})
	var onA *struct{ ID string }
	waitFor(t, "dan's reply on A", func() bool {
		var home []struct{ ID, URI string }
		getJSON(t, a, aliceTok, "/api/v1/timelines/home", &home)
		for _, h := range home {
			if h.URI == reply {
				onA = &struct{ ID string }{h.ID}
			}
		}
		return onA != nil
	})
	var thread struct{ Ancestors []struct{ URI string } }
	getJSON(t, a, aliceTok, "/api/v1/statuses/"+onA.ID+"/context", &thread)
	if len(thread.Ancestors) != 2 || thread.Ancestors[0].URI != root || thread.Ancestors[1].URI != mid {
		t.Errorf("the reply's ancestors on A: %+v; want bob's root %s and his reply %s", thread.Ancestors, root, mid)
		for _, l := range strings.Split(a.logs.String(), "\n") {
			if !strings.Contains(l, `"msg":"request"`) {
				t.Log(l)
			}
		}
	}
}

// An account deleted on its server is deleted everywhere it was known: B
// sends a Delete of bob's actor, signed with his key though his actor is
// gone from B; A verifies it with the key it stored and removes bob and his
// posts. On B, bob's username stays taken and his actor is gone.
func TestAnAccountDeletedOnItsServerGoesEverywhere(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	ctx := t.Context()
	aliceTok := tokenFor(t, a, "alice")
	bobTok := tokenFor(t, b, "bob")
	bobOnA := resolveOn(t, a, aliceTok, "bob@localhost:"+portB)
	if code := apiCall(t, a, aliceTok, "POST", "/api/v1/accounts/"+bobOnA+"/follow", url.Values{}); code != 200 {
		t.Fatalf("follow: %d", code)
	}
	waitFor(t, "the follow", func() bool {
		var rels []map[string]any
		getJSON(t, a, aliceTok, "/api/v1/accounts/relationships?id[]="+bobOnA, &rels)
		return len(rels) == 1 && rels[0]["following"] == true
	})
	_, hello := post(t, b, bobTok, url.Values{"status": {"soon gone"}, "visibility": {"public"}})
	waitFor(t, "bob's post on A", func() bool { _, err := a.inst.Store().StatusByURI(ctx, hello); return err == nil })

	bob, err := b.inst.Store().AccountByUsername(ctx, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.inst.Accounts().Delete(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob to be gone from A", func() bool {
		_, err := a.inst.Store().AccountByURI(ctx, b.base+"/users/bob")
		return err != nil
	})
	if _, err := a.inst.Store().StatusByURI(ctx, hello); err == nil {
		t.Error("bob's post stayed on A")
	}
	if status, _ := getActor(t, b, "/users/bob", nil); status != http.StatusNotFound {
		t.Errorf("bob's actor on B after the deletion: %d; want 404", status)
	}
	if _, err := b.inst.Store().StatusByURI(ctx, hello); err == nil {
		t.Error("bob's post stayed on B")
	}
	if err := b.inst.Accounts().Delete(ctx, bob.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting again: %v; want ErrNotFound", err)
	}
	if _, err := b.inst.Accounts().Modify(ctx, bob.ID, accounts.Change{Disabled: new(bool)}); !errors.Is(err, accounts.ErrDeleted) {
		t.Errorf("enabling a deleted account: %v; want ErrDeleted", err)
	}

	// Dan is known on A from a lookup only: A never verified a signature
	// of his, so it has no key of his in memory, and B no longer serves
	// it. His Delete of himself is verified with the key A stored when it
	// fetched him; nothing else of his is.
	tokenFor(t, b, "dan")
	resolveOn(t, a, aliceTok, "dan@localhost:"+portB)
	dan, _ := b.inst.Store().AccountByUsername(ctx, "dan", "")
	if err := b.inst.Accounts().Delete(ctx, dan.ID); err != nil {
		t.Fatal(err)
	}
	danURI := b.base + "/users/dan"
	like := []byte(`{"id":"` + danURI + `#likes/1","type":"Like","actor":"` + danURI + `","object":"` + a.base + `/users/alice"}`)
	if code := deliver(t, b, "dan", a.base+"/inbox", like); code != http.StatusUnauthorized {
		t.Errorf("a Like by a deleted actor: %d; want 401 (no key for it)", code)
	}
	self := []byte(`{"id":"` + danURI + `#delete","type":"Delete","actor":"` + danURI + `","object":"` + danURI + `"}`)
	if code := deliver(t, b, "dan", a.base+"/inbox", self); code != http.StatusAccepted {
		t.Fatalf("dan's Delete of himself: %d; want 202", code)
	}
	waitFor(t, "dan to be gone from A", func() bool {
		_, err := a.inst.Store().AccountByURI(ctx, danURI)
		return err != nil
	})
}
