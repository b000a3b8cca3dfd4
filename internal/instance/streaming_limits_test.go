package instance

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/oauth"
)

// tokenFor issues another token of scopes to an existing account, and
// returns it with its app's client id and secret (for /oauth/revoke).
func (s *socialT) tokenFor(u user, scopes string) (tok, clientID, secret string) {
	s.t.Helper()
	ctx := context.Background()
	app, secret, err := s.ti.inst.OAuth().RegisterApp(ctx, oauth.AppParams{Name: "t", RedirectURIs: []string{oauth.OOB}, Scopes: scopes})
	if err != nil {
		s.t.Fatal(err)
	}
	sc, _ := oauth.ParseScopes(scopes)
	id, _ := strconv.ParseInt(u.id, 10, 64)
	issued, err := s.ti.inst.OAuth().IssueForAccount(ctx, app.ID, id, sc)
	if err != nil {
		s.t.Fatal(err)
	}
	return issued.Token, app.ClientID, secret
}

// openStreamURL opens a socket on the stream named in its URL, sending
// nothing after the handshake (a socket the server refuses at once is
// closed before a message could be sent).
func (s *socialT) openStreamURL(u user, stream string) *socket {
	s.t.Helper()
	q := url.Values{"stream": {stream}}
	if u.tok != "" {
		q.Set("access_token", u.tok)
	}
	sock, resp, err := s.ti.dialStream(q, nil)
	if err != nil {
		s.t.Fatalf("%s: streaming handshake: %v (%v)", u.name, err, resp)
	}
	return sock
}

// waitClosed waits for the server to close the socket and returns its code.
func (k *socket) waitClosed(within time.Duration) int {
	k.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case <-k.events:
		case <-k.closed:
			return k.closeCode
		case <-deadline:
			k.t.Fatalf("the stream was not closed within %s", within)
		}
	}
}

func (k *socket) assertOpen(d time.Duration) {
	k.t.Helper()
	select {
	case <-k.closed:
		k.t.Fatalf("the stream closed: %d %q", k.closeCode, k.closeText)
	case <-time.After(d):
	}
}

// TestStreamingAuthForms: the token works from the query, the
// Authorization header and Sec-WebSocket-Protocol (echoed, as browsers
// require); a missing, bad, revoked or read-less token, and a session
// cookie, get 401 before any upgrade; the 101 carries the security
// headers.
func TestStreamingAuthForms(t *testing.T) {
	s := newSocial(t)
	alice, bob := s.user("alice"), s.user("bob")
	for _, form := range []struct {
		name   string
		query  url.Values
		header http.Header
	}{
		{"query", url.Values{"access_token": {bob.tok}, "stream": {"public"}}, nil},
		{"header", url.Values{"stream": {"public"}}, http.Header{"Authorization": {"Bearer " + bob.tok}}},
		{"subprotocol", url.Values{"stream": {"public"}}, http.Header{"Sec-WebSocket-Protocol": {bob.tok}}},
	} {
		sock, resp, err := s.ti.dialStream(form.query, form.header)
		if err != nil {
			t.Fatalf("%s: %v (%v)", form.name, err, resp)
		}
		if form.name == "subprotocol" && resp.Header.Get("Sec-WebSocket-Protocol") != bob.tok {
			t.Errorf("the token subprotocol is not echoed: %q", resp.Header.Get("Sec-WebSocket-Protocol"))
		}
		for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "X-Xss-Protection": "0",
			"Referrer-Policy": "same-origin", "X-Permitted-Cross-Domain-Policies": "none"} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: the 101 has %s %q, want %q", form.name, k, got, want)
			}
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") || resp.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("%s: the 101 lacks the CSP or HSTS: %v", form.name, resp.Header)
		}
		id := s.post(alice, "form "+form.name)
		sock.until(isUpdateOf(id))
		sock.conn.Close()
	}

	writeOnly, _, _ := s.tokenFor(bob, "write")
	revoked, clientID, secret := s.tokenFor(bob, "read")
	s.ti.call(s.ti.client, "POST", "/oauth/revoke", url.Values{"client_id": {clientID}, "client_secret": {secret}, "token": {revoked}}, "")
	c, jar := s.ti.newClient()
	if r := s.ti.signIn(c, "bob", "correct horse battery", "/"); r.status >= 400 {
		t.Fatalf("sign in: %d", r.status)
	}
	cookies := jar.Cookies(&url.URL{Scheme: "https", Host: "example.test"})
	var cookie []string
	for _, ck := range cookies {
		cookie = append(cookie, ck.Name+"="+ck.Value)
	}
	for _, bad := range []struct {
		name   string
		query  url.Values
		header http.Header
	}{
		{"no token", url.Values{"stream": {"public"}}, nil},
		{"a bad token", url.Values{"stream": {"public"}, "access_token": {"nope"}}, nil},
		{"a bad subprotocol token", url.Values{"stream": {"public"}}, http.Header{"Sec-WebSocket-Protocol": {"nope"}}},
		{"a revoked token", url.Values{"stream": {"public"}, "access_token": {revoked}}, nil},
		{"a write-only token", url.Values{"stream": {"public"}, "access_token": {writeOnly}}, nil},
		{"a session cookie", url.Values{"stream": {"user"}}, http.Header{"Cookie": {strings.Join(cookie, "; ")}}},
	} {
		_, resp, err := s.ti.dialStream(bad.query, bad.header)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %v %v, want 401 before the upgrade", bad.name, err, resp)
		}
	}
	if len(cookie) == 0 {
		t.Fatal("the sign-in left no cookie to try")
	}
}

