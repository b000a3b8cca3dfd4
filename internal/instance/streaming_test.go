package instance

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// streamEvent is one event a stream delivered.
type streamEvent struct {
	Stream  []string `json:"stream"`
	Event   string   `json:"event"`
	Payload string   `json:"payload"`
	Error   string   `json:"error"`
	Status  int      `json:"status"`
}

// socket is a WebSocket to the streaming API, read by a goroutine into
// events until it closes (closeCode is then set).
type socket struct {
	t         *testing.T
	conn      *websocket.Conn
	events    chan streamEvent
	closed    chan struct{}
	closeCode int
	closeText string
}

// dialStream opens /api/v1/streaming with query and header, through TLS
// as a client would; resp is the handshake's answer either way.
func (ti *tlsInstance) dialStream(query url.Values, header http.Header) (*socket, *http.Response, error) {
	return ti.dialStreamWith(query, header, nil)
}

// dialStreamWith is dialStream with prepare applied to the connection
// before it is read.
func (ti *tlsInstance) dialStreamWith(query url.Values, header http.Header, prepare func(*websocket.Conn)) (*socket, *http.Response, error) {
	return ti.dialStreamAt("/api/v1/streaming", query, header, prepare)
}

// dialStreamAt is dialStreamWith on another path.
func (ti *tlsInstance) dialStreamAt(path string, query url.Values, header http.Header, prepare func(*websocket.Conn)) (*socket, *http.Response, error) {
	d := websocket.Dialer{
		NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", ti.addr)
		},
		TLSClientConfig:  &tls.Config{RootCAs: ti.pool, ServerName: "example.test"},
		HandshakeTimeout: 10 * time.Second,
	}
	u := "wss://example.test" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	conn, resp, err := d.Dial(u, header)
	if err != nil {
		return nil, resp, err
	}
	if prepare != nil {
		prepare(conn)
	}
	s := &socket{t: ti.t, conn: conn, events: make(chan streamEvent, 1000), closed: make(chan struct{})}
	go func() {
		defer close(s.closed)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				if ce, ok := err.(*websocket.CloseError); ok {
					s.closeCode, s.closeText = ce.Code, ce.Text
				}
				return
			}
			var e streamEvent
			if err := json.Unmarshal(msg, &e); err != nil {
				ti.t.Errorf("a frame that is not JSON: %q", msg)
				continue
			}
			s.events <- e
		}
	}()
	ti.t.Cleanup(func() { conn.Close() })
	return s, resp, nil
}

// openStream is dialStream with the token in the query, failing the test
// unless it connects; each of streams is subscribed to by a message.
func (s *socialT) openStream(u user, streams ...string) *socket {
	s.t.Helper()
	q := url.Values{}
	if u.tok != "" {
		q.Set("access_token", u.tok)
	}
	sock, resp, err := s.ti.dialStream(q, nil)
	if err != nil {
		s.t.Fatalf("%s: streaming handshake: %v (%v)", u.name, err, resp)
	}
	for _, st := range streams {
		name, tag, _ := strings.Cut(st, "#")
		msg := map[string]string{"type": "subscribe", "stream": name}
		if tag != "" {
			msg["tag"] = tag
		}
		if err := sock.conn.WriteJSON(msg); err != nil {
			s.t.Fatal(err)
		}
	}
	return sock
}

// until collects events until one matches stop (included), or fails the
// test after 10 seconds.
func (k *socket) until(stop func(streamEvent) bool) []streamEvent {
	k.t.Helper()
	var got []streamEvent
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-k.events:
			got = append(got, e)
			if stop(e) {
				return got
			}
		case <-k.closed:
			k.t.Fatalf("the stream closed (%d %q) before the awaited event; got %+v", k.closeCode, k.closeText, got)
		case <-deadline:
			k.t.Fatalf("no awaited event within 10s; got %+v", got)
		}
	}
}

// settle posts (through post) until an update of a post reaches the
// socket's public stream: its earlier subscriptions are then in place.
func (k *socket) settle(post func() string) {
	k.t.Helper()
	for range 50 {
		id := post()
		deadline := time.After(200 * time.Millisecond)
	wait:
		for {
			select {
			case e := <-k.events:
				if e.streamName() == "public" && isUpdateOf(id)(e) {
					// Drain the earlier settling posts' events.
					for {
						select {
						case <-k.events:
						case <-time.After(300 * time.Millisecond):
							return
						}
					}
				}
			case <-deadline:
				break wait
			}
		}
	}
	k.t.Fatal("the subscriptions never took effect")
}

