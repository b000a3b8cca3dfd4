package instance

import (
	"net/url"
	"testing"
)

// An Update that changes nothing a reader sees notifies nobody: the same
// edit sent again under new ids (or a job run twice) is one notification.
func TestAnUpdateThatChangesNothingNotifiesNobody(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	aliceTok := tokenFor(t, a, "alice")
	bobTok := tokenFor(t, b, "bob")
	bob := b.base + "/users/bob"
	_, bobPost := post(t, b, bobTok, url.Values{"status": {"hello"}, "visibility": {"public"}})
	var found struct{ Statuses []struct{ ID string } }
	getJSON(t, a, aliceTok, "/api/v2/search?type=statuses&resolve=true&q="+url.QueryEscape(bobPost), &found)
	if len(found.Statuses) != 1 {
		t.Fatalf("lookup: %+v", found)
	}
	if code := apiCall(t, a, aliceTok, "POST", "/api/v1/statuses/"+found.Statuses[0].ID+"/favourite", url.Values{}); code != 200 {
		t.Fatalf("favourite: %d", code)
	}
	waitFor(t, "A's queue", func() bool { return queueDrained(t, a) })
	update := func(n int) []byte {
		return []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"` + bob + `#updates/` + string(rune('0'+n)) +
			`","type":"Update","actor":"` + bob + `","object":{"id":"` + bobPost + `","type":"Note","attributedTo":"` + bob +
			`","content":"<p>same text</p>","to":["https://www.w3.org/ns/activitystreams#Public"]}}`)
	}
	for i := 1; i <= 4; i++ {
		if code := deliver(t, b, "bob", a.base+"/inbox", update(i)); code != 202 {
			t.Fatalf("update %d: %d", i, code)
		}
	}
	waitFor(t, "A's queue", func() bool { return queueDrained(t, a) })
	var notes []struct{ Type string }
	getJSON(t, a, aliceTok, "/api/v1/notifications", &notes)
	n := 0
	for _, x := range notes {
		if x.Type == "update" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("alice got %d update notifications for one edit (3 Updates changed nothing)", n)
	}
}

// Activities are processed in parallel and retried, so an Undo or a
// Delete can be processed before what it undoes: the Follow (or Create)
// that comes after it is dropped, not kept for good. Here the two are
// delivered in that order, as a retry or a parallel worker would process
// them.
func TestAnUndoOrDeleteThatComesFirstWins(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	tokenFor(t, a, "alice")
	tokenFor(t, b, "bob")
	bob := b.base + "/users/bob"
	alice := a.base + "/users/alice"
	inbox := a.base + "/inbox"
	follow := `{"id":"` + bob + `#follows/1","type":"Follow","actor":"` + bob + `","object":"` + alice + `"}`
	undo := []byte(`{"id":"` + bob + `#follows/1/undo","type":"Undo","actor":"` + bob + `","object":` + follow + `}`)
	if code := deliver(t, b, "bob", inbox, undo); code != 202 {
		t.Fatalf("undo: %d", code)
	}
	waitFor(t, "A's queue", func() bool { return queueDrained(t, a) })
	if code := deliver(t, b, "bob", inbox, []byte(follow)); code != 202 {
		t.Fatalf("follow: %d", code)
	}
	noteID := b.base + "/users/bob/statuses/999"
	del := []byte(`{"id":"` + noteID + `#delete","type":"Delete","actor":"` + bob + `","object":{"id":"` + noteID + `","type":"Tombstone"}}`)
	create := []byte(`{"id":"` + noteID + `/activity","type":"Create","actor":"` + bob + `","object":{"id":"` + noteID +
		`","type":"Note","attributedTo":"` + bob + `","content":"<p>deleted</p>","to":["https://www.w3.org/ns/activitystreams#Public"]}}`)
	if code := deliver(t, b, "bob", inbox, del); code != 202 {
		t.Fatalf("delete: %d", code)
	}
	waitFor(t, "A's queue", func() bool { return queueDrained(t, a) })
	if code := deliver(t, b, "bob", inbox, create); code != 202 {
		t.Fatalf("create: %d", code)
	}
	waitFor(t, "A's queue", func() bool { return queueDrained(t, a) })
	ctx := t.Context()
	aliceAcc, _ := a.inst.Store().AccountByUsername(ctx, "alice", "")
	bobAcc, err := a.inst.Store().AccountByURI(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := a.inst.Store().FollowsAccount(ctx, bobAcc.ID, aliceAcc.ID); f {
		t.Errorf("bob follows alice on A although his Undo of that Follow was processed")
	}
	if _, err := a.inst.Store().StatusByURI(ctx, noteID); err == nil {
		t.Errorf("the Note deleted by bob is stored on A (its Delete was processed first)")
	}
}
