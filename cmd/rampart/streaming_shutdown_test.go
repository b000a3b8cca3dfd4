package main

import (
	"bufio"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestSIGTERMClosesStreams: SIGTERM closes an open WebSocket with 1001
// (going away) and ends a server-sent events stream, so that neither holds
// the graceful stop: the process stops cleanly (a stream still open at the
// end of the shutdown window would make it exit 1).
func TestSIGTERMClosesStreams(t *testing.T) {
	data := t.TempDir()
	env := []string{"RAMPART_HTTP_SHUTDOWN_TIMEOUT=5s"}
	q := quickstartWithUser(t, data, env, "streaming shutdown")
	conn, resp, err := websocket.DefaultDialer.Dial(strings.Replace(q.server, "http://", "ws://", 1)+"/api/v1/streaming?stream=user&access_token="+q.token, nil)
	if err != nil {
		t.Fatalf("streaming handshake: %v %v", err, resp)
	}
	defer conn.Close()
	req, _ := http.NewRequest("GET", q.server+"/api/v1/streaming/public", nil)
	req.Header.Set("Authorization", "Bearer "+q.token)
	events, err := http.DefaultClient.Do(req)
	if err != nil || events.StatusCode != 200 {
		t.Fatalf("server-sent events: %v %v", err, events)
	}
	defer events.Body.Close()
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(events.Body)
		for sc.Scan() {
		}
	}()
	closed := make(chan int, 1)
	go func() {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				code := 0
				if ce, ok := err.(*websocket.CloseError); ok {
					code = ce.Code
				}
				closed <- code
				return
			}
		}
	}()

	q.p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case code := <-closed:
		if code != websocket.CloseGoingAway {
			t.Errorf("SIGTERM closed the socket with %d, want 1001", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not close the socket")
	}
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not end the event stream")
	}
	if code := q.p.wait(t); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0:\n%s", code, q.p.stderr.String())
	}
	if log := q.p.stderr.String(); !strings.Contains(log, "stopped cleanly") || strings.Contains(log, "still running") {
		t.Errorf("the stop was not clean:\n%s", log)
	}
}
