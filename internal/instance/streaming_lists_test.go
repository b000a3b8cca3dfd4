package instance

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/oauth"
)

// A list stream (Mastodon's "list", with the list's id) shows its owner
// what the list timeline shows, as it happens: a member's post, not a
// non-member's; it is refused for another's list and without read:lists.
func TestStreamingListStream(t *testing.T) {
	s := newSocial(t)
	alice, bob, carol, dan := s.user("alice"), s.user("bob"), s.user("carol"), s.user("dan")
	s.follow(alice, bob)
	s.follow(alice, carol)
	listID := s.must(alice, "POST", "/api/v1/lists", url.Values{"title": {"bob"}}).json(t)["id"].(string)
	s.must(alice, "POST", "/api/v1/lists/"+listID+"/accounts", url.Values{"account_ids[]": {bob.id}})

	// Another's list, and a token without read:lists, are refused.
	if r := s.req(dan, "GET", "/api/v1/streaming/list?list="+listID, nil); r.status != 401 || !strings.Contains(r.body, "Not authorized to stream this list") {
		t.Errorf("dan streaming alice's list: %d %s", r.status, r.body)
	}
	ctx := context.Background()
	app, _, err := s.ti.inst.OAuth().RegisterApp(ctx, oauth.AppParams{Name: "t", RedirectURIs: []string{oauth.OOB}, Scopes: "read"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := s.ti.inst.Store().AccountByUsername(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := oauth.ParseScopes("read:statuses read:notifications")
	tok, err := s.ti.inst.OAuth().IssueForAccount(ctx, app.ID, acc.ID, sc)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.req(user{"alice without read:lists", tok.Token, alice.id}, "GET", "/api/v1/streaming/list?list="+listID, nil); r.status != 401 {
		t.Errorf("streaming a list without read:lists: %d %s", r.status, r.body)
	}

	sock := s.openStream(alice, "public")
	if err := sock.conn.WriteJSON(map[string]string{"type": "subscribe", "stream": "list", "list": listID}); err != nil {
		t.Fatal(err)
	}
	sock.settle(func() string { return s.post(carol, "settling") })
	other := s.post(carol, "not on the list")
	member := s.post(bob, "on the list", "visibility", "private")
	got := sock.until(func(e streamEvent) bool { return e.streamName() == "list#"+listID && isUpdateOf(member)(e) })
	for _, e := range got {
		if e.streamName() == "list#"+listID && isUpdateOf(other)(e) {
			t.Errorf("a non-member's post on the list stream: %+v", e)
		}
	}
}
