package streaming

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/api"
)

// eventPaths are the server-sent events paths (after /api/v1/streaming)
// and the stream each reads.
var eventPaths = map[string]string{
	"/user":              "user",
	"/user/notification": "user:notification",
	"/public":            "public",
	"/public/local":      "public:local",
	"/public/remote":     "public:remote",
	"/hashtag":           "hashtag",
	"/hashtag/local":     "hashtag:local",
	"/direct":            "direct",
	"/list":              "list",
}

// streamOfPath is the stream a path of eventPaths reads, with
// only_media for the public ones.
func streamOfPath(path string, q url.Values) string {
	name := eventPaths[path]
	if strings.HasPrefix(name, "public") && (q.Get("only_media") == "true" || q.Get("only_media") == "1") {
		name += ":media"
	}
	return name
}

// serveEvents is one stream as server-sent events: "event: NAME" and
// "data: PAYLOAD" lines per event, a comment line every ping interval.
func (h *Hub) serveEvents(w http.ResponseWriter, r *http.Request, id *identity, path string) {
	if _, ok := eventPaths[path]; !ok {
		api.WriteError(w, http.StatusNotFound, "Unknown stream type")
		return
	}
	q := r.URL.Query()
	s, err := parseStream(streamOfPath(path, q), q.Get("tag"), q.Get("list"))
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := h.allows(r.Context(), id, s); err != nil {
		unauthorized(w, err.Error())
		return
	}
	c := h.newClient(r, id, true)
	wake := make(chan struct{}, 1)
	c.attach(func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}, nil, nil)
	c.subscribe(s)
	if code, reason, ok := h.admit(c); !ok {
		status := http.StatusTooManyRequests
		if code == closeGoingAway {
			status = http.StatusServiceUnavailable
		}
		api.WriteError(w, status, reason)
		return
	}
	defer h.leave(c)
	rc := http.NewResponseController(w)
	// The server's read and write timeouts bound requests; a stream is
	// bounded by its pings and writeWait instead.
	_ = rc.SetReadDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx passes each event on at once
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(writeWait))
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := write([]byte(":)\n\n")); err != nil {
		c.close(closeSlowConsumer, "")
		return
	}
	for {
		select {
		case <-r.Context().Done():
			c.close(1000, "")
			return
		case <-c.done:
			code, reason := c.closedWith()
			_ = write([]byte(": closed " + strconv.Itoa(code) + " " + reason + "\n\n"))
			return
		case <-wake:
			for {
				frame, ping, ok := c.next()
				if !ok {
					break
				}
				if ping {
					frame = []byte(":thump\n\n")
				}
				if err := write(frame); err != nil {
					c.close(closeSlowConsumer, "the client did not read in time")
					break
				}
			}
		}
	}
}