// statusOf decodes an update's payload.
func (e streamEvent) statusOf(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(e.Payload), &m); err != nil {
		t.Fatalf("payload of %s: %v: %q", e.Event, err, e.Payload)
	}
	return m
}

func isUpdateOf(id string) func(streamEvent) bool {
	return func(e streamEvent) bool {
		if e.Event != "update" {
			return false
		}
		var m map[string]any
		return json.Unmarshal([]byte(e.Payload), &m) == nil && m["id"] == id
	}
}

func TestStreamingSmoke(t *testing.T) {
	s := newSocial(t)
	alice, bob := s.user("alice"), s.user("bob")
	s.follow(bob, alice)
	sock := s.openStream(bob, "user", "public")
	time.Sleep(200 * time.Millisecond) // the subscriptions are read
	id := s.post(alice, "hello #tag")
	got := sock.until(isUpdateOf(id))
	t.Logf("%+v", got)
}

// item is how a status shows in a list: its id, or for a reblog
// "id>reblogged-id" (as itemIDs writes REST lists).
func (e streamEvent) item(t *testing.T) string {
	m := e.statusOf(t)
	id := m["id"].(string)
	if rb, ok := m["reblog"].(map[string]any); ok {
		id += ">" + rb["id"].(string)
	}
	return id
}

func (e streamEvent) streamName() string { return strings.Join(e.Stream, "#") }

