package instance

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// peerStream opens p's streaming WebSocket (plain ws://, as the peers serve
// http) with token, on the stream named in the query.
func peerStream(t *testing.T, p *peer, token, stream string) *socket {
	t.Helper()
	u := strings.Replace(p.base, "http://", "ws://", 1) + "/api/v1/streaming?" + url.Values{"access_token": {token}, "stream": {stream}}.Encode()
	conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("streaming handshake on %s: %v (%v)", p.base, err, resp)
	}
	s := &socket{t: t, conn: conn, events: make(chan streamEvent, 1000), closed: make(chan struct{})}
	go func() {
		defer close(s.closed)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var e streamEvent
			if json.Unmarshal(msg, &e) == nil {
				s.events <- e
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return s
}

// TestRemotePostsStreamLive: what other servers deliver takes the same
// path to the streams as local posts: a followed remote account's post,
// its edit and its deletion reach a local follower's home and public
// streams; its followers-only post reaches the follower's home stream
// only; a remote favourite reaches the local author as a notification.
func TestRemotePostsStreamLive(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	aliceTok, carolTok := tokenFor(t, a, "alice"), tokenFor(t, a, "carol")
	bobTok := tokenFor(t, b, "bob")
	bobOnA := resolveOn(t, a, aliceTok, "bob@localhost:"+portB)
	if status := apiCall(t, a, aliceTok, "POST", "/api/v1/accounts/"+bobOnA+"/follow", url.Values{}); status != 200 {
		t.Fatalf("alice follows bob: %d", status)
	}
	waitFor(t, "B to accept alice's follow", func() bool {
		var rels []map[string]any
		getJSON(t, a, aliceTok, "/api/v1/accounts/relationships?id[]="+bobOnA, &rels)
		return len(rels) == 1 && rels[0]["following"] == true
	})
	// One stream per socket, named in the URL: each is in place at its 101.
	alice, alicePublic := peerStream(t, a, aliceTok, "user"), peerStream(t, a, aliceTok, "public")
	carol := peerStream(t, a, carolTok, "public")

	byURI := func(uri string) func(streamEvent) bool {
		return func(e streamEvent) bool {
			var m map[string]any
			return (e.Event == "update" || e.Event == "status.update") && json.Unmarshal([]byte(e.Payload), &m) == nil && m["uri"] == uri
		}
	}
	_, bobPost := post(t, b, bobTok, url.Values{"status": {"live from B"}, "visibility": {"public"}})
	got := alice.until(byURI(bobPost))
	onA := got[len(got)-1]
	// Both of alice's streams show it, and carol's public one.
	alicePublic.until(byURI(bobPost))
	carol.until(byURI(bobPost))
	var status map[string]any
	_ = json.Unmarshal([]byte(onA.Payload), &status)
	localID := status["id"].(string)
	if acct := status["account"].(map[string]any)["acct"]; acct != "bob@localhost:"+portB {
		t.Errorf("the streamed status's author: %v", acct)
	}

	// The edit.
	var bobStatuses []map[string]any
	getJSON(t, b, bobTok, "/api/v1/timelines/home", &bobStatuses)
	bobID := bobStatuses[0]["id"].(string)
	if s := apiCall(t, b, bobTok, "PUT", "/api/v1/statuses/"+bobID, url.Values{"status": {"edited on B"}}); s != 200 {
		t.Fatalf("bob edits: %d", s)
	}
	for {
		e := alice.until(byURI(bobPost))
		last := e[len(e)-1]
		if last.Event == "status.update" {
			if !strings.Contains(last.Payload, "edited on B") {
				t.Errorf("status.update without the edit: %s", last.Payload)
			}
			break
		}
	}

	// A followers-only post: alice's home stream, not the public streams.
	_, private := post(t, b, bobTok, url.Values{"status": {"for followers"}, "visibility": {"private"}})
	alice.until(byURI(private))

	// The deletion of the first post.
	if s := apiCall(t, b, bobTok, "DELETE", "/api/v1/statuses/"+bobID, nil); s != 200 {
		t.Fatalf("bob deletes: %d", s)
	}
	alice.until(func(e streamEvent) bool { return e.Event == "delete" && e.Payload == localID })

	// A remote favourite of alice's post is a live notification.
	_, alicePost := post(t, a, aliceTok, url.Values{"status": {"hello B"}, "visibility": {"public"}})
	var found struct{ Statuses []struct{ ID string } }
	getJSON(t, b, bobTok, "/api/v2/search?type=statuses&resolve=true&q="+url.QueryEscape(alicePost), &found)
	if len(found.Statuses) != 1 {
		t.Fatalf("resolving alice's post on B: %+v", found)
	}
	aliceOnB := found.Statuses[0].ID
	if s := apiCall(t, b, bobTok, "POST", "/api/v1/statuses/"+aliceOnB+"/favourite", nil); s != 200 {
		t.Fatalf("bob favourites: %d", s)
	}
	alice.until(func(e streamEvent) bool {
		return e.Event == "notification" && strings.Contains(e.Payload, `"type":"favourite"`)
	})

	// Public streams, alice's and carol's, never showed the followers-only
	// post (alice's post came after it, in order).
	for _, k := range []*socket{alicePublic, carol} {
		for _, e := range k.until(byURI(alicePost)) {
			if byURI(private)(e) {
				t.Errorf("a public stream shows bob's followers-only post")
			}
		}
	}
}
