package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mattn/go-mastodon"
)

// The streaming API behind the nginx site `rampart gen nginx` prints, over
// TLS as a deployment serves it: a wss:// subscription (a plain WebSocket
// client, and go-mastodon's) receives a post made through the REST API, the
// 101 carries Rampart's security headers, and server-sent events pass
// through nginx as they are written, not held in its buffers.
func TestNginxStreaming(t *testing.T) {
	d := deployBehindNginx(t)
	client := proxyClient(t, d.pool, "", nil)
	appHost := strings.TrimPrefix(d.app, "https://")
	dial := client.Transport.(*http.Transport).DialContext // the test's resolver: both hosts at nginx on 127.0.0.1

	// An app, and two people signed in to it through the pages: nina reads
	// streams, omar posts.
	const appName = "nginx streaming test"
	var app struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	resp, err := client.PostForm(d.app+"/api/v1/apps", url.Values{
		"client_name": {appName}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read write"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 200 || json.Unmarshal(body, &app) != nil || app.ClientID == "" {
		t.Fatalf("POST /api/v1/apps: %d %s", resp.StatusCode, body)
	}
	tokens := map[string]string{}
	for _, u := range []string{"nina", "omar"} {
		if _, stderr, code := runStdin(t, nil, socialPassword+"\n", "admin", "user", "create", "--config", d.cfg,
			"--username", u, "--email", u+"@example.test", "--password-stdin"); code != 0 {
			t.Fatalf("admin user create %s: %d %s", u, code, stderr)
		}
		tokens[u] = nginxSignInAs(t, d, app.ClientID, app.ClientSecret, appName, u, socialPassword)
	}
	library := func(token string) *mastodon.Client {
		c := mastodon.NewClient(&mastodon.Config{Server: d.app, AccessToken: token})
		c.Client = *proxyClient(t, d.pool, "", nil)
		return c
	}
	nina, omar := library(tokens["nina"]), library(tokens["omar"])
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	post := func(text string) *mastodon.Status {
		t.Helper()
		st, err := omar.PostStatus(ctx, &mastodon.Toot{Status: text, Visibility: "public"})
		if err != nil {
			t.Fatalf("PostStatus through nginx: %v", err)
		}
		return st
	}

	t.Run("the instance points clients at wss", func(t *testing.T) {
		inst, err := nina.GetInstance(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := inst.URLs["streaming_api"]; got != "wss://"+appHost {
			t.Errorf("urls.streaming_api = %q, want wss://%s", got, appHost)
		}
	})

	t.Run("WebSocket over wss", func(t *testing.T) {
		// The token in Sec-WebSocket-Protocol, as browsers and masto.js send
		// it; one stream named at connect, one subscribed by a message.
		dialer := websocket.Dialer{
			NetDialContext:   dial,
			TLSClientConfig:  &tls.Config{RootCAs: d.pool, MinVersion: tls.VersionTLS12},
			HandshakeTimeout: 10 * time.Second,
			Subprotocols:     []string{tokens["nina"]},
		}
		conn, resp, err := dialer.Dial("wss://"+appHost+"/api/v1/streaming?stream=public:local", nil)
		if err != nil {
			if resp != nil {
				t.Fatalf("handshake through nginx: %v (%d %v)", err, resp.StatusCode, resp.Header)
			}
			t.Fatalf("handshake through nginx: %v", err)
		}
		defer conn.Close()
		if resp.StatusCode != http.StatusSwitchingProtocols || conn.Subprotocol() != tokens["nina"] {
			t.Errorf("handshake: %d, subprotocol %q, want 101 echoing the token", resp.StatusCode, conn.Subprotocol())
		}
		if resp.Header.Get("Server") != "nginx" || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("the 101 is not Rampart's through nginx: %v", resp.Header)
		}
		for h, want := range map[string]string{
			"X-Frame-Options":           "DENY",
			"X-Content-Type-Options":    "nosniff",
			"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
		} {
			if got := resp.Header.Values(h); len(got) != 1 || got[0] != want {
				t.Errorf("101: %s = %q, want %q once", h, got, want)
			}
		}
		csp := resp.Header.Values("Content-Security-Policy")
		if len(csp) != 1 || !strings.HasPrefix(csp[0], "default-src 'none'") || !strings.Contains(csp[0], "frame-ancestors 'none'") ||
			!strings.Contains(csp[0], "connect-src 'self' wss://"+appHost) {
			t.Errorf("101: Content-Security-Policy %q", csp)
		}

		for _, msg := range []map[string]string{
			{"type": "subscribe", "stream": "hashtag", "tag": "NginxLive"},
			// Answered with an error frame once the socket has read the
			// subscription before it: then both streams are open.
			{"type": "subscribe", "stream": "no-such-stream"},
		} {
			if err := conn.WriteJSON(msg); err != nil {
				t.Fatal(err)
			}
		}
		type frame struct {
			Stream  []string `json:"stream"`
			Event   string   `json:"event"`
			Payload string   `json:"payload"`
			Error   string   `json:"error"`
			Status  int      `json:"status"`
		}
		var got []frame
		read := func(until func(frame) bool) {
			t.Helper()
			conn.SetReadDeadline(time.Now().Add(streamDeadline))
			for {
				var f frame
				if err := conn.ReadJSON(&f); err != nil {
					t.Fatalf("reading the socket through nginx: %v; it delivered %+v", err, got)
				}
				got = append(got, f)
				if until(f) {
					return
				}
			}
		}
		read(func(f frame) bool { return f.Error != "" })
		if last := got[len(got)-1]; last.Error != "Unknown stream type" || last.Status != 400 {
			t.Errorf("answer to an unknown stream: %+v", last)
		}

		st := post("Through nginx, live: #NginxLive")
		seen := map[string]bool{}
		read(func(f frame) bool {
			if f.Event != "update" {
				return false
			}
			var s struct {
				ID      string `json:"id"`
				Content string `json:"content"`
				Account struct {
					Username string `json:"username"`
				} `json:"account"`
			}
			if err := json.Unmarshal([]byte(f.Payload), &s); err != nil {
				t.Fatalf("update payload: %v: %q", err, f.Payload)
			}
			if s.ID != string(st.ID) {
				return false
			}
			if !strings.Contains(s.Content, "Through nginx, live:") || s.Account.Username != "omar" {
				t.Errorf("update on %v: %+v", f.Stream, s)
			}
			seen[strings.Join(f.Stream, " ")] = true
			return seen["public:local"] && seen["hashtag NginxLive"] // the tag as subscribed, as Mastodon names it
		})
	})

	t.Run("go-mastodon's WebSocket client over wss", func(t *testing.T) {
		ws := nina.NewWSClient()
		ws.TLSClientConfig = &tls.Config{RootCAs: d.pool, MinVersion: tls.VersionTLS12}
		ws.NetDialContext = dial
		ws.HandshakeTimeout = 10 * time.Second
		local := openLive(t, "nina's local stream through nginx (go-mastodon)", func(ctx context.Context) (chan mastodon.Event, error) {
			return ws.StreamingWSPublic(ctx, true)
		})
		warmUp(t, ctx, omar, "omar warms up through nginx", local)
		st := post("Seen live by go-mastodon through nginx")
		if got := local.update(t, st.ID); !strings.Contains(got.Content, "Seen live by go-mastodon through nginx") || got.Account.Username != "omar" {
			t.Errorf("update %+v", got)
		}
		if err := omar.DeleteStatus(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
		local.deleted(t, st.ID)
	})

	t.Run("server-sent events are not buffered", func(t *testing.T) {
		sse := proxyClient(t, d.pool, "", nil)
		sse.Timeout = 0 // a stream stays open; the context ends it
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		req, _ := http.NewRequestWithContext(sctx, "GET", d.app+"/api/v1/streaming/public/local", nil)
		req.Header.Set("Authorization", "Bearer "+tokens["nina"])
		// nginx holding the stream back may hold its headers too.
		headers := time.AfterFunc(streamDeadline, stop)
		resp, err := sse.Do(req)
		if !headers.Stop() {
			t.Fatalf("no answer through nginx within %s (nginx buffers the stream?): %v", streamDeadline, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("GET /api/v1/streaming/public/local through nginx: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
			resp.Header.Get("Strict-Transport-Security") == "" || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("event stream headers through nginx: %v", resp.Header)
		}
		lines := make(chan string, 256)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		var got []string
		// next returns the next line, failing the test if none comes while
		// the stream stays open: nginx holding it back in a buffer.
		next := func(what string) string {
			t.Helper()
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended before %s; it delivered %q", what, got)
				}
				got = append(got, l)
				return l
			case <-time.After(streamDeadline):
				t.Fatalf("no %s through nginx within %s while the stream is open (nginx buffers it?); it delivered %q", what, streamDeadline, got)
				return ""
			}
		}
		// Rampart's opening comment, sent once the stream is subscribed.
		for next("opening comment") != ":)" {
		}
		st := post("An event nginx must not hold back")
		for {
			if next("the update event") != "event: update" {
				continue
			}
			data, ok := strings.CutPrefix(next("the update's data"), "data: ")
			if !ok {
				t.Fatalf("event without data: %q", got)
			}
			var s struct {
				ID      string `json:"id"`
				Content string `json:"content"`
			}
			if err := json.Unmarshal([]byte(data), &s); err != nil {
				t.Fatalf("update data: %v: %q", err, data)
			}
			if s.ID == string(st.ID) {
				if !strings.Contains(s.Content, "An event nginx must not hold back") {
					t.Errorf("update %+v", s)
				}
				break
			}
		}
	})
}