// TestStreamingVisibilityMatrix holds every stream to its REST timeline:
// for each visibility and each kind of subscriber (the author, a follower,
// a mentioned account, a stranger, one the author blocks, one who blocks
// the author, one who mutes the author, an anonymous client), exactly the
// statuses the REST API lists reach each stream, as the entities it
// returns; edits reach where the status did; deletions reach exactly those
// who could see the status; notifications only their recipient.
func TestStreamingVisibilityMatrix(t *testing.T) {
	s := newSocial(t, "[streaming]", "public_without_token = true")
	author, zz := s.user("author"), s.user("zz")
	follower, mentioned, stranger := s.user("follower"), s.user("mentioned"), s.user("stranger")
	blocked, blocker, muter := s.user("blocked"), s.user("blocker"), s.user("muter")
	op := s.user("op")
	viewers := []user{author, follower, mentioned, stranger, blocked, blocker, muter, anon}
	for _, v := range viewers[:len(viewers)-1] {
		if v != zz {
			s.follow(v, zz) // the barrier's posts reach every home timeline
		}
	}
	s.follow(follower, author)
	s.follow(muter, author)
	s.follow(blocked, author)
	s.act(author, "accounts/"+blocked.id+"/block")
	s.act(blocker, "accounts/"+author.id+"/block")
	s.act(muter, "accounts/"+author.id+"/mute")
	// The mentioned account takes private mentions from strangers (the
	// default notification policy holds them back, as Mastodon 4.3's does).
	s.must(mentioned, "PATCH", "/api/v2/notifications/policy", url.Values{"for_private_mentions": {"accept"}})
	root := s.post(op, "a root #streamtag", "visibility", "public")

	streams := []string{"user", "public:local", "hashtag#streamtag", "direct", "public"}
	sockets := map[string]*socket{}
	for _, v := range viewers {
		subs := streams
		if v == anon {
			subs = []string{"public:local", "hashtag#streamtag", "public"}
		}
		sockets[v.name] = s.openStream(v, subs...)
	}
	barrier := func() map[string][]streamEvent {
		t.Helper()
		id := s.post(zz, "barrier #streamtag", "visibility", "public")
		got := map[string][]streamEvent{}
		for _, v := range viewers {
			got[v.name] = sockets[v.name].until(func(e streamEvent) bool { return e.streamName() == "public" && isUpdateOf(id)(e) })
		}
		return got
	}
	// Subscriptions take effect as the server reads them, in order, public
	// last: once a barrier arrives on public, every stream is in place.
	for _, v := range viewers {
		sockets[v.name].settle(func() string { return s.post(zz, "settling", "visibility", "public") })
	}

	ids := map[string]string{}
	for _, v := range []string{"public", "unlisted", "private", "direct"} {
		ids[v] = s.post(author, "@mentioned @blocked @blocker hello #StreamTag "+v, "visibility", v)
	}
	ids["reblog"] = s.act(author, "statuses/"+root+"/reblog").json(t)["id"].(string)
	mine := map[string]bool{}
	for _, id := range ids {
		mine[id] = true
	}
	ofAuthor := func(item string) bool { id, _, _ := strings.Cut(item, ">"); return mine[id] }
	got := barrier()

	// What each REST read shows each viewer, of the author's statuses.
	restPaths := map[string]string{
		"user": "/api/v1/timelines/home?limit=40", "public": "/api/v1/timelines/public?limit=40",
		"public:local": "/api/v1/timelines/public?local=true&limit=40", "hashtag#streamtag": "/api/v1/timelines/tag/streamtag?limit=40",
	}
	visible := map[string]map[string]bool{} // viewer → status id → may GET it
	for _, v := range viewers {
		visible[v.name] = map[string]bool{}
		for _, id := range ids {
			visible[v.name][id] = s.req(v, "GET", "/api/v1/statuses/"+id, nil).status == 200
		}
	}
	shown := map[string]map[string][]string{} // viewer → stream → items
	cells := 0
	for _, v := range viewers {
		shown[v.name] = map[string][]string{}
		want := map[string][]string{}
		for st, path := range restPaths {
			if v == anon && st == "user" {
				continue
			}
			for _, item := range s.statusList(v, path) {
				if ofAuthor(item) {
					want[st] = append(want[st], item)
				}
			}
		}
		if v != anon {
			for _, vis := range []string{"public", "unlisted", "private", "direct"} {
				r := s.req(v, "GET", "/api/v1/statuses/"+ids[vis], nil)
				if r.status == 200 && r.json(t)["visibility"] == "direct" {
					want["direct"] = append(want["direct"], ids[vis])
				}
			}
		}
		for _, e := range got[v.name] {
			if e.Event != "update" {
				continue
			}
			item := e.item(t)
			if !ofAuthor(item) {
				continue
			}
			shown[v.name][e.streamName()] = append(shown[v.name][e.streamName()], item)
			// The payload is the entity the REST API returns this viewer.
			id, _, _ := strings.Cut(item, ">")
			rest := s.req(v, "GET", "/api/v1/statuses/"+id, nil)
			if !equalJSON(withoutCounters(t, e.Payload), withoutCounters(t, rest.body)) {
				t.Errorf("%s on %s: the payload differs from GET /api/v1/statuses/%s:\n stream %s\n rest   %s", v.name, e.streamName(), id, e.Payload, rest.body)
			}
		}
		for _, st := range streams {
			cells++
			if !sameSet(shown[v.name][st], want[st]) {
				t.Errorf("%s's %s stream got %v; the REST API shows %v", v.name, st, shown[v.name][st], want[st])
			}
		}
	}
	// The matrix is not vacuous: the cells that must hold something do.
	for _, c := range []struct{ viewer, stream, id string }{
		{"follower", "user", ids["private"]}, {"mentioned", "direct", ids["direct"]}, {"author", "user", ids["direct"]},
		{"stranger", "public", ids["public"]}, {"anonymous", "hashtag#streamtag", ids["public"]}, {"follower", "user", ids["reblog"] + ">" + root},
	} {
		if !has(shown[c.viewer][c.stream], c.id) {
			t.Errorf("%s's %s stream lacks %s: %v", c.viewer, c.stream, c.id, shown[c.viewer][c.stream])
		}
	}
	for _, c := range []struct{ viewer, id string }{
		{"stranger", ids["private"]}, {"blocked", ids["public"]}, {"blocker", ids["public"]}, {"muter", ids["public"]}, {"anonymous", ids["unlisted"]},
	} {
		for st, items := range shown[c.viewer] {
			if has(items, c.id) {
				t.Errorf("%s's %s stream shows %s", c.viewer, st, c.id)
			}
		}
	}

	// Notifications: the mentioned account hears of each mention, live.
	for _, v := range viewers {
		var notes []string
		for _, e := range got[v.name] {
			if e.Event == "notification" {
				var n map[string]any
				_ = json.Unmarshal([]byte(e.Payload), &n)
				notes = append(notes, n["type"].(string)+" "+n["status"].(map[string]any)["id"].(string))
			}
		}
		var want []string
		if v == mentioned {
			for _, vis := range []string{"public", "unlisted", "private", "direct"} {
				want = append(want, "mention "+ids[vis])
			}
		}
		if !sameSet(notes, want) {
			t.Errorf("%s's notification events: %v, want %v", v.name, notes, want)
		}
	}

	// Edits reach the streams that showed the status, as each viewer's
	// entity: the follower's favourite and bookmark show in its copy only.
	s.act(follower, "statuses/"+ids["public"]+"/favourite")
	s.act(follower, "statuses/"+ids["public"]+"/bookmark")
	for _, vis := range []string{"public", "private"} {
		s.must(author, "PUT", "/api/v1/statuses/"+ids[vis], url.Values{"status": {"@mentioned @blocked @blocker edited #streamtag " + vis}})
	}
	got = barrier()
	for _, v := range viewers {
		edited := map[string][]string{}
		for _, e := range got[v.name] {
			if e.Event == "status.update" {
				edited[e.streamName()] = append(edited[e.streamName()], e.item(t))
				if !strings.Contains(e.statusOf(t)["content"].(string), "edited") {
					t.Errorf("%s: status.update without the edit: %s", v.name, e.Payload)
				}
				id, _, _ := strings.Cut(e.item(t), ">")
				rest := s.req(v, "GET", "/api/v1/statuses/"+id, nil)
				if !equalJSON(withoutCounters(t, e.Payload), withoutCounters(t, rest.body)) {
					t.Errorf("%s on %s: the status.update payload differs from GET /api/v1/statuses/%s:\n stream %s\n rest   %s", v.name, e.streamName(), id, e.Payload, rest.body)
				}
				if v == follower && id == ids["public"] && (e.statusOf(t)["favourited"] != true || e.statusOf(t)["bookmarked"] != true) {
					t.Errorf("the follower's copy lacks its favourite and bookmark: %s", e.Payload)
				}
			}
		}
		for _, st := range streams {
			var want []string
			for _, item := range shown[v.name][st] {
				if item == ids["public"] || item == ids["private"] {
					want = append(want, item)
				}
			}
			if !sameSet(edited[st], want) {
				t.Errorf("%s's %s stream: status.update for %v, want %v", v.name, st, edited[st], want)
			}
		}
	}

	// Deletions reach exactly those who could see the status, on a stream
	// that could have shown it: a home stream of the author, a mentioned
	// account or a follower; a public stream for a public original; a
	// direct stream for a direct status.
	for _, v := range viewers {
		for kind, id := range ids {
			atHome := v != anon && (v == author || v == follower || v == muter || v == mentioned && kind != "reblog")
			visible[v.name][id] = s.req(v, "GET", "/api/v1/statuses/"+id, nil).status == 200 &&
				(atHome || kind == "public" || kind == "direct" && v != anon)
		}
	}
	for _, vis := range []string{"public", "unlisted", "private", "direct"} {
		s.must(author, "DELETE", "/api/v1/statuses/"+ids[vis], nil)
	}
	s.act(author, "statuses/"+root+"/unreblog")
	got = barrier()
	for _, v := range viewers {
		deleted := map[string]bool{}
		for _, e := range got[v.name] {
			if e.Event == "delete" {
				deleted[e.Payload] = true
			}
		}
		for kind, id := range ids {
			if deleted[id] != visible[v.name][id] {
				t.Errorf("%s: delete of the %s status %s delivered %v, but it could see it: %v", v.name, kind, id, deleted[id], visible[v.name][id])
			}
		}
	}
	t.Logf("%d viewer×stream cells compared", cells)
}

