package streaming

import (
	"sync"
)

// Close codes a stream ends with (docs/streaming.md). 1001 and 1009 are
// RFC 6455's; the 4000s are Rampart's own.
const (
	closeGoingAway    = 1001 // the server is shutting down
	closeTooBig       = 1009 // a client frame over maxClientMessage
	closeRevoked      = 4001 // the token was revoked, or its account disabled
	closeMissedPongs  = 4002 // two pings went unanswered
	closeSlowConsumer = 4008 // the send queue filled: the client does not read
	closeTooMany      = 4029 // over a connection limit
)

// client is one open stream connection (a WebSocket, or a server-sent
// events response) and its subscriptions.
type client struct {
	viewer int64 // the account; 0 for an anonymous client
	token  int64 // the access token's id; 0 for an anonymous client
	// address keys an anonymous client's connection limit: its address's
	// ratelimit.AddressKey.
	address string
	// notifications: the token may read notifications, which the user
	// stream then carries too (as on Mastodon).
	notifications bool
	sse           bool

	mu sync.Mutex
	// streams are the subscriptions, each with the label it was asked
	// with: a slice, as most sockets follow one stream (a map costs an idle
	// socket half a KiB more).
	streams []stream
	queue   [][]byte // encoded frames waiting to be sent
	limit   int      // the queue's bound
	ping    bool     // a ping is due
	writing bool     // a writer is draining the queue
	closed  bool
	code    int
	reason  string
	done    chan struct{} // closed when the client is
	// wake starts (WebSocket) or wakes (server-sent events) the writer.
	wake func()
	// onClose, when set, ends the connection once the client is closed.
	onClose func()
	// pingNow, for a WebSocket, pings it from the calling goroutine.
	pingNow func() error
}

func newClient(limit int) *client {
	return &client{limit: limit, done: make(chan struct{})}
}

// maxStreams bounds the subscriptions of one WebSocket.
const maxStreams = 32

// subscribe adds s; false when the socket has maxStreams already. A
// stream is the same whatever its label: as on Mastodon, the first
// subscription stays.
func (c *client) subscribe(s stream) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.find(s) >= 0 {
		return true
	}
	if len(c.streams) >= maxStreams {
		return false
	}
	c.streams = append(c.streams, s)
	return true
}

func (c *client) unsubscribe(s stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := c.find(s); i >= 0 {
		c.streams = append(c.streams[:i], c.streams[i+1:]...)
	}
}

// find is the index of s among the streams (labels aside), or -1; c.mu
// is held.
func (c *client) find(s stream) int {
	for i, x := range c.streams {
		if x.kind == s.kind && x.tag == s.tag && x.listID == s.listID {
			return i
		}
	}
	return -1
}

// send queues a frame without waiting. A client whose queue is full is not
// reading: it is closed, so that it neither grows memory nor holds back the
// events of anyone else.
func (c *client) send(frame []byte) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= c.limit {
		c.mu.Unlock()
		c.close(closeSlowConsumer, "too many events waiting: the client does not read")
		return
	}
	c.queue = append(c.queue, frame)
	c.startWriter()
}

// schedulePing asks for a ping (a comment line for server-sent events).
// An idle WebSocket is pinged at once, by the caller, through pingNow:
// waking a writer goroutine for every socket each round cost each socket
// a stack's worth of memory that stayed with the process. A busy one gets
// it from its writer, between frames.
func (c *client) schedulePing() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if !c.writing && c.pingNow != nil {
		ping := c.pingNow
		c.mu.Unlock()
		if ping() != nil {
			c.close(closeSlowConsumer, "the client did not read in time")
		}
		return
	}
	c.ping = true
	c.startWriter()
}

// eachStream calls f for each of the client's streams, under its lock
// (f must not call back into the client).
func (c *client) eachStream(f func(stream)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.streams {
		f(s)
	}
}

// startWriter is called with c.mu held, and releases it. Before attach
// there is no writer: what is due waits for the first wake.
func (c *client) startWriter() {
	start := !c.writing && c.wake != nil
	if start {
		c.writing = true
	}
	wake := c.wake
	c.mu.Unlock()
	if start {
		wake()
	}
}

// attach gives the client its connection's writer and closer, once the
// connection exists; a client closed before that is ended now.
func (c *client) attach(wake, onClose func(), pingNow func() error) {
	c.mu.Lock()
	c.wake, c.onClose, c.pingNow = wake, onClose, pingNow
	closed := c.closed
	pending := c.ping || len(c.queue) > 0
	c.mu.Unlock()
	if closed {
		if onClose != nil {
			onClose()
		}
		return
	}
	if pending {
		c.mu.Lock()
		c.startWriter()
	}
}

// next hands the writer what to send: a ping first, then the oldest frame.
// When there is nothing, the writer is done until the next wake.
func (c *client) next() (frame []byte, ping, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.writing = false
		return nil, false, false
	}
	if c.ping {
		c.ping = false
		return nil, true, true
	}
	if len(c.queue) == 0 {
		c.writing = false
		c.queue = nil // an idle client holds no array
		return nil, false, false
	}
	frame = c.queue[0]
	c.queue[0] = nil
	c.queue = c.queue[1:]
	return frame, false, true
}

// close ends the client once, with a close code and reason for the peer.
func (c *client) close(code int, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed, c.code, c.reason = true, code, reason
	c.queue = nil
	onClose := c.onClose
	c.mu.Unlock()
	close(c.done)
	if onClose != nil {
		onClose()
	}
}

// closedWith is the code and reason close was given.
func (c *client) closedWith() (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.reason
}
