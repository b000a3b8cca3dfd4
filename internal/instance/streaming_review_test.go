package instance

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/oauth"
)

// These tests began as an adversarial review of the streaming API: each
// proved a defect (or soundness) before the fix it now guards.

// TestStreamedReblogIsEachViewersEntity: a reblog reaches its original's
// author and strangers alike, each as the entity GET /api/v1/statuses/:id
// returns that viewer: the original's author's copy carries its app and
// pin field, no one else's does.
func TestStreamedReblogIsEachViewersEntity(t *testing.T) {
	s := newSocial(t)
	op, rb := s.user("op"), s.user("rb")
	strangers := []user{s.user("st1"), s.user("st2"), s.user("st3")}
	s.follow(op, rb)
	for _, v := range strangers {
		s.follow(v, rb)
	}
	viewers := append([]user{op}, strangers...)
	socks := map[string]*socket{}
	for _, v := range viewers {
		socks[v.name] = s.openStreamURL(v, "user")
	}
	for round := 0; round < 4; round++ {
		orig := s.post(op, "original "+strings.Repeat("x", round))
		reblog := s.act(rb, "statuses/"+orig+"/reblog").json(t)["id"].(string)
		for _, v := range viewers {
			got := socks[v.name].until(isUpdateOf(reblog))
			e := got[len(got)-1]
			rest := s.req(v, "GET", "/api/v1/statuses/"+reblog, nil)
			if !equalJSON(withoutCounters(t, e.Payload), withoutCounters(t, rest.body)) {
				t.Errorf("round %d, %s: the streamed reblog differs from REST: %s", round, v.name, reblogDiff(t, e.Payload, rest.body))
			}
		}
	}
}

// reblogDiff names the fields of the inner status that differ.
func reblogDiff(t *testing.T, stream, rest string) string {
	a, _ := withoutCounters(t, stream)["reblog"].(map[string]any)
	b, _ := withoutCounters(t, rest)["reblog"].(map[string]any)
	var out []string
	for k, v := range a {
		if !equalJSON(v, b[k]) {
			out = append(out, fmt.Sprintf("reblog.%s stream=%v rest=%v", k, v, b[k]))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("reblog.%s stream=<absent> rest=%v", k, v))
		}
	}
	return strings.Join(out, "; ")
}

