package streaming

import "encoding/json"

// filtersChanged tells account's user streams that its filters changed, as
// Mastodon does (event filters_changed, no payload), so that clients
// reload them; what the streams send next is filtered anew already.
func (h *Hub) filtersChanged(account int64) {
	for _, c := range h.snapshot() {
		if c.viewer != account {
			continue
		}
		var sends []stream // sent after eachStream, which holds the client's lock
		c.eachStream(func(s stream) {
			if s.kind == user {
				sends = append(sends, s)
			}
		})
		for _, s := range sends {
			c.send(filtersChangedFrame(c.sse, s))
		}
	}
}

// filtersChangedFrame is the event as Mastodon's streaming server writes
// it: a WebSocket message without a payload, or a server-sent event whose
// data is "undefined" (its JavaScript's rendering of the missing payload).
func filtersChangedFrame(sse bool, s stream) []byte {
	if sse {
		return []byte("event: filters_changed\ndata: undefined\n\n")
	}
	b, _ := json.Marshal(struct {
		Stream []string `json:"stream"`
		Event  string   `json:"event"`
	}{s.name(), "filters_changed"})
	return b
}