// withoutCounters decodes a Status without its author's counters, which
// move with every post (the stream's copy is rendered at its event).
func withoutCounters(t *testing.T, status string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(status), &m); err != nil {
		t.Fatalf("%v: %s", err, status)
	}
	for _, st := range []map[string]any{m, func() map[string]any { r, _ := m["reblog"].(map[string]any); return r }()} {
		if acc, ok := st["account"].(map[string]any); ok {
			for _, k := range []string{"statuses_count", "followers_count", "following_count", "last_status_at"} {
				delete(acc, k)
			}
		}
	}
	return m
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestStreamingForms: server-sent events carry "event:" and "data:" lines
// with the same payloads; a token that may read statuses but not
// notifications gets no notification on its user stream, and may not
// subscribe to user:notification; unknown streams get Mastodon's error
// frame and leave the socket open; the health check answers OK.
func TestStreamingForms(t *testing.T) {
	s := newSocial(t)
	alice, bob := s.user("alice"), s.user("bob")
	s.follow(bob, alice)
	statusesOnly, _, _ := s.tokenFor(bob, "read:statuses")
	notesOnly, _, _ := s.tokenFor(bob, "read:notifications")

	r := s.req(anon, "GET", "/api/v1/streaming/health", nil)
	if r.status != 200 || r.body != "OK" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("health: %d %q %s", r.status, r.body, r.header.Get("Content-Type"))
	}
	if r := s.req(bob, "GET", "/api/v1/streaming/nope", nil); r.status != 404 {
		t.Errorf("GET /api/v1/streaming/nope: %d, want 404", r.status)
	}
	if r := s.req(bob, "GET", "/api/v1/streaming/list?list=1", nil); r.status != 401 {
		t.Errorf("a list stream of a list that is not bob's: %d, want 401", r.status)
	}
	if r := s.req(bob, "GET", "/api/v1/streaming/hashtag", nil); r.status != 400 {
		t.Errorf("a hashtag stream without a tag: %d, want 400", r.status)
	}
	if r := s.req(user{name: "bob", tok: statusesOnly}, "GET", "/api/v1/streaming/user/notification", nil); r.status != 401 {
		t.Errorf("user:notification with read:statuses only: %d, want 401", r.status)
	}

	home := s.eventsStream(user{name: "bob", tok: statusesOnly}, "/api/v1/streaming/user")
	// A WebSocket may connect on a stream's path too, as on Mastodon.
	local, resp, err := s.ti.dialStreamAt("/api/v1/streaming/public/local", url.Values{"access_token": {bob.tok}}, nil, nil)
	if err != nil {
		t.Fatalf("a WebSocket on /api/v1/streaming/public/local: %v %v", err, resp)
	}
	if _, resp, err := s.ti.dialStreamAt("/api/v1/streaming/nope", url.Values{"access_token": {bob.tok}}, nil, nil); err == nil || resp.StatusCode != 404 {
		t.Errorf("a WebSocket on an unknown stream path: %v %v, want 404", err, resp)
	}
	notes := s.eventsStream(user{name: "bob", tok: notesOnly}, "/api/v1/streaming/user/notification")
	sock := s.openStream(bob, "list", "hashtag", "nope", "user:notification", "public")
	for _, want := range []string{"No list for stream provided", "No tag for stream provided", "Unknown stream type"} {
		got := sock.until(func(e streamEvent) bool { return e.Error != "" })
		if e := got[len(got)-1]; e.Error != want || e.Status != 400 {
			t.Errorf("error frame %+v, want %q 400", e, want)
		}
	}
	sock.settle(func() string { return s.post(alice, "settling") }) // user:notification is in place

	id := s.post(alice, "@bob hello")
	lines := home.until(`"id":"` + id + `"`)
	if len(lines) < 2 || lines[len(lines)-2] != "event: update" || !strings.HasPrefix(lines[len(lines)-1], "data: {") {
		t.Errorf("server-sent event lines: %q", lines[max(0, len(lines)-2):])
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[len(lines)-1], "data: ")), &st); err != nil || st["content"] == nil {
		t.Errorf("the data line is not the Status: %v %v", err, st)
	}
	if e := local.until(isUpdateOf(id)); e[len(e)-1].streamName() != "public:local" {
		t.Errorf("the path's stream is %v", e[len(e)-1].Stream)
	}
	lines = notes.until(`"type":"mention"`)
	if lines[len(lines)-2] != "event: notification" {
		t.Errorf("notification lines: %q", lines[len(lines)-2:])
	}
	got := sock.until(func(e streamEvent) bool { return e.Event == "notification" })
	if got[len(got)-1].streamName() != "user:notification" {
		t.Errorf("the notification came on %v", got[len(got)-1].Stream)
	}
	s.must(alice, "DELETE", "/api/v1/statuses/"+id, nil)
	lines = home.until("data: " + id)
	if lines[len(lines)-2] != "event: delete" {
		t.Errorf("delete lines: %q", lines[len(lines)-2:])
	}
	// The statuses-only user stream carried no notification.
	for _, l := range lines {
		if l == "event: notification" {
			t.Error("a token without read:notifications got a notification on its user stream")
		}
	}
}