// clientCredentials mints an app-only token (no user) from a registered app.
func (s *socialT) clientCredentials(a app) string {
	s.t.Helper()
	r := s.ti.call(s.ti.client, "POST", "/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {a.id}, "client_secret": {a.secret}, "scope": {"read"}}, "")
	if r.status != 200 {
		s.t.Fatalf("client_credentials: %d %s", r.status, r.body)
	}
	return r.json(s.t)["access_token"].(string)
}

// TestAppOnlyTokensCannotStream: a client_credentials token, which anyone
// can mint without an account (POST /api/v1/apps, then /oauth/token), gets
// 401 at the handshake like no token at all (as on Mastodon): otherwise an
// account-less party, bounded by no account's limit, could take every
// connection of the instance.
func TestAppOnlyTokensCannotStream(t *testing.T) {
	s := newSocial(t)
	a := s.ti.registerApp(oauth.OOB, "read")
	tok := s.clientCredentials(a)
	for _, q := range []url.Values{{"access_token": {tok}, "stream": {"public"}}, {"access_token": {tok}}} {
		if _, resp, err := s.ti.dialStream(q, nil); err == nil || resp == nil || resp.StatusCode != 401 {
			t.Errorf("an app-only token, %v: %v %v, want 401", q, err, resp)
		}
	}
	if r := s.req(user{name: "app", tok: tok}, "GET", "/api/v1/streaming/public", nil); r.status != 401 {
		t.Errorf("an app-only token's server-sent events: %d, want 401", r.status)
	}
}

// streamingGoroutines lists the goroutines running streaming code other
// than the hub's own loop.
func streamingGoroutines() []string {
	buf := make([]byte, 8<<20)
	n := runtime.Stack(buf, true)
	var out []string
	for _, g := range strings.Split(string(buf[:n]), "\n\n") {
		if strings.Contains(g, "internal/streaming.") && !strings.Contains(g, "streaming.(*Hub).Run(") {
			out = append(out, g)
		}
	}
	return out
}

// TestNoGoroutineOutlivesItsSocket: sockets ended every way (the
// client's close, a dropped TCP connection, revocation, a refused
// connection over a limit, an oversized frame, server-sent events ended by
// the client) leave no streaming goroutine behind.
func TestNoGoroutineOutlivesItsSocket(t *testing.T) {
	s := newSocial(t, "[streaming]", "max_per_token = 2", `ping_interval = "1s"`)
	alice, bob := s.user("alice"), s.user("bob")
	time.Sleep(1500 * time.Millisecond)
	if g := streamingGoroutines(); len(g) != 0 {
		t.Logf("before: %d streaming goroutines", len(g))
	}
	a1 := s.openStream(alice, "public")
	a2 := s.openStream(alice, "user")
	over, _, err := s.ti.dialStream(url.Values{"access_token": {alice.tok}}, nil) // refused: 4029
	if err != nil {
		t.Fatal(err)
	}
	tok, clientID, secret := s.tokenFor(bob, "read")
	revoked := s.openStream(user{name: "bob", tok: tok}, "user")
	big := s.openStream(bob, "public")
	sse := s.eventsStream(bob, "/api/v1/streaming/public")
	s.post(alice, "traffic")
	time.Sleep(500 * time.Millisecond)

	a1.conn.Close()                                                      // the TCP connection dropped
	a2.conn.WriteControl(8, []byte{3, 232}, time.Now().Add(time.Second)) // a close frame, 1000
	over.waitClosed(5 * time.Second)
	s.ti.call(s.ti.client, "POST", "/oauth/revoke", url.Values{"client_id": {clientID}, "client_secret": {secret}, "token": {tok}}, "")
	revoked.waitClosed(5 * time.Second)
	_ = big.conn.WriteMessage(1, []byte(strings.Repeat("x", 5000)))
	big.waitClosed(5 * time.Second)
	sse.resp.Body.Close()

	deadline := time.Now().Add(10 * time.Second)
	var left []string
	for time.Now().Before(deadline) {
		if left = streamingGoroutines(); len(left) == 0 && s.ti.inst.hub.Open() == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("%d streaming goroutines left, %d streams open:\n%s", len(left), s.ti.inst.hub.Open(), strings.Join(left, "\n\n"))
}

// TestHashtagStreamNamesTheSubscribedTag: Mastodon names a hashtag event's
// stream with the tag as the client subscribed, and masto.js (Elk, Phanpy)
// keeps only the events whose stream array includes that very string.
func TestHashtagStreamNamesTheSubscribedTag(t *testing.T) {
	s := newSocial(t)
	alice, bob := s.user("alice"), s.user("bob")
	sock, resp, err := s.ti.dialStream(url.Values{"access_token": {bob.tok}, "stream": {"hashtag"}, "tag": {"StreamTag"}}, nil)
	if err != nil {
		t.Fatalf("%v %v", err, resp)
	}
	got := sock.until(isUpdateOf(s.post(alice, "hello #streamtag")))
	if stream := got[len(got)-1].Stream; len(stream) != 2 || stream[1] != "StreamTag" {
		t.Errorf("subscribed to hashtag \"StreamTag\", the event's stream is %q", stream)
	}
}

// TestReblogDeletedWithItsOriginal: deleting a post takes its reblogs with
// it, and each reblog's deletion is streamed too (as on Mastodon), so a
// client drops the reblog from the home timeline it showed it in.
func TestReblogDeletedWithItsOriginal(t *testing.T) {
	s := newSocial(t)
	op, rb, f, stranger := s.user("op"), s.user("rb"), s.user("f"), s.user("stranger")
	s.follow(f, rb)
	sock := s.openStreamURL(f, "user")
	other := s.openStreamURL(stranger, "user")
	orig := s.post(op, "original")
	reblog := s.act(rb, "statuses/"+orig+"/reblog").json(t)["id"].(string)
	sock.until(isUpdateOf(reblog))
	s.must(op, "DELETE", "/api/v1/statuses/"+orig, nil)
	if r := s.req(f, "GET", "/api/v1/statuses/"+reblog, nil); r.status != 404 {
		t.Fatalf("the reblog outlived its original: %d", r.status)
	}
	got := sock.until(func(e streamEvent) bool { return e.Event == "delete" && e.Payload == reblog })
	_ = got
	// The stranger, who follows no one here, hears of neither.
	s.follow(stranger, op)
	barrier := s.post(op, "barrier")
	for _, e := range other.until(isUpdateOf(barrier)) {
		if e.Event == "delete" {
			t.Errorf("a stranger's home stream got the deletion of %s", e.Payload)
		}
	}
}

// TestSubprotocolEchoedWhenTokenElsewhere: a client that offers a
// subprotocol gets the first one selected whatever carried the token, as
// on Mastodon: browsers and the ws library fail a handshake that selects
// none.
func TestSubprotocolEchoedWhenTokenElsewhere(t *testing.T) {
	s := newSocial(t)
	bob := s.user("bob")
	_, resp, err := s.ti.dialStream(url.Values{"access_token": {bob.tok}, "stream": {"public"}}, http.Header{"Sec-WebSocket-Protocol": {bob.tok}})
	if err != nil {
		t.Fatalf("%v %v", err, resp)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != bob.tok {
		t.Errorf("offered %q as subprotocol (token also in the query): the 101 selects %q", bob.tok, got)
	}
}

// TestStreamingStress: sockets that subscribe, unsubscribe, send
// junk, close and reconnect while posts, edits, deletions, favourites and
// revocations flow; then the server stops with all of it going. Run with
// -race: no data race, no panic, and the stop completes.
func TestStreamingStress(t *testing.T) {
	s := newSocial(t, "[streaming]", `ping_interval = "1s"`, "send_queue = 8", "public_without_token = true")
	var users []user
	for i := 0; i < 6; i++ {
		users = append(users, s.user("u"+strconv.Itoa(i)))
	}
	for i := range users {
		s.follow(users[i], users[(i+1)%len(users)])
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	streams := []string{"user", "public", "public:local", "direct", "user:notification", "hashtag", "list", "nope"}
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := users[i%len(users)]
			q := url.Values{}
			if i%4 != 3 {
				q.Set("access_token", u.tok)
			} else {
				q.Set("stream", "public")
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				sock, _, err := s.ti.dialStream(q, nil)
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				for j := 0; j < 40; j++ {
					st := streams[(i+j)%len(streams)]
					typ := "subscribe"
					if j%3 == 2 {
						typ = "unsubscribe"
					}
					msg := `{"type":"` + typ + `","stream":"` + st + `","tag":"t` + strconv.Itoa(j%3) + `"}`
					if j%7 == 0 {
						msg = `{"type":`
					}
					if sock.conn.WriteMessage(1, []byte(msg)) != nil {
						break
					}
				}
				time.Sleep(time.Duration(50+i*20) * time.Millisecond)
				if i%2 == 0 {
					sock.conn.Close()
				} else {
					_ = sock.conn.WriteControl(8, []byte{3, 232}, time.Now().Add(time.Second))
				}
			}
		}()
	}
	stopPosting := make(chan struct{})
	var posting sync.WaitGroup
	posting.Add(1)
	go func() {
		defer posting.Done()
		for k := 0; ; k++ {
			select {
			case <-stopPosting:
				return
			default:
			}
			a, b := users[k%len(users)], users[(k+1)%len(users)]
			vis := []string{"public", "unlisted", "private", "direct"}[k%4]
			r := s.ti.call(s.ti.client, "POST", "/api/v1/statuses", url.Values{"status": {"@" + b.name + " #t" + strconv.Itoa(k%3) + " hi " + strconv.Itoa(k)}, "visibility": {vis}}, a.tok)
			if r.status != 200 {
				continue
			}
			id := r.json(t)["id"].(string)
			s.ti.call(s.ti.client, "POST", "/api/v1/statuses/"+id+"/favourite", url.Values{}, b.tok)
			if k%3 == 0 {
				s.ti.call(s.ti.client, "PUT", "/api/v1/statuses/"+id, url.Values{"status": {"edited"}}, a.tok)
			}
			if k%2 == 0 {
				s.ti.call(s.ti.client, "DELETE", "/api/v1/statuses/"+id, nil, a.tok)
			}
			if k%10 == 0 {
				tok, cid, sec := s.tokenFor(a, "read")
				if sock, _, err := s.ti.dialStream(url.Values{"access_token": {tok}, "stream": {"user"}}, nil); err == nil {
					_ = sock
				}
				s.ti.call(s.ti.client, "POST", "/oauth/revoke", url.Values{"client_id": {cid}, "client_secret": {sec}, "token": {tok}}, "")
			}
		}
	}()
	time.Sleep(3 * time.Second)
	close(stopPosting)
	posting.Wait()
	s.ti.cancel()
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	select {
	case err := <-s.ti.done:
		s.ti.done <- err // for the cleanup
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the stop did not complete")
	}
	if strings.Contains(s.ti.logs.String(), "recovered panic") {
		t.Errorf("a panic was recovered:\n%s", s.ti.logs.String())
	}
}

// closedWithin reports the close code if the server closes the socket
// within d (events meanwhile are dropped).
func (k *socket) closedWithin(d time.Duration) (int, bool) {
	deadline := time.After(d)
	for {
		select {
		case <-k.events:
		case <-k.closed:
			return k.closeCode, true
		case <-deadline:
			return 0, false
		}
	}
}

// TestWhatChangesAfterSubscribingApplies: what changes after a socket
// subscribed is applied per event: a block or mute made since, an edit removing a mention from a direct message, and a
// followers-only post to a non-follower.
func TestWhatChangesAfterSubscribingApplies(t *testing.T) {
	s := newSocial(t)
	author, blocker, muter, a, b, other := s.user("author"), s.user("blocker"), s.user("muter"), s.user("a"), s.user("b"), s.user("other")
	for _, v := range []user{blocker, muter, a} {
		s.follow(v, author)
	}
	socks := map[string]*socket{}
	for _, v := range []user{blocker, muter, a, b} {
		socks[v.name] = s.openStream(v, "user", "direct", "public")
		socks[v.name].settle(func() string { return s.post(other, "settling") })
	}
	s.act(blocker, "accounts/"+author.id+"/block")
	s.act(muter, "accounts/"+author.id+"/mute")
	pub := s.post(author, "public after the block")
	priv := s.post(author, "followers only", "visibility", "private")
	dm := s.post(author, "@a @b secret", "visibility", "direct")
	s.must(author, "PUT", "/api/v1/statuses/"+dm, url.Values{"status": {"@a secret, b removed"}})
	barrier := func() map[string][]streamEvent {
		id := s.post(other, "barrier")
		got := map[string][]streamEvent{}
		for n, k := range socks {
			got[n] = k.until(func(e streamEvent) bool { return e.streamName() == "public" && isUpdateOf(id)(e) })
		}
		return got
	}
	got := barrier()
	seen := func(name, id, event string) bool {
		for _, e := range got[name] {
			if e.Event == event && (event == "delete" && e.Payload == id || event != "delete" && isUpdateOf(id)(streamEvent{Event: "update", Payload: e.Payload})) {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		who, id, event string
		want           bool
	}{
		{"blocker", pub, "update", false}, {"blocker", priv, "update", false}, {"muter", pub, "update", false}, {"muter", priv, "update", false},
		{"a", priv, "update", true}, {"b", priv, "update", false},
		{"a", dm, "status.update", true}, {"b", dm, "status.update", false},
	} {
		if seen(c.who, c.id, c.event) != c.want {
			t.Errorf("%s: %s of %s delivered %v, want %v", c.who, c.event, c.id, !c.want, c.want)
		}
	}
}
