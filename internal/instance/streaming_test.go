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
	d := websocket.Dialer{
		NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", ti.addr)
		},
		TLSClientConfig:  &tls.Config{RootCAs: ti.pool, ServerName: "example.test"},
		HandshakeTimeout: 10 * time.Second,
	}
	u := "wss://example.test/api/v1/streaming"
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	conn, resp, err := d.Dial(u, header)
	if err != nil {
		return nil, resp, err
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