// TestStreamingEndsWhenAccessEnds: revoking a token, or disabling its
// account, closes its open streams (4001) within a few seconds (the hub
// checks once a second); another token's stream stays.
func TestStreamingEndsWhenAccessEnds(t *testing.T) {
	s := newSocial(t)
	bob, carol := s.user("bob"), s.user("carol")
	tok, clientID, secret := s.tokenFor(bob, "read")
	revoking := s.openStream(user{name: "bob", tok: tok}, "user")
	other := s.openStream(bob, "user")
	carols := s.openStream(carol, "user")
	events := s.eventsStream(user{name: "bob", tok: tok}, "/api/v1/streaming/user")
	s.ti.call(s.ti.client, "POST", "/oauth/revoke", url.Values{"client_id": {clientID}, "client_secret": {secret}, "token": {tok}}, "")
	if code := revoking.waitClosed(5 * time.Second); code != 4001 {
		t.Errorf("the revoked token's socket closed with %d, want 4001", code)
	}
	events.waitEnded(5 * time.Second)
	other.assertOpen(1500 * time.Millisecond)

	disabled := true
	id, _ := strconv.ParseInt(bob.id, 10, 64)
	if _, err := s.ti.inst.Accounts().Modify(context.Background(), id, accounts.Change{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if code := other.waitClosed(5 * time.Second); code != 4001 {
		t.Errorf("the disabled account's socket closed with %d, want 4001", code)
	}
	carols.assertOpen(time.Second)
}

// sseStream is a server-sent events response being read line by line.
type sseStream struct {
	t     *testing.T
	resp  *http.Response
	lines chan string
	ended chan struct{}
}

func (s *socialT) eventsStream(u user, path string) *sseStream {
	s.t.Helper()
	req, _ := http.NewRequest("GET", "https://example.test"+path, nil)
	if u.tok != "" {
		req.Header.Set("Authorization", "Bearer "+u.tok)
	}
	c := *s.ti.client
	c.Timeout = 0
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		s.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	e := &sseStream{t: s.t, resp: resp, lines: make(chan string, 1000), ended: make(chan struct{})}
	go func() {
		defer close(e.ended)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			e.lines <- sc.Text()
		}
	}()
	s.t.Cleanup(func() { resp.Body.Close() })
	return e
}

func (e *sseStream) waitEnded(within time.Duration) {
	e.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case <-e.lines:
		case <-e.ended:
			return
		case <-deadline:
			e.t.Fatalf("the event stream did not end within %s", within)
		}
	}
}

// until reads lines until one contains want.
func (e *sseStream) until(want string) []string {
	e.t.Helper()
	var got []string
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l := <-e.lines:
			got = append(got, l)
			if strings.Contains(l, want) {
				return got
			}
		case <-e.ended:
			e.t.Fatalf("the event stream ended before %q; got %q", want, got)
		case <-deadline:
			e.t.Fatalf("no %q within 10s; got %q", want, got)
		}
	}
}

