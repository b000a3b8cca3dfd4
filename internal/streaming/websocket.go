package streaming

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

// readSocket reads the client's subscribe and unsubscribe messages until
// the socket ends. Any frame, pong included, proves the client alive; two
// pings without an answer (two and a half intervals) close it.
func (h *Hub) readSocket(c *client, conn *websocket.Conn, id *identity) {
	alive := 5 * h.cfg.PingInterval.D() / 2
	_ = conn.SetReadDeadline(time.Now().Add(alive))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(alive)) })
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			var ne net.Error
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				c.close(closeTooBig, "a message over 4096 bytes")
			case errors.As(err, &ne) && ne.Timeout():
				c.close(closeMissedPongs, "no answer to two pings")
			default:
				c.close(websocket.CloseNormalClosure, "")
			}
			return
		}
		_ = conn.SetReadDeadline(time.Now().Add(alive))
		subscribe, s, err := parseClientMessage(msg)
		if err == nil {
			if subscribe {
				// The socket outlives its request: a list stream's check
				// gets a context of its own, bounded.
				ctx, cancel := context.WithTimeout(context.Background(), writeWait)
				err = h.allows(ctx, id, s)
				cancel()
				if err == nil && !c.subscribe(s) {
					err = errTooManyStreams
				}
			} else {
				c.unsubscribe(s)
			}
		}
		if err != nil {
			c.send(errorFrame(err))
		}
	}
}

var errTooManyStreams = errors.New("Too many streams on this connection")

// errorFrame is Mastodon's answer to a message it cannot follow.
func errorFrame(err error) []byte {
	status := 400
	switch err {
	case errMissingToken, errScopes:
		status = 401
	}
	b, _ := json.Marshal(struct {
		Error  string `json:"error"`
		Status int    `json:"status"`
	}{err.Error(), status})
	return b
}

// writeSocket sends what is queued, then ends until the next wake. A
// write that cannot finish within writeWait means a client that does not
// read: it is closed.
func (h *Hub) writeSocket(c *client, conn *websocket.Conn) {
	for {
		frame, ping, ok := c.next()
		if !ok {
			return
		}
		deadline := time.Now().Add(writeWait)
		var err error
		if ping {
			err = conn.WriteControl(websocket.PingMessage, nil, deadline)
		} else {
			_ = conn.SetWriteDeadline(deadline)
			err = conn.WriteMessage(websocket.TextMessage, frame)
		}
		if err != nil {
			c.close(closeSlowConsumer, "the client did not read in time")
			return
		}
	}
}