// TestStreamingLimits: a token's, an account's and an anonymous address's
// connection limits close the next socket with 4029 (429 for server-sent events); a frame over
// 4 KiB closes with 1009; a client that answers no ping is closed (4002).
func TestStreamingLimits(t *testing.T) {
	s := newSocial(t, "[streaming]", "max_per_token = 2", "max_per_account = 3", `ping_interval = "1s"`, "public_without_token = true")
	alice, bob := s.user("alice"), s.user("bob")
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.ti.logs.String())
		}
	})

	a1, a2 := s.openStream(bob, "public"), s.openStream(bob, "public")
	third := s.openStreamURL(bob, "public")
	if code := third.waitClosed(5 * time.Second); code != 4029 {
		t.Errorf("a third socket of one token closed with %d, want 4029", code)
	}
	other, _, _ := s.tokenFor(bob, "read")
	b1 := s.openStream(user{name: "bob", tok: other}, "public")
	b2 := s.openStreamURL(user{name: "bob", tok: other}, "public")
	if code := b2.waitClosed(5 * time.Second); code != 4029 {
		t.Errorf("the account's fourth socket closed with %d, want 4029", code)
	}
	req, _ := http.NewRequest("GET", "https://example.test/api/v1/streaming/public", nil)
	req.Header.Set("Authorization", "Bearer "+bob.tok)
	if resp, err := s.ti.client.Do(req); err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("server-sent events over the token's limit: %v %v, want 429", err, resp)
	}
	// Anonymous streams count per client address, as an account's do.
	var anons []*socket
	for range 4 {
		anons = append(anons, s.openStreamURL(anon, "public"))
	}
	if code := anons[3].waitClosed(5 * time.Second); code != 4029 {
		t.Errorf("a fourth anonymous socket from one address closed with %d, want 4029", code)
	}
	anons[0].assertOpen(100 * time.Millisecond)
	for _, k := range anons {
		k.conn.Close()
	}
	a1.assertOpen(100 * time.Millisecond)
	a2.conn.Close()
	b1.conn.Close()
	time.Sleep(200 * time.Millisecond) // the server sees them go

	big := s.openStream(alice, "public")
	if err := big.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","stream":"`+strings.Repeat("x", 5000)+`"}`)); err != nil {
		t.Fatal(err)
	}
	if code := big.waitClosed(5 * time.Second); code != 1009 {
		t.Errorf("an oversized frame closed the socket with %d, want 1009", code)
	}

	// A client that reads, but answers no ping.
	deaf, _, err := s.ti.dialStreamWith(url.Values{"access_token": {alice.tok}, "stream": {"public"}}, nil,
		func(c *websocket.Conn) { c.SetPingHandler(func(string) error { return nil }) })
	if err != nil {
		t.Fatal(err)
	}
	if code := deaf.waitClosed(10 * time.Second); code != 4002 {
		t.Errorf("a socket that answers no ping closed with %d, want 4002", code)
	}
	a1.assertOpen(100 * time.Millisecond) // a1's client answers pings: still open after several
}

// TestStreamingSlowConsumer: a client that never reads is closed (4008)
// when its queue fills, while everyone else's events go on.
func TestStreamingSlowConsumer(t *testing.T) {
	// The default ping interval: the stuck client answers no ping either,
	// and must be closed for its queue, not its silence.
	s := newSocial(t, "[streaming]", "send_queue = 4")
	alice, bob := s.user("alice"), s.user("bob")
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.ti.logs.String())
		}
	})
	a1 := s.openStream(bob, "public")
	// A client that never reads, with a small receive window: its queue
	// fills and it is closed. a1 gets each event meanwhile, before the next
	// post (paced, so that only the stuck client can fall behind).
	stuck := s.stuckSocket(alice)
	closed := func() bool { return strings.Contains(s.ti.logs.String(), `"code":4008`) }
	// Links make large frames (about 100 KB each): the kernel's buffers
	// (up to 4 MiB) fill within a few dozen posts.
	for i := 0; i < 100 && !closed(); i++ {
		a1.until(isUpdateOf(s.post(bob, "flood "+strconv.Itoa(i)+" "+strings.Repeat("https://example.com/abcdefgh ", 160))))
	}
	// The close is logged when the connection is gone: its close frame
	// waits up to a second for a writer stuck on the full buffer.
	for deadline := time.Now().Add(10 * time.Second); !closed() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if !closed() {
		t.Fatal("the client that never reads was not closed for it")
	}
	a1.assertOpen(100 * time.Millisecond)
	// Once it reads, it finds its stream ended.
	_ = stuck.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64<<10)
	total := 0
	for {
		n, err := stuck.Read(buf)
		total += n
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the stuck socket was not closed by the server (read %d bytes)", total)
			}
			break
		}
	}
}

// stuckSocket is a raw TLS WebSocket subscribed to the public stream that
// reads nothing after the handshake, with a small receive buffer.
func (s *socialT) stuckSocket(u user) net.Conn {
	s.t.Helper()
	// The receive buffer is set before connecting, so that the window the
	// handshake advertises stays small.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	raw, err := d.Dial("tcp", s.ti.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	conn := tls.Client(raw, &tls.Config{RootCAs: s.ti.pool, ServerName: "example.test"})
	req := "GET /api/v1/streaming?stream=public&access_token=" + u.tok + " HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		s.t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, "101") {
		s.t.Fatalf("handshake: %q %v", status, err)
	}
	s.t.Cleanup(func() { conn.Close() })
	return conn
}

// TestStreamingClosesOnShutdown: stopping the server closes sockets with
// 1001 and ends event streams.
func TestStreamingClosesOnShutdown(t *testing.T) {
	s := newSocial(t)
	bob := s.user("bob")
	sock := s.openStream(bob, "user")
	events := s.eventsStream(bob, "/api/v1/streaming/public")
	sock.assertOpen(200 * time.Millisecond)
	s.ti.cancel()
	if code := sock.waitClosed(10 * time.Second); code != 1001 {
		t.Errorf("shutdown closed the socket with %d, want 1001", code)
	}
	events.waitEnded(10 * time.Second)
}
